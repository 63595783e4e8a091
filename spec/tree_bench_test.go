package spec

import (
	"os"
	"testing"
)

// benchConfig is the config.json hack/bench times create with: runc's spec
// with Docker's default seccomp profile, some 2,500 JSON values.
const benchConfig = "../hack/bench/restricted-config.json"

func BenchmarkParseTree(b *testing.B) {
	data, err := os.ReadFile(benchConfig)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseTree(data); err != nil {
			b.Fatal(err)
		}
	}
}

// ParseTree runs on every create; its allocations are most of its cost.
// Counting them is deterministic, unlike timing: one per scalar (its
// interface value), object name, object and array, and a few more for the
// decoder. Copying each scalar or growing each container by appends would
// take about 1,400.
func TestParseTreeAllocations(t *testing.T) {
	data, err := os.ReadFile(benchConfig)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := ParseTree(data); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1000 {
		t.Fatalf("ParseTree of %s: %.0f allocations, want at most 1000", benchConfig, allocs)
	}
}

// ReadFile reads a document in one buffer of the size fstat gives, without
// an *os.File: growing a buffer read by read, as io.ReadAll does, takes a
// dozen allocations and reads for a config.json.
func TestReadFileAllocations(t *testing.T) {
	want, err := os.ReadFile(benchConfig)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		data, err := ReadFile(benchConfig, MaxDocumentSize)
		if err != nil || len(data) != len(want) {
			t.Fatalf("ReadFile: %d bytes, %v", len(data), err)
		}
	})
	if allocs > 2 {
		t.Fatalf("ReadFile of %s: %.0f allocations, want at most 2", benchConfig, allocs)
	}
}

// procfs gives its files a size of 0: ReadFile reads /proc/self/cgroup,
// which cgroupsPath reads on every create, in one buffer, not one grown a
// byte at a time; and a longer file whole.
func TestReadFileOfProcFiles(t *testing.T) {
	allocs := testing.AllocsPerRun(20, func() {
		data, err := ReadFile("/proc/self/cgroup", MaxDocumentSize)
		if err != nil || len(data) == 0 || len(data) > 511 {
			t.Skipf("/proc/self/cgroup: %d bytes, %v: the test wants one of under 512 bytes", len(data), err)
		}
	})
	if allocs > 2 { // the buffer, and the path as the kernel takes it
		t.Errorf("ReadFile of /proc/self/cgroup: %.0f allocations, want at most 2", allocs)
	}
	want, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile("/proc/self/mountinfo", MaxDocumentSize)
	if err != nil || string(got) != string(want) {
		t.Errorf("ReadFile of /proc/self/mountinfo: %d bytes (%v), os.ReadFile %d", len(got), err, len(want))
	}
	if len(want) < 512 {
		t.Logf("/proc/self/mountinfo is %d bytes: only one buffer read", len(want))
	}
}
