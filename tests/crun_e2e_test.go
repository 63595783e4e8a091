package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// crunEnv is guard-runtime installed in a temp dir in front of crun: the
// runtime.path of its config.yaml is crun, pinned to crun's own digest.
type crunEnv struct {
	*runcEnv
	// launch comes before guard-runtime's command line on the calls that
	// make a container (see crunLauncher).
	launch []string
}

func newCrunEnv(t *testing.T) *crunEnv {
	t.Helper()
	return &crunEnv{runcEnv: newRuntimeEnv(t, "crun", "apt-get install -y crun"), launch: crunLauncher(t)}
}

// crunLauncher is what the calls that make a container need on this host.
// crun 1.8 refuses to set up cgroups on a hybrid host whose cgroup v2
// hierarchy (/sys/fs/cgroup/unified) has controllers ("cgroups in hybrid
// mode not supported"), as these machines are; runc uses the v1
// hierarchies there. Such a call then runs in a mount namespace of its
// own where an empty tmpfs hides that mount, so that crun sees a cgroup
// v1 host (and what it makes there for cgroup v2 goes with the
// namespace). guard-runtime, crun and the container are otherwise the
// host's; exec, state and delete need no cgroup set-up and run as they are.
func crunLauncher(t *testing.T) []string {
	t.Helper()
	controllers, err := os.ReadFile("/sys/fs/cgroup/unified/cgroup.controllers")
	if err != nil || len(bytes.TrimSpace(controllers)) == 0 {
		return nil
	}
	unshare := requireBinary(t, "unshare", "apt-get install -y util-linux")
	return []string{unshare, "--mount", "--propagation", "private", "--",
		"sh", "-c", `mount -t tmpfs -o size=1m guard-e2e /sys/fs/cgroup/unified && exec "$0" "$@"`}
}

// guard runs guard-runtime with this env's config, the policy its runtime
// entry names and crun's state directory; through launch when make says
// the call makes a container.
func (e *crunEnv) guard(make bool, policy string, args ...string) (string, string, error) {
	return e.guardAt(e.root, make, policy, args...)
}

// guardAt is guard with --root root, or without --root when root is "".
func (e *crunEnv) guardAt(root string, make bool, policy string, args ...string) (string, string, error) {
	argv := []string{e.runcEnv.guard, "--guard-config", e.config, "--guard-policy=" + policy}
	if root != "" {
		argv = append(argv, "--root", root)
	}
	argv = append(argv, args...)
	if make {
		argv = append(append([]string{}, e.launch...), argv...)
	}
	return runCommand(argv[0], argv[1:]...)
}

// bundle is runcEnv.bundle with the spec version Docker 20.10 writes:
// Debian 12's crun 1.8 refuses runtime-spec 1.2 ("unknown version
// specified"), which runc's example spec now carries.
func (e *crunEnv) bundle(t *testing.T, args []string, edit func(*specs.Spec)) string {
	t.Helper()
	return e.runcEnv.bundle(t, args, func(s *specs.Spec) {
		s.Version = "1.0.2-dev"
		if edit != nil {
			edit(s)
		}
	})
}

func (e *crunEnv) cleanup(t *testing.T, id string) {
	t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", id).Run() })
}

