package enforce

import (
	"os"
	"path/filepath"
	"testing"
)

// runcForBenchmark is the installed runc: verification costs what it costs
// on a real host only on a file that large (8.7 MB for Debian's runc 1.1).
func runcForBenchmark(b *testing.B) (path, digest string) {
	b.Helper()
	path = DefaultRuntimePath
	content, err := os.ReadFile(path)
	if err != nil {
		b.Fatalf("%v: install runc (apt-get install -y runc) to benchmark verification on a runtime of real size", err)
	}
	return path, digestOf(content)
}

func benchmarkOpenRuntime(b *testing.B, rc RuntimeConfig, wantCached bool) {
	b.Helper()
	if !wantCached {
		info, err := os.Stat(rc.Path)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(info.Size()) // hashing speed
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := OpenRuntime(rc)
		if err != nil {
			b.Fatal(err)
		}
		if r.FromCache != wantCached {
			b.Fatalf("fromCache %v (cache error %v), want %v", r.FromCache, r.CacheErr, wantCached)
		}
		r.Close()
	}
}

// BenchmarkVerifyRuntimeCold hashes runc on every call, as without a cache.
func BenchmarkVerifyRuntimeCold(b *testing.B) {
	path, digest := runcForBenchmark(b)
	benchmarkOpenRuntime(b, RuntimeConfig{Path: path, SHA256: Digests{digest}}, false)
}

// BenchmarkVerifyRuntimeCached finds runc's identity in the verification
// cache: the cost of every call after the first.
func BenchmarkVerifyRuntimeCached(b *testing.B) {
	path, digest := runcForBenchmark(b)
	rc := RuntimeConfig{Path: path, SHA256: Digests{digest}, CacheDir: filepath.Join(b.TempDir(), "verified")}
	r, err := OpenRuntime(rc)
	if err != nil {
		b.Fatal(err)
	}
	r.Close()
	benchmarkOpenRuntime(b, rc, true)
}
