package enforce

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"unsafe"
)

// Cache entries (a loaded policy, a loaded config.yaml) are written and
// read by a codec generated from their Go types (cache_codec_gen.go, see
// hack/gendecode): each struct's fields in order, integers as varints,
// strings as a length and the bytes, no member names and no separators.
// Every create reads the policy's entry, and a JSON entry of the same
// value cost it 0.08 ms more, in decoding and in the memory it touched
// (1500 interleaved creates of the two lean builds); the entry is also
// 40% smaller. Entries are guard-runtime's own, written by the full build
// into a root-only directory; the reader still checks every read against
// the data, so a damaged entry is a cache miss, never a panic or a
// runaway allocation.
//
// An entry begins with a header naming its kind and the digest of the
// generated codec, which changes with any field, type or order of the
// entry's types: an entry written by a version whose types differ is not
// read as this version's (a setting it lacks would read as off).

//go:generate go test -run ^TestGeneratedCacheCodecIsCurrent$ . -regenerate

const (
	policyEntryKind = "guard-runtime-policy-v2"
	configEntryKind = "guard-runtime-config-v2"
)

// codecSchema is the digest of the generated codec; "" until generated.
var codecSchema string

func registerCodecSchema(schema string) { codecSchema = schema }

// entryHeader begins every entry of kind this version writes and reads.
func entryHeader(kind string) string { return kind + "+" + codecSchema + "\n" }

// encodeEntry writes v as an entry of kind (cache_codec_full.go).
func encodeEntry[T any](kind string, v *T, encode func([]byte, *T) []byte) []byte {
	return encode([]byte(entryHeader(kind)), v)
}

// decodeEntry reads an entry of kind: false unless data is one whole
// entry of this version's types. The value's strings are views of data,
// which must not change while it is in use (the caller has just read it).
func decodeEntry[T any](kind string, data []byte, decode func(*binReader, *T) bool) (*T, bool) {
	header := entryHeader(kind)
	if codecSchema == "" || len(data) < len(header) || string(data[:len(header)]) != header {
		return nil, false
	}
	r := &binReader{data: data, pos: len(header), text: unsafe.String(unsafe.SliceData(data), len(data))}
	v := new(T)
	if !decode(r, v) || r.pos != len(data) {
		return nil, false
	}
	return v, true
}

// binReader reads the generated codec's form. Each method reports false
// when the data does not hold what it reads.
type binReader struct {
	data []byte
	pos  int
	text string // data as one string, for views
}

func (r *binReader) uvarint() (uint64, bool) {
	x, n := binary.Uvarint(r.data[r.pos:])
	if n <= 0 {
		return 0, false
	}
	r.pos += n
	return x, true
}

// Count reads the length of a slice or map, -1 for nil. A length is
// refused when the bytes left could not hold that many items (each takes
// one at least), so a damaged count cannot make a reader allocate more
// than the entry's size.
func (r *binReader) Count() (int, bool) {
	x, ok := r.uvarint()
	if !ok || x > uint64(len(r.data)-r.pos)+1 {
		return 0, false
	}
	return int(x) - 1, true
}

// Flag reads a byte that is 0 or 1: a bool, or whether a pointer is set.
func (r *binReader) Flag() (bool, bool) {
	if r.pos == len(r.data) || r.data[r.pos] > 1 {
		return false, false
	}
	r.pos++
	return r.data[r.pos-1] == 1, true
}

func (r *binReader) String() (string, bool) {
	n, ok := r.uvarint()
	if !ok || n > uint64(len(r.data)-r.pos) {
		return "", false
	}
	s := r.text[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s, true
}

// Int reads a zigzag varint that fits in bits (0: int's size).
func (r *binReader) Int(bits int) (int64, bool) {
	u, ok := r.uvarint()
	if !ok {
		return 0, false
	}
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	if bits == 0 {
		bits = strconv.IntSize
	}
	return x, bits == 64 || (-1<<(bits-1) <= x && x < 1<<(bits-1))
}

// Uint reads a varint that fits in bits (0: uint's size).
func (r *binReader) Uint(bits int) (uint64, bool) {
	x, ok := r.uvarint()
	if bits == 0 {
		bits = strconv.IntSize
	}
	return x, ok && (bits == 64 || x < 1<<bits)
}

// Float reads a float64's bits; bits 32 must hold a float32 exactly.
func (r *binReader) Float(bits int) (float64, bool) {
	if len(r.data)-r.pos < 8 {
		return 0, false
	}
	x := math.Float64frombits(binary.LittleEndian.Uint64(r.data[r.pos:]))
	r.pos += 8
	return x, bits == 64 || float64(float32(x)) == x || math.IsNaN(x)
}

func binAppendCount(b []byte, n int) []byte { return binary.AppendUvarint(b, uint64(n)+1) }

func binAppendFlag(b []byte, x bool) []byte {
	if x {
		return append(b, 1)
	}
	return append(b, 0)
}

func binAppendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func binAppendInt(b []byte, x int64) []byte {
	return binary.AppendUvarint(b, uint64(x<<1)^uint64(x>>63))
}

func binAppendUint(b []byte, x uint64) []byte { return binary.AppendUvarint(b, x) }

func binAppendFloat(b []byte, x float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
}

// binSortedKeys lists a map's keys in order: the same value, the same
// bytes.
func binSortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
