package spec

import (
	"bytes"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// Stream reads one JSON document value by value for the generated
// decoders (hack/gendecode), which fill a Go value as they go: no tree, and
// no allocation beyond what the value itself holds. A config.json has
// thousands of values, and a runtime call reads one each time.
//
// It checks what ParseTree checks: jsontext refuses duplicate member
// names, invalid UTF-8 and nesting beyond its bound; Stream counts the
// values against MaxDocumentValues; DecodeWith requires that nothing but
// white space follows the value. Any failure, once met, makes every later
// read fail too, so a decoder can only succeed on a document read whole.
type Stream struct {
	dec  *jsontext.Decoder
	data []byte
	// text is data as one string, made at the first string read: the
	// strings of the value are slices of it, without escapes the text
	// between their quotes.
	text   string
	values int
	failed bool
}

// DecodeWith reads data with the generated decoder decode. It reports
// false when decode cannot read it, or data is not exactly one JSON value
// within the bounds ParseTree sets; the caller then takes its reflective
// path, which gives the errors. The value's strings share data's text, so
// it keeps a copy of data alive.
func DecodeWith[T any](data []byte, decode func(*Stream, *T) bool) (*T, bool) {
	// A bytes.Buffer is read in place, without copying data.
	s := &Stream{dec: jsontext.NewDecoder(bytes.NewBuffer(data)), data: data}
	value := new(T)
	if !decode(s, value) || s.failed {
		return nil, false
	}
	if _, err := s.dec.ReadToken(); err != io.EOF {
		return nil, false
	}
	return value, true
}

func (s *Stream) fail() bool {
	s.failed = true
	return false
}

func (s *Stream) count() bool {
	s.values++
	if s.values > MaxDocumentValues {
		return s.fail()
	}
	return true
}

// Kind is the kind of the next token, 0 after a failure.
func (s *Stream) Kind() jsontext.Kind {
	if s.failed {
		return 0
	}
	return s.dec.PeekKind()
}

// Null reads the next value if it is null, and reports whether it did.
func (s *Stream) Null() bool {
	if s.Kind() != 'n' {
		return false
	}
	if _, err := s.dec.ReadValue(); err != nil {
		return s.fail()
	}
	return s.count()
}

// Open reads the next token if it begins an object ('{') or an array ('[')
// as kind says, and reports whether it did.
func (s *Stream) Open(kind jsontext.Kind) bool {
	if s.Kind() != kind {
		return false
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return s.fail()
	}
	return s.count()
}

// More reports whether the object or array being read has another member
// or item; after a failure it says yes, and reading that fails.
func (s *Stream) More() bool {
	kind := s.Kind()
	return kind != '}' && kind != ']'
}

// Close reads the end of the object or array being read.
func (s *Stream) Close() bool {
	if s.failed {
		return false
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return s.fail()
	}
	return true
}

// Name reads a member name and returns it without its quotes, valid until
// the next read; false for a name with an escape, which a generated
// decoder leaves to the reflective path.
func (s *Stream) Name() ([]byte, bool) {
	raw, ok := s.readString()
	if !ok {
		return nil, false
	}
	name := raw[1 : len(raw)-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		return nil, s.fail()
	}
	return name, true
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
	raw, ok := s.readString()
	if !ok || !s.count() {
		return "", false
	}
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 {
		return s.lastText(len(inner)), true
	}
	return Scalar(raw).Text()
}

// Scalar reads the next value when it is a number, true or false, for the
// Scalar readers; null and strings have their own methods.
func (s *Stream) Scalar() (Scalar, bool) {
	switch s.Kind() {
	case '0', 't', 'f':
	default:
		return nil, s.fail()
	}
	raw, err := s.dec.ReadValue()
	if err != nil {
		return nil, s.fail()
	}
	return Scalar(raw), s.count()
}

// readString reads the next token, which must be a string (a value or a
// member name), quoted as written.
func (s *Stream) readString() (jsontext.Value, bool) {
	if s.Kind() != '"' {
		return nil, s.fail()
	}
	raw, err := s.dec.ReadValue()
	if err != nil {
		return nil, s.fail()
	}
	return raw, true
}

// lastText returns the n bytes between the quotes of the string just read
// as a slice of data's text: the decoder's offsets are offsets in data.
func (s *Stream) lastText(n int) string {
	if len(s.text) != len(s.data) {
		s.text = string(s.data)
	}
	end := int(s.dec.InputOffset()) - 1 // the closing quote
	return s.text[end-n : end]
}
