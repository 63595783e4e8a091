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
	"slices"
	"sort"
	"strings"
	"sync"
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
	path, err := staticBusybox()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func staticBusybox() (string, error) {
	candidates := slices.Clone(busyboxCandidates)
	if path, err := exec.LookPath("busybox"); err == nil {
		candidates = append(candidates, path)
	}
	for _, path := range candidates {
		if isStaticExecutable(path) {
			return path, nil
		}
	}
	return "", fmt.Errorf("no statically linked busybox in %v: apt-get install -y busybox-static", candidates)
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
// directory and returns its path (see busyboxFiles). It has no /etc/passwd,
// like the image the Docker fixtures were captured with, so `-u 1000` gets
// gid 0.
func BusyboxRootfs(t testing.TB) string {
	t.Helper()
	RequireRoot(t)
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := writeBusyboxRootfs(rootfs, false); err != nil {
		t.Fatalf("build busybox rootfs: %v", err)
	}
	return rootfs
}

// rootfsFile is one entry of a root filesystem the harness writes, either
// as a directory tree or as an image layer.
type rootfsFile struct {
	Path string // relative, without a leading slash
	Mode os.FileMode
	Data []byte // regular file content
	Link string // symlink target
	Dir  bool
}

const busyboxPath = "/bin/busybox"

// busyboxFiles lists a busybox root filesystem: the static binary, a link
// to /bin/busybox for each applet where busybox installs it (bin, sbin,
// usr/bin, usr/sbin), and the directories engines mount on. With accounts
// it also has an /etc/passwd with root, an unprivileged user 1000 (app) and
// nobody, and the matching /etc/group.
func busyboxFiles(accounts bool) ([]rootfsFile, error) {
	binary, err := staticBusybox()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	list, err := exec.Command(binary, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", binary, err)
	}
	dirs := map[string]os.FileMode{
		"bin": 0o755, "sbin": 0o755, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755,
		"etc": 0o755, "dev": 0o755, "proc": 0o555, "sys": 0o555, "run": 0o755,
		"tmp": 0o777 | os.ModeSticky, "root": 0o700, "home": 0o755, "var": 0o755,
	}
	applets := strings.Fields(string(list))
	for _, applet := range applets {
		dirs[filepath.Dir(applet)] = 0o755
	}
	var files []rootfsFile
	for dir, mode := range dirs {
		files = append(files, rootfsFile{Path: dir, Mode: mode, Dir: true})
	}
	files = append(files, rootfsFile{Path: strings.TrimPrefix(busyboxPath, "/"), Mode: 0o755, Data: data})
	for _, applet := range applets {
		if "/"+applet != busyboxPath {
			files = append(files, rootfsFile{Path: applet, Mode: 0o777, Link: busyboxPath})
		}
	}
	if accounts {
		files = append(files,
			rootfsFile{Path: "etc/passwd", Mode: 0o644, Data: []byte(
				"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
			rootfsFile{Path: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\napp:x:1000:\nnogroup:x:65534:\n")},
		)
	}
	// Parents before children, as a tar reader expects.
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// writeBusyboxRootfs writes busyboxFiles(accounts) as a directory tree.
func writeBusyboxRootfs(dir string, accounts bool) error {
	files, err := busyboxFiles(accounts)
	if err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Path)
		switch {
		case f.Dir:
			err = os.MkdirAll(path, 0o755)
			if err == nil {
				err = os.Chmod(path, f.Mode)
			}
		case f.Link != "":
			err = os.Symlink(f.Link, path)
		default:
			err = os.WriteFile(path, f.Data, f.Mode)
		}
		if err != nil {
			return fmt.Errorf("write busybox rootfs %s: %w", path, err)
		}
	}
	return nil
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
// test process, as the pair hack/install.sh installs: the lean build as
// guard-runtime, which every test calls, and the full build beside it as
// guard-runtime-full, to which the lean build hands every call its caches
// cannot carry out. It returns the lean binary's path. The binaries live
// in tests/.work/bin of the module, outside any test's temporary
// directory, so that a Docker daemon started by one test can keep calling
// them; each is written under a temporary name and renamed, the full build
// first, so concurrent test processes never see a half-written file.
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

// FullGuardBinary is the full build beside the lean one GuardBinary returns.
func FullGuardBinary(t testing.TB) string {
	return filepath.Join(filepath.Dir(GuardBinary(t)), "guard-runtime-full")
}

func buildGuardBinary(goTool, root string) (string, error) {
	if _, err := os.Stat(filepath.Join(root, "cmd", "guard-runtime")); err != nil {
		return "", fmt.Errorf("%s has no cmd/guard-runtime: %w", root, err)
	}
	binDir := filepath.Join(root, "tests", ".work", "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	if err := buildGuardInto(goTool, root, filepath.Join(binDir, "guard-runtime-full")); err != nil {
		return "", err
	}
	path := filepath.Join(binDir, "guard-runtime")
	if err := buildGuardInto(goTool, root, path, "-tags", "lean"); err != nil {
		return "", err
	}
	return path, nil
}

func buildGuardInto(goTool, root, path string, flags ...string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".guard-runtime-*")
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := append(append([]string{"build", "-o", tmp.Name()}, flags...), "./cmd/guard-runtime")
	build := exec.Command(goTool, args...)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("CGO_ENABLED=0 go %s in %s: %v\n%s", strings.Join(args, " "), root, err, out)
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
