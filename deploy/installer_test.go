package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/guard-runtime/guard-runtime/enforce"
)

func execCommand(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

func need(t *testing.T, tool, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found: apt-get install -y %s", tool, pkg)
	}
	return path
}

// nodeConfig is a containerd 1.6 config.toml as a kubeadm node has it, with
// CRI settings of its own that the handlers must not disturb.
// Its paths lie under the test's node tree so that containerd can start on it.
const nodeConfig = `version = 2
root = "%[1]s/var/lib/containerd"
state = "%[1]s/run/containerd"

[grpc]
  address = "%[1]s/run/containerd/containerd.sock"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "%[1]s/opt/containerd"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.9"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "%[1]s/usr/lib/cni"
      conf_dir = "%[1]s/etc/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = true
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
`

// dump is containerd's own reading of a configuration.
func dump(t *testing.T, config string) string {
	t.Helper()
	out, err := exec.Command(need(t, "containerd", "containerd"), "--config", config, "config", "dump").Output()
	if err != nil {
		t.Fatalf("containerd config dump %s: %v", config, err)
	}
	return string(out)
}

// criTable returns the lines of one table of a config dump.
func criTable(dumped, table string) string {
	var b strings.Builder
	inside := false
	for _, line := range strings.Split(dumped, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") {
			inside = trimmed == "["+table+"]"
			continue
		}
		if inside && trimmed != "" {
			b.WriteString(trimmed + "\n")
		}
	}
	return b.String()
}

const cri = `plugins."io.containerd.grpc.v1.cri"`

func checkNodeSettingsKept(t *testing.T, dumped, root string) {
	t.Helper()
	for table, line := range map[string]string{
		cri:               `sandbox_image = "registry.k8s.io/pause:3.9"`,
		cri + ".registry": `config_path = "/etc/containerd/certs.d"`,
		cri + ".cni":      `bin_dir = "` + root + `/usr/lib/cni"`,
		cri + ".containerd.runtimes.runc.options": `SystemdCgroup = true`,
	} {
		if !strings.Contains(criTable(dumped, table), line) {
			t.Errorf("the node's %s lost %s", table, line)
		}
	}
}

func checkHandlers(t *testing.T, dumped, handlerDir string, systemd bool) {
	t.Helper()
	for _, policy := range []string{"baseline", "restricted"} {
		table := criTable(dumped, cri+".containerd.runtimes.guard-"+policy)
		options := criTable(dumped, cri+".containerd.runtimes.guard-"+policy+".options")
		if !strings.Contains(table, `runtime_type = "io.containerd.runc.v2"`) {
			t.Errorf("handler guard-%s is not a runc v2 shim handler:\n%s", policy, table)
		}
		if want := fmt.Sprintf(`BinaryName = "%s/guard-%s"`, handlerDir, policy); !strings.Contains(options, want) {
			t.Errorf("handler guard-%s options lack %s:\n%s", policy, want, options)
		}
		if systemd && !strings.Contains(options, "SystemdCgroup = true") {
			t.Errorf("handler guard-%s does not use the node's systemd cgroup driver:\n%s", policy, options)
		}
	}
}

func TestContainerdSnippetAddsHandlersToANodeConfig(t *testing.T) {
	dir := t.TempDir()
	snippet, err := os.ReadFile("containerd/guard-runtime.toml")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(nodeConfig, dir)+"\n"+string(snippet)), 0o644); err != nil {
		t.Fatal(err)
	}
	dumped := dump(t, config)
	checkHandlers(t, dumped, "/usr/local/lib/guard-runtime", true)
	checkNodeSettingsKept(t, dumped, dir)
}

// node is a fake node tree for install.sh: every path it writes lies under
// root, commands run locally, and the "restart" is counted.
type node struct {
	root, template, runc string
	env                  []string
}

