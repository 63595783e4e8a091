package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Tree is a JSON document kept as it was written: members in their order,
// scalars byte for byte. guard-runtime edits this tree, never a re-encoded
// struct, so fields it does not know (newer spec fields, vendor extensions)
// survive a rewrite.
//
// A node is *Object, *Array, or Scalar.
type Tree struct {
	Root any
}

// Object is a JSON object with its members in document order.
type Object struct {
	Members []Member
}

// Member is one name/value pair of an Object.
type Member struct {
	Name  string
	Value any
}

// Array is a JSON array.
type Array struct {
	Items []any
}

// Scalar is a string, number, boolean or null exactly as written.
type Scalar jsontext.Value

// Get returns the member named name.
func (o *Object) Get(name string) (any, bool) {
	for i := range o.Members {
		if o.Members[i].Name == name {
			return o.Members[i].Value, true
		}
	}
	return nil, false
}

func (o *Object) set(name string, value any) {
	for i := range o.Members {
		if o.Members[i].Name == name {
			o.Members[i].Value = value
			return
		}
	}
	o.Members = append(o.Members, Member{Name: name, Value: value})
}

func (o *Object) remove(name string) bool {
	for i := range o.Members {
		if o.Members[i].Name == name {
			o.Members = append(o.Members[:i], o.Members[i+1:]...)
			return true
		}
	}
	return false
}

// MaxDocumentValues bounds the JSON values (objects, arrays, strings,
// numbers, literals) of one document. A container's config.json holds a
// few thousand: Docker's about 700, or 2,500 with its seccomp profile; a
// Kubernetes pod with thousands of service environment variables some ten
// thousand. Each value costs some 50 bytes of bookkeeping besides its text,
// so without a bound a 16 MiB document of 8 million zeros would take about
// a gigabyte to read, in every runtime call that reads it.
const MaxDocumentValues = 1 << 18

// ParseTree reads exactly one JSON value. The tree's scalars are slices of
// data, which must not change while the tree is in use. Duplicate member names, invalid
// UTF-8 and anything but white space after the value are errors: runc's
// decoder would silently take the last duplicate and ignore trailing data,
// so the document could mean something else to runc than to the policy.
// Nesting is bounded by jsontext (10,000 levels), the number of values by
// MaxDocumentValues.
func ParseTree(data []byte) (*Tree, error) {
	r := &treeReader{dec: jsontext.NewDecoder(bytes.NewReader(data)), data: data}
	root, err := r.readNode()
	if err != nil {
		return nil, err
	}
	if _, err := r.dec.ReadToken(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON document at byte %d: a document must hold exactly one JSON value", r.dec.InputOffset())
	}
	return &Tree{Root: root}, nil
}

// treeReader builds a Tree from a decoder, counting the values it reads.
// A config.json holds thousands of values, so the reader allocates little
// per value: scalars are slices of the document itself, and the members
// and items of the objects and arrays being read collect on two stacks, each
// copied once into a slice of the right size when its container ends.
type treeReader struct {
	dec     *jsontext.Decoder
	data    []byte
	values  int
	members []Member
	items   []any
}

func (r *treeReader) count() error {
	r.values++
	if r.values > MaxDocumentValues {
		return fmt.Errorf("the document holds more than %d JSON values (at byte %d), far more than any container's: refusing it rather than reading it into memory", MaxDocumentValues, r.dec.InputOffset())
	}
	return nil
}

func (r *treeReader) readNode() (any, error) {
	if err := r.count(); err != nil {
		return nil, err
	}
	switch r.dec.PeekKind() {
	case '{':
		return r.readObject()
	case '[':
		return r.readArray()
	default:
		v, err := r.dec.ReadValue()
		if err != nil {
			return nil, describeSyntaxError(err)
		}
		// v is the decoder's copy of the bytes just before the offset.
		end := int(r.dec.InputOffset())
		return Scalar(r.data[end-len(v) : end : end]), nil
	}
}

