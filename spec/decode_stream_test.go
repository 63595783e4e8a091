package spec

import (
	"os"
	"strconv"
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
		// The grammar, which the stream scans itself.
		"trailing comma in an object":     `{"ociVersion":"1.0.2",}`,
		"trailing comma in an array":      `{"process":{"args":["sh",]}}`,
		"leading comma":                   `{"process":{"args":[,"sh"]}}`,
		"double comma":                    `{"process":{"args":["sh",,"-c"]}}`,
		"missing comma":                   `{"process":{"args":["sh" "-c"]}}`,
		"missing colon":                   `{"ociVersion" "1.0.2"}`,
		"double colon":                    `{"ociVersion"::"1.0.2"}`,
		"colon in an array":               `{"process":{"args":["sh":"-c"]}}`,
		"name without a value":            `{"ociVersion":}`,
		"name without a colon at the end": `{"ociVersion"}`,
		"value where a name belongs":      `{"process":{"terminal":true,false}}`,
		"number as a name":                `{1:"x"}`,
		"single quotes":                   `{'ociVersion':'1.0.2'}`,
		"mismatched close":                `{"process":{"args":["sh"}}}`,
		"close at the top":                `}`,
		"leading zero":                    `{"process":{"user":{"uid":01}}}`,
		"lone minus":                      `{"process":{"user":{"uid":-}}}`,
		"fraction without digits":         `{"process":{"user":{"uid":1.}}}`,
		"exponent without digits":         `{"process":{"user":{"uid":1e}}}`,
		"number then a letter":            `{"process":{"user":{"uid":1x}}}`,
		"plus sign":                       `{"process":{"user":{"uid":+1}}}`,
		"NaN":                             `{"process":{"oomScoreAdj":NaN}}`,
		"literal then a letter":           `{"process":{"terminal":truex}}`,
		"control character in a string":   "{\"hostname\":\"a\tb\"}",
		"unknown escape":                  `{"hostname":"a\qb"}`,
		"short unicode escape":            `{"hostname":"a\u00e"}`,
		"lone surrogate escape":           `{"hostname":"a\ud800b"}`,
		"byte order mark":                 "\ufeff{\"ociVersion\":\"1.0.2\"}",
		"duplicate in a large object":     `{"annotations":{` + numberedMembers(40) + `,"k7":"again"}}`,
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

// numberedMembers is "k0":"v",…,"k<n-1>":"v".
func numberedMembers(n int) string {
	members := make([]string, n)
	for i := range members {
		members[i] = `"k` + strconv.Itoa(i) + `":"v"`
	}
	return strings.Join(members, ",")
}

// What the stream's own scan must accept, and read as json/v2 does.
func TestFastDecodeReadsValidDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"white space everywhere":       " \t\r\n{ \"ociVersion\" : \"1.0.2\" , \"process\" : { \"args\" : [ \"sh\" , \"-c\" ] , \"terminal\" : false } } \n",
		"same names in nested objects": `{"process":{"user":{"uid":1,"gid":2},"cwd":"/"},"root":{"path":"rootfs"},"annotations":{"cwd":"x","path":"y"}}`,
		"sibling objects with a name":  `{"mounts":[{"destination":"/a","type":"tmpfs"},{"destination":"/b","type":"tmpfs"}]}`,
		"large object":                 `{"annotations":{` + numberedMembers(40) + `}}`,
		"empty object and array":       `{"annotations":{},"process":{"args":[],"cwd":"/"}}`,
		"negative numbers and zero":    `{"process":{"user":{"uid":0},"oomScoreAdj":-0},"linux":{"resources":{"cpu":{"shares":1024,"quota":-1}}}}`,
		"escapes in values":            `{"hostname":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"}`,
		"UTF-8 in values and names":    `{"annotations":{"é":"ü€😀"}}`,
		"null members":                 `{"process":null,"linux":null,"annotations":null}`,
		"delete and DEL character":     "{\"hostname\":\"a\x7fb\"}",
	} {
		t.Run(name, func(t *testing.T) {
			if !checkFastAgrees[specs.Spec](t, []byte(doc)) {
				t.Fatalf("the generated decoder refuses %s", doc)
			}
		})
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
