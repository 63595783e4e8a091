package spec

import (
	"bytes"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// Stream reads one JSON document value by value for the generated
// decoders (hack/gendecode), which fill a Go value as they go: no tree, and
// no allocation beyond what the value itself holds. A config.json has
// thousands of values, and a runtime call reads one each time.
//
// It scans the bytes itself, and refuses what json/v2 refuses: anything
// outside RFC 8259's grammar, duplicate member names, invalid UTF-8,
// control characters in strings. It counts the values against
// MaxDocumentValues; DecodeWith requires that nothing but white space
// follows the value. Any failure, once met, makes every later read fail
// too, so a decoder can only succeed on a document read whole. What it
// leaves to json/v2 it refuses as well: a member name with an escape, and
// the meaning of escapes in values (Scalar.Text resolves them with
// jsontext). jsontext's own decoder, which this replaces, took a quarter
// longer over Docker's largest config.json (BenchmarkDecodeConfig), in
// every runtime call.
type Stream struct {
	data []byte
	pos  int
	// stack holds the objects and arrays being read, innermost last.
	stack []frame
	// names are the member names of the objects being read, each
	// object's after its enclosing object's, for the duplicate check.
	names [][]byte
	// peeked is the kind of the next token once Kind has looked at it,
	// having consumed the separator before it (',' or ':'); the next read
	// takes the token itself. 0 before Kind looks.
	peeked jsontext.Kind
	// text is data seen as one string (no copy; see DecodeWith), from the
	// first string read: the strings of the value are slices of it,
	// without escapes the text between their quotes.
	text   string
	values int
	failed bool
}

// frame is an object or array being read.
type frame struct {
	kind byte // '{' or '['
	// items read so far: members of an object, items of an array.
	items int
	// inMember is set between an object member's name and its value.
	inMember bool
	// firstName is where the object's names begin in Stream.names.
	firstName int
	// nameSet takes over from Stream.names in large objects, so that a
	// hostile document cannot make the duplicate check quadratic.
	nameSet map[string]struct{}
}

// maxNestedNames is the most names an object's duplicate check compares
// one by one.
const maxNestedNames = 16

// maxStreamDepth is jsontext's bound on nesting.
const maxStreamDepth = 10000

// DecodeWith reads data with the generated decoder decode. It reports
// false when decode cannot read it, or data is not exactly one JSON value
// within the bounds ParseTree sets; the caller then takes its reflective
// path, which gives the errors. The value's strings are views of data,
// not copies: data must not change while the value is in use. Every
// caller decodes a buffer it has just read for this and only reads it
// after (a config.json, a process file, a cache entry); a copy cost each
// create 18 KB of fresh pages for the config and the policy.
func DecodeWith[T any](data []byte, decode func(*Stream, *T) bool) (*T, bool) {
	s := &Stream{data: data, stack: make([]frame, 0, 8), names: make([][]byte, 0, 64)}
	value := new(T)
	if !decode(s, value) || s.failed || !s.atEnd() {
		return nil, false
	}
	return value, true
}

func (s *Stream) fail() bool {
	s.failed = true
	s.peeked = 0 // Kind's fast path then fails too
	return false
}

func (s *Stream) count() bool {
	s.values++
	if s.values > MaxDocumentValues {
		return s.fail()
	}
	return true
}

// atEnd reports whether the value read was the document's last: nothing
// but white space follows it.
func (s *Stream) atEnd() bool {
	if len(s.stack) != 0 || s.values == 0 {
		return false
	}
	s.skipSpace()
	return s.pos == len(s.data)
}

func (s *Stream) skipSpace() {
	s.pos = skipSpaceAt(s.data, s.pos)
}

// Kind is the kind of the next token, as jsontext names kinds ('"', '0',
// 't', 'f', 'n', '{', '[', '}', ']'), 0 after a failure. It consumes the
// separator before the token, checking that the grammar wants one there.
func (s *Stream) Kind() jsontext.Kind {
	// The token was looked at already (More before Name, a decoder's look
	// before Text): most calls end here, inlined.
	if s.peeked != 0 {
		return s.peeked
	}
	return s.kindAfterSeparator()
}

// tokenKind is the kind of the token each byte begins, 0 for none.
var tokenKind = func() (table [256]jsontext.Kind) {
	for _, c := range []byte(`"tfn{[}]`) {
		table[c] = jsontext.Kind(c)
	}
	for _, c := range []byte("-0123456789") {
		table[c] = '0'
	}
	return table
}()

// kindAfterSeparator is Kind when the separator before the token has not
// been consumed yet, or the stream failed.
func (s *Stream) kindAfterSeparator() jsontext.Kind {
	if s.failed {
		return 0
	}
	if !s.consumeSeparator() {
		s.fail()
		return 0
	}
	if s.pos == len(s.data) {
		s.fail()
		return 0
	}
	if k := tokenKind[s.data[s.pos]]; k != 0 {
		s.peeked = k
		return k
	}
	s.fail()
	return 0
}

// consumeSeparator skips white space and the ',' or ':' the grammar wants
// before the next token, and checks that a closing '}' or ']' is allowed
// here (not after a ',' nor after a member name).
func (s *Stream) consumeSeparator() bool {
	s.skipSpace()
	if len(s.stack) == 0 {
		return s.values == 0 // one value per document
	}
	top := &s.stack[len(s.stack)-1]
	closing := s.pos < len(s.data) && (s.data[s.pos] == '}' || s.data[s.pos] == ']')
	switch {
	case top.inMember:
		if s.pos == len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		s.pos++
		s.skipSpace()
		return true
	case closing:
		return s.data[s.pos] == closerOf(top.kind)
	case top.items > 0:
		if s.pos == len(s.data) || s.data[s.pos] != ',' {
			return false
		}
		s.pos++
		s.skipSpace()
		if s.pos < len(s.data) && (s.data[s.pos] == '}' || s.data[s.pos] == ']') {
			return false // a trailing comma
		}
	}
	if top.kind == '{' && (s.pos == len(s.data) || s.data[s.pos] != '"') {
		return false // an object member begins with its name
	}
	return true
}

func closerOf(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

// valueHere reports whether a value may be read now: not where an object
// wants a member name.
func (s *Stream) valueHere() bool {
	if n := len(s.stack); n > 0 && s.stack[n-1].kind == '{' && !s.stack[n-1].inMember {
		return s.fail()
	}
	return true
}

// took records that the token just read was a value (not a name, nor an
// opening): the enclosing object member or array item is complete.
func (s *Stream) took() {
	s.peeked = 0
	if n := len(s.stack); n > 0 {
		top := &s.stack[n-1]
		top.inMember = false
		if top.kind == '[' {
			top.items++
		}
	}
}

// Null reads the next value if it is null, and reports whether it did.
func (s *Stream) Null() bool {
	if s.Kind() != 'n' {
		return false
	}
	if !s.valueHere() {
		return false
	}
	if !s.literal("null") {
		return s.fail()
	}
	s.took()
	return s.count()
}

// literal consumes word when it is next, followed by a delimiter.
func (s *Stream) literal(word string) bool {
	end := s.pos + len(word)
	if end > len(s.data) || string(s.data[s.pos:end]) != word || !delimiterAt(s.data, end) {
		return false
	}
	s.pos = end
	return true
}

// delimiterAt reports whether a number or literal may end before data[i]:
// at the end, white space or a structural character.
func delimiterAt(data []byte, i int) bool {
	if i == len(data) {
		return true
	}
	switch data[i] {
	case ' ', '\t', '\n', '\r', ',', ':', '}', ']':
		return true
	}
	return false
}

// Open reads the next token if it begins an object ('{') or an array ('[')
// as kind says, and reports whether it did.
func (s *Stream) Open(kind jsontext.Kind) bool {
	if s.Kind() != kind {
		return false
	}
	if !s.valueHere() || len(s.stack) >= maxStreamDepth {
		return s.fail()
	}
	s.pos++
	s.peeked = 0
	s.stack = append(s.stack, frame{kind: byte(kind), firstName: len(s.names)})
	return s.count()
}

// More reports whether the object or array being read has another member
// or item; after a failure it says yes, and reading that fails.
func (s *Stream) More() bool {
	// '}' and ']' differ only in the bit 0x20, which no other kind's
	// '|0x20' turns into '}': one comparison, and More is inlined.
	return s.Kind()|0x20 != '}'
}

// EmptyObject is the generated decoder of every struct without fields: it
// reads an object without members, or null. A member is left to the
// reflective path, as an unknown member of any struct is.
func EmptyObject(s *Stream) bool {
	if !s.Open('{') {
		return s.Null()
	}
	if s.More() {
		return false
	}
	return s.Close()
}

// Close reads the end of the object or array being read.
func (s *Stream) Close() bool {
	kind := s.Kind()
	n := len(s.stack)
	// Not after a member's name: its value is missing.
	if n == 0 || s.stack[n-1].inMember || byte(kind) != closerOf(s.stack[n-1].kind) {
		return s.fail()
	}
	s.pos++
	s.names = s.names[:s.stack[len(s.stack)-1].firstName]
	s.stack = s.stack[:len(s.stack)-1]
	s.took()
	return true
}

// Name reads a member name and returns it without its quotes, valid until
// the next read; false for a name with an escape, which a generated
// decoder leaves to the reflective path.
func (s *Stream) Name() ([]byte, bool) {
	if n := len(s.stack); n == 0 || s.stack[n-1].kind != '{' || s.stack[n-1].inMember {
		return nil, s.fail()
	}
	raw, ok := s.readString()
	if !ok {
		return nil, false
	}
	name := raw[1 : len(raw)-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		return nil, s.fail()
	}
	if !s.addName(name) {
		return nil, s.fail()
	}
	top := &s.stack[len(s.stack)-1]
	top.items++
	top.inMember = true
	s.peeked = 0
	return name, true
}

// addName records a member name of the innermost object, false when it
// is a duplicate.
func (s *Stream) addName(name []byte) bool {
	f := &s.stack[len(s.stack)-1]
	if f.nameSet == nil {
		seen := s.names[f.firstName:]
		for _, other := range seen {
			if bytes.Equal(other, name) {
				return false
			}
		}
		if len(seen) < maxNestedNames {
			s.names = append(s.names, name)
			return true
		}
		f.nameSet = make(map[string]struct{}, 2*maxNestedNames)
		for _, other := range seen {
			f.nameSet[string(other)] = struct{}{}
		}
		s.names = s.names[:f.firstName]
	}
	if _, dup := f.nameSet[string(name)]; dup {
		return false
	}
	f.nameSet[string(name)] = struct{}{}
	return true
}

// NameText reads a member name as a string, without copying it; false for
// a name with an escape.
func (s *Stream) NameText() (string, bool) {
	name, ok := s.Name()
	if !ok {
		return "", false
	}
	return s.lastText(len(name)), true
}

// Text reads a string value, its escapes resolved; false when the next
// value is not a string.
func (s *Stream) Text() (string, bool) {
	if s.Kind() != '"' || !s.valueHere() {
		return "", s.fail()
	}
	raw, ok := s.readString()
	if !ok || !s.count() {
		return "", false
	}
	s.took()
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 {
		return s.lastText(len(inner)), true
	}
	text, ok := Scalar(raw).Text()
	if !ok {
		return "", s.fail()
	}
	return text, true
}

// RawText reads a string value and returns it quoted, as written, escapes
// and all, valid until the data changes.
func (s *Stream) RawText() ([]byte, bool) {
	if s.Kind() != '"' || !s.valueHere() {
		return nil, s.fail()
	}
	raw, ok := s.readString()
	if !ok || !s.count() {
		return nil, false
	}
	s.took()
	return raw[:len(raw):len(raw)], true
}

// Scalar reads the next value when it is a number, true or false, for the
// Scalar readers; null and strings have their own methods.
func (s *Stream) Scalar() (Scalar, bool) {
	var start int
	switch s.Kind() {
	case '0':
		start = s.pos
		if !s.number() {
			return nil, s.fail()
		}
	case 't':
		start = s.pos
		if !s.literal("true") {
			return nil, s.fail()
		}
	case 'f':
		start = s.pos
		if !s.literal("false") {
			return nil, s.fail()
		}
	default:
		return nil, s.fail()
	}
	if !s.valueHere() {
		return nil, false
	}
	s.took()
	return Scalar(s.data[start:s.pos:s.pos]), s.count()
}

// number consumes a number as RFC 8259 writes it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, followed by a delimiter.
func (s *Stream) number() bool {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		i = skipDigits(d, i)
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		if j := skipDigits(d, i+1); j > i+1 {
			i = j
		} else {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if j := skipDigits(d, i); j > i {
			i = j
		} else {
			return false
		}
	}
	if !delimiterAt(d, i) {
		return false
	}
	s.pos = i
	return true
}

func skipDigits(d []byte, i int) int {
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}

// readString reads the next token, which must be a string (a value or a
// member name), quoted as written: valid UTF-8, no control characters,
// every escape one of JSON's (their values are checked where they are
// resolved).
func (s *Stream) readString() ([]byte, bool) {
	if s.Kind() != '"' {
		return nil, s.fail()
	}
	d := s.data
	start := s.pos
	ascii := true
	for i := start + 1; i < len(d); i++ {
		c := d[i]
		if plainStringByte[c] {
			continue
		}
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d[start+1:i]) {
				return nil, s.fail()
			}
			s.pos = i + 1
			return d[start:s.pos], true
		case c == '\\':
			i++
			if i == len(d) {
				return nil, s.fail()
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) || !isHex4(d[i+1:i+5]) {
					return nil, s.fail()
				}
				i += 4
			default:
				return nil, s.fail()
			}
		case c < 0x20:
			return nil, s.fail()
		default:
			ascii = false
		}
	}
	return nil, s.fail()
}