func (r *treeReader) readObject() (*Object, error) {
	if _, err := r.dec.ReadToken(); err != nil {
		return nil, describeSyntaxError(err)
	}
	start := len(r.members)
	for r.dec.PeekKind() != '}' {
		tok, err := r.dec.ReadToken()
		if err != nil {
			return nil, describeSyntaxError(err)
		}
		// A token is only valid until the next read.
		name := tok.String()
		value, err := r.readNode()
		if err != nil {
			return nil, err
		}
		r.members = append(r.members, Member{Name: name, Value: value})
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return nil, describeSyntaxError(err)
	}
	obj := &Object{Members: append([]Member(nil), r.members[start:]...)}
	clear(r.members[start:])
	r.members = r.members[:start]
	return obj, nil
}

func (r *treeReader) readArray() (*Array, error) {
	if _, err := r.dec.ReadToken(); err != nil {
		return nil, describeSyntaxError(err)
	}
	start := len(r.items)
	for r.dec.PeekKind() != ']' {
		item, err := r.readNode()
		if err != nil {
			return nil, err
		}
		r.items = append(r.items, item)
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return nil, describeSyntaxError(err)
	}
	arr := &Array{Items: append(make([]any, 0, len(r.items)-start), r.items[start:]...)}
	clear(r.items[start:])
	r.items = r.items[:start]
	return arr, nil
}

func describeSyntaxError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the JSON document is truncated")
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && strings.Contains(se.Error(), "duplicate object member name") {
		return fmt.Errorf("duplicate key at %s: runc would use only the last one, so the document is ambiguous", se.JSONPointer)
	}
	return fmt.Errorf("malformed JSON: %w", err)
}

