package spec

import "testing"

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
