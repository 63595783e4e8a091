package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	guardOnce sync.Once
	guardPath string
	guardErr  string
)

// buildGuard builds the static guard-runtime binary once per test process.
func buildGuard(t *testing.T) string {
	t.Helper()
	guardOnce.Do(func() {
		dir, err := os.MkdirTemp("", "guard-runtime-bin-")
		if err != nil {
			guardErr = err.Error()
			return
		}
		guardPath = filepath.Join(dir, "guard-runtime")
		cmd := exec.Command("go", "build", "-o", guardPath, "./cmd/guard-runtime")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			guardErr = err.Error() + ": " + string(out)
		}
	})
	if guardErr != "" {
		t.Fatalf("build guard-runtime: %s", guardErr)
	}
	return guardPath
}

// busyboxRootfs builds a busybox root filesystem in a temp dir.
func busyboxRootfs(t *testing.T) string {
	t.Helper()
	busybox := requireBinary(t, "busybox", "apt-get install -y busybox-static")
	root := t.TempDir()
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "run", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v (is it busybox-static?)", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		os.Symlink("busybox", filepath.Join(root, "bin", applet))
	}
	return root
}
