package enforce

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// dockerDeviceRules are the device-cgroup rules Docker 20.10 writes.
func dockerDeviceRules() []specs.LinuxDeviceCgroup {
	rules := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	for _, n := range [][2]int64{{1, 5}, {1, 3}, {1, 9}, {1, 8}, {5, 0}, {5, 1}} {
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(n[0]), Minor: ptr(n[1]), Access: "rwm"})
	}
	return append(rules, specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: ptr(int64(10)), Minor: ptr(int64(229)), Access: "rwm"})
}

// containerdDeviceRules are the rules of containerd 1.6's default spec, as
// ctr run writes them: Docker's devices, /dev/full and the terminals.
func containerdDeviceRules() []specs.LinuxDeviceCgroup {
	rules := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	for _, n := range [][2]int64{{1, 3}, {1, 8}, {1, 7}, {5, 0}, {1, 5}, {1, 9}, {5, 1}, {136, -1}, {5, 2}} {
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(n[0]), Minor: ptr(n[1]), Access: "rwm"})
	}
	return rules
}

func withDeviceRule(rule specs.LinuxDeviceCgroup) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.Resources.Devices = append(dockerDeviceRules(), rule) }
}

func TestDevicesFixtures(t *testing.T) {
	const added = "/linux/resources/devices/8"
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) {
			runFixtures(t, policy, compliantSpec, []fixture{
				{name: "docker's default rules", change: func(s *specs.Spec) { s.Linux.Resources.Devices = dockerDeviceRules() }, verdict: Allow},
				{name: "a device node", change: func(s *specs.Spec) {
					s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
				}, verdict: DenyVerdict, field: "/linux/devices"},
				{name: "allow fuse after docker's deny", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(10)), Minor: ptr(int64(229)), Access: "rwm"}),
					verdict: DenyVerdict, field: added},
				{name: "rule with no type, major or minor", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Access: "rwm"}),
					verdict: DenyVerdict, field: added},
				{name: "type a", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "a", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "r"}),
					verdict: DenyVerdict, field: added},
				{name: "wildcard -1 (c *:* rmw)", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(-1)), Minor: ptr(int64(-1)), Access: "rmw"}),
					verdict: DenyVerdict, field: added},
				{name: "nil minor is a wildcard", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(1)), Access: "rwm"}),
					verdict: DenyVerdict, field: added},
				{name: "block device with a default number", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "b", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "r"}),
					verdict: DenyVerdict, field: added},
				{name: "a default device, read only", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "r"}),
					verdict: Allow},
				{name: "a default device, empty access is rwm", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(5)), Minor: ptr(int64(0))}),
					verdict: Allow},
				{name: "no deny-all first (runc starts from deny)", change: func(s *specs.Spec) { s.Linux.Resources.Devices = dockerDeviceRules()[1:] }, verdict: Allow},
				{name: "a deny rule of everything", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}), verdict: Allow},
				{name: "containerd's default rules (ctr run)", change: func(s *specs.Spec) { s.Linux.Resources.Devices = containerdDeviceRules() }, verdict: Allow},
				{name: "any pts, which runc allows anyway", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(136)), Minor: ptr(int64(-1)), Access: "rwm"}),
					verdict: Allow},
				{name: "a major the pts rule does not cover", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(137)), Access: "rwm"}),
					verdict: DenyVerdict, field: added},
				{name: "tun, which newer runc no longer allows", change: withDeviceRule(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(10)), Minor: ptr(int64(200)), Access: "rwm"}),
					verdict: DenyVerdict, field: added},
			})
		})
	}
}

func TestDevicesInUpdate(t *testing.T) {
	p := loadShipped(t, "baseline")
	d := judgeUpdateResources(t, p, `{"devices":[{"allow":true,"access":"rwm"}]}`)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/devices/0") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}

func TestDeviceRulesPolicyValidation(t *testing.T) {
	for _, bad := range []Devices{
		{CgroupRules: []DeviceRule{{Allow: true, Type: "x", Access: "r"}}},
		{CgroupRules: []DeviceRule{{Allow: true, Type: "c", Access: "rwx"}}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}