// plainStringByte marks the bytes a string's scan passes over: printable
// ASCII other than the quote and the backslash.
var plainStringByte = func() (table [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		table[c] = c != '"' && c != '\\'
	}
	return table
}()

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// PlainStringItem reads the next item of the array being read when it is
// a string of printable ASCII without escapes, as the items of string
// lists nearly always are (syscall names, capabilities, paths), in one
// pass instead of a token at a time. For anything else (the array's end,
// another kind of value, a string the general reader must check) it
// returns false and consumes nothing, and the caller reads on the general
// way.
func (s *Stream) PlainStringItem() (string, bool) {
	n := len(s.stack)
	if s.failed || s.peeked != 0 || n == 0 || s.stack[n-1].kind != '[' {
		return "", false
	}
	top := &s.stack[n-1]
	d := s.data
	i := skipSpaceAt(d, s.pos)
	if top.items > 0 {
		if i == len(d) || d[i] != ',' {
			return "", false
		}
		i = skipSpaceAt(d, i+1)
	}
	if i == len(d) || d[i] != '"' {
		return "", false
	}
	start := i + 1
	end := start
	for end < len(d) && plainStringByte[d[end]] {
		end++
	}
	if end == len(d) || d[end] != '"' || !s.count() {
		return "", false
	}
	s.pos = end + 1
	top.items++
	return s.lastText(end - start), true
}

