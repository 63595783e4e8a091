package enforce

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestRestrictedCoreFixtures(t *testing.T) {
	runFixtures(t, "restricted", compliantSpec, []fixture{
		{name: "compliant", verdict: Allow},
		// runAsNonRoot
		{name: "uid 0", change: func(s *specs.Spec) { s.Process.User.UID = 0 }, verdict: DenyVerdict, field: "/process/user/uid"},
		{name: "uid 0 mapped to a host user", change: func(s *specs.Spec) {
			s.Process.User.UID = 0
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}, verdict: Allow},
		{name: "uid 0 mapped to host root", change: func(s *specs.Spec) {
			s.Process.User.UID = 0
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 65536}}
		}, verdict: DenyVerdict, field: "/linux/uidMappings"},
		{name: "a non-root uid mapped to host root", change: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 1000, HostID: 0, Size: 1}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}, verdict: DenyVerdict, field: "/linux/uidMappings"},
		{name: "a non-root uid in a remapped user namespace", change: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}, verdict: Allow},
		{name: "uid 0 in a joined user namespace", change: func(s *specs.Spec) {
			s.Process.User.UID = 0
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
		}, verdict: DenyVerdict, field: "/process/user/uid"},
		// capabilities
		{name: "docker default cap is dropped", change: func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_CHOWN")
		}, verdict: RewriteDoc, field: "/process/capabilities/bounding"},
		{name: "cap outside docker's set", change: func(s *specs.Spec) {
			s.Process.Capabilities.Effective = append(s.Process.Capabilities.Effective, "CAP_SYS_ADMIN")
		}, verdict: DenyVerdict, field: "/process/capabilities/effective"},
		{name: "cap in ambient", change: func(s *specs.Spec) {
			s.Process.Capabilities.Ambient = []string{"CAP_SYS_PTRACE"}
		}, verdict: DenyVerdict, field: "/process/capabilities/ambient"},
		{name: "lower-case name", change: func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = []string{"cap_sys_admin"}
		}, verdict: DenyVerdict, field: "/process/capabilities/bounding"},
		{name: "name without CAP_", change: func(s *specs.Spec) {
			s.Process.Capabilities.Permitted = []string{"NET_BIND_SERVICE"}
		}, verdict: DenyVerdict, field: "/process/capabilities/permitted"},
		{name: "missing capabilities", change: func(s *specs.Spec) { s.Process.Capabilities = nil },
			verdict: RewriteDoc, field: "/process/capabilities"},
		// readOnlyRoot
		{name: "writable root", change: func(s *specs.Spec) { s.Root.Readonly = false }, verdict: RewriteDoc, field: "/root/readonly"},
		// resources
		{name: "no memory limit", change: func(s *specs.Spec) { s.Linux.Resources.Memory = nil }, verdict: RewriteDoc, field: "/linux/resources/memory/limit"},
		{name: "memory over max", change: func(s *specs.Spec) {
			s.Linux.Resources.Memory.Limit = ptr(int64(3 << 30))
		}, verdict: DenyVerdict, field: "/linux/resources/memory/limit"},
		{name: "memory at max", change: func(s *specs.Spec) {
			s.Linux.Resources.Memory.Limit, s.Linux.Resources.Memory.Swap = ptr(int64(2<<30)), ptr(int64(2<<30))
		}, verdict: Allow},
		{name: "unlimited swap", change: func(s *specs.Spec) { s.Linux.Resources.Memory.Swap = ptr(int64(-1)) },
			verdict: RewriteDoc, field: "/linux/resources/memory/swap"},
		{name: "swap above limit", change: func(s *specs.Spec) { s.Linux.Resources.Memory.Swap = ptr(int64(1 << 30)) },
			verdict: RewriteDoc, field: "/linux/resources/memory/swap"},
		{name: "no cpu limit", change: func(s *specs.Spec) { s.Linux.Resources.CPU = nil }, verdict: RewriteDoc, field: "/linux/resources/cpu/quota"},
		{name: "cpu over max", change: func(s *specs.Spec) { s.Linux.Resources.CPU.Quota = ptr(int64(250000)) },
			verdict: DenyVerdict, field: "/linux/resources/cpu/quota"},
		{name: "cpu over max by short period", change: func(s *specs.Spec) { s.Linux.Resources.CPU.Period = ptr(uint64(10000)) },
			verdict: DenyVerdict, field: "/linux/resources/cpu/quota"},
		{name: "no pids limit", change: func(s *specs.Spec) { s.Linux.Resources.Pids = nil }, verdict: RewriteDoc, field: "/linux/resources/pids/limit"},
		{name: "pids over max", change: func(s *specs.Spec) { s.Linux.Resources.Pids.Limit = 5000 },
			verdict: DenyVerdict, field: "/linux/resources/pids/limit"},
		{name: "no resources at all", change: func(s *specs.Spec) { s.Linux.Resources = nil }, verdict: RewriteDoc, field: "/linux/resources/pids/limit"},
		// noNewPrivileges
		{name: "new privileges", change: func(s *specs.Spec) { s.Process.NoNewPrivileges = false },
			verdict: RewriteDoc, field: "/process/noNewPrivileges"},
		// a deny wins over rewrites
		{name: "deny wins", change: func(s *specs.Spec) { s.Process.User.UID = 0; s.Root.Readonly = false },
			verdict: DenyVerdict, field: "/process/user/uid"},
	})
}

