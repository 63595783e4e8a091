package tests

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// existingDaemonJSON is what an admin already has: other keys, another
// runtime and their own default runtime and formatting.
const existingDaemonJSON = `{
	"log-driver": "journald",
	"log-opts": {"tag": "{{.Name}}"},
	"runtimes": {"nvidia": {"path": "/usr/bin/nvidia-container-runtime", "runtimeArgs": []}},
	"default-runtime": "nvidia",
	"live-restore": true
}
`

// installEnv is a fake root with a stand-in guard-runtime binary and policies.
type installEnv struct {
	repo, root, binary, policies, calls string
}

// newInstallEnv lays out a fake root that has /etc/docker/daemon.json. The
// stand-in binary implements what install.sh calls: `--guard-config F pin`
// (writes runtime.sha256 of runtime.path into F) and `--version`; it logs
// every call.
func newInstallEnv(t *testing.T) installEnv {
	harness.RequireRoot(t)
	dir := t.TempDir()
	env := installEnv{
		repo:     harness.ModuleRoot(t),
		root:     filepath.Join(dir, "root"),
		binary:   filepath.Join(dir, "guard-runtime-stand-in"),
		policies: filepath.Join(dir, "policy.d"),
		calls:    filepath.Join(dir, "calls.log"),
	}
	writeFileMode(t, filepath.Join(env.root, "etc", "docker", "daemon.json"), existingDaemonJSON, 0o644)
	writeFileMode(t, env.binary, `#!/bin/sh
echo "$*" >>'`+env.calls+`'
case "$1 $3" in
"--guard-config pin")
	path=$(sed -n 's/^  path: //p' "$2")
	sum=$(sha256sum "$path" | cut -c1-64)
	sed -i "s|^  path: .*|&\n  sha256: $sum|" "$2" ;;
"--guard-config --version")
	echo "guard-runtime stand-in" ;;
*)
	exit 3 ;;
esac
`, 0o755)
	for _, name := range []string{"baseline", "restricted", "audit"} {
		writeFileMode(t, filepath.Join(env.policies, name+".yaml"), "# "+name+" stand-in\n", 0o600)
	}
	return env
}

