package spec

import (
	"os"
	"testing"

	"github.com/guard-runtime/guard-runtime/hack/gendecode"
)

// largestDockerConfig is the largest config.json Docker wrote in the
// captured fixtures.
const largestDockerConfig = "../enforce/testdata/docker/privileged.json"

func readLargestConfig(tb testing.TB) []byte {
	data, err := os.ReadFile(largestDockerConfig)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkDecodeConfig is the decode of a config.json in a process that
// has decoded one before.
func BenchmarkDecodeConfig(b *testing.B) {
	data := readLargestConfig(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeConfig(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeConfigFreshProcess is the first decode of a process, as
// each runtime call makes it: go test -run '^$' -bench FreshProcess -benchtime 1x.
func BenchmarkDecodeConfigFreshProcess(b *testing.B) {
	for b.Loop() {
		gendecode.MeasureFreshProcess(b, "TestFirstDecodeConfig")
	}
}

func TestFirstDecodeConfig(t *testing.T) {
	data := readLargestConfig(t)
	gendecode.TimeInFreshProcess(t, func() error {
		_, err := DecodeConfig(data)
		return err
	})
}
