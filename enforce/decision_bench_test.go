package enforce

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/guard-runtime/guard-runtime/spec"
)

// BenchmarkDecideDockerConfig is the work of a create on the document
// Docker 20.10 writes for `docker run -u 1000`: decode it strictly and
// judge it, under a policy that admits it (baseline) and one that
// rewrites it (restricted, which reads the result back and judges again).
func BenchmarkDecideDockerConfig(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "docker", "user-1000.json"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := Context{Operation: OpCreate, ContainerID: capturedContainerID(data), Bundle: b.TempDir()}
	for _, name := range []string{"baseline", "restricted"} {
		p, err := LoadPolicy(shippedPolicies, name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				doc, err := spec.DecodeConfig(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := EvaluateConfig(p, doc, ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
