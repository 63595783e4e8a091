package spec

import (
	"bytes"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A document read on the fast path builds its tree only when it is asked
// for or edited; edits then give what they give on a tree built at once.
func TestSourceBuildsTheTreeOnFirstUse(t *testing.T) {
	data := []byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"x-vendor":[1,2.50]}`)
	doc, err := DecodeConfig([]byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"}}`))
	if err != nil {
		t.Fatal(err)
	}
	ed := doc.Editor()
	if doc.Parsed() || ed.Tree() != nil || ed.Result() != doc.Source {
		t.Fatal("an editor without changes built the tree")
	}
	if out, err := doc.Encode(); err != nil || string(out) != `{"ociVersion":"1.0.2","root":{"path":"rootfs"}}` || !doc.Parsed() {
		t.Fatalf("Encode: %s, %v", out, err)
	}

	// The vendor member sends data to the reflective path, which builds
	// the tree at once; the same edits on both give the same bytes.
	lazy := &Source{data: data}
	eager, err := DecodeConfig(data)
	if err != nil || !eager.Parsed() {
		t.Fatalf("%v, parsed %v", err, eager != nil && eager.Parsed())
	}
	var results [][]byte
	for _, src := range []*Source{lazy, eager.Source} {
		ed := src.Editor()
		must(t, ed.Set("/root/readonly", true))
		must(t, ed.Remove("/x-vendor"))
		must(t, ed.Append("/process/args", "sh"))
		out, err := ed.Result().Encode()
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, out)
	}
	if lazy.Parsed() {
		t.Fatal("the editor of an unparsed source built the source's tree, not its own")
	}
	if !bytes.Equal(results[0], results[1]) || string(results[0]) != `{"ociVersion":"1.0.2","root":{"path":"rootfs","readonly":true},"process":{"args":["sh"]}}` {
		t.Fatalf("lazy %s\neager %s", results[0], results[1])
	}
	if out, _ := lazy.Encode(); !bytes.Equal(out, data) {
		t.Fatalf("the source changed: %s", out)
	}
}

// A source whose bytes do not read as a tree cannot happen for a
// document Decode accepted; if it did, every use of the tree is an error,
// never a panic or an admitted document.
func TestSourceFailsClosed(t *testing.T) {
	for _, src := range []*Source{{data: []byte(`{"root":`)}, {}} {
		if _, err := src.Tree(); err == nil || !strings.Contains(err.Error(), "internal error") {
			t.Errorf("Tree: %v", err)
		}
		if _, err := src.Encode(); err == nil {
			t.Error("Encode succeeds")
		}
		var v any
		if err := src.Unmarshal(&v); err == nil {
			t.Error("Unmarshal succeeds")
		}
		ed := src.Editor()
		if err := ed.Set("/root/readonly", true); err == nil {
			t.Error("Set succeeds")
		}
		if err := ed.Remove("/root"); err == nil {
			t.Error("Remove succeeds")
		}
		if err := ed.Append("/mounts", "x"); err == nil {
			t.Error("Append succeeds")
		}
		if ed.Changed() {
			t.Error("a failed edit is recorded")
		}
	}
}

// The document a create is usually handed reads without its tree.
func TestBenchConfigTakesTheFastPath(t *testing.T) {
	data, err := os.ReadFile(benchConfig)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := DecodeConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Parsed() {
		t.Fatalf("%s took the reflective path", benchConfig)
	}
	checkFastAgrees[specs.Spec](t, data)
}
