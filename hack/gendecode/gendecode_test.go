package gendecode

import (
	"reflect"
	"regexp"
	"testing"
)

type schemaA struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

type schemaB struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Extra bool   `json:"extra"`
}

type schemaC struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

var registeredSchema = regexp.MustCompile(`registerSchema\("([0-9a-f]{16})"\)`)

func schemaOf(t *testing.T, root reflect.Type) string {
	t.Helper()
	src, err := Generate(Config{Package: "p", PackagePath: "example.com/p", Roots: []reflect.Type{root},
		Register: "register(%s)", Regenerate: "-", RegisterSchema: "registerSchema(%q)"})
	if err != nil {
		t.Fatal(err)
	}
	m := registeredSchema.FindSubmatch(src)
	if m == nil {
		t.Fatalf("no schema registered in:\n%s", src)
	}
	return string(m[1])
}

// The schema tells apart types that decode differently: a member more, or
// a member of another type.
func TestSchemaChangesWithTheTypes(t *testing.T) {
	a, b, c := schemaOf(t, reflect.TypeFor[schemaA]()), schemaOf(t, reflect.TypeFor[schemaB]()), schemaOf(t, reflect.TypeFor[schemaC]())
	if a == b || a == c || b == c {
		t.Errorf("schemas %s %s %s are not all different", a, b, c)
	}
	if again := schemaOf(t, reflect.TypeFor[schemaA]()); again != a {
		t.Errorf("the schema of one type changed between runs: %s, %s", a, again)
	}
}
