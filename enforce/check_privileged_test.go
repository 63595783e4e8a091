package enforce

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func allowAllDevices() []specs.LinuxDeviceCgroup {
	return []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
}

func TestPrivilegedFixtures(t *testing.T) {
	every := privilegedCapabilities()
	withNewer := append(append([]string{}, every...), "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE")
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) {
			runFixtures(t, policy, compliantSpec, []fixture{
				{name: "compliant", verdict: Allow},
				{name: "every capability in bounding", change: func(s *specs.Spec) { s.Process.Capabilities.Bounding = every },
					verdict: DenyVerdict, field: "/process/capabilities"},
				{name: "every capability in effective, newer kernel", change: func(s *specs.Spec) { s.Process.Capabilities.Effective = withNewer },
					verdict: DenyVerdict, field: "/process/capabilities"},
				{name: "every capability in permitted", change: func(s *specs.Spec) { s.Process.Capabilities.Permitted = every },
					verdict: DenyVerdict, field: "/process/capabilities"},
				{name: "unconfined system: all devices, no seccomp, no masked paths", change: func(s *specs.Spec) {
					s.Linux.Resources.Devices = allowAllDevices()
					s.Linux.Seccomp = nil
					s.Linux.MaskedPaths = nil
				}, verdict: DenyVerdict, field: "/linux/resources/devices"},
			})
		})
	}
}

// privilegedMessages returns the privileged control's messages.
func privilegedMessages(d *Decision) []string {
	var msgs []string
	for _, v := range d.Violations {
		if v.Control == "privileged" {
			msgs = append(msgs, v.Message)
		}
	}
	return msgs
}

func TestPrivilegedGivesOneMessageBesideTheSpecificOnes(t *testing.T) {
	s := compliantSpec()
	s.Process.Capabilities.Bounding = privilegedCapabilities()
	s.Linux.Resources.Devices = allowAllDevices()
	s.Linux.Seccomp = nil
	s.Linux.MaskedPaths = nil
	d := judgeSpec(t, loadShipped(t, "baseline"), s)
	msgs := privilegedMessages(d)
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "privileged containers are not allowed by policy baseline: remove --privileged") {
		t.Fatalf("want one privileged message, got %q", msgs)
	}
	if !strings.Contains(msgs[0], "every capability; access to every device") {
		t.Errorf("the message should name both signs: %s", msgs[0])
	}
	for _, field := range []string{"/process/capabilities/bounding", "/linux/seccomp", "/linux/maskedPaths", "/linux/resources/devices/0"} {
		if !hasViolationAt(d, field) {
			t.Errorf("the specific violation at %s is missing: %+v", field, d.Violations)
		}
	}
}

func TestPrivilegedNeedsTheWholeSignature(t *testing.T) {
	p := loadShipped(t, "baseline")
	for name, change := range map[string]func(*specs.Spec){
		"every capability but one": func(s *specs.Spec) { s.Process.Capabilities.Bounding = privilegedCapabilities()[1:] },
		"all devices, seccomp kept": func(s *specs.Spec) {
			s.Linux.Resources.Devices = allowAllDevices()
			s.Linux.MaskedPaths = nil
		},
		"all devices, masked paths kept": func(s *specs.Spec) {
			s.Linux.Resources.Devices = allowAllDevices()
			s.Linux.Seccomp = nil
		},
		"no seccomp, no masked paths, default devices": func(s *specs.Spec) {
			s.Linux.Seccomp = nil
			s.Linux.MaskedPaths = nil
		},
		"missing capabilities": func(s *specs.Spec) { s.Process.Capabilities = nil },
	} {
		t.Run(name, func(t *testing.T) {
			s := compliantSpec()
			change(s)
			d := judgeSpec(t, p, s)
			if msgs := privilegedMessages(d); len(msgs) != 0 {
				t.Fatalf("called privileged: %q", msgs)
			}
			if d.Verdict != DenyVerdict {
				t.Fatalf("the specific controls should still deny: %s %+v", d.Verdict, d.Violations)
			}
		})
	}
}

func TestPrivilegedExec(t *testing.T) {
	p := loadShipped(t, "baseline")
	proc := compliantSpec().Process
	proc.Capabilities = &specs.LinuxCapabilities{Bounding: privilegedCapabilities(), Effective: privilegedCapabilities(), Permitted: privilegedCapabilities()}
	d := judgeExecProcess(t, p, proc)
	msgs := privilegedMessages(d)
	if d.Verdict != DenyVerdict || len(msgs) != 1 || !strings.Contains(msgs[0], "remove --privileged from the exec") {
		t.Fatalf("exec --privileged: %s %q", d.Verdict, msgs)
	}
	if !hasViolationAt(d, "/capabilities") {
		t.Fatalf("field: %+v", d.Violations)
	}
}

func TestPrivilegedCapabilityCount(t *testing.T) {
	if got, want := privilegedCapabilityCount(), len(privilegedCapabilities()); got != want || want < 38 {
		t.Fatalf("count %d, names %d (want at least CAP_CHOWN to CAP_AUDIT_READ, 38)", got, want)
	}
}
