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
	return registered(t, src, err)
}

// registered is the schema that generated source src registers.
func registered(t *testing.T, src []byte, err error) string {
	t.Helper()
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

// schemaD orders schemaA's fields the other way.
type schemaD struct {
	Count int    `json:"count"`
	Name  string `json:"name"`
}

func binarySchemaOf(t *testing.T, root reflect.Type) string {
	t.Helper()
	src, _, err := GenerateBinary(BinaryConfig{Package: "p", PackagePath: "example.com/p", Roots: []reflect.Type{root},
		Reader: "reader", Regenerate: "-", RegisterSchema: "registerSchema(%q)"})
	return registered(t, src, err)
}

// The binary form has no member names: its schema must tell apart every
// change of the fields, their types, and their order.
func TestBinarySchemaChangesWithTheTypes(t *testing.T) {
	seen := map[string]reflect.Type{}
	for _, typ := range []reflect.Type{reflect.TypeFor[schemaA](), reflect.TypeFor[schemaB](), reflect.TypeFor[schemaC](), reflect.TypeFor[schemaD]()} {
		s := binarySchemaOf(t, typ)
		if other, dup := seen[s]; dup {
			t.Errorf("%v and %v have the same binary schema %s", other, typ, s)
		}
		seen[s] = typ
	}
}

// A type the binary form does not hold is refused when the codec is
// generated, not when an entry is written.
func TestBinaryRefusesTypesItCannotHold(t *testing.T) {
	type withBytes struct{ Data []byte }
	type withInterface struct{ Any any }
	type withChan struct{ C chan int }
	for _, typ := range []reflect.Type{reflect.TypeFor[withBytes](), reflect.TypeFor[withInterface](), reflect.TypeFor[withChan]()} {
		if _, _, err := GenerateBinary(BinaryConfig{Package: "p", PackagePath: "example.com/p", Roots: []reflect.Type{typ}, Reader: "reader"}); err == nil {
			t.Errorf("%v: generated", typ)
		}
	}
}
