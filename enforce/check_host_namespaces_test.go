package enforce

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setNamespacePath gives the compliant spec's entry of type t a path.
func setNamespacePath(t specs.LinuxNamespaceType, p string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == t {
				s.Linux.Namespaces[i].Path = p
			}
		}
	}
}

func removeNamespace(t specs.LinuxNamespaceType) func(*specs.Spec) {
	return func(s *specs.Spec) {
		var kept []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != t {
				kept = append(kept, ns)
			}
		}
		s.Linux.Namespaces = kept
	}
}

// namespaceField is the JSON pointer of the path of the compliant spec's
// entry of type t.
func namespaceField(t specs.LinuxNamespaceType) string {
	for i, ns := range compliantSpec().Linux.Namespaces {
		if ns.Type == t {
			return fmt.Sprintf("/linux/namespaces/%d/path", i)
		}
	}
	panic("compliant spec has no " + t)
}

func TestHostNamespacesFixtures(t *testing.T) {
	fixtures := []fixture{
		{name: "compliant", verdict: Allow},
		{name: "no pid namespace (--pid host)", change: removeNamespace(specs.PIDNamespace), verdict: DenyVerdict, field: "/linux/namespaces"},
		{name: "no ipc namespace (--ipc host)", change: removeNamespace(specs.IPCNamespace), verdict: DenyVerdict, field: "/linux/namespaces"},
		{name: "no uts namespace (--uts host)", change: removeNamespace(specs.UTSNamespace), verdict: DenyVerdict, field: "/linux/namespaces"},
		{name: "no network namespace", change: removeNamespace(specs.NetworkNamespace), verdict: DenyVerdict, field: "/linux/namespaces"},
		{name: "no mount namespace", change: removeNamespace(specs.MountNamespace), verdict: DenyVerdict, field: "/linux/namespaces"},
		{name: "host's cgroup namespace, which is not required", change: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace, Path: "/proc/1/ns/cgroup"})
		}, verdict: Allow},
		{name: "host's network by /proc/1", change: setNamespacePath(specs.NetworkNamespace, "/proc/1/ns/net"),
			verdict: DenyVerdict, field: namespaceField(specs.NetworkNamespace)},
		{name: "host's pid by /proc/1", change: setNamespacePath(specs.PIDNamespace, "/proc/1/ns/pid"),
			verdict: DenyVerdict, field: namespaceField(specs.PIDNamespace)},
		{name: "host's mount namespace", change: setNamespacePath(specs.MountNamespace, "/proc/1/ns/mnt"),
			verdict: DenyVerdict, field: namespaceField(specs.MountNamespace)},
		{name: "host's ipc through an unclean path", change: setNamespacePath(specs.IPCNamespace, "/proc//1/./ns/../ns/ipc"),
			verdict: DenyVerdict, field: namespaceField(specs.IPCNamespace)},
		{name: "runtime's own uts by /proc/self", change: setNamespacePath(specs.UTSNamespace, "/proc/self/ns/uts"),
			verdict: DenyVerdict, field: namespaceField(specs.UTSNamespace)},
		{name: "runtime's own ipc by /proc/thread-self", change: setNamespacePath(specs.IPCNamespace, "/proc/thread-self/ns/ipc"),
			verdict: DenyVerdict, field: namespaceField(specs.IPCNamespace)},
		{name: "runtime's own net by its pid", change: setNamespacePath(specs.NetworkNamespace, fmt.Sprintf("/proc/%d/ns/net", os.Getpid())),
			verdict: DenyVerdict, field: namespaceField(specs.NetworkNamespace)},
		{name: "path that cannot be stat'ed", change: setNamespacePath(specs.NetworkNamespace, "/var/run/docker/netns/guard-runtime-absent"),
			verdict: DenyVerdict, field: namespaceField(specs.NetworkNamespace)},
	}
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) { runFixtures(t, policy, compliantSpec, fixtures) })
	}
}

