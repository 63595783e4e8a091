package enforce

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// changeMountAt changes the compliant spec's mount at dest.
func changeMountAt(dest string, change func(*specs.Mount)) func(*specs.Spec) {
	return func(s *specs.Spec) {
		for i := range s.Mounts {
			if s.Mounts[i].Destination == dest {
				change(&s.Mounts[i])
				return
			}
		}
		panic("compliant spec has no mount at " + dest)
	}
}

func mountIndex(dest string) int {
	for i, m := range compliantSpec().Mounts {
		if m.Destination == dest {
			return i
		}
	}
	panic("compliant spec has no mount at " + dest)
}

func TestMountDestinationsFixtures(t *testing.T) {
	newDest := fmt.Sprintf("/mounts/%d/destination", len(compliantSpec().Mounts))
	newType := fmt.Sprintf("/mounts/%d/type", len(compliantSpec().Mounts))
	sysOptions := fmt.Sprintf("/mounts/%d/options", mountIndex("/sys"))
	cgroupOptions := fmt.Sprintf("/mounts/%d/options", mountIndex("/sys/fs/cgroup"))
	kernel := func(typ, dest string) specs.Mount {
		return specs.Mount{Destination: dest, Type: typ, Source: typ, Options: []string{"nosuid", "noexec", "nodev"}}
	}
	tmpfs := func(dest string) specs.Mount {
		return specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec"}}
	}
	fixtures := []fixture{
		{name: "compliant: proc, sysfs and cgroup where they belong", verdict: Allow},
		{name: "tmpfs over /proc/sys", change: addMount(tmpfs("/proc/sys")), verdict: DenyVerdict, field: newDest},
		{name: "tmpfs over /sys/kernel", change: addMount(tmpfs("/sys/kernel")), verdict: DenyVerdict, field: newDest},
		{name: "a second proc under /proc", change: addMount(specs.Mount{Destination: "/proc/1", Type: "proc", Source: "proc"}), verdict: DenyVerdict, field: newDest},
		{name: "a volume bound onto /proc/sys/kernel", change: addMount(dockerBind("/srv/data", "/proc/sys/kernel")), verdict: DenyVerdict, field: newDest},
		{name: "an lxcfs-style file bind onto /proc/meminfo", change: addMount(dockerBind("/srv/lxcfs/meminfo", "/proc/meminfo")), verdict: DenyVerdict, field: newDest},
		{name: "a destination that reaches /sys by ..", change: addMount(tmpfs("/tmp/../sys/fs")), verdict: DenyVerdict, field: newDest},
		{name: "a relative destination under sys", change: addMount(tmpfs("sys/kernel/security")), verdict: DenyVerdict, field: newDest},
		{name: "a destination that leaves /proc by ..", change: addMount(tmpfs("/proc/../scratch")), verdict: Allow},
		{name: "/procfs is not /proc", change: addMount(tmpfs("/procfs")), verdict: Allow},
		{name: "/system is not /sys", change: addMount(tmpfs("/system")), verdict: Allow},
		{name: "proc at /proc as a bind", change: changeMountAt("/proc", func(m *specs.Mount) { m.Options = append(m.Options, "rbind") }),
			verdict: DenyVerdict, field: fmt.Sprintf("/mounts/%d/destination", mountIndex("/proc"))},
		{name: "tmpfs at /proc", change: changeMountAt("/proc", func(m *specs.Mount) { m.Type, m.Source = "tmpfs", "tmpfs" }),
			verdict: DenyVerdict, field: fmt.Sprintf("/mounts/%d/destination", mountIndex("/proc"))},
		{name: "sysfs at /sys with another source", change: changeMountAt("/sys", func(m *specs.Mount) { m.Source = "/sys" }),
			verdict: DenyVerdict, field: fmt.Sprintf("/mounts/%d/destination", mountIndex("/sys"))},
		{name: "cgroup2 at /sys/fs/cgroup", change: changeMountAt("/sys/fs/cgroup", func(m *specs.Mount) { m.Type, m.Source = "cgroup2", "cgroup2" }),
			verdict: Allow},
		{name: "cgroup at /sys/fs/cgroup/x", change: changeMountAt("/sys/fs/cgroup", func(m *specs.Mount) { m.Destination = "/sys/fs/cgroup/x" }),
			verdict: DenyVerdict, field: fmt.Sprintf("/mounts/%d/destination", mountIndex("/sys/fs/cgroup"))},
		{name: "proc at /proc/ (cleaned)", change: changeMountAt("/proc", func(m *specs.Mount) { m.Destination = "/proc/" }), verdict: Allow},
		{name: "sysfs at /sys with rw after ro", change: changeMountAt("/sys", func(m *specs.Mount) { m.Options = []string{"nosuid", "noexec", "nodev", "ro", "rw"} }),
			verdict: DenyVerdict, field: sysOptions},
		{name: "sysfs at /sys without ro", change: changeMountAt("/sys", func(m *specs.Mount) { m.Options = []string{"nosuid", "noexec", "nodev"} }),
			verdict: DenyVerdict, field: sysOptions},
		{name: "sysfs at /sys with ro after rw", change: changeMountAt("/sys", func(m *specs.Mount) { m.Options = []string{"rw", "nosuid", "ro"} }), verdict: Allow},
		// runc 1.1.5 sets the recursive attribute only on binds: rro leaves sysfs and cgroup writable.
		{name: "sysfs at /sys with rro", change: changeMountAt("/sys", func(m *specs.Mount) { m.Options = []string{"nosuid", "noexec", "nodev", "rro"} }),
			verdict: DenyVerdict, field: sysOptions},
		{name: "cgroup at /sys/fs/cgroup with rro", change: changeMountAt("/sys/fs/cgroup", func(m *specs.Mount) { m.Options = []string{"nosuid", "noexec", "nodev", "rro"} }),
			verdict: DenyVerdict, field: cgroupOptions},
		{name: "sysfs at /sys with ro and rro", change: changeMountAt("/sys", func(m *specs.Mount) { m.Options = []string{"nosuid", "ro", "rro"} }), verdict: Allow},
		{name: "cgroup at /sys/fs/cgroup with rw", change: changeMountAt("/sys/fs/cgroup", func(m *specs.Mount) { m.Options = append(m.Options, "rw") }),
			verdict: DenyVerdict, field: cgroupOptions},
		{name: "cgroup2 at /sys/fs/cgroup without ro", change: changeMountAt("/sys/fs/cgroup", func(m *specs.Mount) {
			m.Type, m.Source, m.Options = "cgroup2", "cgroup2", []string{"nosuid", "noexec", "nodev"}
		}), verdict: DenyVerdict, field: cgroupOptions},
		{name: "proc at /proc with rw", change: changeMountAt("/proc", func(m *specs.Mount) { m.Options = append(m.Options, "rw") }), verdict: Allow},
		{name: "a second proc outside /proc", change: addMount(kernel("proc", "/hostproc")), verdict: DenyVerdict, field: newType},
		{name: "a second proc at /procfs", change: addMount(kernel("proc", "/procfs")), verdict: DenyVerdict, field: newType},
		{name: "a second proc with another source", change: addMount(specs.Mount{Destination: "/p", Type: "proc", Source: "none"}), verdict: DenyVerdict, field: newType},
		{name: "a second sysfs outside /sys", change: addMount(kernel("sysfs", "/hostsys")), verdict: DenyVerdict, field: newType},
		{name: "a read-only sysfs outside /sys", change: addMount(specs.Mount{Destination: "/hostsys", Type: "sysfs", Source: "sysfs", Options: []string{"ro"}}),
			verdict: DenyVerdict, field: newType},
		{name: "a cgroup outside /sys/fs/cgroup", change: addMount(kernel("cgroup", "/cg")), verdict: DenyVerdict, field: newType},
		{name: "a cgroup2 outside /sys/fs/cgroup", change: addMount(kernel("cgroup2", "/cg")), verdict: DenyVerdict, field: newType},
		{name: "the /proc mount moved elsewhere", change: changeMountAt("/proc", func(m *specs.Mount) { m.Destination = "/hostproc" }),
			verdict: DenyVerdict, field: fmt.Sprintf("/mounts/%d/type", mountIndex("/proc"))},
		{name: "a volume bind whose type says proc", change: addMount(specs.Mount{Destination: "/data", Type: "proc", Source: "/var/lib/docker/volumes/data/_data", Options: []string{"rbind"}}),
			verdict: Allow},
		{name: "host /proc bound elsewhere", change: addMount(dockerBind("/proc", "/host/proc")), verdict: DenyVerdict, field: newMountField},
		{name: "host /sys/kernel bound elsewhere", change: addMount(dockerBind("/sys/kernel", "/k")), verdict: DenyVerdict, field: newMountField},
		{name: "host /proc by //", change: addMount(dockerBind("//proc//1", "/p")), verdict: DenyVerdict, field: newMountField},
	}
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) { runFixtures(t, policy, compliantSpec, fixtures) })
	}
}

