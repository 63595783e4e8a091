//go:build !lean

package enforce

// Strict YAML decoding for config.yaml and the policies, over
// github.com/goccy/go-yaml: it inits in a fraction of what go.yaml.in/yaml/v3
// costs on every runtime call, and its AST keeps positions and comments.

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// parseYAML parses a file that holds one YAML document and returns its top
// node, nil when the document is empty or only comments. A second document
// is an error, worded "a second YAML document: " + oneDocument: the decoder
// would silently ignore it.
func parseYAML(data []byte, oneDocument string) (_ ast.Node, err error) {
	defer recoverYAML(&err)
	tokens := lexer.Tokenize(string(data))
	file, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, newYAMLError(err, nil, "not valid YAML: ")
	}
	// The parser's documents are not enough to count them: it drops what
	// follows two "---" in a row.
	if second := secondDocumentStart(tokens); second != nil {
		return nil, newYAMLError(&yaml.SyntaxError{Message: "a second YAML document: " + oneDocument, Token: second}, nil, "")
	}
	for _, doc := range file.Docs {
		if doc.Body != nil && doc.Body.Type() != ast.CommentType && doc.Body.Type() != ast.DirectiveType {
			return doc.Body, nil
		}
	}
	return nil, nil
}

// secondDocumentStart returns the token that starts a second YAML document:
// a "---" or a directive after a "---" or after content, or content after
// a "...". It returns nil when tokens hold one document or none.
func secondDocumentStart(tokens token.Tokens) *token.Token {
	var started, directive, ended bool
	for _, tk := range tokens {
		switch tk.Type {
		case token.CommentType:
		case token.DirectiveType, token.DocumentHeaderType:
			if started || ended {
				return tk
			}
			// A directive's own words run up to the "---" it precedes.
			directive = tk.Type == token.DirectiveType
			started = tk.Type == token.DocumentHeaderType
		case token.DocumentEndType:
			ended = true
		default:
			if ended {
				return tk
			}
			if !directive {
				started = true
			}
		}
	}
	return nil
}

// decodeYAML decodes body into v strictly: a key v has no field for is an
// error.
func decodeYAML(body ast.Node, v any) (err error) {
	if body == nil {
		return nil
	}
	defer recoverYAML(&err)
	if err := yaml.NodeToValue(body, v, yaml.Strict()); err != nil {
		return newYAMLError(err, body, "")
	}
	return nil
}

// recoverYAML turns a panic of the YAML library on input it mishandles into
// the error of the file: guard-runtime refuses what it cannot read, and
// never crashes on a file.
func recoverYAML(err *error) {
	if r := recover(); r != nil {
		*err = &yamlError{msg: fmt.Sprintf("not valid YAML: the YAML decoder failed on it (%v): write it without tags (!!) and anchors (&, *)", r)}
	}
}

// overlayYAML decodes body strictly onto v, which is already set: that is
// how a policy overlays the one it extends. What body does not mention is
// kept, a mapping replaces settings key by key, a map of names its entries
// key by key, a list whole, and null turns a section off or empties a list.
func overlayYAML(body ast.Node, v any) error {
	if body == nil {
		return nil
	}
	root := reflect.ValueOf(v)
	inherited := prepareOverlay(root, body, nil)
	if err := decodeYAML(body, v); err != nil {
		return err
	}
	for _, m := range inherited {
		m.restore(root)
	}
	return nil
}

// inheritedMap is a map that a document overlays, with the entries it had
// before: the decoder replaces a map whole, where an overlay keeps the
// entries the document does not name.
type inheritedMap struct {
	path    []int         // field indexes from the decoded value
	entries reflect.Value // the map object before decoding
}

// prepareOverlay readies v for node to be decoded onto it. The decoder sets
// a section given null to nil, but keeps a list or map given null: those
// are emptied here, as "allowed: null" means none, not the parent's. It
// returns the maps node overlays.
func prepareOverlay(v reflect.Value, node ast.Node, path []int) []inheritedMap {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var inherited []inheritedMap
	for _, entry := range mappingEntries(node) {
		i := fieldIndexByYAMLKey(v.Type(), entry.Key.GetToken().Value)
		if i < 0 {
			continue
		}
		field, fieldPath := v.Field(i), append(slices.Clone(path), i)
		kind := field.Kind()
		switch {
		case entry.Value.Type() == ast.NullType && (kind == reflect.Slice || kind == reflect.Map):
			field.SetZero()
		case kind == reflect.Map && field.Len() > 0:
			inherited = append(inherited, inheritedMap{path: fieldPath, entries: reflect.ValueOf(field.Interface())})
		default:
			inherited = append(inherited, prepareOverlay(field, entry.Value, fieldPath)...)
		}
	}
	return inherited
}

// restore puts back into the decoded map the entries the document did not
// set.
func (m inheritedMap) restore(root reflect.Value) {
	v := root
	for _, i := range m.path {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	if v.Kind() != reflect.Map || v.IsNil() {
		return
	}
	for entry := m.entries.MapRange(); entry.Next(); {
		if !v.MapIndex(entry.Key()).IsValid() {
			v.SetMapIndex(entry.Key(), entry.Value())
		}
	}
}

// mappingEntries returns the key-value pairs of a mapping node, none for
// any other node.
func mappingEntries(node ast.Node) []*ast.MappingValueNode {
	switch n := untagged(node).(type) {
	case *ast.MappingNode:
		return n.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}
	}
	return nil
}

