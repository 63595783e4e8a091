package spec

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

func TestTreeKeepsUnknownFieldsOrderAndNumbers(t *testing.T) {
	in := `{"ociVersion":"1.0.2","zVendor":{"x":[1,2.50,"s"]},"process":{"user":{"uid":0},"cwd":"/"},"big":18446744073709551615,"aUnknown":null}`
	tree, err := ParseTree([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := tree.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip changed the document:\n in %s\nout %s", in, out)
	}
}

// Escapes are kept too: a rewrite of a document that writes "\/" or
// "\u0041" must leave those strings as they were.
func TestTreeKeepsStringEscapes(t *testing.T) {
	in := `{"env":["A=\/x\u0041\t","\ud83d\ude00"],"x-vendor":{"k":"\"q\""}}`
	tree, err := ParseTree([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	must(t, NewEditor(tree).Set("/root/readonly", true))
	out, err := tree.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(in, "}") + `,"root":{"readonly":true}}`; string(out) != want {
		t.Fatalf("a rewrite changed strings it did not touch:\n got %s\nwant %s", out, want)
	}
}

func TestEditorCreatesParentsOnceAndRecordsPatch(t *testing.T) {
	tree, _ := ParseTree([]byte(`{"linux":{"namespaces":[]},"x-vendor":true}`))
	ed := NewEditor(tree)
	must(t, ed.Set("/linux/resources/memory/limit", 536870912))
	must(t, ed.Set("/linux/resources/pids/limit", 1024))
	must(t, ed.Set("/root/readonly", true))
	must(t, ed.Append("/mounts", map[string]string{"destination": "/tmp"}))
	must(t, ed.Remove("/x-vendor"))
	out, _ := tree.Encode()
	want := `{"linux":{"namespaces":[],"resources":{"memory":{"limit":536870912},"pids":{"limit":1024}}},"root":{"readonly":true},"mounts":[{"destination":"/tmp"}]}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	patch, _ := json.Marshal(ed.Patch())
	wantPatch := `[{"op":"add","path":"/linux/resources","value":{"memory":{"limit":536870912}}},{"op":"add","path":"/linux/resources/pids","value":{"limit":1024}},{"op":"add","path":"/root","value":{"readonly":true}},{"op":"add","path":"/mounts","value":[{"destination":"/tmp"}]},{"op":"remove","path":"/x-vendor"}]`
	if string(patch) != wantPatch {
		t.Fatalf("patch\n got %s\nwant %s", patch, wantPatch)
	}
}

func TestEditorReplacesNullParent(t *testing.T) {
	tree, _ := ParseTree([]byte(`{"linux":{"resources":null}}`))
	ed := NewEditor(tree)
	must(t, ed.Set("/linux/resources/pids/limit", 1))
	out, _ := tree.Encode()
	if !strings.Contains(string(out), `"resources":{"pids":{"limit":1}}`) || ed.Patch()[0].Op != "replace" {
		t.Fatalf("got %s %+v", out, ed.Patch())
	}
}

func TestPointerEscapes(t *testing.T) {
	if got := Pointer("annotations", "a/b~c"); got != "/annotations/a~1b~0c" {
		t.Fatal(got)
	}
	tree, _ := ParseTree([]byte(`{"annotations":{"a/b~c":"v"}}`))
	if _, ok := tree.Get(Pointer("annotations", "a/b~c")); !ok {
		t.Fatal("escaped pointer not found")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A copy editor leaves the caller's tree as it was, and copies nothing
// while nothing changes: judging an admitted document copies none of it.
func TestCopyEditorCopiesOnFirstChange(t *testing.T) {
	in := `{"root":{"path":"rootfs"},"x-vendor":[1,2]}`
	tree, _ := ParseTree([]byte(in))
	ed := NewCopyEditor(tree)
	if ed.Tree() != tree {
		t.Fatal("the editor copied the tree before any change")
	}
	must(t, ed.Set("/root/readonly", true))
	must(t, ed.Remove("/x-vendor"))
	if ed.Tree() == tree {
		t.Fatal("the editor changed the caller's tree")
	}
	if out, _ := tree.Encode(); string(out) != in {
		t.Fatalf("the caller's tree changed: %s", out)
	}
	if out, _ := ed.Tree().Encode(); string(out) != `{"root":{"path":"rootfs","readonly":true}}` {
		t.Fatalf("edited: %s", out)
	}
}