// Encode writes the tree as compact JSON. Strings keep their escapes as
// written ("\/" stays "\/"), so that a rewrite changes only what the policy
// changed.
func (t *Tree) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := jsontext.NewEncoder(&buf, jsontext.PreserveRawStrings(true))
	if err := writeNode(enc, t.Root); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func writeNode(enc *jsontext.Encoder, node any) error {
	switch n := node.(type) {
	case *Object:
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		for _, m := range n.Members {
			if err := enc.WriteToken(jsontext.String(m.Name)); err != nil {
				return err
			}
			if err := writeNode(enc, m.Value); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndObject)
	case *Array:
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for _, item := range n.Items {
			if err := writeNode(enc, item); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	case Scalar:
		return enc.WriteValue(jsontext.Value(n))
	default:
		return fmt.Errorf("internal error: unexpected node %T in JSON tree", node)
	}
}

// Clone returns a deep copy, so that edits of one do not show in the other.
func (t *Tree) Clone() *Tree {
	return &Tree{Root: cloneNode(t.Root)}
}

func cloneNode(node any) any {
	switch n := node.(type) {
	case *Object:
		c := &Object{Members: make([]Member, len(n.Members))}
		for i, m := range n.Members {
			c.Members[i] = Member{Name: m.Name, Value: cloneNode(m.Value)}
		}
		return c
	case *Array:
		c := &Array{Items: make([]any, len(n.Items))}
		for i, item := range n.Items {
			c.Items[i] = cloneNode(item)
		}
		return c
	default:
		return n
	}
}

// Pointer builds an RFC 6901 JSON pointer from unescaped reference tokens.
func Pointer(tokens ...string) string {
	var b strings.Builder
	for _, tok := range tokens {
		b.WriteByte('/')
		for i := 0; i < len(tok); i++ {
			switch tok[i] {
			case '~':
				b.WriteString("~0")
			case '/':
				b.WriteString("~1")
			default:
				b.WriteByte(tok[i])
			}
		}
	}
	return b.String()
}

func splitPointer(ptr string) ([]string, error) {
	if ptr == "" {
		return nil, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("JSON pointer %q does not start with /", ptr)
	}
	tokens := strings.Split(ptr[1:], "/")
	for i, tok := range tokens {
		if strings.Contains(tok, "~") {
			tokens[i] = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		}
	}
	return tokens, nil
}

// Get returns the node at ptr.
func (t *Tree) Get(ptr string) (any, bool) {
	tokens, err := splitPointer(ptr)
	if err != nil {
		return nil, false
	}
	node := t.Root
	for _, tok := range tokens {
		next, ok := child(node, tok)
		if !ok {
			return nil, false
		}
		node = next
	}
	return node, true
}

func child(node any, tok string) (any, bool) {
	switch n := node.(type) {
	case *Object:
		return n.Get(tok)
	case *Array:
		i, err := strconv.Atoi(tok)
		if err != nil || i < 0 || i >= len(n.Items) {
			return nil, false
		}
		return n.Items[i], true
	}
	return nil, false
}

// NodeOf converts a Go value into a tree node by marshalling it. The
// values controls write most (booleans, numbers, strings, string lists
// and capability sets) are built directly, node for node what marshalling
// would give: the first marshal of each type in a process costs tens of
// microseconds of reflection, on every runtime call.
func NodeOf(v any) (any, error) {
	if node, ok := simpleNodeOf(v); ok {
		return node, nil
	}
	data, err := reflectMarshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	t, err := ParseTree(data)
	if err != nil {
		return nil, err
	}
	return t.Root, nil
}

// simpleNodeOf builds the node of v when v is of a type it knows, as
// json.Marshal with Deterministic(true) would: a nil slice is an empty
// array, map keys are sorted.
func simpleNodeOf(v any) (any, bool) {
	switch v := v.(type) {
	case bool:
		return Scalar(strconv.AppendBool(nil, v)), true
	case string:
		return quotedScalar(v)
	case int:
		return Scalar(strconv.AppendInt(nil, int64(v), 10)), true
	case int64:
		return Scalar(strconv.AppendInt(nil, v, 10)), true
	case uint64:
		return Scalar(strconv.AppendUint(nil, v, 10)), true
	case []string:
		return stringArray(v)
	case map[string][]string:
		obj := &Object{Members: make([]Member, 0, len(v))}
		for _, name := range slices.Sorted(maps.Keys(v)) {
			items, ok := stringArray(v[name])
			if !ok {
				return nil, false
			}
			obj.Members = append(obj.Members, Member{Name: name, Value: items})
		}
		return obj, true
	case specs.Mount:
		return mountNode(v)
	}
	return nil, false
}

// mountNode builds a mount the way the marshaller writes specs.Mount, its
// members in the struct's order and the omitempty ones left out when
// empty: the tmpfs mounts of a read-only root are the one struct a
// rewrite of Docker's config inserts, and the marshaller would first
// build its encoders by reflection, in every runtime call that rewrites.
// A mount with ID mappings is left to the marshaller.
func mountNode(m specs.Mount) (any, bool) {
	if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
		return nil, false
	}
	obj := &Object{Members: make([]Member, 0, 4)}
	add := func(name string, value any, ok bool) bool {
		obj.Members = append(obj.Members, Member{Name: name, Value: value})
		return ok
	}
	destination, ok := quotedScalar(m.Destination)
	if !add("destination", destination, ok) {
		return nil, false
	}
	for _, member := range []struct{ name, value string }{{"type", m.Type}, {"source", m.Source}} {
		if member.value == "" {
			continue
		}
		value, ok := quotedScalar(member.value)
		if !add(member.name, value, ok) {
			return nil, false
		}
	}
	if len(m.Options) > 0 {
		options, ok := stringArray(m.Options)
		if !add("options", options, ok) {
			return nil, false
		}
	}
	return obj, true
}

// quotedScalar quotes s as JSON; invalid UTF-8 is left to the marshaller.
func quotedScalar(s string) (Scalar, bool) {
	quoted, err := jsontext.AppendQuote(nil, s)
	if err != nil {
		return nil, false
	}
	return Scalar(quoted), true
}

func stringArray(items []string) (*Array, bool) {
	arr := &Array{Items: make([]any, 0, len(items))}
	for _, item := range items {
		node, ok := quotedScalar(item)
		if !ok {
			return nil, false
		}
		arr.Items = append(arr.Items, node)
	}
	return arr, true
}

// Unmarshal decodes the node at the tree's root into v.
func (t *Tree) Unmarshal(v any) error {
	data, err := t.Encode()
	if err != nil {
		return err
	}
	return reflectUnmarshal(data, v)
}