// TestCrun runs containers through guard-runtime with crun as the runtime:
// the same policy, policy records and verification as in front of runc.
func TestCrun(t *testing.T) {
	e := newCrunEnv(t)

	t.Run("RestrictedContainerRunsConfined", func(t *testing.T) {
		bundle := e.bundle(t, probeScript, func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 1000}
			s.Root.Readonly = false
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_CHOWN")
			s.Linux.Seccomp = runtimeDefaultSeccomp(t, s)
		})
		e.cleanup(t, "crun-restricted")
		out, errOut, err := e.guard(true, "restricted", "run", "--bundle", bundle, "crun-restricted")
		if err != nil {
			t.Fatalf("restricted container failed under crun: %v\nstdout: %s\nstderr: %s", err, out, errOut)
		}
		for _, want := range []string{"uid=1000", capNetBindServiceOnly, "memory=" + restrictedMemory, "pids=1024"} {
			if !strings.Contains(out, want) {
				t.Errorf("container output lacks %q (the policy's rewrite did not reach crun):\n%s", want, out)
			}
		}
		if !rootMountedReadOnly(out) {
			t.Errorf("root is not mounted read-only:\n%s", out)
		}
	})

	t.Run("RootContainerIsDeniedAndNeverReachesCrun", func(t *testing.T) {
		bundle := e.bundle(t, []string{"true"}, nil) // runs as root
		e.cleanup(t, "crun-root")
		_, errOut, err := e.guard(true, "restricted", "run", "--bundle", bundle, "crun-root")
		if err == nil || !strings.Contains(errOut, `policy "restricted" denied container crun-root: runs as root`) {
			t.Fatalf("a root container under restricted: %v\n%s", err, errOut)
		}
		if out, _, err := runCommand(e.runc, "--root", e.root, "state", "crun-root"); err == nil {
			t.Errorf("crun knows the denied container: %s", out)
		}
	})

	t.Run("ExecIsJudgedByTheContainersPolicy", func(t *testing.T) {
		bundle := e.bundle(t, []string{"sleep", "600"}, nonRootWithSeccomp(t))
		e.cleanup(t, "crun-exec")
		if out, errOut, err := e.guard(true, "restricted", "run", "-d", "--bundle", bundle, "crun-exec"); err != nil {
			t.Fatalf("start a container under crun: %v\n%s%s", err, out, errOut)
		}
		if _, err := os.Stat(filepath.Join(e.root, "crun-exec@guard-runtime.policy")); err != nil {
			t.Fatalf("no policy record in crun's state directory: %v", err)
		}
		// An entry that says baseline gets the container's restricted.
		asRoot := execProcess(t, "exec-user-0.json", func(p *specs.Process) {
			p.Args = []string{"id", "-u"}
			p.User = specs.User{UID: 0}
		})
		_, errOut, err := e.guard(false, "baseline", "exec", "--process", asRoot, "crun-exec")
		if err == nil || !strings.Contains(errOut, "runs as root") {
			t.Errorf("exec as root into a restricted container under crun: %v\n%s", err, errOut)
		}
		asApp := execProcess(t, "exec-user-0.json", func(p *specs.Process) {
			p.Args = []string{"id", "-u"}
			p.User = specs.User{UID: 1000, GID: 1000}
		})
		out, errOut, err := e.guard(false, "baseline", "exec", "--process", asApp, "crun-exec")
		if err != nil || strings.TrimSpace(out) != "1000" {
			t.Errorf("exec as uid 1000 under crun: %v, stdout %q\n%s", err, out, errOut)
		}
		// A delete moves the record into the container's directory, and
		// crun's delete removes it with the directory.
		if out, errOut, err := e.guard(false, "baseline", "delete", "--force", "crun-exec"); err != nil {
			t.Fatalf("delete through guard-runtime: %v\n%s%s", err, out, errOut)
		}
		if left, _ := filepath.Glob(filepath.Join(e.root, "crun-exec*")); len(left) != 0 {
			t.Errorf("left in crun's state directory after the delete: %q", left)
		}
	})

	// Without --root, crun keeps its containers in /run/crun, and the
	// policy records must be there too: a create of an id that exists is
	// refused by crun, and must not change the policy of the container
	// that has it.
	t.Run("WithoutRootTheRecordsAreInCrunsStateDir", func(t *testing.T) {
		id := fmt.Sprintf("guard-e2e-crun-%d", os.Getpid())
		t.Cleanup(func() {
			exec.Command(e.runc, "delete", "--force", id).Run()
			os.Remove(filepath.Join("/run/crun", id+"@guard-runtime.policy"))
		})
		bundle := e.bundle(t, []string{"sleep", "600"}, nonRootWithSeccomp(t))
		if out, errOut, err := e.guardAt("", true, "restricted", "run", "-d", "--bundle", bundle, id); err != nil {
			t.Fatalf("start a container under crun without --root: %v\n%s%s", err, out, errOut)
		}
		if _, err := os.Stat(filepath.Join("/run/crun", id+"@guard-runtime.policy")); err != nil {
			t.Errorf("no policy record beside crun's container: %v", err)
		}
		// A cgroup of its own, so that baseline admits it and only crun
		// refuses it, for its id.
		again := e.bundle(t, []string{"true"}, func(s *specs.Spec) {
			nonRootWithSeccomp(t)(s)
			s.Linux.CgroupsPath = "/" + id + "-again"
		})
		if _, _, err := e.guardAt("", true, "baseline", "run", "--bundle", again, id); err == nil {
			t.Fatal("crun made a second container with the same id")
		}
		asRoot := execProcess(t, "exec-user-0.json", runs("true"))
		_, errOut, err := e.guardAt("", false, "baseline", "exec", "--process", asRoot, id)
		if err == nil || !strings.Contains(errOut, `policy "restricted" denied exec`) {
			t.Errorf("exec as root after a refused create of the same id under baseline: %v\n%s", err, errOut)
		}
	})

	t.Run("AnotherBinaryAtCrunsPathIsRefused", func(t *testing.T) {
		// crun's path pinned to runc's digest: what guard-runtime sees when
		// the file at runtime.path is not the binary that was pinned.
		settings := e.baseSettings(t)
		settings.digest = fileDigest(t, requireBinary(t, "runc", "apt-get install -y runc"))
		config := writeGuardSettings(t, settings)
		bundle := e.bundle(t, []string{"true"}, nonRootWithSeccomp(t))
		e.cleanup(t, "crun-tampered")
		for _, args := range [][]string{
			{"--version"},
			{"--root", e.root, "run", "--bundle", bundle, "crun-tampered"},
		} {
			out, errOut, err := runCommand(e.runcEnv.guard, append([]string{"--guard-config", config}, args...)...)
			if err == nil || !strings.Contains(errOut, fileDigest(t, e.runc)) || strings.Contains(out, "crun version") {
				t.Errorf("%q with crun pinned to another digest: %v\nstdout: %s\nstderr: %s", args, err, out, errOut)
			}
		}
		if out, _, err := runCommand(e.runc, "--root", e.root, "state", "crun-tampered"); err == nil {
			t.Errorf("a container was made by a runtime that does not match its pin: %s", out)
		}
	})

	t.Run("PassThroughReachesCrun", func(t *testing.T) {
		out, errOut, err := runCommand(e.runcEnv.guard, "--guard-config", e.config, "--version")
		if err != nil || !strings.Contains(out, "crun version") {
			t.Errorf("--version through guard-runtime with crun: %v\nstdout: %s\nstderr: %s", err, out, errOut)
		}
	})
}
