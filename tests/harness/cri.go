package harness

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The Kubernetes path without a kubelet: crictl → containerd's CRI plugin →
// containerd-shim-runc-v2 → a runtime handler's BinaryName (a RuntimeWrapper)
// → the runtime.

const (
	// CrictlVersion is the cri-tools release the tests build from the Go
	// module proxy; Debian ships no crictl.
	CrictlVersion = "v1.34.0"
	// CRINamespace is the containerd namespace the CRI plugin works in.
	CRINamespace = "k8s.io"
	// CRIBusyboxImage and CRIPauseImage are the locally built images the
	// private CRI daemon knows; the pause stand-in is its sandbox_image.
	CRIBusyboxImage = "localhost/busybox:test"
	CRIPauseImage   = "localhost/pause:test"
	// KubeletRoot is where a kubelet keeps pod volumes. Container mounts whose
	// host_path lies under KubeletRoot/pods/ are created by CreateContainer,
	// as a kubelet would have, and removed by Close.
	KubeletRoot = "/var/lib/kubelet"
)

// CRIHandlerPrefix starts the name of every runtime handler:
// guard-baseline, guard-restricted, … (a RuntimeClass's handler field).
const CRIHandlerPrefix = "guard-"

// CRIOptions configure StartCRI.
type CRIOptions struct {
	// Handlers are the runtime handlers to register, by name without
	// CRIHandlerPrefix: "restricted" is handler guard-restricted (a
	// RuntimeClass's handler field). Default: baseline and restricted.
	Handlers []string
	// Runtime gives the command a handler's wrapper execs, by the same
	// name. nil means plain runc for every handler; GuardRuntime swaps in
	// guard-runtime.
	Runtime func(handler string) RuntimeCommand
}

// GuardRuntime is a CRIOptions.Runtime that runs guard-runtime with the
// given config file and a policy per handler, as deploy/'s wrappers do:
// policies maps a handler's name to its policy; a handler it does not name
// runs the policy of its own name.
func GuardRuntime(binary, configFile string, policies map[string]string) func(handler string) RuntimeCommand {
	return func(handler string) RuntimeCommand {
		policy, ok := policies[handler]
		if !ok {
			policy = handler
		}
		return GuardRuntimeCommand(binary, configFile, policy)
	}
}

// CRI is a private containerd with the CRI plugin, driven with crictl.
// The embedded Containerd also serves ctr.
type CRI struct {
	*Containerd
	CrictlPath   string
	CrictlConfig string
	// Handlers maps each runtime handler name to the wrapper it calls.
	Handlers map[string]*RuntimeWrapper
	LogDir   string // pods' log_directory when their JSON has none
	Timings  CRITimings

	// mu guards what tests running in parallel record for Close.
	mu            sync.Mutex
	kubeletDirs   []string // created under KubeletRoot, removed by Close
	cgroupParents []string // pods' cgroup_parent, pruned by Close when empty
}

// CRITimings records where start-up time goes.
type CRITimings struct {
	Crictl     time.Duration // finding or building crictl
	Images     time.Duration // building the images and CNI plugin
	Containerd time.Duration // starting containerd until CRI is ready
}

// criTools are needed on top of ctrdTools: nullcni runs nsenter and ip.
var criTools = [][2]string{{"ip", "iproute2"}, {"go", "golang (or a Go toolchain on PATH)"}}