func TestHostProcBindIsDeniedByMountDestinationsItself(t *testing.T) {
	// A policy that changes hostPaths still keeps the host's /proc out.
	dir := policyDir(t, map[string]string{"loose": "extends: baseline\ncontrols:\n  hostPaths: null\n"})
	p := loadFrom(t, dir, "loose")
	if p.Controls.HostPaths != nil {
		t.Fatal("hostPaths: null did not turn the control off")
	}
	d := judgeSpec(t, p, func() *specs.Spec { s := compliantSpec(); addMount(dockerBind("/proc", "/host/proc"))(s); return s }())
	v := violationAt(d, newMountField)
	if d.Verdict != DenyVerdict || v.Control != "mountDestinations" {
		t.Fatalf("a bind of the host's /proc was admitted without hostPaths: %+v", d.Violations)
	}
	for _, want := range []string{"host's /proc", "policy loose", "among hostPaths' sensitive paths too", "remove the -v"} {
		if !strings.Contains(v.Message, want) {
			t.Errorf("message lacks %q: %s", want, v.Message)
		}
	}
}

func TestDockerDefaultMountsPassMountDestinations(t *testing.T) {
	for _, name := range []string{"default.json", "user-1000-read-only.json", "tmpfs-tmp.json"} {
		data, id := dockerFixture(t, name)
		d := judgeDocument(t, loadShipped(t, "baseline"), data, Context{Operation: OpCreate, ContainerID: id})
		if slices.ContainsFunc(d.Violations, func(v Violation) bool { return v.Control == "mountDestinations" }) {
			t.Errorf("%s: %+v", name, d.Violations)
		}
	}
}

