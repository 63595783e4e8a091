package enforce

import (
	"reflect"
	"testing"

	seccompprofiles "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func withSeccomp(defaultAction specs.LinuxSeccompAction, rules ...specs.LinuxSyscall) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: defaultAction, Syscalls: rules}
	}
}

func rule(action specs.LinuxSeccompAction, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: action}
}

func TestSeccompFixtures(t *testing.T) {
	fixtures := []fixture{
		{name: "missing", change: func(s *specs.Spec) { s.Linux.Seccomp = nil }, verdict: DenyVerdict, field: "/linux/seccomp"},
		{name: "allow by default, no rules", change: withSeccomp(specs.ActAllow), verdict: DenyVerdict, field: "/linux/seccomp/defaultAction"},
		{name: "log by default, allow and log rules", change: withSeccomp(specs.ActLog, rule(specs.ActAllow, "ptrace"), rule(specs.ActLog, "mount")),
			verdict: DenyVerdict, field: "/linux/seccomp/defaultAction"},
		{name: "restricting rule that names nothing", change: withSeccomp(specs.ActAllow, rule(specs.ActErrno), rule(specs.ActKill, "")),
			verdict: DenyVerdict, field: "/linux/seccomp/defaultAction"},
		{name: "unknown default action", change: withSeccomp("SCMP_ACT_ALOW"), verdict: DenyVerdict, field: "/linux/seccomp/defaultAction"},
		{name: "unknown rule action", change: withSeccomp(specs.ActErrno, rule("SCMP_ACT_PERMIT", "mount")),
			verdict: DenyVerdict, field: "/linux/seccomp/syscalls/0/action"},
		{name: "docker's runtime default", change: func(s *specs.Spec) {
			profile, err := seccompprofiles.GetDefaultProfile(s)
			if err != nil {
				t.Fatal(err)
			}
			s.Linux.Seccomp = profile
		}, verdict: Allow},
		{name: "kill by default", change: withSeccomp(specs.ActKillProcess, rule(specs.ActAllow, "read")), verdict: Allow},
	}
	for _, action := range []specs.LinuxSeccompAction{specs.ActErrno, specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap, specs.ActTrace, specs.ActNotify} {
		fixtures = append(fixtures, fixture{name: "allow by default, " + string(action) + " rule", change: withSeccomp(specs.ActAllow, rule(action, "ptrace")), verdict: Allow})
	}
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) { runFixtures(t, policy, compliantSpec, fixtures) })
	}
}

// nodePolicy is a policy as a Kubernetes node would use it: what the
// kubelet leaves out is restored instead of denied.
func nodePolicy(t *testing.T) *Policy {
	t.Helper()
	masked := loadShipped(t, "baseline").Controls.MaskedPaths
	p := &Policy{Name: "node", Mode: Enforce, Controls: Controls{
		Seccomp:     &Seccomp{Missing: Rewrite},
		MaskedPaths: &MaskedPaths{Missing: Rewrite, Masked: masked.Masked, Readonly: masked.Readonly},
		OOM:         &OOM{MinScoreAdj: -998, Missing: Deny},
	}}
	if err := p.validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSeccompRewriteToRuntimeDefault(t *testing.T) {
	p := nodePolicy(t)
	for name, bounding := range map[string][]string{
		"net_bind_service": {"CAP_NET_BIND_SERVICE"},
		"sys_admin widens": {"CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"},
	} {
		t.Run(name, func(t *testing.T) {
			s := compliantSpec()
			s.Linux.Seccomp = nil
			s.Process.Capabilities.Bounding = bounding
			d := judgeSpec(t, p, s)
			if d.Verdict != RewriteDoc || !hasViolationAt(d, "/linux/seccomp") {
				t.Fatalf("%s %+v", d.Verdict, d.Violations)
			}
			var got specs.Spec
			if err := d.Result.Unmarshal(&got); err != nil {
				t.Fatal(err)
			}
			want, err := seccompprofiles.GetDefaultProfile(s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Linux.Seccomp, want) {
				t.Fatalf("the rewritten profile is not the runtime default for %v", bounding)
			}
		})
	}
}

func TestSeccompRewriteWithoutCapabilities(t *testing.T) {
	s := compliantSpec()
	s.Linux.Seccomp = nil
	s.Process.Capabilities = nil
	d := judgeSpec(t, nodePolicy(t), s)
	if d.Verdict != RewriteDoc {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}

func TestSeccompExplicitUnconfinedIsDeniedEvenWhereMissingIsRewritten(t *testing.T) {
	s := compliantSpec()
	withSeccomp(specs.ActAllow)(s)
	d := judgeSpec(t, nodePolicy(t), s)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/linux/seccomp/defaultAction") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}

func BenchmarkRuntimeDefaultProfile(b *testing.B) {
	proc := compliantSpec().Process
	for b.Loop() {
		if _, err := runtimeDefaultProfile(proc); err != nil {
			b.Fatal(err)
		}
	}
}
