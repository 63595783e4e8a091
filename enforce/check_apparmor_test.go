package enforce

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestAppArmorFixtures(t *testing.T) {
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) {
			runFixtures(t, policy, compliantSpec, []fixture{
				{name: "unconfined", change: func(s *specs.Spec) { s.Process.ApparmorProfile = "unconfined" },
					verdict: DenyVerdict, field: "/process/apparmorProfile"},
				{name: "docker-default", change: func(s *specs.Spec) { s.Process.ApparmorProfile = "docker-default" }, verdict: Allow},
				{name: "absent", change: func(s *specs.Spec) { s.Process.ApparmorProfile = "" }, verdict: Allow},
			})
		})
	}
}

func TestAppArmorExec(t *testing.T) {
	proc := compliantSpec().Process
	proc.ApparmorProfile = "unconfined"
	d := judgeExecProcess(t, loadShipped(t, "baseline"), proc)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/apparmorProfile") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}
