package tests

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	seccomp "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// runcEnv is guard-runtime installed in a temp dir in front of the real runc.
type runcEnv struct {
	guard, runc, config, root string
}

func newRuncEnv(t *testing.T) *runcEnv {
	t.Helper()
	return newRuntimeEnv(t, "runc", "apt-get install -y runc")
}

// newRuntimeEnv is guard-runtime in front of the runtime named name, found
// on PATH and pinned to its digest, under the restricted policy.
func newRuntimeEnv(t *testing.T, name, install string) *runcEnv {
	t.Helper()
	harness.RequireRoot(t)
	runtime := requireBinary(t, name, install)
	e := &runcEnv{guard: harness.GuardBinary(t), runc: runtime, root: filepath.Join(t.TempDir(), "state")}
	e.config = writeGuardSettings(t, e.baseSettings(t))
	return e
}

// bundle writes a bundle whose config is runc's example spec, changed by
// edit, with a busybox rootfs of its own in the bundle, as containerd lays
// it out: hostPaths admits a root filesystem there, and judges one
// elsewhere as a host directory, which restricted denies.
func (e *runcEnv) bundle(t *testing.T, args []string, edit func(*specs.Spec)) string {
	t.Helper()
	bundle := filepath.Dir(harness.BusyboxRootfs(t))
	s := specconv.Example() // root.path "rootfs"
	s.Process.Terminal = false
	s.Process.Args = args
	if edit != nil {
		edit(s)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return bundle
}

// guardRun runs `guard-runtime … run --bundle B id` as Docker calls the runtime.
func (e *runcEnv) guardRun(t *testing.T, policy, bundle, id string) (stdout, stderr string, err error) {
	t.Helper()
	args := []string{"--guard-config", e.config, "--guard-policy=" + policy,
		"--root", e.root, "--log", filepath.Join(bundle, "log.json"), "--log-format", "json",
		"run", "--bundle", bundle, id}
	t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", id).Run() })
	return runCommand(e.guard, args...)
}

// runCommand runs bin and returns its stdout and stderr. They go through
// files, not pipes: a detached container inherits them, and a pipe would
// keep the call waiting until the container exits.
func runCommand(bin string, args ...string) (string, string, error) {
	out, err := os.CreateTemp("", "guard-test-stdout-")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	errOut, err := os.CreateTemp("", "guard-test-stderr-")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(errOut.Name())
	defer errOut.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, errOut
	runErr := cmd.Run()
	stdout, _ := os.ReadFile(out.Name())
	stderr, _ := os.ReadFile(errOut.Name())
	return string(stdout), string(stderr), runErr
}

var probeScript = []string{"sh", "-c", `echo uid=$(id -u); grep CapBnd /proc/self/status; grep ' / ' /proc/mounts; ` +
	`echo memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo pids=$(cat /sys/fs/cgroup/pids/pids.max)`}

func TestRestrictedContainerRunsConfined(t *testing.T) {
	e := newRuncEnv(t)
	bundle := e.bundle(t, probeScript, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Root.Readonly = false
		s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_CHOWN")
		s.Linux.Seccomp = runtimeDefaultSeccomp(t, s) // restricted denies a container without a filter
	})
	out, errOut, err := e.guardRun(t, "restricted", bundle, "e2e-restricted")
	if err != nil {
		t.Fatalf("restricted container failed: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	for _, want := range []string{
		"uid=1000",
		"CapBnd:\t0000000000000400", // CAP_NET_BIND_SERVICE only
		"memory=536870912",
		"pids=1024",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("container output lacks %q:\n%s", want, out)
		}
	}
	if !rootMountedReadOnly(out) {
		t.Errorf("root is not mounted read-only:\n%s", out)
	}
}

// TestRlimitsRewriteIsWhatRuncSets runs runc's example (RLIMIT_NOFILE
// 1024:1024) under a policy that lowers open files to 512: the container
// starts with the rewritten limits. Lowering needs no privilege, so it
// runs on a machine without CAP_SYS_RESOURCE.
func TestRlimitsRewriteIsWhatRuncSets(t *testing.T) {
	e := newRuncEnv(t)
	settings := e.baseSettings(t)
	settings.policyDir = policyDir(t)
	clamp := "extends: baseline\ncontrols:\n  rlimits:\n    max: {RLIMIT_NOFILE: 512}\n    action: rewrite\n"
	writeFileMode(t, filepath.Join(settings.policyDir, "clamp.yaml"), clamp, 0o644)
	e.config = writeGuardSettings(t, settings)
	bundle := e.bundle(t, []string{"sh", "-c", "echo hard=$(ulimit -Hn) soft=$(ulimit -Sn)"}, func(s *specs.Spec) {
		s.Linux.Seccomp = runtimeDefaultSeccomp(t, s) // baseline denies a container without a filter
	})
	out, errOut, err := e.guardRun(t, "clamp", bundle, "e2e-rlimits-clamp")
	if err != nil {
		t.Fatalf("the container failed: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	if strings.TrimSpace(out) != "hard=512 soft=512" {
		t.Errorf("the container's open files limits are %q, want the rewritten hard=512 soft=512", out)
	}
}

func runtimeDefaultSeccomp(t *testing.T, s *specs.Spec) *specs.LinuxSeccomp {
	t.Helper()
	profile, err := seccomp.GetDefaultProfile(s)
	if err != nil {
		t.Fatal(err)
	}
	return profile
}

func rootMountedReadOnly(out string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[1] == "/" && strings.HasPrefix(f[3], "ro") {
			return true
		}
	}
	return false
}

