package enforce

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func withLabel(label string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Process.SelinuxLabel = label }
}

func TestSELinuxFixtures(t *testing.T) {
	const field = "/process/selinuxLabel"
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) {
			runFixtures(t, policy, compliantSpec, []fixture{
				{name: "container_t", change: withLabel("system_u:system_r:container_t:s0:c1,c2"), verdict: Allow},
				{name: "spc_t", change: withLabel("system_u:system_r:spc_t:s0"), verdict: DenyVerdict, field: field},
				{name: "unconfined_t", change: withLabel("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023"), verdict: DenyVerdict, field: field},
				{name: "no level", change: withLabel("system_u:system_r:spc_t"), verdict: DenyVerdict, field: field},
				{name: "not a label", change: withLabel("spc_t"), verdict: DenyVerdict, field: field},
				// Read as the kernel reads it: one trailing newline dropped; a NUL cuts the label.
				{name: "no level and a newline", change: withLabel("system_u:system_r:spc_t\n"), verdict: DenyVerdict, field: field},
				{name: "a NUL byte", change: withLabel("system_u:system_r:spc_t\x00:s0"), verdict: DenyVerdict, field: field},
				{name: "container_t and a newline", change: withLabel("system_u:system_r:container_t\n"), verdict: Allow},
				// Only the container types, as Pod Security's baseline: others are as unconfined.
				{name: "container_runtime_t", change: withLabel("system_u:system_r:container_runtime_t:s0"), verdict: DenyVerdict, field: field},
				{name: "kernel_t", change: withLabel("system_u:system_r:kernel_t:s0"), verdict: DenyVerdict, field: field},
				{name: "container_init_t", change: withLabel("system_u:system_r:container_init_t:s0"), verdict: Allow},
			})
		})
	}
}

func TestSELinuxExec(t *testing.T) {
	proc := compliantSpec().Process
	proc.SelinuxLabel = "system_u:system_r:spc_t:s0"
	d := judgeExecProcess(t, loadShipped(t, "restricted"), proc)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/selinuxLabel") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}