// StartCRI builds (or finds in the cache) crictl, the images and the CNI
// plugin, and starts a private containerd with the CRI plugin, one runtime
// handler per opts.Handlers entry, nullcni for pods with their own network namespace and
// the busybox and pause images imported.
func StartCRI(opts CRIOptions) (*CRI, error) {
	if err := ctrdNeedTools(append(append([][2]string{}, ctrdTools...), criTools...)); err != nil {
		return nil, err
	}
	if len(opts.Handlers) == 0 {
		opts.Handlers = []string{"baseline", "restricted"}
	}
	c := &CRI{Handlers: map[string]*RuntimeWrapper{}}
	start := time.Now()
	crictl, err := CrictlBinary()
	if err != nil {
		return nil, err
	}
	c.CrictlPath = crictl
	c.Timings.Crictl = time.Since(start)

	// The handlers' wrappers and the CNI plugin must exist before containerd
	// reads its config, so build them in a staging directory first.
	staging, err := os.MkdirTemp("", "guard-cri-build-")
	if err != nil {
		return nil, fmt.Errorf("create build directory: %w", err)
	}
	defer os.RemoveAll(staging)
	start = time.Now()
	if err := criBuildArtifacts(staging); err != nil {
		return nil, err
	}
	c.Timings.Images = time.Since(start)

	start = time.Now()
	ctrd, err := ctrdStart(ctrdConfigOptions{criSection: func(d *Containerd) (string, error) {
		if err := c.prepare(d, staging, opts); err != nil {
			return "", err
		}
		return c.criConfig(d), nil
	}})
	if err != nil {
		return nil, err
	}
	c.Containerd = ctrd
	if err := c.importImages(staging); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.waitCRIReady(30 * time.Second); err != nil {
		c.Close()
		return nil, err
	}
	c.Timings.Containerd = time.Since(start)
	return c, nil
}

// criBuildArtifacts builds the pause stand-in, nullcni and both image archives.
func criBuildArtifacts(dir string) error {
	pause := filepath.Join(dir, "pause")
	if err := ctrdGoBuild("./tests/cmd/pause", pause); err != nil {
		return err
	}
	if err := ctrdGoBuild("./tests/cmd/nullcni", filepath.Join(dir, "nullcni")); err != nil {
		return err
	}
	data, err := os.ReadFile(pause)
	if err != nil {
		return fmt.Errorf("read pause binary: %w", err)
	}
	// Like registry.k8s.io/pause: a lone static binary run as 65535.
	err = ctrdWriteOCIArchive(filepath.Join(dir, "pause.tar"), CRIPauseImage, ctrdImageConfig{
		User: "65535:65535", Env: []string{ctrdDefaultPath}, Entrypoint: []string{"/pause"}, WorkingDir: "/",
	}, []rootfsFile{{Path: "pause", Mode: 0o755, Data: data}})
	if err != nil {
		return err
	}
	return WriteBusyboxImage(filepath.Join(dir, "busybox.tar"), CRIBusyboxImage)
}

// prepare lays out the CNI directories, the wrappers and crictl's config in
// the daemon's directory, before containerd starts.
func (c *CRI) prepare(d *Containerd, staging string, opts CRIOptions) error {
	binDir, confDir := filepath.Join(d.Dir, "cni", "bin"), filepath.Join(d.Dir, "cni", "net.d")
	for _, dir := range []string{binDir, confDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	plugin, err := os.ReadFile(filepath.Join(staging, "nullcni"))
	if err != nil {
		return fmt.Errorf("read nullcni: %w", err)
	}
	// containerd always adds a "loopback" network; nullcni serves it too.
	for _, name := range []string{"nullcni", "loopback"} {
		if err := os.WriteFile(filepath.Join(binDir, name), plugin, 0o755); err != nil {
			return fmt.Errorf("install CNI plugin %s: %w", name, err)
		}
	}
	conflist := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"nullcni","plugins":[{"type":"nullcni","logFile":%q}]}`,
		filepath.Join(d.Dir, "cni.log"))
	if err := os.WriteFile(filepath.Join(confDir, "10-nullcni.conflist"), []byte(conflist), 0o644); err != nil {
		return fmt.Errorf("write CNI config: %w", err)
	}

	wrappers := filepath.Join(d.Dir, "runtimes")
	for _, name := range opts.Handlers {
		rt, err := RuncCommand()
		if err != nil {
			return err
		}
		if opts.Runtime != nil {
			rt = opts.Runtime(name)
		}
		handler := CRIHandlerPrefix + name
		w, err := WriteRuntimeWrapper(wrappers, handler, rt, true)
		if err != nil {
			return err
		}
		c.Handlers[handler] = w
	}

	c.LogDir = filepath.Join(d.Dir, "pod-logs")
	c.CrictlConfig = filepath.Join(d.Dir, "crictl.yaml")
	crictlYAML := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\ndebug: false\npull-image-on-create: false\n",
		d.Address, d.Address)
	return os.WriteFile(c.CrictlConfig, []byte(crictlYAML), 0o644)
}

// criConfig is the CRI plugin's table. Why each setting:
//   - restrict_oom_score_adj: runc cannot lower oom_score_adj to the
//     sandbox's -998 without CAP_SYS_RESOURCE, which these machines lack.
//   - netns_mounts_under_state_dir: pod network namespaces stay in the
//     private tree instead of /var/run/netns.
//   - stream server on 127.0.0.1 with a free port, no TCP service.
func (c *CRI) criConfig(d *Containerd) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
`, CRIPauseImage, filepath.Join(d.Dir, "cni", "bin"), filepath.Join(d.Dir, "cni", "net.d"))
	for _, handler := range c.HandlerNames() {
		table := fmt.Sprintf(`plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%q`, handler)
		fmt.Fprintf(&b, `
    [%s]
      runtime_type = "io.containerd.runc.v2"
      [%s.options]
        BinaryName = %q
`, table, table, c.Handlers[handler].Path)
	}
	return b.String()
}