// install runs hack/install.sh against the fake root with the stand-ins.
func (env installEnv) install(t *testing.T, args ...string) (string, error) {
	t.Helper()
	all := append([]string{"--root", env.root, "--binary", env.binary, "--policies", env.policies}, args...)
	cmd := exec.Command("bash", append([]string{filepath.Join(env.repo, "hack", "install.sh")}, all...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (env installEnv) mustInstall(t *testing.T, args ...string) string {
	t.Helper()
	out, err := env.install(t, args...)
	if err != nil {
		t.Fatalf("install.sh %v: %v\n%s", args, err, out)
	}
	return out
}

func (env installEnv) path(p string) string { return filepath.Join(env.root, p) }

func TestInstallIntoFakeRoot(t *testing.T) {
	env := newInstallEnv(t)
	out := env.mustInstall(t)

	assertFileContent(t, env.path("/usr/local/bin/guard-runtime"), readText(t, env.binary), 0o755)
	assertOwnedMode(t, env.path("/etc/guard-runtime"), fs.ModeDir|0o755)
	assertOwnedMode(t, env.path("/etc/guard-runtime/policy.d"), fs.ModeDir|0o755)
	for _, name := range []string{"baseline", "restricted", "audit"} {
		assertFileContent(t, env.path("/etc/guard-runtime/policy.d/"+name+".yaml"), "# "+name+" stand-in\n", 0o644)
	}

	config := readText(t, env.path("/etc/guard-runtime/config.yaml"))
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatalf("runc not found: apt-get install -y runc")
	}
	for _, want := range []string{"\n  path: " + runc + "\n", "\n  sha256: " + sha256Hex(t, runc) + "\n",
		"\n  dir: /etc/guard-runtime/policy.d\n", "\n  default: restricted\n"} {
		if !strings.Contains(config, want) {
			t.Errorf("config.yaml lacks %q:\n%s", want, config)
		}
	}
	if calls := readText(t, env.calls); !strings.Contains(calls, "--guard-config "+env.path("/etc/guard-runtime/config.yaml")+" pin\n") {
		t.Errorf("guard-runtime pin was not called on the installed config:\n%s", calls)
	}

	daemon := decodeJSONFile(t, env.path("/etc/docker/daemon.json"))
	var before map[string]any
	json.Unmarshal([]byte(existingDaemonJSON), &before)
	for key, value := range before {
		if key != "runtimes" && !reflect.DeepEqual(daemon[key], value) {
			t.Errorf("daemon.json %s = %v, want it kept as %v", key, daemon[key], value)
		}
	}
	runtimes := daemon["runtimes"].(map[string]any)
	wantRuntimes := map[string]any{
		"nvidia":           before["runtimes"].(map[string]any)["nvidia"],
		"guard":            map[string]any{"path": "/usr/local/bin/guard-runtime"},
		"guard-baseline":   map[string]any{"path": "/usr/local/bin/guard-runtime", "runtimeArgs": []any{"--guard-policy=baseline"}},
		"guard-restricted": map[string]any{"path": "/usr/local/bin/guard-runtime", "runtimeArgs": []any{"--guard-policy=restricted"}},
		"guard-audit":      map[string]any{"path": "/usr/local/bin/guard-runtime", "runtimeArgs": []any{"--guard-policy=audit"}},
	}
	if !reflect.DeepEqual(runtimes, wantRuntimes) {
		t.Errorf("runtimes = %v\nwant %v", runtimes, wantRuntimes)
	}
	assertFileContent(t, env.path("/etc/docker/daemon.json.pre-guard-runtime"), existingDaemonJSON, 0o644)
	if !strings.Contains(out, "systemctl reload docker") {
		t.Errorf("install.sh did not say how to apply the change:\n%s", out)
	}
}

func TestInstallTwiceChangesNothing(t *testing.T) {
	env := newInstallEnv(t)
	env.mustInstall(t)
	before := snapshotTree(t, env.root)
	callsBefore := readText(t, env.calls)

	out := env.mustInstall(t)

	if after := snapshotTree(t, env.root); !reflect.DeepEqual(before, after) {
		t.Errorf("second run changed the fake root:\nbefore %v\nafter  %v", before, after)
	}
	if calls := readText(t, env.calls); strings.Count(calls, "pin ") != strings.Count(callsBefore, "pin ") {
		t.Errorf("second run pinned again:\n%s", calls)
	}
	if strings.Contains(out, "systemctl reload docker") || !strings.Contains(out, "nothing changed") {
		t.Errorf("second run's report:\n%s", out)
	}
}

func TestInstallDefaultSetsDefaultRuntimeAndKeepsTheFirstBackup(t *testing.T) {
	env := newInstallEnv(t)
	env.mustInstall(t)
	env.mustInstall(t, "--default")

	if got := decodeJSONFile(t, env.path("/etc/docker/daemon.json"))["default-runtime"]; got != "guard" {
		t.Errorf("default-runtime = %v, want guard", got)
	}
	assertFileContent(t, env.path("/etc/docker/daemon.json.pre-guard-runtime"), existingDaemonJSON, 0o644)
	backups, _ := filepath.Glob(env.path("/etc/docker/*"))
	if len(backups) != 2 {
		t.Errorf("/etc/docker holds %v, want daemon.json and one backup", backups)
	}
}

func TestUninstallRestoresDaemonJSONAndRemovesTheBinary(t *testing.T) {
	env := newInstallEnv(t)
	full := filepath.Join(t.TempDir(), "guard-runtime-full")
	writeFileMode(t, full, "full build stand-in\n", 0o755)
	env.mustInstall(t, "--default", "--full-binary", full)
	assertFileContent(t, env.path("/usr/local/bin/guard-runtime-full"), "full build stand-in\n", 0o755)
	out := env.mustInstall(t, "--uninstall")

	assertFileContent(t, env.path("/etc/docker/daemon.json"), existingDaemonJSON, 0o644)
	for _, gone := range []string{"/etc/docker/daemon.json.pre-guard-runtime", "/usr/local/bin/guard-runtime", "/usr/local/bin/guard-runtime-full"} {
		if _, err := os.Lstat(env.path(gone)); !os.IsNotExist(err) {
			t.Errorf("%s still exists after uninstall", gone)
		}
	}
	if _, err := os.Stat(env.path("/etc/guard-runtime/config.yaml")); err != nil {
		t.Errorf("uninstall without --purge removed the config: %v", err)
	}
	if !strings.Contains(out, "--purge") {
		t.Errorf("uninstall did not say how to remove /etc/guard-runtime:\n%s", out)
	}

	env.mustInstall(t, "--uninstall", "--purge")
	if _, err := os.Lstat(env.path("/etc/guard-runtime")); !os.IsNotExist(err) {
		t.Errorf("--purge left /etc/guard-runtime")
	}
	assertFileContent(t, env.path("/etc/docker/daemon.json"), existingDaemonJSON, 0o644)
}

func TestInstallKeepsAnExistingConfig(t *testing.T) {
	env := newInstallEnv(t)
	own := "runtime:\n  path: /usr/bin/crun\n  sha256: " + strings.Repeat("ab", 32) + "\npolicy:\n  default: baseline\n"
	writeFileMode(t, env.path("/etc/guard-runtime/config.yaml"), own, 0o640)
	env.mustInstall(t)

	assertFileContent(t, env.path("/etc/guard-runtime/config.yaml"), own, 0o640)
	if calls := readText(t, env.calls); strings.Contains(calls, "pin ") {
		t.Errorf("an already pinned config was pinned again:\n%s", calls)
	}
}

func TestFailedPinLeavesDockerAlone(t *testing.T) {
	env := newInstallEnv(t)
	writeFileMode(t, env.binary, "#!/bin/sh\necho 'pin: cannot read runtime' >&2\nexit 1\n", 0o755)

	out, err := env.install(t, "--default")
	if err == nil {
		t.Fatalf("install.sh succeeded although pinning failed:\n%s", out)
	}
	if !strings.Contains(out, "Docker was not changed") {
		t.Errorf("the failure does not say Docker was left alone:\n%s", out)
	}
	assertFileContent(t, env.path("/etc/docker/daemon.json"), existingDaemonJSON, 0o644)
	if _, err := os.Lstat(env.path("/etc/docker/daemon.json.pre-guard-runtime")); !os.IsNotExist(err) {
		t.Errorf("a backup was made although daemon.json was not changed")
	}
}

func TestInstallRefusesPoliciesWithoutTheDefault(t *testing.T) {
	env := newInstallEnv(t)
	os.Remove(filepath.Join(env.policies, "restricted.yaml"))

	out, err := env.install(t)
	if err == nil || !strings.Contains(out, "restricted.yaml") {
		t.Fatalf("install.sh without the default policy: %v\n%s", err, out)
	}
	if _, err := os.Lstat(env.path("/usr/local/bin/guard-runtime")); !os.IsNotExist(err) {
		t.Errorf("the binary was installed although the policies were incomplete")
	}
}

func TestInstallWithoutDockerWritesNoDaemonJSON(t *testing.T) {
	env := newInstallEnv(t)
	os.RemoveAll(env.path("/etc/docker"))
	out := env.mustInstall(t)
	if _, err := os.Lstat(env.path("/etc/docker")); !os.IsNotExist(err) {
		t.Errorf("/etc/docker was created for a host without Docker")
	}
	if !strings.Contains(out, "Docker not found") {
		t.Errorf("install.sh did not say it skipped Docker:\n%s", out)
	}
}

func TestInstallBadDaemonJSONIsLeftAlone(t *testing.T) {
	env := newInstallEnv(t)
	broken := `{"runtimes": {"guard": {"path": "/a"}, "guard": {"path": "/b"}}}`
	writeFileMode(t, env.path("/etc/docker/daemon.json"), broken, 0o644)
	out, err := env.install(t)
	if err == nil || !strings.Contains(out, `"guard" appears twice`) {
		t.Fatalf("install.sh with a duplicate key: %v\n%s", err, out)
	}
	assertFileContent(t, env.path("/etc/docker/daemon.json"), broken, 0o644)
}

// TestInstallBuildsAndPinsTheRealBinary runs install.sh as the README
// does, building guard-runtime and installing the shipped policies, into a
// fake root.
func TestInstallBuildsAndPinsTheRealBinary(t *testing.T) {
	harness.RequireRoot(t)
	repo := harness.ModuleRoot(t)
	for _, part := range []string{"cmd/guard-runtime", "policy.d/restricted.yaml"} {
		if _, err := os.Stat(filepath.Join(repo, part)); err != nil {
			t.Skipf("this tree has no %s yet, so there is nothing real to install", part)
		}
	}
	if !sourceMentions(t, `"pin"`, filepath.Join(repo, "cmd"), filepath.Join(repo, "enforce")) {
		t.Skip(`guard-runtime has no "pin" command yet (not in cmd/ or enforce/); install.sh needs it to pin runc`)
	}
	root := t.TempDir()
	writeFileMode(t, filepath.Join(root, "etc", "docker", "daemon.json"), existingDaemonJSON, 0o644)
	cmd := exec.Command("bash", filepath.Join(repo, "hack", "install.sh"), "--root", root, "--default")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
	runc, _ := exec.LookPath("runc")
	config := readText(t, filepath.Join(root, "etc", "guard-runtime", "config.yaml"))
	if !strings.Contains(config, sha256Hex(t, runc)) {
		t.Errorf("config.yaml does not pin %s's sha256:\n%s", runc, config)
	}
	version, err := exec.Command(filepath.Join(root, "usr", "local", "bin", "guard-runtime"),
		"--guard-config", filepath.Join(root, "etc", "guard-runtime", "config.yaml"), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(version), "runc version") {
		t.Errorf("installed guard-runtime --version: %v\n%s", err, version)
	}
	// Engines call the lean build; the full build is beside it.
	for name, tags := range map[string]string{"guard-runtime": "lean", "guard-runtime-full": ""} {
		info, err := buildinfo.ReadFile(filepath.Join(root, "usr", "local", "bin", name))
		if err != nil {
			t.Errorf("installed %s: %v", name, err)
			continue
		}
		got := ""
		for _, setting := range info.Settings {
			if setting.Key == "-tags" {
				got = setting.Value
			}
		}
		if got != tags {
			t.Errorf("installed %s was built with tags %q, want %q", name, got, tags)
		}
	}
}

// sourceMentions reports whether a Go file under one of dirs contains text.
func sourceMentions(t *testing.T, text string, dirs ...string) bool {
	t.Helper()
	found := false
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
			if err == nil && !entry.IsDir() && strings.HasSuffix(path, ".go") && strings.Contains(readText(t, path), text) {
				found = true
			}
			return nil
		})
	}
	return found
}

