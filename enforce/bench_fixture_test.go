package enforce

import (
	"os"
	"testing"

	"github.com/guard-runtime/guard-runtime/spec"
)

// hack/bench times create of hack/bench/restricted-config.json under
// restricted as the case of a bundle the policy admits unchanged: the
// benchmark measures that case only while the policy admits it, with no
// violation at all.
func TestBenchConfigIsAdmittedUnchangedByRestricted(t *testing.T) {
	data, err := os.ReadFile("../hack/bench/restricted-config.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := spec.DecodeConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPolicy("../policy.d", "restricted")
	if err != nil {
		t.Fatal(err)
	}
	d, err := EvaluateConfig(p, doc, Context{Operation: OpCreate, ContainerID: "guard-bench", Bundle: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if d.Verdict != Allow || len(d.Violations) > 0 {
		t.Fatalf("restricted judges the benchmark's bundle %s with %d violations (%s): regenerate hack/bench/restricted-config.json with `guard-runtime policy check --json` of a config that complies", d.Verdict, len(d.Violations), d.Reason())
	}
	names := 0
	if doc.Value.Linux != nil && doc.Value.Linux.Seccomp != nil {
		for _, rule := range doc.Value.Linux.Seccomp.Syscalls {
			names += len(rule.Names)
		}
	}
	if names < 300 {
		t.Fatalf("the benchmark's bundle allows %d syscalls by name, no full seccomp profile: it would time less decoding than a real container's config", names)
	}
}
