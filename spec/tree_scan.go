package spec

// scanTree builds the tree of data with the Stream's scanner, for a
// document Decode has accepted: the lossless tree is built only when a
// control rewrites the document, and jsontext's decoder, which ParseTree
// uses, would then run cold, in every runtime call that rewrites. It
// reports false where the Stream leaves the work to jsontext (a member
// name with an escape) or the document is not exactly one JSON value
// within the bounds; ParseTree then builds the tree, or gives the error.
func scanTree(data []byte) (*Tree, bool) {
	b := &treeBuilder{s: &Stream{data: data, stack: make([]frame, 0, 8), names: make([][]byte, 0, 64)}}
	root, ok := b.node()
	if !ok || b.s.failed || !b.s.atEnd() {
		return nil, false
	}
	return &Tree{Root: root}, true
}

// treeBuilder collects the members and items of the containers being read
// on two stacks, as treeReader does, so that each container's slice is
// allocated once, at its length.
type treeBuilder struct {
	s       *Stream
	members []Member
	items   []any
}

func (b *treeBuilder) node() (any, bool) {
	s := b.s
	switch s.Kind() {
	case '{':
		return b.object()
	case '[':
		return b.array()
	case '"':
		raw, ok := s.RawText()
		return Scalar(raw), ok
	case 'n':
		start := s.pos
		if !s.Null() {
			return nil, false
		}
		return Scalar(s.data[start:s.pos:s.pos]), true
	}
	scalar, ok := s.Scalar()
	return scalar, ok
}

func (b *treeBuilder) object() (any, bool) {
	if !b.s.Open('{') {
		return nil, false
	}
	start := len(b.members)
	for b.s.More() {
		name, ok := b.s.NameText()
		if !ok {
			return nil, false
		}
		value, ok := b.node()
		if !ok {
			return nil, false
		}
		b.members = append(b.members, Member{Name: name, Value: value})
	}
	if !b.s.Close() {
		return nil, false
	}
	obj := &Object{Members: append([]Member(nil), b.members[start:]...)}
	clear(b.members[start:])
	b.members = b.members[:start]
	return obj, true
}

func (b *treeBuilder) array() (any, bool) {
	if !b.s.Open('[') {
		return nil, false
	}
	start := len(b.items)
	for b.s.More() {
		item, ok := b.node()
		if !ok {
			return nil, false
		}
		b.items = append(b.items, item)
	}
	if !b.s.Close() {
		return nil, false
	}
	arr := &Array{Items: append(make([]any, 0, len(b.items)-start), b.items[start:]...)}
	clear(b.items[start:])
	b.items = b.items[:start]
	return arr, true
}