func TestHostNamespacesPolicyValidation(t *testing.T) {
	if err := (&HostNamespaces{Required: []specs.LinuxNamespaceType{"net"}}).Validate(); err == nil || !strings.Contains(err.Error(), `"net"`) {
		t.Fatalf("namespace type net (the /proc file name, not the OCI type) was accepted: %v", err)
	}
}

// startInNewNamespaces runs sleep in new namespaces (unshare(1) options)
// and returns the pid of the process inside them. It is killed when the
// test ends.
func startInNewNamespaces(t *testing.T, options ...string) int {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("this test needs unshare(1): apt-get install -y util-linux (%v)", err)
	}
	forked := slices.Contains(options, "--fork")
	if forked {
		// The child must not outlive unshare, nor hold the test's output open.
		options = append(options, "--kill-child")
	}
	cmd := exec.Command(unshare, append(options, "sleep", "600")...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if pid, ok := sleeping(cmd.Process.Pid, forked); ok {
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%v did not reach sleep in its new namespaces", cmd.Args)
	return 0
}

// sleeping returns the pid that runs sleep: pid itself, or with --fork its
// child, once it has exec'd.
func sleeping(pid int, forked bool) (int, bool) {
	if forked {
		children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		fields := strings.Fields(string(children))
		if err != nil || len(fields) == 0 {
			return 0, false
		}
		if pid, err = strconv.Atoi(fields[0]); err != nil {
			return 0, false
		}
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return pid, err == nil && strings.TrimSpace(string(comm)) == "sleep"
}

// withHostNamespaceDirs makes dirs the host's namespaces for one test.
func withHostNamespaceDirs(t *testing.T, dirs ...string) {
	saved := hostNamespaceDirs
	hostNamespaceDirs = dirs
	t.Cleanup(func() { hostNamespaceDirs = saved })
}

// joinAll points the compliant spec's pid, ipc, uts and network entries at
// the namespaces of pid, as containers that share a pod or use
// --network container:<id> do.
func joinAll(pid int) func(*specs.Spec) {
	return func(s *specs.Spec) {
		for _, t := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace} {
			setNamespacePath(t, fmt.Sprintf("/proc/%d/ns/%s", pid, nsFile(t)))(s)
		}
	}
}

func TestJoiningAnotherContainersNamespacesIsAllowed(t *testing.T) {
	pid := startInNewNamespaces(t, "--net", "--ipc", "--uts", "--pid", "--fork")
	runFixtures(t, "baseline", compliantSpec, []fixture{
		{name: "join a container's pid, ipc, uts and network", change: joinAll(pid), verdict: Allow},
	})
}

func TestNamespaceIsTheHostsByInode(t *testing.T) {
	pid := startInNewNamespaces(t, "--net", "--ipc", "--uts", "--pid", "--fork")
	// The same document as above, judged on a "host" whose namespaces are
	// that process's: only the device and inode comparison tells.
	withHostNamespaceDirs(t, fmt.Sprintf("/proc/%d/ns", pid))
	runFixtures(t, "baseline", compliantSpec, []fixture{
		{name: "network is the host's", change: joinAll(pid), verdict: DenyVerdict, field: namespaceField(specs.NetworkNamespace)},
		{name: "pid is the host's", change: joinAll(pid), verdict: DenyVerdict, field: namespaceField(specs.PIDNamespace)},
		{name: "ipc is the host's", change: joinAll(pid), verdict: DenyVerdict, field: namespaceField(specs.IPCNamespace)},
		{name: "uts is the host's", change: joinAll(pid), verdict: DenyVerdict, field: namespaceField(specs.UTSNamespace)},
	})
}

func TestPartlyHostNamespacesOfAnotherProcess(t *testing.T) {
	// A process with its own ipc but the host's network and uts, as the
	// pause container of a Kubernetes hostNetwork pod.
	pid := startInNewNamespaces(t, "--ipc")
	d := judgeSpec(t, loadShipped(t, "baseline"), func() *specs.Spec {
		s := compliantSpec()
		for _, t := range []specs.LinuxNamespaceType{specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace} {
			setNamespacePath(t, fmt.Sprintf("/proc/%d/ns/%s", pid, nsFile(t)))(s)
		}
		return s
	}())
	want := []string{namespaceField(specs.NetworkNamespace), namespaceField(specs.UTSNamespace)}
	if d.Verdict != DenyVerdict || !hasViolationAt(d, want[0]) || !hasViolationAt(d, want[1]) {
		t.Fatalf("want denials at %v: %s %+v", want, d.Verdict, d.Violations)
	}
	if hasViolationAt(d, namespaceField(specs.IPCNamespace)) {
		t.Fatalf("the process's own ipc namespace was taken for the host's: %+v", d.Violations)
	}
}

func TestBindMountOfTheHostsNetnsIsTheHosts(t *testing.T) {
	// What Docker's --network host hands runc: a file onto which the
	// host's network namespace is bind-mounted.
	file := filepath.Join(t.TempDir(), "default")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// guard-runtime's own network namespace is the host's here; /proc/1/ns
	// may be shielded from root (as in some VMs).
	if err := syscall.Mount("/proc/self/ns/net", file, "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mount the host's netns (needs root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(file, syscall.MNT_DETACH) })
	d := judgeSpec(t, loadShipped(t, "baseline"), func() *specs.Spec {
		s := compliantSpec()
		setNamespacePath(specs.NetworkNamespace, file)(s)
		return s
	}())
	field := namespaceField(specs.NetworkNamespace)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, field) {
		t.Fatalf("a bind mount of the host's netns was admitted: %s %+v", d.Verdict, d.Violations)
	}
	msg := violationAt(d, field).Message
	for _, want := range []string{file, "is the host's", "policy baseline", "--network host"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

func TestUnreadableHostReferenceFailsClosed(t *testing.T) {
	pid := startInNewNamespaces(t, "--net")
	withHostNamespaceDirs(t, "/proc/guard-runtime-no-such-dir/ns")
	d := judgeSpec(t, loadShipped(t, "baseline"), func() *specs.Spec {
		s := compliantSpec()
		setNamespacePath(specs.NetworkNamespace, fmt.Sprintf("/proc/%d/ns/net", pid))(s)
		return s
	}())
	if d.Verdict != DenyVerdict || !hasViolationAt(d, namespaceField(specs.NetworkNamespace)) {
		t.Fatalf("a namespace that could not be compared with the host's was admitted: %+v", d)
	}
}

// runc checks a relative path in the bundle but its init opens it from
// the root filesystem's directory: a bundle's netns naming a harmless
// namespace passes the check while rootfs/netns, joined, may be the
// host's. No one file can be judged, so the path is denied, whatever the
// bundle's file names.
func TestRelativeNamespacePathIsDenied(t *testing.T) {
	other := startInNewNamespaces(t, "--net")
	bundle := t.TempDir()
	mustSymlink(t, fmt.Sprintf("/proc/%d/ns/net", other), filepath.Join(bundle, "netns"))
	mustMkdir(t, filepath.Join(bundle, "rootfs"))
	mustSymlink(t, "/proc/1/ns/net", filepath.Join(bundle, "rootfs", "netns"))
	s := compliantSpec()
	setNamespacePath(specs.NetworkNamespace, "netns")(s)
	d := judgeSpecIn(t, loadShipped(t, "baseline"), s, Context{Operation: OpCreate, ContainerID: "fixture", Bundle: bundle})
	field := namespaceField(specs.NetworkNamespace)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, field) {
		t.Fatalf("a relative namespace path was admitted: %+v", d.Violations)
	}
	if msg := violationAt(d, field).Message; !strings.Contains(msg, "netns is relative") || !strings.Contains(msg, "give an absolute path such as /proc/<pid>/ns/net") {
		t.Errorf("the message should say the path is relative and what to give instead: %s", msg)
	}
}
