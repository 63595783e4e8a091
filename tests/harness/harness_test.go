package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestBusyboxRootfsRunsAShell(t *testing.T) {
	rootfs := BusyboxRootfs(t)

	target, err := os.Readlink(filepath.Join(rootfs, "bin", "sh"))
	if err != nil || target != "/bin/busybox" {
		t.Fatalf("bin/sh links to %q (%v), want /bin/busybox so that it resolves inside the container", target, err)
	}
	info, err := os.Stat(filepath.Join(rootfs, "tmp"))
	if err != nil || info.Mode()&os.ModeSticky == 0 || info.Mode().Perm() != 0o777 {
		t.Fatalf("tmp has mode %v (%v), want sticky and world-writable", info.Mode(), err)
	}
	if _, err := os.Lstat(filepath.Join(rootfs, "etc", "passwd")); !os.IsNotExist(err) {
		t.Fatalf("BusyboxRootfs has an /etc/passwd (%v): Docker's -u 1000 would then get the user's gid, not 0", err)
	}
	// Applets sit where busybox installs them, reached through PATH.
	shell := exec.Command("/bin/sh", "-c", "id -u; which ip nsenter")
	shell.SysProcAttr = &syscall.SysProcAttr{Chroot: rootfs}
	shell.Dir = "/"
	shell.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	out, err := shell.CombinedOutput()
	if err != nil {
		t.Fatalf("sh in the rootfs: %v: %s", err, out)
	}
	if got, want := string(out), "0\n/sbin/ip\n/usr/bin/nsenter\n"; got != want {
		t.Fatalf("sh in the rootfs printed %q, want %q", got, want)
	}
}

// The ctr and Podman root filesystems and the CRI images are built from
// the same list; theirs has accounts, for --user app and 65534.
func TestBusyboxTreeAndImageShareOneLayout(t *testing.T) {
	RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "rootfs")
	if err := writeBusyboxRootfs(dir, true); err != nil {
		t.Fatal(err)
	}
	files, err := busyboxFiles(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dir, f.Path)); err != nil {
			t.Errorf("the tree lacks %s: %v", f.Path, err)
		}
	}
	passwd, err := os.ReadFile(filepath.Join(dir, "etc", "passwd"))
	if err != nil || !strings.Contains(string(passwd), "app:x:1000:1000:") {
		t.Errorf("/etc/passwd lacks the user app (%v): %s", err, passwd)
	}
}

// TestGuardBinaryBuildIsStatic builds a stand-in module with the same
// module path, so that the build step is tested whatever state
// cmd/guard-runtime is in.
func TestGuardBinaryBuildIsStatic(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module "+modulePath+"\n\ngo 1.22\n")
	writeFile(t, filepath.Join(root, "cmd", "guard-runtime", "main.go"),
		"package main\n\nimport (\n\t\"fmt\"\n\t\"os/user\"\n)\n\nfunc main() { u, _ := user.Current(); fmt.Println(\"stand-in\", u != nil) }\n")

	path, err := buildGuardBinary(GoTool(t), root)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "tests", ".work", "bin", "guard-runtime"); path != want {
		t.Fatalf("binary at %s, want %s", path, want)
	}
	if !isStaticExecutable(path) {
		t.Fatalf("%s needs a dynamic loader; guard-runtime must be built with CGO_ENABLED=0", path)
	}
	out, err := exec.Command(path).Output()
	if err != nil || !strings.HasPrefix(string(out), "stand-in") {
		t.Fatalf("built binary printed %q (%v)", out, err)
	}
	full := filepath.Join(root, "tests", ".work", "bin", "guard-runtime-full")
	if !isStaticExecutable(full) {
		t.Fatalf("the full build %s is missing or needs a dynamic loader", full)
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, "tests", ".work", "bin", ".guard-runtime-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary build outputs left behind: %v", leftovers)
	}
}

func TestGuardBinaryNamesMissingCommand(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module "+modulePath+"\n")
	_, err := buildGuardBinary(GoTool(t), root)
	if err == nil || !strings.Contains(err.Error(), "cmd/guard-runtime") {
		t.Fatalf("error %v, want one naming cmd/guard-runtime", err)
	}
}

