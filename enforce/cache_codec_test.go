package enforce

import (
	"encoding/binary"
	"math"
	"os"
	"reflect"
	"testing"
)

// shippedEntries are the cache entries of the shipped policies, as
// storePolicy writes them.
func shippedEntries(t testing.TB) map[string][]byte {
	entries := map[string][]byte{}
	for _, name := range Available(shippedPolicies) {
		sources, ok := policySources(shippedPolicies, name)
		if !ok {
			t.Fatalf("policy %s: cannot stat its files", name)
		}
		p, err := LoadPolicy(shippedPolicies, name)
		if err != nil {
			t.Fatal(err)
		}
		entries[name] = encodePolicyEntry(&policyEntry{Dir: shippedPolicies, Name: name, Files: sources, Policy: p})
	}
	if len(entries) < 5 {
		t.Fatalf("only %d shipped policies in %s", len(entries), shippedPolicies)
	}
	return entries
}

// checkReadsBackTheSame fails when an entry that decodes does not come
// back the same through another encoding and decoding: what the codec
// reads, it can write.
func checkReadsBackTheSame(t *testing.T, data []byte) bool {
	t.Helper()
	e, ok := decodePolicyEntry(data)
	if !ok {
		return false
	}
	again, ok := decodePolicyEntry(encodePolicyEntry(e))
	if !ok || !reflect.DeepEqual(e, again) {
		t.Fatalf("an entry read from %q does not read back the same (%v):\n%+v\n%+v", data, ok, e, again)
	}
	return true
}

func TestCacheCodecReadsShippedEntries(t *testing.T) {
	for name, data := range shippedEntries(t) {
		if !checkReadsBackTheSame(t, data) {
			t.Errorf("policy %s: its cache entry does not decode", name)
		}
	}
}

// A damaged entry is a cache miss: never a panic, and never an allocation
// larger than the entry could hold.
func TestCacheCodecRefusesDamagedEntries(t *testing.T) {
	entry := shippedEntries(t)["restricted"]
	for n := range len(entry) {
		if _, ok := decodePolicyEntry(entry[:n]); ok {
			t.Fatalf("the entry cut to %d of its %d bytes decodes", n, len(entry))
		}
	}
	if _, ok := decodePolicyEntry(append(entry[:len(entry):len(entry)], 0)); ok {
		t.Error("the entry with a byte after it decodes")
	}
	header := entryHeader(policyEntryKind)
	for name, data := range map[string][]byte{
		"another schema":       append([]byte(policyEntryKind+"+0000000000000000\n"), entry[len(header):]...),
		"another kind":         append([]byte(entryHeader(configEntryKind)), entry[len(header):]...),
		"a JSON entry":         []byte(`{"dir":"/etc/guard-runtime/policy.d","name":"restricted","policy":{}}`),
		"a huge string":        binary.AppendUvarint([]byte(header), 1<<40),
		"a huge count":         binary.AppendUvarint(binAppendString([]byte(header), "/etc"), 1<<40),
		"a flag of 2":          append(binAppendString(binAppendString([]byte(header), "/etc"), "x"), 1, 2),
		"a varint of 11 bytes": append([]byte(header), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
	} {
		allocs := testing.AllocsPerRun(1, func() {
			if _, ok := decodePolicyEntry(data); ok {
				t.Errorf("%s: decodes", name)
			}
		})
		if allocs > 10 {
			t.Errorf("%s: %v allocations to refuse it", name, allocs)
		}
	}
	// Every byte changed in turn: refused or read, never a panic.
	damaged := append([]byte(nil), entry...)
	read := 0
	for i := len(header); i < len(damaged); i++ {
		for _, b := range []byte{0, 1, 0x7f, 0x80, 0xff} {
			old := damaged[i]
			damaged[i] = b
			if checkReadsBackTheSame(t, damaged) {
				read++
			}
			damaged[i] = old
		}
	}
	t.Logf("%d of %d one-byte changes still decode", read, 5*(len(damaged)-len(header)))
}

// FuzzCacheCodec checks on any input that reading an entry never panics
// and that what it reads it writes back the same.
func FuzzCacheCodec(f *testing.F) {
	for _, data := range shippedEntries(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkReadsBackTheSame(t, data) })
}

// The reader's scalars: each in range of its Go type, or refused.
func TestBinReaderScalars(t *testing.T) {
	read := func(b []byte) *binReader { return &binReader{data: b, text: string(b)} }
	for _, tt := range []struct {
		x    int64
		bits int
		ok   bool
	}{
		{math.MinInt64, 64, true}, {math.MaxInt64, 64, true}, {-1, 8, true},
		{127, 8, true}, {128, 8, false}, {-128, 8, true}, {-129, 8, false},
		{math.MaxInt32, 32, true}, {math.MaxInt32 + 1, 32, false}, {math.MinInt32 - 1, 32, false},
	} {
		got, ok := read(binAppendInt(nil, tt.x)).Int(tt.bits)
		if ok != tt.ok || (ok && got != tt.x) {
			t.Errorf("Int(%d) of %d: %d, %v", tt.bits, tt.x, got, ok)
		}
	}
	for _, tt := range []struct {
		x    uint64
		bits int
		ok   bool
	}{
		{math.MaxUint64, 64, true}, {255, 8, true}, {256, 8, false}, {math.MaxUint32 + 1, 32, false},
	} {
		got, ok := read(binAppendUint(nil, tt.x)).Uint(tt.bits)
		if ok != tt.ok || (ok && got != tt.x) {
			t.Errorf("Uint(%d) of %d: %d, %v", tt.bits, tt.x, got, ok)
		}
	}
	if _, ok := read(binAppendFloat(nil, 0.1)).Float(32); ok {
		t.Error("Float(32) reads 0.1 as a float64 holds it")
	}
	if x, ok := read(binAppendFloat(nil, 0.5)).Float(32); !ok || x != 0.5 {
		t.Errorf("Float(32) of 0.5: %v, %v", x, ok)
	}
	if n, ok := read(binAppendCount(nil, 0)).Count(); !ok || n != 0 {
		t.Errorf("Count of an empty list: %d, %v", n, ok)
	}
	if n, ok := read([]byte{0}).Count(); !ok || n != -1 {
		t.Errorf("Count of nil: %d, %v", n, ok)
	}
}

// An entry that names no file it was built from would never go stale:
// it is not used.
func TestPolicyEntryWithoutFilesIsNotUsed(t *testing.T) {
	cache, dir, name, entry := storedEntry(t)
	data, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := decodePolicyEntry(data)
	if !ok || len(e.Files) < 2 {
		t.Fatalf("the stored entry: %v, files %v", ok, e)
	}
	e.Files = nil
	if err := os.WriteFile(entry, encodePolicyEntry(e), 0o600); err != nil {
		t.Fatal(err)
	}
	if cache.lookupPolicy(name, dir, "baseline") != nil {
		t.Fatal("an entry that names no file was used")
	}
}