// setsKey reports whether the mapping node sets the key at path, to any
// value, null included.
func setsKey(node ast.Node, path ...string) bool {
	for _, entry := range mappingEntries(node) {
		if entry.Key.GetToken().Value == path[0] {
			return len(path) == 1 || setsKey(entry.Value, path[1:]...)
		}
	}
	return false
}

// untagged returns the node an anchor or tag is put on, node itself
// otherwise.
func untagged(node ast.Node) ast.Node {
	for {
		var value ast.Node
		switch n := node.(type) {
		case *ast.TagNode:
			value = n.Value
		case *ast.AnchorNode:
			value = n.Value
		}
		if value == nil {
			return node
		}
		node = value
	}
}

// fieldIndexByYAMLKey returns the index of the field of struct type t that
// decodes key, -1 for none.
func fieldIndexByYAMLKey(t reflect.Type, key string) int {
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == key && t.Field(i).IsExported() {
			return i
		}
	}
	return -1
}

// scalarText returns a scalar as it is written, quotes taken off: sizes and
// digests are read from their text, never through a number ("0x10" and
// "1e3" are not sizes, "0123" is not 83).
func scalarText(node ast.Node) (string, error) {
	switch n := node.(type) {
	case *ast.StringNode:
		return n.Value, nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, nil
	case *ast.TagNode:
		return scalarText(n.Value)
	case *ast.AnchorNode:
		return scalarText(n.Value)
	}
	return "", valueError(node, "want a single value, not "+kindOf(node))
}

func kindOf(node ast.Node) string {
	switch node.Type() {
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.NullType:
		return "null"
	}
	return "a " + strings.ToLower(node.Type().String())
}

// valueError reports a value a custom decoder rejects, at the value's place
// in the file.
func valueError(node ast.Node, msg string) error {
	return &yaml.SyntaxError{Message: msg, Token: node.GetToken()}
}

// yamlError is a decoding error in one line, for people, audit records and
// runc's log: "line N: what is wrong", naming the key.
type yamlError struct {
	msg string
	err error
}

func (e *yamlError) Error() string { return e.msg }
func (e *yamlError) Unwrap() error { return e.err }

// newYAMLError words err, whose token lies in the document root (nil when
// the document did not parse).
func newYAMLError(err error, root ast.Node, prefix string) error {
	var positioned yaml.Error
	if !errors.As(err, &positioned) || positioned.GetToken() == nil {
		return &yamlError{msg: prefix + err.Error(), err: err}
	}
	tk := positioned.GetToken()
	msg := positioned.GetMessage()
	path := strings.TrimPrefix(strings.TrimPrefix(nodePath(root, tk), "$"), ".")
	var unknown *yaml.UnknownFieldError
	var mismatch *yaml.TypeError
	switch {
	case errors.As(err, &unknown) && path != "":
		return &yamlError{msg: fmt.Sprintf("line %d: unknown key %s", tk.Position.Line, path), err: err}
	case errors.As(err, &mismatch):
		msg = fmt.Sprintf("%s is not a valid %s", describeValue(tk, mismatch.SrcType), mismatch.DstType)
	default:
		// The parser reports a duplicate key "already defined at [2:1]".
		msg = lineNotColumn(msg)
	}
	if path != "" {
		msg = path + ": " + msg
	}
	return &yamlError{msg: fmt.Sprintf("line %d: %s%s", tk.Position.Line, prefix, msg), err: err}
}

// lineNotColumn words a place such as the parser's "already defined at
// [2:1]" as the other messages give one: "already defined at line 2".
func lineNotColumn(msg string) string {
	i := strings.LastIndex(msg, " at [")
	var line, column int
	if i < 0 {
		return msg
	}
	if _, err := fmt.Sscanf(msg[i:], " at [%d:%d]", &line, &column); err != nil {
		return msg
	}
	return fmt.Sprintf("%s at line %d", msg[:i], line)
}

// describeValue names the value a type error is about: its text for a
// scalar, its kind for a collection (whose token is only "[" or ":").
func describeValue(tk *token.Token, decoded reflect.Type) string {
	if decoded != nil {
		switch decoded.Kind() {
		case reflect.Map, reflect.Struct:
			return "a mapping"
		case reflect.Slice, reflect.Array:
			return "a list"
		}
	}
	return strconv.Quote(tk.Value)
}

// nodePath returns the path ($.controls.capabilities) of the node of tk:
// the decoder's errors carry a token, not a node.
func nodePath(root ast.Node, tk *token.Token) string {
	if root == nil {
		return ""
	}
	finder := &pathFinder{token: tk}
	ast.Walk(finder, root)
	return finder.path
}

type pathFinder struct {
	token *token.Token
	path  string
}

func (f *pathFinder) Visit(n ast.Node) ast.Visitor {
	if f.path != "" {
		return nil
	}
	if n.GetToken() == f.token {
		f.path = n.GetPath()
		return nil
	}
	return f
}
