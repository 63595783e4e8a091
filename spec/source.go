package spec

import (
	"errors"
	"fmt"
)

// Source is a document as it was read: its bytes, and the lossless tree of
// them, built on first use. A document admitted unchanged, the usual case,
// is never built into a tree: that costs hundreds of allocations for a
// config.json, in every runtime call. A Source is not safe for concurrent
// use; its bytes must not change while it is in use.
type Source struct {
	data []byte
	tree *Tree
	// encoded says that data is what Encode writes (the bytes came from
	// Tree.Encode), so Encode need not build the tree.
	encoded bool
}

// SourceOf is the Source of a tree already built.
func SourceOf(t *Tree) *Source { return &Source{tree: t} }

// Tree returns the document's tree, building it on first use.
func (s *Source) Tree() (*Tree, error) {
	if s.tree != nil {
		return s.tree, nil
	}
	tree, err := s.parse()
	if err != nil {
		return nil, err
	}
	s.tree = tree
	return tree, nil
}

// parse builds a tree of the document's bytes. It cannot fail for a
// document Decode accepted, whose bytes passed the same checks; if it
// does, the document must not be admitted.
func (s *Source) parse() (*Tree, error) {
	if s.data == nil {
		return nil, errors.New("internal error: a document without bytes or tree")
	}
	if tree, ok := scanTree(s.data); ok {
		return tree, nil
	}
	tree, err := ParseTree(s.data)
	if err != nil {
		return nil, fmt.Errorf("internal error: an accepted document does not read as a tree: %w", err)
	}
	return tree, nil
}

// Parsed reports whether the tree has been built.
func (s *Source) Parsed() bool { return s.tree != nil }

// Encode writes the document's tree as compact JSON (see Tree.Encode).
func (s *Source) Encode() ([]byte, error) {
	if s.encoded && s.tree == nil {
		return s.data, nil
	}
	tree, err := s.Tree()
	if err != nil {
		return nil, err
	}
	return tree.Encode()
}

// Unmarshal decodes the document into v.
func (s *Source) Unmarshal(v any) error {
	tree, err := s.Tree()
	if err != nil {
		return err
	}
	return tree.Unmarshal(v)
}

// Editor returns an editor of a copy of the document, made at its first
// change: judging a document that needs no change builds no tree and
// copies nothing.
func (s *Source) Editor() *Editor {
	return &Editor{source: s}
}
