package gendecode

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// EdgeValues replace each value of a document in Mutations: every kind,
// and the numbers at which integer kinds and plain literals end.
var EdgeValues = []string{
	`null`, `true`, `"x"`, `[]`, `{}`,
	`0`, `-1`, `-0`, `1.0`, `1e2`,
	`65536`, `4294967296`,
	`9223372036854775808`, `-9223372036854775809`, `18446744073709551616`,
}

// itemsMutated bounds the items of each array whose values are replaced:
// the items of one array share a type, and a seccomp profile has hundreds.
const itemsMutated = 2

// Mutations returns variants of doc for differential tests of generated
// decoders: each value in turn replaced by each of EdgeValues, and each
// member name in turn renamed to case variants and to an unknown name.
func Mutations(doc []byte) ([][]byte, error) {
	spans, err := valueSpans(doc)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	replace := func(s span, with string) {
		m := make([]byte, 0, len(doc)+len(with))
		m = append(append(append(m, doc[:s.start]...), with...), doc[s.end:]...)
		out = append(out, m)
	}
	for _, s := range spans {
		if !s.name {
			for _, v := range EdgeValues {
				replace(s, v)
			}
			continue
		}
		name := string(doc[s.start+1 : s.end-1])
		for _, renamed := range renamings(name) {
			replace(s, `"`+renamed+`"`)
		}
	}
	return out, nil
}

// renamings are names json/v2 must not take for name: its case variants
// and one it does not know.
func renamings(name string) []string {
	first, size := utf8.DecodeRuneInString(name)
	names := []string{"xUnknownMember", strings.ToUpper(name), strings.ToLower(name)}
	if size > 0 {
		names = append(names, string(unicode.ToUpper(first))+name[size:], string(unicode.ToLower(first))+name[size:])
	}
	var distinct []string
	for _, n := range names {
		if n != name && !strings.ContainsAny(n, `"\`) {
			distinct = append(distinct, n)
		}
	}
	return distinct
}

// span is where a value, or a member name, stands in a document.
type span struct {
	start, end int64
	name       bool
}

// valueSpans lists the values and member names of doc (skipping array
// items after the first itemsMutated), in document order.
func valueSpans(doc []byte) ([]span, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(doc))
	var spans []span
	var walk func(mutate bool) error
	walk = func(mutate bool) error {
		switch dec.PeekKind() {
		case '{', '[':
			kind := dec.PeekKind()
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			start := dec.InputOffset() - 1
			for i := 0; dec.PeekKind() != '}' && dec.PeekKind() != ']'; i++ {
				if kind == '{' {
					name, err := dec.ReadValue()
					if err != nil {
						return err
					}
					if mutate {
						spans = append(spans, span{start: dec.InputOffset() - int64(len(name)), end: dec.InputOffset(), name: true})
					}
				}
				if err := walk(mutate && (kind == '{' || i < itemsMutated)); err != nil {
					return err
				}
			}
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			if mutate {
				spans = append(spans, span{start: start, end: dec.InputOffset()})
			}
		case 0:
			return fmt.Errorf("malformed document: %w", dec.SkipValue())
		default:
			v, err := dec.ReadValue()
			if err != nil {
				return err
			}
			if mutate {
				spans = append(spans, span{start: dec.InputOffset() - int64(len(v)), end: dec.InputOffset()})
			}
		}
		return nil
	}
	if err := walk(true); err != nil && err != io.EOF {
		return nil, err
	}
	return spans, nil
}