func writeFileMode(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func decodeJSONFile(t *testing.T, path string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(readText(t, path)), &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func sha256Hex(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(readText(t, path)))
	return hex.EncodeToString(sum[:])
}

func assertOwnedMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if info.Mode() != want {
		t.Errorf("%s has mode %v, want %v", path, info.Mode(), want)
	}
	if stat, ok := info.Sys().(*syscall.Stat_t); ok && (stat.Uid != 0 || stat.Gid != 0) {
		t.Errorf("%s is owned by %d:%d, want root", path, stat.Uid, stat.Gid)
	}
}

func assertFileContent(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	assertOwnedMode(t, path, mode)
	if got, err := os.ReadFile(path); err == nil && string(got) != content {
		t.Errorf("%s holds:\n%s\nwant:\n%s", path, got, content)
	}
}

// snapshot maps every path under root to its mode, size, mtime and content
// digest, to compare two runs.
func snapshotTree(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		digest := ""
		if info.Mode().IsRegular() {
			sum := sha256.Sum256([]byte(readText(t, path)))
			digest = hex.EncodeToString(sum[:8])
		}
		files[path] = fmt.Sprintf("%v %d %d %s", info.Mode(), info.Size(), info.ModTime().UnixNano(), digest)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestUninstallRefusesWhileContainersUseGuard asks a real dockerd which
// containers use a guard runtime: dockerd needs the binary to stop and
// delete them, so the binary must not go first.
func TestUninstallRefusesWhileContainersUseGuard(t *testing.T) {
	env := newInstallEnv(t)
	env.mustInstall(t)
	passthrough := filepath.Join(t.TempDir(), "runc-passthrough")
	writeFileMode(t, passthrough, "#!/bin/sh\nexec runc \"$@\"\n", 0o755)
	d := harness.StartDocker(t, harness.DockerOptions{
		Runtimes: map[string]harness.Runtime{"guard-restricted": {Path: passthrough}},
	})
	image := d.ImportBusybox(t)
	d.MustRun(t, "create", "--name", "tenant-app", "--runtime", "guard-restricted", "--network", "none", image, "true")
	d.MustRun(t, "create", "--name", "plain-app", "--network", "none", image, "true")
	t.Setenv("DOCKER_HOST", "unix://"+d.Socket)

	out, err := env.install(t, "--uninstall")
	if err == nil || !strings.Contains(out, "tenant-app (guard-restricted)") || strings.Contains(out, "plain-app") {
		t.Fatalf("uninstall with a guarded container: %v\n%s", err, out)
	}
	if _, err := os.Stat(env.path("/usr/local/bin/guard-runtime")); err != nil {
		t.Errorf("the binary was removed although uninstall refused: %v", err)
	}
	if daemon := readText(t, env.path("/etc/docker/daemon.json")); !strings.Contains(daemon, "guard-restricted") {
		t.Errorf("daemon.json was changed although uninstall refused")
	}

	env.mustInstall(t, "--uninstall", "--force")
	assertFileContent(t, env.path("/etc/docker/daemon.json"), existingDaemonJSON, 0o644)
}
