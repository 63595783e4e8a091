package spec

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Close refuses to end an object right after a member name, or with the
// other kind of bracket: a decoder that closes early must not make a
// document with a missing value or mismatched brackets read as whole.
func TestStreamCloseChecksWhatItCloses(t *testing.T) {
	for _, doc := range []string{`{"a":}`, `{"a":]`, `{"a" }`} {
		s := &Stream{data: []byte(doc)}
		if !s.Open('{') {
			t.Fatalf("%s: Open", doc)
		}
		if _, ok := s.Name(); !ok {
			t.Fatalf("%s: Name", doc)
		}
		if s.Close() || !s.failed {
			t.Errorf("%s: Close after a name succeeds", doc)
		}
	}
	s := &Stream{data: []byte(`[1}`)}
	if !s.Open('[') {
		t.Fatal("Open")
	}
	if _, ok := s.Scalar(); !ok {
		t.Fatal("Scalar")
	}
	if s.Close() {
		t.Error("an array closed by }")
	}
}

// A struct without fields reads {} and null; a member, which json/v2 would
// report as unknown or ignore as its options say, goes to the reflective
// path, and so does anything that is not an object.
func TestEmptyObjectReadsOnlyAnObjectWithoutMembers(t *testing.T) {
	type empty struct{}
	read := func(s *Stream, _ *empty) bool { return EmptyObject(s) }
	for doc, want := range map[string]bool{
		`{}`: true, ` { } `: true, `null`: true,
		`{"a":1}`: false, `{"a":}`: false, `{`: false, `[]`: false, `1`: false, `{}{}`: false,
	} {
		if _, ok := DecodeWith([]byte(doc), read); ok != want {
			t.Errorf("EmptyObject(%s) = %v, want %v", doc, ok, want)
		}
	}
}

// String lists are read a plain item at a time in one pass, and whatever
// follows the first item that is not plain (an escape, non-ASCII text,
// null, another kind of value, a grammar error) by the general reader:
// the value, or the refusal, must be the reflective decoder's.
func TestPlainStringItemsHandOverToTheGeneralReader(t *testing.T) {
	doc := func(args string) []byte {
		return []byte(`{"ociVersion":"1.0.2","process":{"cwd":"/","args":` + args + `}}`)
	}
	for _, args := range []string{
		`[]`, `["sh"]`, `[ "sh" , "-c" ]`, "[\n\t\"sh\",\r\n \"-c\"\n]",
		`["sh","a\"b","c"]`, `["sh","\u00e9","c"]`, `["sh","é","c"]`, `["sh",null,"c"]`,
		`["a\\b","sh"]`, `[null,"sh"]`,
	} {
		if !checkFastAgrees[specs.Spec](t, doc(args)) {
			t.Errorf("args %s: the generated decoder refuses them", args)
		}
	}
	for _, args := range []string{
		`["sh",1]`, `["sh" "c"]`, `["sh",,"c"]`, `["sh",]`, `[,"sh"]`,
		`["sh"`, `["sh`, "[\"sh\x01\"]", `["sh",{}]`, `["sh",["c"]]`,
	} {
		if checkFastAgrees[specs.Spec](t, doc(args)) {
			t.Errorf("args %s: the generated decoder reads them", args)
		}
	}
}

func TestPlainStringItemConsumesNothingItCannotRead(t *testing.T) {
	s := &Stream{data: []byte(`["a","b\n",1]`)}
	if !s.Open('[') {
		t.Fatal("no array")
	}
	if text, ok := s.PlainStringItem(); !ok || text != "a" {
		t.Fatalf("first item: %q %v", text, ok)
	}
	pos := s.pos
	if _, ok := s.PlainStringItem(); ok || s.pos != pos {
		t.Fatalf("an escaped item was read, or the stream moved from %d to %d", pos, s.pos)
	}
	if text, ok := s.Text(); !ok || text != "b\n" {
		t.Fatalf("the general reader read %q %v after it", text, ok)
	}
	if _, ok := s.PlainStringItem(); ok {
		t.Fatal("a number was read as a string")
	}
}

// PlainStringItemsAhead expects the items of a list of plain strings
// exactly, other lists' at least (it sizes a slice), and reads nothing.
func TestPlainStringItemsAheadExpectsWithoutReading(t *testing.T) {
	for doc, want := range map[string]int{
		`[]`:                 0,
		`["a"]`:              1,
		"[ \"a\" ,\n\"b\" ]": 2,
		`["a","b",["c"]]`:    3,
		`["a","b\n","c"]`:    3, // one plain item: the rest is read the general way
		`["a",1,"c"]`:        2,
		`[null,"a"]`:         0,
		`["a","b"`:           2,
		`["a" "b"]`:          2,
		`["a]","b"]`:         1, // fewer: the slice grows
	} {
		s := &Stream{data: []byte(doc)}
		if !s.Open('[') {
			t.Fatalf("%s: no array", doc)
		}
		if got := s.PlainStringItemsAhead(); got != want || s.pos != 1 {
			t.Errorf("%s: %d plain items expected, want %d; the stream moved to %d", doc, got, want, s.pos)
		}
	}
}

// A string list is allocated once, at its length: a list of Docker's
// hundreds of syscall names costs no more allocations than a list of one.
func TestStringListIsAllocatedOnce(t *testing.T) {
	list := func(n int) []byte {
		items := make([]string, n)
		for i := range items {
			items[i] = `"name` + strconv.Itoa(i) + `"`
		}
		return []byte("[" + strings.Join(items, ",") + "]")
	}
	allocs := func(doc []byte) float64 {
		return testing.AllocsPerRun(20, func() {
			if v, ok := DecodeWith(doc, fastDecodeSliceOfString); !ok || len(*v) == 0 {
				t.Fatalf("%.20s…: not read", doc)
			}
		})
	}
	one, many := allocs(list(1)), allocs(list(300))
	if many != one {
		t.Errorf("a list of 300 names takes %v allocations, a list of one %v", many, one)
	}
}

// The strings of a decoded value are views of the document, not of a
// copy of it: a create decodes 18 KB (its config and the cached policy),
// and a copy was that many bytes of fresh pages.
func TestDecodedStringsShareTheDocument(t *testing.T) {
	doc := []byte(`["runc","spec"]`)
	v, ok := DecodeWith(doc, fastDecodeSliceOfString)
	if !ok || len(*v) != 2 {
		t.Fatalf("not read: %v", v)
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(doc)))
	for _, s := range *v {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		if p < start || p >= start+uintptr(len(doc)) {
			t.Errorf("%q is a copy, not a view of the document", s)
		}
	}
}
