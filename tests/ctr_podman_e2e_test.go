package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// guard-runtime behind containerd's ctr and behind Podman, under the shipped
// baseline: an ordinary container runs, and --privileged, the host's network
// and a bind of /etc are refused with guard-runtime's reason where the user
// sees it. The refused containers never reach runc, so none of this depends
// on a privileged container being able to start on this machine.

// guardConfig writes a config.yaml that pins the real runc and uses the
// repository's policies, and returns its path.
func guardConfig(t *testing.T) string {
	t.Helper()
	runc := requireBinary(t, "runc", "apt-get install -y runc")
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	writeFileMode(t, config, fmt.Sprintf("runtime:\n  path: %s\n  sha256: %s\n  cacheDir: %s\npolicy:\n  dir: %s\n  default: restricted\naudit:\n  file: %s\n",
		runc, fileDigest(t, runc), filepath.Join(dir, "cache"), filepath.Join(harness.ModuleRoot(t), "policy.d"),
		filepath.Join(dir, "audit.log")), 0o600)
	return config
}

// engineEscape is one way out of the container that baseline refuses, as each
// engine's command line asks for it, and what guard-runtime's reason says.
type engineEscape struct {
	name        string
	ctr, podman []string
	reason      string
}

// ctr applies no seccomp profile unless asked, and baseline requires one:
// --seccomp (containerd's default profile) makes the escape the only
// reason. ctr --privileged gives the capabilities ctr itself holds, which
// on these machines lack CAP_SYS_RESOURCE, so it is told by its other
// signature: every device, no seccomp filter, no masked paths.
var engineEscapes = []engineEscape{
	{"Privileged", []string{"--privileged"}, []string{"--privileged"},
		"privileged containers are not allowed by policy baseline"},
	{"HostNetwork", []string{"--seccomp", "--net-host"}, []string{"--network", "host"},
		"linux.namespaces has no network entry, so the container would share the host's network namespace, which policy baseline does not allow"},
	{"BindOfEtc", []string{"--seccomp", "--mount", "type=bind,src=/etc,dst=/host-etc,options=rbind:ro"}, []string{"-v", "/etc:/host-etc:ro"},
		"bind mount of /etc (the host's configuration) at /host-etc is not allowed by policy baseline"},
}

