package spec

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The generated decoders read a document's tokens without a tree first,
// so they must make ParseTree's checks themselves: a document that breaks
// one is left to the reflective path, which refuses it as before.
func TestFastDecodeRefusesWhatTheTreeRefuses(t *testing.T) {
	args := func(n int) string {
		return `{"process":{"args":[` + strings.TrimSuffix(strings.Repeat(`"",`, n), ",") + `]}}`
	}
	for name, doc := range map[string]string{
		"duplicate member":            `{"ociVersion":"1.0.2","ociVersion":"1.0.3"}`,
		"duplicate nested member":     `{"process":{"cwd":"/","cwd":"/root"}}`,
		"duplicate map key":           `{"annotations":{"a":"1","a":"2"}}`,
		"duplicate by escape":         `{"annotations":{"a":"1","\u0061":"2"}}`,
		"trailing value":              `{"ociVersion":"1.0.2"} {}`,
		"trailing garbage":            `{"ociVersion":"1.0.2"}x`,
		"trailing close":              `{"ociVersion":"1.0.2"}}`,
		"invalid UTF-8 in a string":   "{\"ociVersion\":\"1.0.2\xff\"}",
		"invalid UTF-8 in a name":     "{\"annotations\":{\"a\xff\":\"1\"}}",
		"truncated":                   `{"process":{"args":["sh"`,
		"one value over the bound":    args(MaxDocumentValues - 2),
		"many values over the bound":  args(MaxDocumentValues + 10),
		"empty":                       ``,
		"only white space":            " \n",
		"invalid literal":             `{"process":{"terminal":tru}}`,
		"unclosed string in an array": `{"process":{"args":["sh]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := fastOnly[specs.Spec]([]byte(doc)); ok {
				t.Fatal("the generated decoder reads it")
			}
			if d, err := DecodeConfig([]byte(doc)); err == nil {
				t.Fatalf("the document is accepted: %+v", d.Value)
			}
		})
	}
	// The last value within the bound is read, on the fast path.
	if _, ok := fastOnly[specs.Spec]([]byte(args(MaxDocumentValues - 3))); !ok {
		t.Error("the generated decoder refuses a document of MaxDocumentValues values")
	}
}

// A member name with an escape is left to the reflective path, which
// reads it as json/v2 does.
func TestFastDecodeLeavesEscapedNames(t *testing.T) {
	for _, doc := range []string{
		`{"oci\u0056ersion":"1.0.2"}`,
		`{"annotations":{"\u0061":"b"}}`,
	} {
		if _, ok := fastOnly[specs.Spec]([]byte(doc)); ok {
			t.Errorf("%s: the generated decoder reads a name with an escape", doc)
		}
		if !checkFastAgrees[specs.Spec](t, []byte(doc)) {
			if _, err := DecodeConfig([]byte(doc)); err != nil {
				t.Errorf("%s: refused: %v", doc, err)
			}
		}
	}
}

// Strings are slices of the document's text, escapes resolved where there
// are any, and stay right after later reads.
func TestFastDecodeStrings(t *testing.T) {
	doc := `{"ociVersion":"1.0.2","hostname":"a\"b\u00e9","annotations":{"k":"v","x\/y":"z"},"process":{"args":["sh","-c","\\t"],"cwd":"/"}}`
	value, ok := fastOnly[specs.Spec]([]byte(doc))
	if ok {
		t.Fatal("an escaped map key was read on the fast path")
	}
	doc = strings.Replace(doc, `"x\/y"`, `"x/y"`, 1)
	value, ok = fastOnly[specs.Spec]([]byte(doc))
	if !ok {
		t.Fatal("the generated decoder refuses the document")
	}
	if value.Version != "1.0.2" || value.Hostname != "a\"b\u00e9" || value.Annotations["x/y"] != "z" || value.Annotations["k"] != "v" ||
		strings.Join(value.Process.Args, " ") != `sh -c \t` || value.Process.Cwd != "/" {
		t.Fatalf("read %+v %+v", value, value.Process)
	}
	checkFastAgrees[specs.Spec](t, []byte(doc))
}

// Decoding the config.json of a create allocates what its value holds,
// not a tree of it: ParseTree alone makes an allocation for each of its
// 2,500 values but strings and names.
func TestDecodeConfigAllocations(t *testing.T) {
	data, err := os.ReadFile(benchConfig)
	if err != nil {
		t.Fatal(err)
	}
	decode := testing.AllocsPerRun(20, func() {
		doc, err := DecodeConfig(data)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Parsed() {
			t.Fatal("decoding the document built its tree")
		}
	})
	tree := testing.AllocsPerRun(20, func() {
		if _, err := ParseTree(data); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("DecodeConfig of %s: %.0f allocations; ParseTree alone: %.0f", benchConfig, decode, tree)
	if decode > 200 || decode > tree/4 {
		t.Fatalf("DecodeConfig of %s: %.0f allocations, want at most 200 and a quarter of ParseTree's %.0f", benchConfig, decode, tree)
	}
}
