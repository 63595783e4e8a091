package harness

// This file builds what every end-to-end test runs: a busybox root
// filesystem and the guard-runtime binary. When a part is missing the test
// fails with what to install; it is never skipped.

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// busyboxCandidates are where Debian's busybox-static puts its binary.
var busyboxCandidates = []string{"/bin/busybox", "/usr/bin/busybox"}

// RequireRoot fails the test unless it runs as root, which runc, dockerd
// and mounts need.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("end-to-end tests need root (runc, dockerd, mounts): run them as root")
	}
}

// StaticBusybox returns the path of a statically linked busybox, which runs
// inside a rootfs that has no shared libraries.
func StaticBusybox(t testing.TB) string {
	t.Helper()
	for _, path := range busyboxCandidates {
		if isStaticExecutable(path) {
			return path
		}
	}
	t.Fatalf("no statically linked busybox in %v: apt-get install -y busybox-static", busyboxCandidates)
	return ""
}

// isStaticExecutable reports whether path is an ELF executable without an
// interpreter (PT_INTERP), i.e. one that needs no dynamic loader.
func isStaticExecutable(path string) bool {
	file, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer file.Close()
	for _, prog := range file.Progs {
		if prog.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// BusyboxRootfs builds a minimal root filesystem in a fresh temporary
// directory and returns its path: /bin/busybox with a symlink per applet
// (made by `busybox --install -s` in a chroot, so the links point at
// /bin/busybox), and empty /dev, /proc, /sys, /etc, /tmp (1777), /root,
// /run. It has no /etc/passwd, like the image the Docker fixtures were
// captured with, so `-u 1000` gets gid 0.
func BusyboxRootfs(t testing.TB) string {
	t.Helper()
	RequireRoot(t)
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := buildBusyboxRootfs(StaticBusybox(t), rootfs); err != nil {
		t.Fatalf("build busybox rootfs: %v", err)
	}
	return rootfs
}

func buildBusyboxRootfs(busybox, rootfs string) error {
	for _, dir := range []string{"bin", "dev", "proc", "sys", "etc", "root", "run", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, dir), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(rootfs, "tmp"), os.ModePerm|os.ModeSticky); err != nil {
		return err
	}
	if err := copyFile(busybox, filepath.Join(rootfs, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	install := exec.Command("/bin/busybox", "--install", "-s", "/bin")
	install.SysProcAttr = &syscall.SysProcAttr{Chroot: rootfs}
	install.Dir = "/"
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("busybox --install -s /bin in %s: %v: %s", rootfs, err, out)
	}
	if _, err := os.Lstat(filepath.Join(rootfs, "bin", "sh")); err != nil {
		return fmt.Errorf("busybox --install made no /bin/sh in %s: %w", rootfs, err)
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}

// ModuleRoot returns the directory of guard-runtime's go.mod, found by
// walking up from the working directory (go test runs in the package
// directory), or else from this source file.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	starts := []string{}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, start := range starts {
		if root, ok := findModuleRoot(start); ok {
			return root
		}
	}
	t.Fatalf("cannot find guard-runtime's go.mod above %v", starts)
	return ""
}

const modulePath = "github.com/guard-runtime/guard-runtime"

func findModuleRoot(dir string) (string, bool) {
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module "+modulePath+"\n") {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// GoTool returns the go command: from PATH, else /usr/local/go/bin/go.
func GoTool(t testing.TB) string {
	t.Helper()
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	if _, err := os.Stat("/usr/local/go/bin/go"); err == nil {
		return "/usr/local/go/bin/go"
	}
	t.Fatalf("the go command is needed to build guard-runtime: install Go (see go.mod for the version) and put its bin directory on PATH")
	return ""
}

var guardBuild struct {
	once sync.Once
	path string
	err  error
}

// GuardBinary builds ./cmd/guard-runtime, static (CGO_ENABLED=0), once per
// test process, and returns the binary's path. The binary lives in
// tests/.work/bin of the module, outside any test's temporary directory,
// so that a Docker daemon started by one test can keep calling it; it is
// written under a temporary name and renamed, so concurrent test
// processes never see a half-written file.
func GuardBinary(t testing.TB) string {
	t.Helper()
	root := ModuleRoot(t)
	goTool := GoTool(t)
	guardBuild.once.Do(func() {
		guardBuild.path, guardBuild.err = buildGuardBinary(goTool, root)
	})
	if guardBuild.err != nil {
		t.Fatalf("build guard-runtime: %v", guardBuild.err)
	}
	return guardBuild.path
}

func buildGuardBinary(goTool, root string) (string, error) {
	if _, err := os.Stat(filepath.Join(root, "cmd", "guard-runtime")); err != nil {
		return "", fmt.Errorf("%s has no cmd/guard-runtime: %w", root, err)
	}
	binDir := filepath.Join(root, "tests", ".work", "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(binDir, ".guard-runtime-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	build := exec.Command(goTool, "build", "-o", tmp.Name(), "./cmd/guard-runtime")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("CGO_ENABLED=0 go build ./cmd/guard-runtime in %s: %v\n%s", root, err, out)
	}
	path := filepath.Join(binDir, "guard-runtime")
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}
