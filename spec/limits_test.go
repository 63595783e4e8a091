package spec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// worstCaseDocuments are documents of MaxDocumentSize that cost the most to
// read: as many values as fit, or as many as are allowed, each as long as
// the size allows.
func worstCaseDocuments() map[string][]byte {
	docs := map[string][]byte{}
	fill := func(head, item, tail string, n int) []byte {
		var b bytes.Buffer
		b.Grow(MaxDocumentSize)
		b.WriteString(head)
		for i := 0; b.Len() < MaxDocumentSize-len(item)-len(tail)-16 && (n <= 0 || i < n); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.ReplaceAll(item, "#", strconv.Itoa(i)))
		}
		b.WriteString(tail)
		return b.Bytes()
	}
	const head = `{"ociVersion":"1.0.2","process":{"cwd":"/","user":{"uid":1000},`
	docs["16 MiB array of zeros"] = fill(head+`"x-vendor":[`, `0`, `]}}`, 0)
	docs["16 MiB object of small members"] = fill(head+`"x-vendor":{`, `"#":0`, `}}}`, 0)
	docs["16 MiB of empty process arguments"] = fill(head+`"args":[`, `""`, `]}}`, 0)
	// The most values allowed, each as long as fits: the largest tree read.
	long := `"` + strings.Repeat("a", MaxDocumentSize/MaxDocumentValues-8) + `"`
	docs["allowed values of the largest size"] = fill(head+`"env":[`, long, `]}}`, MaxDocumentValues-16)
	return docs
}

// Reading a document costs memory in proportion to its size, whatever its
// shape: a bounded document gives a bounded cost.
func TestDecodeMemoryIsBoundedBySize(t *testing.T) {
	const maxAllocPerByte = 12
	for name, doc := range worstCaseDocuments() {
		if len(doc) > MaxDocumentSize {
			t.Fatalf("%s: %d bytes, over the limit", name, len(doc))
		}
		allocated, err := bytesAllocated(func() error { _, err := DecodeConfig(doc); return err })
		t.Logf("%s (%d bytes): %d MiB allocated, %v", name, len(doc), allocated>>20, err)
		if allocated > maxAllocPerByte*uint64(len(doc)) {
			t.Errorf("%s: reading %d bytes allocated %d MiB, more than %d times its size", name, len(doc), allocated>>20, maxAllocPerByte)
		}
	}
}

func bytesAllocated(f func() error) (uint64, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

func TestParseTreeBoundsTheNumberOfValues(t *testing.T) {
	values := func(n int) []byte { // an array and n-1 zeros in it
		return []byte("[" + strings.TrimSuffix(strings.Repeat("0,", n-1), ",") + "]")
	}
	if _, err := ParseTree(values(MaxDocumentValues)); err != nil {
		t.Fatalf("a document of %d values is refused: %v", MaxDocumentValues, err)
	}
	_, err := ParseTree(values(MaxDocumentValues + 1))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d JSON values", MaxDocumentValues)) {
		t.Fatalf("a document of %d values: %v", MaxDocumentValues+1, err)
	}
}

// jsontext bounds nesting at 10,000 levels; the tree is read recursively, so
// the bound is what keeps the stack bounded.
func TestParseTreeBoundsNesting(t *testing.T) {
	nested := func(depth int) []byte {
		return []byte(strings.Repeat(`{"a":`, depth-1) + "[]" + strings.Repeat("}", depth-1))
	}
	if _, err := ParseTree(nested(10000)); err != nil {
		t.Fatalf("10,000 levels are refused: %v", err)
	}
	_, err := DecodeConfig(append([]byte(`{"x-vendor":`), append(nested(10001), '}')...))
	if err == nil || !strings.Contains(err.Error(), "exceeded max depth") {
		t.Fatalf("10,002 levels: %v", err)
	}
}

// A document over the limit is refused from its size, before it is read:
// the check costs nothing whatever the file holds.
func TestReadFileRefusesOversizedDocumentsBeforeReading(t *testing.T) {
	dir := t.TempDir()
	at := filepath.Join(dir, "at-limit.json")
	over := filepath.Join(dir, "over-limit.json")
	for file, size := range map[string]int64{at: MaxDocumentSize, over: MaxDocumentSize + 1} {
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil { // sparse: no disk, no time
			t.Fatal(err)
		}
		f.Close()
	}
	if data, err := ReadFile(at, MaxDocumentSize); err != nil || len(data) != MaxDocumentSize {
		t.Fatalf("a document of exactly the limit: %d bytes, %v", len(data), err)
	}
	allocated, err := bytesAllocated(func() error { _, err := ReadFile(over, MaxDocumentSize); return err })
	if err == nil || !strings.Contains(err.Error(), "over the 16777216-byte limit") {
		t.Fatalf("a document over the limit: %v", err)
	}
	if allocated > 1<<20 {
		t.Errorf("refusing a document over the limit read it: %d bytes allocated", allocated)
	}
}

// The resources of an update come on stdin, whose size is not known
// beforehand: reading stops one byte past the limit.
func TestReadAllBoundedStopsPastTheLimit(t *testing.T) {
	endless := &countingReader{}
	_, err := ReadAllBounded(endless, "standard input", MaxDocumentSize)
	if err == nil || !strings.Contains(err.Error(), "standard input is over the 16777216-byte limit") {
		t.Fatalf("endless stdin: %v", err)
	}
	if endless.read > MaxDocumentSize+1 {
		t.Errorf("read %d bytes of an endless input, want at most the limit and one", endless.read)
	}
	data, err := ReadAllBounded(bytes.NewReader(make([]byte, MaxDocumentSize)), "standard input", MaxDocumentSize)
	if err != nil || len(data) != MaxDocumentSize {
		t.Fatalf("stdin of exactly the limit: %d bytes, %v", len(data), err)
	}
}

type countingReader struct{ read int }

func (r *countingReader) Read(p []byte) (int, error) {
	r.read += len(p)
	return len(p), nil
}