func TestRewriteKeepsUnknownFieldsAndWritesExactValues(t *testing.T) {
	p := loadShipped(t, "restricted")
	doc := `{"ociVersion":"1.0.2","x-vendor":{"keep":[1,2]},"process":{"user":{"uid":1000,"gid":1000},"args":["sh"],"cwd":"/","noNewPrivileges":true,"capabilities":{"bounding":["CAP_CHOWN","CAP_NET_BIND_SERVICE"]}},"root":{"path":"rootfs"},"mounts":[{"destination":"/tmp","type":"tmpfs","source":"tmpfs"}],"linux":{"futureField":"x","namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network"}],"maskedPaths":["/proc/asound","/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware"],"readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"],"seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}}}`
	d := judgeConfig(t, p, []byte(doc))
	if d.Verdict != RewriteDoc {
		t.Fatalf("verdict %s: %+v", d.Verdict, d.Violations)
	}
	out, _ := d.Result.Encode()
	for _, want := range []string{
		`"x-vendor":{"keep":[1,2]}`, `"futureField":"x"`,
		`"bounding":["CAP_NET_BIND_SERVICE"]`,
		`"root":{"path":"rootfs","readonly":true}`,
		`"resources":{"memory":{"limit":536870912,"swap":536870912},"cpu":{"period":100000,"quota":100000},"pids":{"limit":1024}}`,
		`{"destination":"/run","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","noexec","size=16m","mode=755"]}`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rewritten document lacks %s:\n%s", want, out)
		}
	}
	if strings.Count(string(out), `"destination":"/tmp"`) != 1 {
		t.Errorf("a second /tmp mount was added:\n%s", out)
	}
}

func TestMissingCapabilitiesAreWrittenOutExplicitly(t *testing.T) {
	s := compliantSpec()
	s.Process.Capabilities = nil
	d := judgeSpec(t, loadShipped(t, "restricted"), s)
	out, _ := d.Result.Encode()
	want := `"capabilities":{"ambient":[],"bounding":["CAP_NET_BIND_SERVICE"],"effective":["CAP_NET_BIND_SERVICE"],"inheritable":[],"permitted":["CAP_NET_BIND_SERVICE"]}`
	if !strings.Contains(string(out), want) {
		t.Fatalf("got %s", out)
	}
}

func TestAuditPolicyReportsButAdmitsUnchanged(t *testing.T) {
	s := compliantSpec()
	s.Process.User.UID = 0
	s.Root.Readonly = false
	d := judgeSpec(t, loadShipped(t, "audit"), s)
	if d.Verdict != Allow || d.Mode != AuditMode || len(d.Patch) != 0 {
		t.Fatalf("audit policy changed the verdict: %+v", d)
	}
	if !hasViolationAt(d, "/process/user/uid") || !hasViolationAt(d, "/root/readonly") {
		t.Fatalf("audit policy did not report: %+v", d.Violations)
	}
	for _, v := range d.Violations {
		if v.Field == "/process/user/uid" && v.Action != Deny {
			t.Errorf("the uid violation should say restricted would deny, says %s", v.Action)
		}
	}
}

func TestOneCapabilityRequestReadsAsOneReason(t *testing.T) {
	s := compliantSpec()
	for _, set := range []*[]string{&s.Process.Capabilities.Bounding, &s.Process.Capabilities.Effective, &s.Process.Capabilities.Permitted} {
		*set = append(*set, "CAP_SYS_ADMIN")
	}
	d := judgeSpec(t, loadShipped(t, "restricted"), s)
	for _, f := range []string{"/process/capabilities/bounding", "/process/capabilities/effective", "/process/capabilities/permitted"} {
		if !hasViolationAt(d, f) {
			t.Errorf("no violation at %s", f)
		}
	}
	want := "capability CAP_SYS_ADMIN is not allowed by policy restricted: remove --cap-add SYS_ADMIN"
	if got := d.Reason(); strings.Count(got, want) != 1 {
		t.Fatalf("reason should say %q once:\n%s", want, got)
	}
}