// PlainStrings reads the plain string items at the start of an array just
// opened into a slice, or returns nil when there are none. The slice is
// made for the items PlainStringItemsAhead expects: Docker's seccomp
// profile lists 300 syscall names in one rule, and a slice grown by
// appending would be allocated eight times over.
func PlainStrings[T ~string](s *Stream) []T {
	n := s.PlainStringItemsAhead()
	if n == 0 {
		return nil
	}
	items := make([]T, 0, n)
	for {
		text, ok := s.PlainStringItem()
		if !ok {
			break
		}
		items = append(items, T(text))
	}
	if len(items) == 0 {
		return nil
	}
	return items
}

// PlainStringItemsAhead is the number of string items an array just opened
// seems to hold, for the capacity of a slice: half the quotes before the
// first ']' (at least one), which is the count of a list of plain strings
// that hold no ']'. Two vectorised scans, instead of one that reads each
// item; 0 when the array does not start with a string.
func (s *Stream) PlainStringItemsAhead() int {
	n := len(s.stack)
	if s.failed || s.peeked != 0 || n == 0 || s.stack[n-1].kind != '[' || s.stack[n-1].items != 0 {
		return 0
	}
	rest := s.data[skipSpaceAt(s.data, s.pos):]
	if len(rest) == 0 || rest[0] != '"' {
		return 0
	}
	if end := bytes.IndexByte(rest, ']'); end >= 0 {
		rest = rest[:end]
	}
	return min(max(bytes.Count(rest, []byte{'"'})/2, 1), MaxDocumentValues-s.values)
}

// skipSpaceAt is the index of the first byte at or after i that is not
// JSON's white space. Compact documents (Docker's) have none between
// tokens, indented ones (runc spec's, Podman's) a newline and a run of
// tabs or spaces before each: one table lookup a byte.
func skipSpaceAt(d []byte, i int) int {
	for i < len(d) && jsonSpace[d[i]] {
		i++
	}
	return i
}

// jsonSpace marks RFC 8259's white space.
var jsonSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// lastText returns the n bytes between the quotes of the string just read
// as a slice of data's text.
func (s *Stream) lastText(n int) string {
	if len(s.text) != len(s.data) {
		s.text = unsafe.String(unsafe.SliceData(s.data), len(s.data))
	}
	end := s.pos - 1 // the closing quote
	return s.text[end-n : end]
}