func newNode(t *testing.T) *node {
	t.Helper()
	root := t.TempDir()
	n := &node{root: root, runc: need(t, "runc", "runc")}
	write := func(path, content string, mode os.FileMode) {
		t.Helper()
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	// A stand-in guard-runtime that shows how a handler calls it.
	write("src/bin/guard-runtime", "#!/bin/sh\necho \"guard-runtime $*\"\n", 0o755)
	write("src/bin/guard-runtime-full", "#!/bin/sh\necho \"guard-runtime-full $*\"\n", 0o755)
	write("src/policy.d/baseline.yaml", "# baseline\n", 0o644)
	write("src/policy.d/k8s-baseline.yaml", "# k8s-baseline\n", 0o644)
	write("src/policy.d/k8s-restricted.yaml", "# k8s-restricted\n", 0o644)
	write("etc/containerd/config.toml", fmt.Sprintf(nodeConfig, root), 0o644)
	write("restart", "#!/bin/sh\necho restarted >>\""+root+"/restarts\"\n", 0o755)
	m := loadManifests(t)
	write("template/config.yaml", m.configMaps[0].Data["config.yaml"], 0o644)
	n.env = []string{
		"HOST_ROOT=", "HOST_EXEC=",
		"GUARD_SOURCE=" + root + "/src",
		"GUARD_HANDLERS=baseline=k8s-baseline restricted=k8s-restricted",
		"GUARD_BIN=" + root + "/usr/local/bin/guard-runtime",
		"GUARD_HANDLER_DIR=" + root + "/usr/local/lib/guard-runtime",
		"GUARD_CONFIG=" + root + "/etc/guard-runtime/config.yaml",
		"GUARD_POLICY_DIR=" + root + "/etc/guard-runtime/policy.d",
		"GUARD_CONFIG_TEMPLATE=" + root + "/template/config.yaml",
		"RUNC=" + n.runc,
		"CONTAINERD_CONFIG=" + root + "/etc/containerd/config.toml",
		"CONTAINERD_DROPIN=" + root + "/etc/containerd/conf.d/guard-runtime.toml",
		"CONTAINERD=" + need(t, "containerd", "containerd"),
		"RESTART_CONTAINERD=" + root + "/restart",
		"CONTAINERD_READY=true",
		"READY_TIMEOUT=1",
	}
	return n
}

// install runs install.sh with the given shell ("sh", or busybox's, which
// the installer image has) and extra environment.
func (n *node) install(t *testing.T, shell []string, extraEnv ...string) (string, error) {
	t.Helper()
	script, err := filepath.Abs("installer/install.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(shell[0], append(shell[1:], script)...)
	cmd.Env = append(append(os.Environ(), n.env...), extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (n *node) restarts(t *testing.T) int {
	data, err := os.ReadFile(filepath.Join(n.root, "restarts"))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "restarted")
}

func (n *node) read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(n.root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// busyboxShell puts busybox's applets first on PATH, as in the installer image.
func busyboxShell(t *testing.T) []string {
	t.Helper()
	busybox := need(t, "busybox", "busybox-static")
	dir := t.TempDir()
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if err := os.Symlink(busybox, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	return []string{busybox, "sh"}
}

func TestInstallerRegistersHandlersAndKeepsTheNodesSettings(t *testing.T) {
	for name, shell := range map[string]func(*testing.T) []string{
		"sh":      func(*testing.T) []string { return []string{"sh"} },
		"busybox": busyboxShell,
	} {
		t.Run(name, func(t *testing.T) {
			n := newNode(t)
			if out, err := n.install(t, shell(t)); err != nil {
				t.Fatalf("install: %v\n%s", err, out)
			}
			if n.restarts(t) != 1 {
				t.Errorf("containerd restarted %d times, want once", n.restarts(t))
			}
			dumped := dump(t, filepath.Join(n.root, "etc/containerd/config.toml"))
			checkHandlers(t, dumped, n.root+"/usr/local/lib/guard-runtime", true)
			checkNodeSettingsKept(t, dumped, n.root)

			for _, name := range []string{"guard-runtime", "guard-runtime-full"} {
				if got, want := n.read(t, "usr/local/bin/"+name), n.read(t, "src/bin/"+name); got != want {
					t.Errorf("%s was not installed", name)
				}
			}
			if n.read(t, "etc/guard-runtime/policy.d/k8s-restricted.yaml") != "# k8s-restricted\n" {
				t.Error("the policies were not installed")
			}
			checkInstalledConfig(t, n)

			out, err := exec.Command(filepath.Join(n.root, "usr/local/lib/guard-runtime/guard-restricted"),
				"--root", "/run/containerd/runc/k8s.io", "create", "--bundle", "/b", "id1").Output()
			want := fmt.Sprintf("guard-runtime --guard-config %s/etc/guard-runtime/config.yaml --guard-policy=k8s-restricted --root /run/containerd/runc/k8s.io create --bundle /b id1\n", n.root)
			if err != nil || string(out) != want {
				t.Errorf("handler wrapper ran %q (%v), want %q", out, err, want)
			}

			if out, err := n.install(t, shell(t)); err != nil || n.restarts(t) != 1 {
				t.Errorf("a second install with nothing changed restarted containerd (%d restarts, %v)\n%s", n.restarts(t), err, out)
			}
		})
	}
}

// TestInstalledConfigurationStartsContainerd starts containerd on what the
// installer wrote: its copy of the CRI section must load, not only parse.
// A handler is named apart from its policy, or after it; a handler whose
// policy is not in the image installs nothing.
func TestInstallerHandlerEntries(t *testing.T) {
	n := newNode(t)
	out, err := n.install(t, []string{"sh"}, "GUARD_HANDLERS=baseline k8s=k8s-baseline")
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	for handler, policy := range map[string]string{"baseline": "baseline", "k8s": "k8s-baseline"} {
		wrapper := n.read(t, "usr/local/lib/guard-runtime/guard-"+handler)
		if !strings.Contains(wrapper, "--guard-policy="+policy+" ") {
			t.Errorf("handler guard-%s does not run policy %s:\n%s", handler, policy, wrapper)
		}
	}

	for _, entries := range []string{"restricted=k8s-missing", "Bad_Name=k8s-baseline", " "} {
		n := newNode(t)
		before := n.read(t, "etc/containerd/config.toml")
		out, err := n.install(t, []string{"sh"}, "GUARD_HANDLERS="+entries)
		if err == nil {
			t.Errorf("GUARD_HANDLERS=%q installed:\n%s", entries, out)
		}
		if _, statErr := os.Stat(filepath.Join(n.root, "usr/local/bin/guard-runtime")); statErr == nil || n.read(t, "etc/containerd/config.toml") != before {
			t.Errorf("GUARD_HANDLERS=%q: something was installed before the error:\n%s", entries, out)
		}
	}
}

func TestInstalledConfigurationStartsContainerd(t *testing.T) {
	n := newNode(t)
	if out, err := n.install(t, []string{"sh"}); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	address := filepath.Join(n.root, "run/containerd/containerd.sock")
	daemon := exec.Command(need(t, "containerd", "containerd"), "--config", filepath.Join(n.root, "etc/containerd/config.toml"))
	var log bytes.Buffer
	daemon.Stdout, daemon.Stderr = &log, &log
	daemon.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		daemon.Process.Signal(syscall.SIGTERM)
		daemon.Wait()
	}()
	ctr := need(t, "ctr", "containerd")
	deadline := time.Now().Add(20 * time.Second)
	for exec.Command(ctr, "--address", address, "version").Run() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not start on the installed configuration:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	plugins, err := exec.Command(ctr, "--address", address, "plugins", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	// TYPE ID PLATFORMS STATUS
	for _, line := range strings.Split(string(plugins), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 3 && fields[0] == "io.containerd.grpc.v1" && fields[1] == "cri" {
			if fields[len(fields)-1] != "ok" {
				t.Errorf("the CRI plugin did not load: %s\n%s", line, log.String())
			}
			return
		}
	}
	t.Errorf("no CRI plugin in:\n%s", plugins)
}

func checkInstalledConfig(t *testing.T, n *node) {
	t.Helper()
	data := n.read(t, "etc/guard-runtime/config.yaml")
	cfg, err := enforce.ParseConfig([]byte(data))
	if err != nil {
		t.Fatalf("installed config.yaml: %v\n%s", err, data)
	}
	runc, err := os.ReadFile(n.runc)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(runc)
	if cfg.Runtime.Path != n.runc || len(cfg.Runtime.SHA256) != 1 || cfg.Runtime.SHA256[0] != hex.EncodeToString(sum[:]) {
		t.Errorf("config.yaml does not pin the node's runc %s: %+v", n.runc, cfg.Runtime)
	}
	if cfg.Policy.Default != "k8s-restricted" {
		t.Errorf("config.yaml lost the template's default policy: %+v", cfg.Policy)
	}
}

func TestInstallerCarriesLaterNodeChangesOver(t *testing.T) {
	n := newNode(t)
	if out, err := n.install(t, []string{"sh"}); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	config := filepath.Join(n.root, "etc/containerd/config.toml")
	edited := strings.Replace(n.read(t, "etc/containerd/config.toml"), "pause:3.9", "pause:3.10", 1)
	if err := os.WriteFile(config, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := n.install(t, []string{"sh"}); err != nil {
		t.Fatalf("reinstall: %v\n%s", err, out)
	}
	dumped := dump(t, config)
	if !strings.Contains(criTable(dumped, cri), `sandbox_image = "registry.k8s.io/pause:3.10"`) {
		t.Error("the drop-in kept the node's old sandbox_image after the admin changed it")
	}
	if n.restarts(t) != 2 {
		t.Errorf("containerd restarted %d times, want twice", n.restarts(t))
	}
}

func TestInstallerRestoresContainerdWhenItDoesNotComeBack(t *testing.T) {
	n := newNode(t)
	before := n.read(t, "etc/containerd/config.toml")
	out, err := n.install(t, []string{"sh"}, "CONTAINERD_READY=false")
	if err == nil {
		t.Fatalf("install succeeded with a containerd that never became ready:\n%s", out)
	}
	if !strings.Contains(out, "not ready") {
		t.Errorf("the error does not say containerd was not ready:\n%s", out)
	}
	if n.read(t, "etc/containerd/config.toml") != before {
		t.Error("config.toml was not restored")
	}
	if _, err := os.Stat(filepath.Join(n.root, "etc/containerd/conf.d/guard-runtime.toml")); !os.IsNotExist(err) {
		t.Error("the new drop-in was left in place")
	}
	if n.restarts(t) != 2 {
		t.Errorf("want a restart with the new and one with the restored configuration, got %d", n.restarts(t))
	}
}

func TestInstallerLeavesAnUneditableConfigAlone(t *testing.T) {
	n := newNode(t)
	config := filepath.Join(n.root, "etc/containerd/config.toml")
	multiline := "imports = [\n  \"/etc/containerd/other.toml\",\n]\n" + n.read(t, "etc/containerd/config.toml")
	if err := os.WriteFile(config, []byte(multiline), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := n.install(t, []string{"sh"})
	if err == nil || !strings.Contains(out, "add \""+n.root+"/etc/containerd/conf.d/guard-runtime.toml\" by hand") {
		t.Fatalf("want an error asking to add the import by hand, got %v:\n%s", err, out)
	}
	if n.read(t, "etc/containerd/config.toml") != multiline || n.restarts(t) != 0 {
		t.Error("containerd's configuration was touched after all")
	}
}

func TestInstallerKeepsTheAdminsConfig(t *testing.T) {
	n := newNode(t)
	own := "# my own\npolicy:\n  default: baseline\n"
	path := filepath.Join(n.root, "etc/guard-runtime/config.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := n.install(t, []string{"sh"})
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if n.read(t, "etc/guard-runtime/config.yaml") != own {
		t.Error("the installer overwrote a config.yaml it did not write")
	}
	if !bytes.Contains([]byte(out), []byte("keeping")) {
		t.Errorf("the installer did not say it kept config.yaml:\n%s", out)
	}
}
