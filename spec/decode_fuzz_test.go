package spec

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The decoders' fuzz targets check what must hold for every input:
//   - no panic, and an error never comes with a document;
//   - a document that is accepted encodes from its tree, and the encoding
//     decodes again to the same value and the same tree: a rewrite of an
//     accepted document loses nothing and changes nothing it did not mean to;
//   - the tree is a fixed point of encode and parse;
//   - runc's decoder (encoding/json) either refuses the document or reads
//     exactly the value the policy judged.
//
// They are seeded with the documents Docker and the CRI plugin really hand
// their runtime (../enforce/testdata/{docker,cri}).

func FuzzDecodeConfig(f *testing.F) {
	for _, doc := range realDocuments(f, isConfigFixture) {
		f.Add(doc)
	}
	f.Add([]byte(`{"ociVersion":"1.0.2","process":{"user":{"uid":0},"cwd":"/"},"x-vendor":[1,2.50,"s",null,{"a":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode[specs.Spec](t, data) })
}

func FuzzDecodeProcess(f *testing.F) {
	for _, doc := range realDocuments(f, isProcessFixture) {
		f.Add(doc)
	}
	for _, doc := range realDocuments(f, isConfigFixture) {
		if process, ok := member(f, doc, "/process"); ok {
			f.Add(process)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode[specs.Process](t, data) })
}

func FuzzDecodeResources(f *testing.F) {
	for _, doc := range realDocuments(f, isResourcesFixture) {
		f.Add(doc)
	}
	for _, doc := range realDocuments(f, isConfigFixture) {
		if resources, ok := member(f, doc, "/linux/resources"); ok {
			f.Add(resources)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode[specs.LinuxResources](t, data) })
}

func checkDecode[T any](t *testing.T, data []byte) {
	doc, err := Decode[T](data)
	if err != nil {
		if doc != nil {
			t.Fatalf("Decode returned a document with its error %v", err)
		}
		if err.Error() == "" {
			t.Fatal("Decode returned an empty error message")
		}
		return
	}
	tree, err := doc.Tree()
	if err != nil {
		t.Fatalf("an accepted document has no tree: %v\ninput %q", err, data)
	}
	againTree := func(again *Document[T]) *Tree {
		tree, err := again.Tree()
		if err != nil {
			t.Fatalf("an accepted encoding has no tree: %v", err)
		}
		return tree
	}
	encoded, err := tree.Encode()
	if err != nil {
		t.Fatalf("an accepted document does not encode from its tree: %v\ninput %q", err, data)
	}
	again, err := Decode[T](encoded)
	if err != nil {
		t.Fatalf("the encoding of an accepted document is refused: %v\ninput   %q\nencoded %q", err, data, encoded)
	}
	if !reflect.DeepEqual(doc.Value, again.Value) {
		t.Fatalf("the encoding decodes to another value:\ninput   %q\nencoded %q\n got %+v\nwant %+v", data, encoded, again.Value, doc.Value)
	}
	if diff := treeDiff(tree.Root, againTree(again).Root, ""); diff != "" {
		t.Fatalf("the encoding parses to another tree: %s\ninput   %q\nencoded %q", diff, data, encoded)
	}
	if twice, err := againTree(again).Encode(); err != nil || !bytes.Equal(twice, encoded) {
		t.Fatalf("encoding is not a fixed point (%v):\nonce  %q\ntwice %q", err, encoded, twice)
	}
	if cloned, err := tree.Clone().Encode(); err != nil || !bytes.Equal(cloned, encoded) {
		t.Fatalf("a clone encodes differently (%v):\n%q\n%q", err, cloned, encoded)
	}
	runcValue := new(T)
	if stdjson.Unmarshal(data, runcValue) == nil && !reflect.DeepEqual(runcValue, doc.Value) {
		t.Fatalf("runc reads the document differently from the policy:\ninput %q\nrunc   %+v\npolicy %+v", data, runcValue, doc.Value)
	}
}

// treeDiff describes the first difference between two trees, "" if none.
// Scalars are compared byte for byte: the tree keeps them as written.
func treeDiff(a, b any, at string) string {
	switch x := a.(type) {
	case *Object:
		y, ok := b.(*Object)
		if !ok || len(x.Members) != len(y.Members) {
			return fmt.Sprintf("at %q an object of %d members became %T %v", at, len(x.Members), b, b)
		}
		for i := range x.Members {
			if x.Members[i].Name != y.Members[i].Name {
				return fmt.Sprintf("at %q member %d is %q, then %q", at, i, x.Members[i].Name, y.Members[i].Name)
			}
			if d := treeDiff(x.Members[i].Value, y.Members[i].Value, at+Pointer(x.Members[i].Name)); d != "" {
				return d
			}
		}
	case *Array:
		y, ok := b.(*Array)
		if !ok || len(x.Items) != len(y.Items) {
			return fmt.Sprintf("at %q an array of %d items became %T %v", at, len(x.Items), b, b)
		}
		for i := range x.Items {
			if d := treeDiff(x.Items[i], y.Items[i], fmt.Sprintf("%s/%d", at, i)); d != "" {
				return d
			}
		}
	case Scalar:
		y, ok := b.(Scalar)
		if !ok || !bytes.Equal(x, y) {
			return fmt.Sprintf("at %q scalar %q became %T %q", at, x, b, b)
		}
	default:
		return fmt.Sprintf("at %q unexpected node %T", at, a)
	}
	return ""
}

// realDocuments returns the captured engine documents whose file name the
// filter accepts.
func realDocuments(tb testing.TB, filter func(name string) bool) [][]byte {
	tb.Helper()
	var docs [][]byte
	for _, dir := range []string{"../enforce/testdata/docker", "../enforce/testdata/cri"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, file := range files {
			if !filter(filepath.Base(file)) {
				continue
			}
			data, err := os.ReadFile(file)
			if err != nil {
				tb.Fatal(err)
			}
			docs = append(docs, data)
		}
	}
	if len(docs) == 0 {
		tb.Fatal("no captured documents in ../enforce/testdata: the fuzz targets need them as seeds")
	}
	return docs
}

func isProcessFixture(name string) bool   { return strings.HasPrefix(name, "exec-") }
func isResourcesFixture(name string) bool { return strings.HasPrefix(name, "update-") }
func isConfigFixture(name string) bool    { return !isProcessFixture(name) && !isResourcesFixture(name) }

// member returns the encoding of the node at ptr in doc.
func member(tb testing.TB, doc []byte, ptr string) ([]byte, bool) {
	tb.Helper()
	tree, err := ParseTree(doc)
	if err != nil {
		tb.Fatal(err)
	}
	node, ok := tree.Get(ptr)
	if !ok {
		return nil, false
	}
	data, err := (&Tree{Root: node}).Encode()
	if err != nil {
		tb.Fatal(err)
	}
	return data, true
}