func TestContainerdCtr(t *testing.T) {
	harness.RequireRoot(t)
	guard := harness.GuardBinary(t)
	config := guardConfig(t)
	ctrd, err := harness.StartContainerd()
	if err != nil {
		t.Fatalf("private containerd: %v", err)
	}
	t.Cleanup(func() {
		if err := ctrd.Stop(); err != nil {
			t.Errorf("stop the private containerd: %v", err)
		}
	})
	// --runc-binary takes a path and no arguments: a wrapper adds them.
	w, err := ctrd.RuntimeWrapper("guard-baseline", harness.GuardRuntimeCommand(guard, config, "baseline"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("BaselineContainerRuns", func(t *testing.T) {
		r := ctrd.CtrRun(harness.CtrRunSpec{Runtime: w.Path, Flags: []string{"--seccomp"},
			Command: []string{"/bin/sh", "-c", "id -u; grep ^Seccomp: /proc/self/status"}})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if want := "0\nSeccomp:\t2\n"; r.Stdout != want {
			t.Errorf("container printed %q, want %q", r.Stdout, want)
		}
	})
	t.Run("WithoutSeccompIsDenied", func(t *testing.T) {
		r := ctrd.CtrRun(harness.CtrRunSpec{Runtime: w.Path, Command: []string{"/bin/true"}})
		if r.Err == nil {
			t.Fatal("a container without a seccomp filter ran under baseline")
		}
		wantAll(t, "ctr's error", r.Stderr, `guard-runtime: policy "baseline" denied container`, "no seccomp filter")
	})
	for _, e := range engineEscapes {
		t.Run(e.name+"IsDenied", func(t *testing.T) {
			r := ctrd.CtrRun(harness.CtrRunSpec{Runtime: w.Path, Flags: e.ctr,
				Command: []string{"/bin/sh", "-c", "echo escaped"}})
			if r.Err == nil || strings.Contains(r.Stdout, "escaped") {
				t.Fatalf("ctr run %s ran: %q", strings.Join(e.ctr, " "), r.Stdout)
			}
			// The shim reads the reason from runc's --log file, where guard-runtime writes it.
			wantAll(t, "ctr's error", r.Stderr, "OCI runtime create failed", `guard-runtime: policy "baseline" denied container`, e.reason)
		})
	}
}

func TestPodman(t *testing.T) {
	harness.RequireRoot(t)
	guard := harness.GuardBinary(t)
	config := guardConfig(t)
	podman, err := harness.NewPodman()
	if err != nil {
		t.Fatalf("private podman: %v", err)
	}
	t.Cleanup(func() {
		if err := podman.Close(); err != nil {
			t.Errorf("clean up the private podman: %v", err)
		}
	})
	w, err := podman.AddRuntime("guard-baseline", harness.GuardRuntimeCommand(guard, config, "baseline"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("BaselineContainerRuns", func(t *testing.T) {
		for _, runtime := range []string{w.Path, "guard-baseline"} {
			r := podman.Run(harness.PodmanRunSpec{Runtime: runtime, Flags: []string{"--user", "1000"},
				Command: []string{"/bin/sh", "-c", "id -u; grep ^Seccomp: /proc/self/status"}})
			if r.Err != nil {
				t.Fatalf("--runtime %s: %v", runtime, r.Err)
			}
			if want := "1000\nSeccomp:\t2\n"; r.Stdout != want {
				t.Errorf("--runtime %s: container printed %q, want %q", runtime, r.Stdout, want)
			}
		}
	})
	t.Run("OverlayVolumes", func(t *testing.T) { testPodmanOverlayVolumes(t, podman, guard, w.Path) })
	for _, e := range engineEscapes {
		t.Run(e.name+"IsDenied", func(t *testing.T) {
			r := podman.Run(harness.PodmanRunSpec{Runtime: w.Path, Flags: e.podman, Command: []string{"/bin/sh", "-c", "echo escaped"}})
			if r.Err == nil || strings.Contains(r.Stdout, "escaped") {
				t.Fatalf("podman run %s ran: %q", strings.Join(e.podman, " "), r.Stdout)
			}
			// Podman passes no --log: the reason reaches the user through
			// guard-runtime's stderr, which Podman prints.
			wantAll(t, "podman's stderr", strings.ReplaceAll(r.Stderr, `\`, ""), `guard-runtime: policy "baseline" denied container`, e.reason)
		})
	}
}

// testPodmanOverlayVolumes: -v SRC:DST:O is an overlay mount whose
// lowerdir is the host directory SRC. The shipped baseline refuses the
// overlay type; a policy that allows it admits the volume when SRC passes
// hostPaths as a bind source would, and refuses it when SRC is sensitive.
func testPodmanOverlayVolumes(t *testing.T, podman *harness.Podman, guard, baseline string) {
	dir := policyDir(t)
	writeFileMode(t, filepath.Join(dir, "podman-overlay.yaml"), "extends: baseline\ncontrols:\n  mountTypes:\n"+
		"    allowed: [proc, sysfs, cgroup, cgroup2, tmpfs, devpts, mqueue, overlay]\n", 0o644)
	config := guardConfig(t)
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	writeFileMode(t, config, strings.Replace(string(data), filepath.Join(harness.ModuleRoot(t), "policy.d"), dir, 1), 0o600)
	overlay, err := podman.AddRuntime("guard-podman-overlay", harness.GuardRuntimeCommand(guard, config, "podman-overlay"))
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeFileMode(t, filepath.Join(src, "greeting"), "hello\n", 0o644)
	script := []string{"/bin/sh", "-c", "cat /data/greeting; echo changed >/data/greeting && echo written"}

	r := podman.Run(harness.PodmanRunSpec{Runtime: overlay.Path, Flags: []string{"-v", src + ":/data:O"}, Command: script})
	if r.Err != nil || r.Stdout != "hello\nwritten\n" {
		t.Fatalf("an overlay volume of %s under a policy that allows overlay: %v, stdout %q\n%s", src, r.Err, r.Stdout, r.Stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(src, "greeting")); string(data) != "hello\n" {
		t.Errorf("the write went through to the host directory: %q", data)
	}
	for _, c := range []struct{ runtime, source, reason string }{
		{overlay.Path, "/etc", "overlay mount (lowerdir) of /etc"},
		{baseline, src, "the overlay mount at /data is not allowed"},
	} {
		r := podman.Run(harness.PodmanRunSpec{Runtime: c.runtime, Flags: []string{"-v", c.source + ":/data:O"}, Command: script})
		if r.Err == nil || strings.Contains(r.Stdout, "written") {
			t.Errorf("-v %s:/data:O through %s ran: %q", c.source, c.runtime, r.Stdout)
			continue
		}
		wantAll(t, "podman's stderr", strings.ReplaceAll(r.Stderr, `\`, ""), c.reason)
	}
}
