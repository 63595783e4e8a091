package enforce

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestUnifiedFixtures(t *testing.T) {
	runFixtures(t, "restricted", compliantSpec, []fixture{
		{name: "memory.max", change: func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"memory.max": "max"} },
			verdict: DenyVerdict, field: "/linux/resources/unified/memory.max"},
		{name: "a key with a slash", change: func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"a/b": "1"} },
			verdict: DenyVerdict, field: "/linux/resources/unified/a~1b"},
		{name: "empty map", change: func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{} }, verdict: Allow},
	})
	runFixtures(t, "baseline", compliantSpec, []fixture{
		{name: "baseline leaves unified alone", change: func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"memory.max": "max"} }, verdict: Allow},
	})
}

func TestUnifiedInUpdate(t *testing.T) {
	d := judgeUpdateResources(t, loadShipped(t, "restricted"), `{"unified":{"pids.max":"max"}}`)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/unified/pids.max") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}
