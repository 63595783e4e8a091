package spec

import (
	"fmt"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// Operation is one RFC 6902 JSON patch operation.
type Operation struct {
	Op    string         `json:"op"`
	Path  string         `json:"path"`
	Value jsontext.Value `json:"value,omitempty"`
}

// Editor changes a tree in place and records every change as an RFC 6902
// operation, so that a rewrite can be audited exactly as it was applied.
// Each operation is made against the tree as edited so far: two controls
// that both need /linux/resources do not overwrite each other.
type Editor struct {
	tree *Tree
	ops  []Operation
	// source, when set, is the document whose copy the editor makes at
	// its first change; tree is nil until then.
	source *Source
}

// NewEditor edits t.
func NewEditor(t *Tree) *Editor {
	return &Editor{tree: t}
}

// NewCopyEditor edits a copy of t, made at the first change: judging a
// document that needs no change, the usual case, copies none of its
// thousands of values.
func NewCopyEditor(t *Tree) *Editor {
	return SourceOf(t).Editor()
}

// own makes the tree the editor's own before its first change: a copy of
// the source's tree when that was built, else a tree of its bytes.
func (e *Editor) own() error {
	if e.tree != nil {
		return nil
	}
	if e.source.tree != nil {
		e.tree = e.source.tree.Clone()
		return nil
	}
	tree, err := e.source.parse()
	if err != nil {
		return err
	}
	e.tree = tree
	return nil
}

// Tree returns the edited tree: before the first change of a copy
// editor, the source's tree, nil if that was never built.
func (e *Editor) Tree() *Tree {
	if e.tree == nil {
		return e.source.tree
	}
	return e.tree
}

// Result returns the edited document: the source itself while nothing
// was changed.
func (e *Editor) Result() *Source {
	if e.tree == nil {
		return e.source
	}
	return SourceOf(e.tree)
}

// Patch returns the operations applied so far.
func (e *Editor) Patch() []Operation { return e.ops }

// Changed reports whether any operation was applied.
func (e *Editor) Changed() bool { return len(e.ops) > 0 }

// Set puts v at ptr, creating missing parent objects. An existing value is
// replaced; a null or non-object parent on the way is replaced by an object.
func (e *Editor) Set(ptr string, v any) error {
	node, err := NodeOf(v)
	if err != nil {
		return err
	}
	if err := e.own(); err != nil {
		return err
	}
	tokens, err := splitPointer(ptr)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		e.tree.Root = node
		return e.record("replace", "", node)
	}
	parent := e.tree.Root
	for i, tok := range tokens[:len(tokens)-1] {
		next, ok := child(parent, tok)
		if _, isObj := next.(*Object); ok && isObj {
			parent = next
			continue
		}
		if _, isArr := next.(*Array); ok && isArr {
			parent = next
			continue
		}
		// Missing or not a container: build the rest of the path at once.
		nested := nest(tokens[i+1:], node)
		return e.put(parent, tokens[:i+1], nested, ok)
	}
	_, exists := child(parent, tokens[len(tokens)-1])
	return e.put(parent, tokens, node, exists)
}

func nest(tokens []string, leaf any) any {
	node := leaf
	for i := len(tokens) - 1; i >= 0; i-- {
		node = &Object{Members: []Member{{Name: tokens[i], Value: node}}}
	}
	return node
}

func (e *Editor) put(parent any, tokens []string, node any, exists bool) error {
	name := tokens[len(tokens)-1]
	path := Pointer(tokens...)
	switch p := parent.(type) {
	case *Object:
		p.set(name, node)
	case *Array:
		i, err := strconv.Atoi(name)
		if err != nil || i < 0 || i >= len(p.Items) {
			return fmt.Errorf("cannot set %s: no such array element", path)
		}
		p.Items[i] = node
	default:
		return fmt.Errorf("cannot set %s: parent is not an object", path)
	}
	op := "add"
	if exists {
		op = "replace"
	}
	return e.record(op, path, node)
}

// Remove deletes the member at ptr if it exists.
func (e *Editor) Remove(ptr string) error {
	tokens, err := splitPointer(ptr)
	if err != nil || len(tokens) == 0 {
		return fmt.Errorf("cannot remove %q", ptr)
	}
	if err := e.own(); err != nil {
		return err
	}
	parent, ok := e.tree.Get(Pointer(tokens[:len(tokens)-1]...))
	if !ok {
		return nil
	}
	name := tokens[len(tokens)-1]
	switch p := parent.(type) {
	case *Object:
		if !p.remove(name) {
			return nil
		}
	case *Array:
		i, err := strconv.Atoi(name)
		if err != nil || i < 0 || i >= len(p.Items) {
			return nil
		}
		p.Items = append(p.Items[:i], p.Items[i+1:]...)
	default:
		return nil
	}
	e.ops = append(e.ops, Operation{Op: "remove", Path: ptr})
	return nil
}

// Append adds v at the end of the array at ptr, creating the array if it is
// missing or null.
func (e *Editor) Append(ptr string, v any) error {
	if err := e.own(); err != nil {
		return err
	}
	existing, ok := e.tree.Get(ptr)
	arr, isArr := existing.(*Array)
	if !ok || !isArr {
		return e.Set(ptr, []any{v})
	}
	node, err := NodeOf(v)
	if err != nil {
		return err
	}
	arr.Items = append(arr.Items, node)
	return e.record("add", ptr+"/-", node)
}

func (e *Editor) record(op, path string, node any) error {
	value, err := (&Tree{Root: node}).Encode()
	if err != nil {
		return err
	}
	e.ops = append(e.ops, Operation{Op: op, Path: path, Value: value})
	return nil
}
