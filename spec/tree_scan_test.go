package spec

import (
	"reflect"
	"testing"

	"github.com/guard-runtime/guard-runtime/hack/gendecode"
)

// checkScanTreeAgrees fails when scanTree builds a tree of data that
// ParseTree refuses or builds otherwise; it reports whether scanTree built
// one.
func checkScanTreeAgrees(t *testing.T, data []byte) bool {
	t.Helper()
	scanned, ok := scanTree(data)
	parsed, err := ParseTree(data)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("scanTree builds a tree of a document ParseTree refuses (%v):\n%s", err, data)
	}
	if !reflect.DeepEqual(scanned, parsed) {
		t.Fatalf("scanTree builds another tree than ParseTree:\n%s", data)
	}
	return true
}

// Every captured document, and a spread of the mutations of its values and
// names (every 25th: all of them take half a minute; FuzzScanTree goes
// further), gives ParseTree's tree or none.
func TestScanTreeAgreesWithParseTree(t *testing.T) {
	built, total := 0, 0
	for _, doc := range realDocuments(t, func(string) bool { return true }) {
		if !checkScanTreeAgrees(t, doc) {
			t.Errorf("scanTree leaves a captured document to ParseTree:\n%.200s", doc)
		}
		mutations, err := gendecode.Mutations(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range mutations {
			if i%25 != 0 {
				continue
			}
			total++
			if checkScanTreeAgrees(t, m) {
				built++
			}
		}
	}
	t.Logf("scanTree builds %d of %d mutated documents", built, total)
	if built == 0 {
		t.Fatal("scanTree builds no mutated document")
	}
}

// Names with escapes are ParseTree's; the grammar errors the stream
// refuses are refused here too.
func TestScanTreeLeavesTheRestToParseTree(t *testing.T) {
	for _, doc := range []string{
		`{"a\u0062":1}`,
		`{"a":1,}`,
		`{"a":1}{}`,
		`{"a":1,"a":2}`,
		`[1,2`,
		``,
	} {
		if _, ok := scanTree([]byte(doc)); ok {
			t.Errorf("%s: scanTree builds a tree", doc)
		}
	}
	for _, doc := range []string{`null`, `"x"`, `[]`, `{}`, ` [1, "a\n", {"b": [null, true]}] `} {
		if !checkScanTreeAgrees(t, []byte(doc)) {
			t.Errorf("%s: scanTree builds no tree", doc)
		}
	}
}

// FuzzScanTree checks the agreement on any input.
func FuzzScanTree(f *testing.F) {
	for _, doc := range realDocuments(f, func(string) bool { return true }) {
		f.Add(doc)
	}
	f.Add([]byte(`{"a":[1,-0.5e3,"\u00e9",null,true,{"b":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkScanTreeAgrees(t, data) })
}