// HandlerNames lists the runtime handlers, sorted.
func (c *CRI) HandlerNames() []string {
	names := make([]string, 0, len(c.Handlers))
	for name := range c.Handlers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (c *CRI) importImages(staging string) error {
	for _, archive := range []string{"pause.tar", "busybox.tar"} {
		if err := c.ImportImage(CRINamespace, filepath.Join(staging, archive)); err != nil {
			return fmt.Errorf("import %s: %w", archive, err)
		}
	}
	return nil
}

// waitReady waits until the CRI plugin reports both the runtime and the
// network ready and knows both images.
func (c *CRI) waitCRIReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		out, err := c.Crictl("info")
		if err == nil && criConditionsReady(out) {
			images, err := c.Crictl("images", "--quiet", CRIPauseImage)
			if err == nil && strings.TrimSpace(images) != "" {
				return nil
			}
			last = "pause image not listed yet"
		} else if err != nil {
			last = err.Error()
		} else {
			last = out
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("CRI plugin not ready within %v: %s; containerd log:\n%s", timeout, last, c.LogTail(40))
}

func criConditionsReady(info string) bool {
	var doc struct {
		Status struct {
			Conditions []struct {
				Type   string `json:"type"`
				Status bool   `json:"status"`
			} `json:"conditions"`
		} `json:"status"`
	}
	if json.Unmarshal([]byte(info), &doc) != nil {
		return false
	}
	ready := map[string]bool{}
	for _, cond := range doc.Status.Conditions {
		ready[cond.Type] = cond.Status
	}
	return ready["RuntimeReady"] && ready["NetworkReady"]
}

// CrictlError is a failed crictl command. Stderr carries the CRI plugin's
// message, which includes the runtime's own error on a refused create,
// start or exec.
type CrictlError struct {
	Args     []string
	ExitCode int // crictl's own exit status
	// CommandExitCode is, for Exec, the exit status of the command in the
	// container (crictl itself then exits 1), and -1 when the command did not
	// run to an exit, e.g. because the runtime refused the exec.
	CommandExitCode int
	Stdout          string
	Stderr          string
}

func (e *CrictlError) Error() string {
	return fmt.Sprintf("crictl %s: exit status %d: %s", strings.Join(e.Args, " "), e.ExitCode, strings.TrimSpace(e.Stderr))
}

// Crictl runs crictl against the private daemon and returns its stdout.
// A non-zero exit is a *CrictlError.
func (c *CRI) Crictl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.CrictlPath, append([]string{"--config", c.CrictlConfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	ce := &CrictlError{Args: args, ExitCode: -1, CommandExitCode: -1, Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		ce.ExitCode = exitErr.ExitCode()
	} else {
		ce.Stderr += err.Error()
	}
	return stdout.String(), ce
}

// RunPod runs a pod sandbox from crictl's JSON pod config under a runtime
// handler ("" for the default, plain runc) and returns its ID. A pod without
// log_directory gets one under LogDir.
func (c *CRI) RunPod(handler string, podJSON []byte) (string, error) {
	pod, err := c.podConfig(podJSON)
	if err != nil {
		return "", err
	}
	path, err := c.writeInput("pod", pod)
	if err != nil {
		return "", err
	}
	args := []string{"runp"}
	if handler != "" {
		args = append(args, "--runtime", handler)
	}
	out, err := c.Crictl(append(args, path)...)
	return strings.TrimSpace(out), err
}

// CreateContainer creates a container in a pod from crictl's JSON container
// config; podJSON is the pod's config as given to RunPod. Host paths under
// KubeletRoot/pods/ that the kubelet would have made are created first.
func (c *CRI) CreateContainer(podID string, ctrJSON, podJSON []byte) (string, error) {
	pod, err := c.podConfig(podJSON)
	if err != nil {
		return "", err
	}
	if err := c.prepareKubeletPaths(ctrJSON); err != nil {
		return "", err
	}
	podPath, err := c.writeInput("pod", pod)
	if err != nil {
		return "", err
	}
	ctrPath, err := c.writeInput("container", ctrJSON)
	if err != nil {
		return "", err
	}
	out, err := c.Crictl("create", podID, ctrPath, podPath)
	return strings.TrimSpace(out), err
}

// StartContainer starts a created container.
func (c *CRI) StartContainer(id string) error {
	_, err := c.Crictl("start", id)
	return err
}

// RunContainer creates and starts a container, returning its ID even when
// only the start failed.
func (c *CRI) RunContainer(podID string, ctrJSON, podJSON []byte) (string, error) {
	id, err := c.CreateContainer(podID, ctrJSON, podJSON)
	if err != nil {
		return "", err
	}
	return id, c.StartContainer(id)
}

// Exec runs a command in a running container through the CRI's streaming
// Exec, as `kubectl exec` does, and returns its stdout. A non-zero exit
// status is a *CrictlError whose ExitCode is the command's and whose Stderr
// holds the command's stderr. (crictl's --sync mode is not used: it prints
// stderr into stdout and always exits 0.)
func (c *CRI) Exec(id string, command ...string) (string, error) {
	out, err := c.Crictl(append([]string{"exec", id}, command...)...)
	var ce *CrictlError
	if errors.As(err, &ce) {
		if m := criExecExit.FindStringSubmatch(ce.Stderr); m != nil {
			ce.CommandExitCode, _ = strconv.Atoi(m[1])
		}
	}
	return out, err
}

// criExecExit is how crictl reports a command's non-zero exit status.
var criExecExit = regexp.MustCompile(`command terminated with exit code (\d+)`)

// StopPod stops every container of a pod and its sandbox.
func (c *CRI) StopPod(id string) error {
	_, err := c.Crictl("stopp", id)
	return err
}

// RemovePod removes a pod, stopping it first if needed.
func (c *CRI) RemovePod(id string) error {
	_, err := c.Crictl("rmp", "--force", id)
	return err
}

// InspectPod returns `crictl inspectp` JSON for a pod.
func (c *CRI) InspectPod(id string) ([]byte, error) {
	out, err := c.Crictl("inspectp", "--output", "json", id)
	return []byte(out), err
}

// InspectContainer returns `crictl inspect` JSON for a container.
func (c *CRI) InspectContainer(id string) ([]byte, error) {
	out, err := c.Crictl("inspect", "--output", "json", id)
	return []byte(out), err
}

// SandboxPID returns the host PID of a pod's pause process: app containers
// join its namespaces as /proc/<pid>/ns/….
func (c *CRI) SandboxPID(podID string) (int, error) {
	out, err := c.InspectPod(podID)
	if err != nil {
		return 0, err
	}
	var doc struct {
		Info struct {
			PID int `json:"pid"`
		} `json:"info"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || doc.Info.PID == 0 {
		return 0, fmt.Errorf("no sandbox pid in crictl inspectp %s output: %v", podID, err)
	}
	return doc.Info.PID, nil
}

// Captured returns the config.json a handler's wrapper saw when the given
// sandbox or container was created.
func (c *CRI) Captured(handler, id string) ([]byte, error) {
	w, ok := c.Handlers[handler]
	if !ok {
		return nil, fmt.Errorf("no runtime handler %q (have %v)", handler, c.HandlerNames())
	}
	return w.Captured(id)
}

// Close removes every pod, stops containerd and removes what CreateContainer
// made under KubeletRoot.
func (c *CRI) Close() error {
	var errs []error
	if c.Containerd != nil {
		if c.CrictlPath != "" {
			if _, err := c.Crictl("rmp", "--all", "--force"); err != nil {
				errs = append(errs, err)
			}
		}
		errs = append(errs, c.Containerd.Stop())
	}
	errs = append(errs, c.removeKubeletPaths())
	c.pruneCgroupParents()
	return errors.Join(errs...)
}

// podConfig fills in a log_directory, so that `crictl logs` works, and
// remembers cgroup_parent, so that Close can prune it.
func (c *CRI) podConfig(podJSON []byte) ([]byte, error) {
	var pod map[string]any
	if err := json.Unmarshal(podJSON, &pod); err != nil {
		return nil, fmt.Errorf("pod config is not a JSON object: %w", err)
	}
	if linux, ok := pod["linux"].(map[string]any); ok {
		if parent, ok := linux["cgroup_parent"].(string); ok && parent != "" {
			c.mu.Lock()
			c.cgroupParents = append(c.cgroupParents, parent)
			c.mu.Unlock()
		}
	}
	if dir, _ := pod["log_directory"].(string); dir != "" {
		return podJSON, nil
	}
	name := "pod"
	if meta, ok := pod["metadata"].(map[string]any); ok {
		if uid, ok := meta["uid"].(string); ok && uid != "" {
			name = uid
		}
	}
	pod["log_directory"] = filepath.Join(c.LogDir, name)
	return json.Marshal(pod)
}

func (c *CRI) writeInput(kind string, data []byte) (string, error) {
	dir := filepath.Join(c.Dir, "inputs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, kind+"-*.json")
	if err != nil {
		return "", fmt.Errorf("write crictl input: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return "", fmt.Errorf("write crictl input: %w", err)
	}
	return f.Name(), nil
}

// criKubeletFiles are container paths the kubelet binds from a file, not a
// directory, under KubeletRoot/pods/<uid>/.
var criKubeletFiles = map[string]bool{"/etc/hosts": true, "/dev/termination-log": true}

// prepareKubeletPaths makes what the kubelet would have made before asking
// for a container: each missing host_path under KubeletRoot/pods/ becomes a
// file (etc-hosts, termination-log) or a directory; a projected
// service-account volume gets token, ca.crt and namespace.
func (c *CRI) prepareKubeletPaths(ctrJSON []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ctr struct {
		Mounts []struct {
			ContainerPath string `json:"container_path"`
			HostPath      string `json:"host_path"`
		} `json:"mounts"`
	}
	if err := json.Unmarshal(ctrJSON, &ctr); err != nil {
		return fmt.Errorf("container config is not a JSON object: %w", err)
	}
	podsDir := filepath.Join(KubeletRoot, "pods") + "/"
	for _, m := range ctr.Mounts {
		host := filepath.Clean(m.HostPath)
		if !strings.HasPrefix(host, podsDir) {
			continue
		}
		if _, err := os.Lstat(host); err == nil {
			continue
		}
		podDir := filepath.Join(podsDir, strings.SplitN(strings.TrimPrefix(host, podsDir), "/", 2)[0])
		if err := c.trackKubeletDirs(podDir); err != nil {
			return err
		}
		var err error
		switch {
		case criKubeletFiles[m.ContainerPath]:
			err = os.MkdirAll(filepath.Dir(host), 0o750)
			if err == nil {
				err = os.WriteFile(host, []byte(criKubeletHosts(m.ContainerPath)), 0o644)
			}
		case strings.Contains(host, "kubernetes.io~projected"):
			err = criWriteProjectedToken(host)
		default:
			err = os.MkdirAll(host, 0o750)
		}
		if err != nil {
			return fmt.Errorf("emulate kubelet path %s: %w", host, err)
		}
	}
	return nil
}

func criKubeletHosts(containerPath string) string {
	if containerPath == "/etc/hosts" {
		return "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	}
	return ""
}

// criWriteProjectedToken lays out a kube-api-access volume the way the
// kubelet's atomic writer does: ..data points at a timestamped directory.
func criWriteProjectedToken(dir string) error {
	data := filepath.Join(dir, "..2026_01_01_00_00_00.000000000")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"token":     "eyJhbGciOiJSUzI1NiJ9.test-service-account-token.signature",
		"ca.crt":    "-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n",
		"namespace": "default",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(data, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.Symlink(filepath.Base(data), filepath.Join(dir, "..data")); err != nil {
		return err
	}
	for name := range files {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// trackKubeletDirs records podDir and any parent up to KubeletRoot that does
// not exist yet, so that Close removes exactly what the harness created.
func (c *CRI) trackKubeletDirs(podDir string) error {
	for dir := podDir; dir != filepath.Dir(KubeletRoot); dir = filepath.Dir(dir) {
		if _, err := os.Lstat(dir); err == nil {
			break
		}
		c.kubeletDirs = append(c.kubeletDirs, dir)
	}
	return os.MkdirAll(podDir, 0o750)
}

// removeKubeletPaths removes the pod directories first and their parents
// after, deepest first; a parent that something else filled stays.
func (c *CRI) removeKubeletPaths() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	sort.Slice(c.kubeletDirs, func(i, j int) bool { return len(c.kubeletDirs[i]) > len(c.kubeletDirs[j]) })
	var errs []error
	for _, dir := range c.kubeletDirs {
		if filepath.Dir(dir) == filepath.Join(KubeletRoot, "pods") {
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, err)
			}
		} else {
			os.Remove(dir)
		}
	}
	c.kubeletDirs = nil
	return errors.Join(errs...)
}

// pruneCgroupParents removes the empty cgroups runc created above the pods'
// containers: the pods' cgroup_parent (e.g. /kubepods/besteffort/pod<uid>)
// and, for pods without one, /k8s.io.
func (c *CRI) pruneCgroupParents() {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctrdPruneCgroups(append(c.cgroupParents, "/"+CRINamespace))
	c.cgroupParents = nil
}

// CRIFixtureShape is one pod of the CRI fixtures: its crictl inputs and the
// names of the documents captured from it.
type CRIFixtureShape struct {
	Pod, Container string // inputs in tests/testdata/cri
	Sandbox        string // fixture name of the sandbox's config.json, "" to skip
	App            string // fixture name of the app container's config.json
	Exec           string // fixture name of an `id` exec's process file, "" for none
}

// CRIFixtureShapes are the pods whose documents enforce/testdata/cri holds.
var CRIFixtureShapes = []CRIFixtureShape{
	{"pod-plain.json", "ctr-plain.json", "plain-sandbox", "plain-container", "plain-exec"},
	{"pod-restricted.json", "ctr-restricted.json", "", "restricted-container", "restricted-exec"},
	{"pod-privileged.json", "ctr-privileged.json", "privileged-sandbox", "privileged-container", ""},
	{"pod-hostpath-etc.json", "ctr-hostpath-etc.json", "", "hostpath-etc-container", ""},
	{"pod-hostnet.json", "ctr-hostnet.json", "hostnet-sandbox", "hostnet-container", ""},
	{"pod-seccomp-runtimedefault.json", "ctr-seccomp-runtimedefault.json", "seccomp-runtimedefault-sandbox", "seccomp-runtimedefault-container", ""},
	{"pod-kubelet.json", "ctr-kubelet.json", "kubelet-sandbox", "kubelet-container", "kubelet-exec"},
}

// CaptureFixture runs one shape under handler and returns its documents by
// fixture name. The runtime sees a container's config.json when the
// container starts; whether the runtime then runs it does not matter here.
func (c *CRI) CaptureFixture(handler string, shape CRIFixtureShape) (map[string][]byte, error) {
	w, ok := c.Handlers[handler]
	if !ok {
		return nil, fmt.Errorf("no runtime handler %q", handler)
	}
	podJSON, err := CRIInput(shape.Pod)
	if err != nil {
		return nil, err
	}
	ctrJSON, err := CRIInput(shape.Container)
	if err != nil {
		return nil, err
	}
	podID, err := c.RunPod(handler, podJSON)
	if err != nil {
		return nil, err
	}
	defer c.RemovePod(podID)
	ctrID, err := c.CreateContainer(podID, ctrJSON, podJSON)
	if err != nil {
		return nil, err
	}
	startErr := c.StartContainer(ctrID)
	docs := map[string][]byte{}
	if shape.Exec != "" {
		if startErr != nil {
			return nil, fmt.Errorf("start %s for an exec: %w", shape.Container, startErr)
		}
		if _, err := c.Exec(ctrID, "id"); err != nil {
			return nil, fmt.Errorf("exec in %s: %w", shape.Container, err)
		}
		execs, err := w.CapturedExecs(ctrID)
		if err != nil || len(execs) == 0 {
			return nil, fmt.Errorf("exec process file of %s not captured: %v", ctrID, err)
		}
		docs[shape.Exec] = execs[0]
	}
	for name, id := range map[string]string{shape.Sandbox: podID, shape.App: ctrID} {
		if name == "" {
			continue
		}
		if docs[name], err = w.Captured(id); err != nil {
			return nil, fmt.Errorf("config.json of %s not captured (start: %v): %w", name, startErr, err)
		}
	}
	return docs, nil
}

// CRIInput reads a crictl JSON input from tests/testdata/cri.
func CRIInput(name string) ([]byte, error) {
	root, err := ctrdModuleRoot()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(root, "tests", "testdata", "cri", name))
}

// CrictlBinary returns crictl CrictlVersion, building it with `go install`
// from the Go module proxy into the cache on first use (about 70 s). The
// cache is $GUARD_TEST_CACHE, or /var/cache/guard-runtime-tests; a lock
// keeps parallel test binaries from building it twice.
func CrictlBinary() (string, error) {
	cache := os.Getenv("GUARD_TEST_CACHE")
	if cache == "" {
		cache = "/var/cache/guard-runtime-tests"
	}
	dir := filepath.Join(cache, "crictl-"+CrictlVersion)
	bin := filepath.Join(dir, "crictl")
	if criCrictlUsable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("create test cache %s: %w", cache, err)
	}
	lock, err := os.OpenFile(filepath.Join(cache, "crictl.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", fmt.Errorf("open crictl build lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock crictl build: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if criCrictlUsable(bin) {
		return bin, nil
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "", fmt.Errorf("crictl %s is not in %s and go is not on PATH to build it", CrictlVersion, dir)
	}
	gobin, err := os.MkdirTemp(cache, "crictl-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(gobin)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", "sigs.k8s.io/cri-tools/cmd/crictl@"+CrictlVersion)
	cmd.Dir = gobin // outside any module: the version alone decides
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build crictl %s (go install sigs.k8s.io/cri-tools/cmd/crictl@%s, needs the Go module proxy): %w: %s",
			CrictlVersion, CrictlVersion, err, out)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(gobin, "crictl"), bin); err != nil {
		return "", fmt.Errorf("install crictl into the cache: %w", err)
	}
	return bin, nil
}

// criCrictlUsable reads the module version go install stamped into the
// binary; `crictl --version` says "unknown" outside cri-tools' Makefile.
func criCrictlUsable(bin string) bool {
	info, err := buildinfo.ReadFile(bin)
	return err == nil && info.Main.Path == "sigs.k8s.io/cri-tools" && info.Main.Version == CrictlVersion
}

// SharedCRI returns the test binary's private CRI daemon, starting it with
// opts on first use; later calls get the same daemon whatever their opts.
// TestMain must call CloseSharedEngines.
func SharedCRI(t testing.TB, opts CRIOptions) *CRI {
	t.Helper()
	return shareEngine(t, &ctrdShared.cri, &ctrdShared.criErr, "private CRI containerd", func() (*CRI, error) { return StartCRI(opts) })
}
