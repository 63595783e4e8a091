package enforce

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestAppArmorFixtures(t *testing.T) {
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) {
			runFixtures(t, policy, compliantSpec, []fixture{
				{name: "unconfined", change: func(s *specs.Spec) { s.Process.ApparmorProfile = "unconfined" },
					verdict: DenyVerdict, field: "/process/apparmorProfile"},
				// The kernel trims the white space around the name runc writes.
				{name: "unconfined after a space", change: func(s *specs.Spec) { s.Process.ApparmorProfile = " unconfined" },
					verdict: DenyVerdict, field: "/process/apparmorProfile"},
				{name: "unconfined and a NUL byte", change: func(s *specs.Spec) { s.Process.ApparmorProfile = "unconfined\x00docker-default" },
					verdict: DenyVerdict, field: "/process/apparmorProfile"},
				{name: "unconfined and a newline", change: func(s *specs.Spec) { s.Process.ApparmorProfile = "unconfined\n" },
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

// lsmOverrideViolations are the violations of control about restore's LSM
// flags.
func lsmOverrideViolations(t *testing.T, policy *Policy, control string) []Violation {
	t.Helper()
	ctx := Context{Operation: OpRestore, ContainerID: "fixture", Call: Call{LSMProfile: "apparmor:unconfined", LSMMountContext: "system_u:object_r:spc_t:s0"}}
	var got []Violation
	for _, v := range judgeSpecIn(t, policy, compliantSpec(), ctx).Violations {
		if v.Control == control && strings.HasPrefix(v.Field, "--lsm-") {
			got = append(got, v)
		}
	}
	return got
}

// Each of the two controls refuses both flags on its own; the SELinux
// control's test is here, with the AppArmor control's.
func TestLabelControlsDenyRestoreLSMFlags(t *testing.T) {
	for _, control := range []string{"appArmor", "seLinux"} {
		got := lsmOverrideViolations(t, loadShipped(t, "baseline"), control)
		if len(got) != 2 || got[0].Field != "--lsm-profile" || got[1].Field != "--lsm-mount-context" || got[0].Action != Deny || got[1].Action != Deny {
			t.Errorf("%s: %+v", control, got)
		}
	}
}