func TestMountDestinationsValidation(t *testing.T) {
	for _, c := range []*MountDestinations{
		{Protected: []string{"/"}},
		{Protected: []string{"/proc/"}},
		{Standard: []StandardMount{{Destination: "/proc", Type: "proc"}}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v was accepted", c)
		}
	}
}

func TestKernelFilesystemOutsideItsPlaceSaysWhere(t *testing.T) {
	for _, policy := range []string{"baseline", "k8s-baseline", "k8s-restricted"} {
		requireDenial(t, policy, addMount(specs.Mount{Destination: "/hostproc", Type: "proc", Source: "proc"}), "mountDestinations", newTypeField,
			"a proc mount at /hostproc", "outside /proc", "without the masked and read-only paths", "remove the --mount option")
		requireDenial(t, policy, addMount(specs.Mount{Destination: "/cg", Type: "cgroup2", Source: "cgroup2"}), "mountDestinations", newTypeField,
			"a cgroup2 mount at /cg", "outside /sys/fs/cgroup")
	}
}

func TestWritableSysSaysItIsNotReadOnly(t *testing.T) {
	rw := changeMountAt("/sys", func(m *specs.Mount) { m.Options = []string{"nosuid", "noexec", "nodev", "ro", "rw"} })
	requireDenial(t, "baseline", rw, "mountDestinations", fmt.Sprintf("/mounts/%d/options", mountIndex("/sys")),
		"the sysfs mount at /sys is not read-only", "end with ro after any rw", "remove --privileged", "unmask=/sys/fs/cgroup")
}

// requireDenial judges the compliant spec, changed, under a shipped policy:
// control must deny it at field, with a message that holds wants and the
// policy's name.
func requireDenial(t *testing.T, policy string, change func(*specs.Spec), control, field string, wants ...string) {
	t.Helper()
	s := compliantSpec()
	change(s)
	d := judgeSpec(t, loadShipped(t, policy), s)
	v := violationAt(d, field)
	if d.Verdict != DenyVerdict || v.Control != control {
		t.Fatalf("%s: no %s denial at %s: %+v", policy, control, field, d.Violations)
	}
	for _, want := range append(wants, "policy "+policy) {
		if !strings.Contains(v.Message, want) {
			t.Errorf("%s: message lacks %q: %s", policy, want, v.Message)
		}
	}
}