func TestModuleRootHasGoMod(t *testing.T) {
	root := ModuleRoot(t)
	if _, err := os.Stat(filepath.Join(root, "tests", "harness")); err != nil {
		t.Fatalf("module root %s does not hold tests/harness: %v", root, err)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`/tmp/a`:             "/tmp/a",
		`/tmp/with\040space`: "/tmp/with space",
		`/tmp/tab\011x`:      "/tmp/tab\tx",
		`/tmp/back\134slash`: `/tmp/back\slash`,
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDocker starts one private daemon and runs every Docker check of the
// harness against it.
func TestDocker(t *testing.T) {
	callLog := filepath.Join(t.TempDir(), "calls.log")
	logging := loggingRuntime(t, callLog)
	d := StartDocker(t, DockerOptions{
		Runtimes: map[string]Runtime{"logging": {Path: logging, RuntimeArgs: []string{"--logging-marker"}}},
	})
	image := d.ImportBusybox(t)
	if again := d.ImportBusybox(t); again != image {
		t.Fatalf("second import gave %q, want %q", again, image)
	}

	t.Run("runc is the default runtime", func(t *testing.T) {
		out := d.MustRun(t, "run", "--rm", "--network", "none", image, "echo", "hello")
		if out != "hello" {
			t.Fatalf("container printed %q, want hello", out)
		}
		if calls, _ := os.ReadFile(callLog); len(calls) != 0 {
			t.Fatalf("the logging runtime was called without being chosen:\n%s", calls)
		}
	})

	t.Run("a registered runtime gets its runtimeArgs and runc's arguments", func(t *testing.T) {
		out := d.MustRun(t, "run", "--rm", "--network", "none", "--runtime", "logging", "-u", "1000", image, "id", "-u")
		if out != "1000" {
			t.Fatalf("container printed %q, want 1000", out)
		}
		calls := readFile(t, callLog)
		for _, want := range []string{"--logging-marker --root " + d.RuncRoot() + " ", " create --bundle ", " delete "} {
			if !strings.Contains(calls, want) {
				t.Fatalf("calls lack %q:\n%s", want, calls)
			}
		}
	})

	t.Run("Reconfigure changes the default runtime without a restart", func(t *testing.T) {
		pid := d.Pid
		os.Remove(callLog)
		d.Reconfigure(t, DockerOptions{
			Runtimes:       map[string]Runtime{"logging": {Path: logging}},
			DefaultRuntime: "logging",
		})
		d.MustRun(t, "run", "--rm", "--network", "none", image, "true")
		if calls := readFile(t, callLog); !strings.Contains(calls, " create ") {
			t.Fatalf("the new default runtime was not called:\n%s", calls)
		}
		if d.Pid != pid {
			t.Fatalf("dockerd was restarted")
		}
	})

	t.Run("RuncRoot is where runc keeps the containers", func(t *testing.T) {
		id := d.MustRun(t, "run", "-d", "--network", "none", image, "sleep", "600")
		out, err := exec.Command("runc", "--root", d.RuncRoot(), "state", id).CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"status": "running"`) {
			t.Fatalf("runc state %s: %v: %s", id, err, out)
		}
	})

	t.Run("Stop leaves nothing behind", func(t *testing.T) {
		// A container is still running (previous subtest).
		if err := d.Stop(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
			t.Fatalf("%s still exists after Stop (%v)", d.Dir, err)
		}
		if mounts, _ := mountPointsUnder(d.Dir); len(mounts) != 0 {
			t.Fatalf("mounts left under %s: %v", d.Dir, mounts)
		}
		if err := syscall.Kill(d.Pid, 0); err == nil {
			t.Fatalf("dockerd (pid %d) still runs", d.Pid)
		}
		entries, _ := os.ReadDir("/proc")
		for _, entry := range entries {
			cmdline, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "cmdline"))
			if err == nil && belongsTo(strings.Split(string(cmdline), "\x00"), d.Dir, d.Namespace) {
				t.Fatalf("process %s of the daemon still runs: %q", entry.Name(), cmdline)
			}
		}
	})
}

func TestRemoveIfCreatedKeepsWhatExisted(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	created := filepath.Join(dir, "created")
	nonEmpty := filepath.Join(dir, "non-empty")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("register", func(t *testing.T) {
		RemoveIfCreated(t, existing, created, nonEmpty)
		for _, path := range []string{created, nonEmpty} {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		writeFile(t, filepath.Join(nonEmpty, "data"), "keep")
	})
	for path, wantExists := range map[string]bool{existing: true, created: false, nonEmpty: true} {
		if _, err := os.Stat(path); (err == nil) != wantExists {
			t.Errorf("%s exists: %v, want %v", path, err == nil, wantExists)
		}
	}
}

// loggingRuntime writes a runtime that records its command line and then
// runs runc with it, minus the marker that stands for runtimeArgs.
func loggingRuntime(t *testing.T, callLog string) string {
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatalf("runc not found: apt-get install -y runc")
	}
	path := filepath.Join(t.TempDir(), "logging-runtime")
	writeFile(t, path, "#!/bin/sh\n"+
		"printf '%s\\n' \"$*\" >>'"+callLog+"'\n"+
		"[ \"$1\" = --logging-marker ] && shift\n"+
		"exec '"+runc+"' \"$@\"\n")
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