func TestRootContainerIsDeniedAndLeavesNothing(t *testing.T) {
	e := newRuncEnv(t)
	bundle := e.bundle(t, []string{"true"}, nil) // runc's example runs as root
	before, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	_, errOut, err := e.guardRun(t, "restricted", bundle, "e2e-root")
	if err == nil {
		t.Fatal("a root container ran under restricted")
	}
	want := `policy \"restricted\" denied container e2e-root: runs as root (uid 0)`
	logData, _ := os.ReadFile(filepath.Join(bundle, "log.json"))
	if !strings.Contains(string(logData), want) || !strings.Contains(string(logData), `"level":"error"`) {
		t.Errorf("runc log lacks the denial %s:\n%s", want, logData)
	}
	if !strings.Contains(errOut, "runs as root") {
		t.Errorf("stderr lacks the reason: %s", errOut)
	}
	after, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	if !bytes.Equal(before, after) {
		t.Error("config.json of a denied container changed")
	}
	if out, _, err := runCommand(e.runc, "--root", e.root, "state", "e2e-root"); err == nil {
		t.Errorf("runc knows the denied container: %s", out)
	}
	assertNoTempFiles(t, bundle)
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".guard-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func requireBinary(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: %s", name, install)
	}
	return path
}

func fileDigest(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// nonRootWithSeccomp is the smallest change that makes runc's example spec
// admissible under restricted: a non-root user and Docker's default
// seccomp profile. restricted rewrites the rest.
func nonRootWithSeccomp(t *testing.T) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Linux.Seccomp = runtimeDefaultSeccomp(t, s)
	}
}

// TestCallFlagsThatWeakenIsolationAreDenied: runc --no-pivot chroots into
// the root filesystem instead of pivoting to it, --no-new-keyring shares
// the caller's session keyring; every shipped policy refuses the call
// before runc runs, and says why.
func TestCallFlagsThatWeakenIsolationAreDenied(t *testing.T) {
	e := newRuncEnv(t)
	bundle := e.bundle(t, []string{"true"}, nonRootWithSeccomp(t))
	for _, c := range []struct{ flag, reason string }{
		{"--no-pivot", "runc --no-pivot confines the container with chroot instead of pivot_root"},
		{"--no-new-keyring", "runc --no-new-keyring leaves the container in the session keyring runc was started with"},
	} {
		for _, policy := range []string{"baseline", "restricted"} {
			id := "e2e" + c.flag[1:] + "-" + policy
			t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", id).Run() })
			_, errOut, err := runCommand(e.guard, "--guard-config", e.config, "--guard-policy="+policy, "--root", e.root,
				"--log", filepath.Join(bundle, "log.json"), "--log-format", "json", "run", c.flag, "--bundle", bundle, id)
			if err == nil || !strings.Contains(errOut, c.reason) {
				t.Errorf("%s: run %s: %v\n%s", policy, c.flag, err, errOut)
			}
			if out, _, err := runCommand(e.runc, "--root", e.root, "state", id); err == nil {
				t.Errorf("%s: runc knows the refused container: %s", policy, out)
			}
		}
	}
	// The same bundle runs without them.
	if out, errOut, err := e.guardRun(t, "restricted", bundle, "e2e-plain-flags"); err != nil {
		t.Fatalf("the bundle without those flags: %v\n%s%s", err, out, errOut)
	}
}

// TestRootGroupIsRewritten: under a policy with runAsNonRootGroup
// rewrite, a process in group 0 (Docker's -u 1000 on an image without
// /etc/passwd) runs in the policy's group instead, without 0 among its
// supplementary groups.
func TestRootGroupIsRewritten(t *testing.T) {
	e := newRuncEnv(t)
	settings := e.baseSettings(t)
	settings.policyDir = policyDir(t)
	writeFileMode(t, filepath.Join(settings.policyDir, "groups.yaml"),
		"extends: restricted\ncontrols:\n  runAsNonRootGroup: {action: rewrite, gid: 65534}\n", 0o644)
	e.config = writeGuardSettings(t, settings)
	bundle := e.bundle(t, []string{"sh", "-c", "echo gid=$(id -g) groups=$(id -G)"}, func(s *specs.Spec) {
		nonRootWithSeccomp(t)(s)
		s.Process.User = specs.User{UID: 1000, GID: 0, AdditionalGids: []uint32{0}}
	})
	out, errOut, err := e.guardRun(t, "groups", bundle, "e2e-root-group")
	if err != nil {
		t.Fatalf("the container failed: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	if strings.TrimSpace(out) != "gid=65534 groups=65534" {
		t.Errorf("the container runs with %q, want gid=65534 groups=65534", strings.TrimSpace(out))
	}
}
