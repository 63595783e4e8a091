package harness

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BusyboxImage is the name under which ImportBusybox imports the rootfs.
const BusyboxImage = "busybox:local"

const (
	dockerStartTimeout   = 60 * time.Second
	dockerStopTimeout    = 30 * time.Second
	dockerCommandTimeout = 3 * time.Minute
)

// Runtime is one entry of daemon.json's "runtimes". Docker puts
// RuntimeArgs into a generated /bin/sh script that appends "$@" unquoted,
// so arguments must not contain spaces.
type Runtime struct {
	Path        string   `json:"path"`
	RuntimeArgs []string `json:"runtimeArgs,omitempty"`
}

// DockerOptions configures a private Docker daemon.
type DockerOptions struct {
	// Runtimes are registered under daemon.json's "runtimes", by name.
	Runtimes map[string]Runtime
	// DefaultRuntime is daemon.json's "default-runtime"; empty keeps runc.
	DefaultRuntime string
	// DaemonConfig holds further daemon.json keys.
	DaemonConfig map[string]any
	// Args are further dockerd flags.
	Args []string
}

// Docker is a private dockerd: its own data-root, exec-root, pidfile,
// socket, config file and containerd namespace, no iptables rules and no
// bridge, so that it disturbs no other Docker daemon on the host. Its
// containers should use --network none (or host).
//
// Starting one costs a few seconds: prefer one per test package, either
// from TestMain with NewDocker and Stop, or from one top-level test whose
// subtests share it. Reconfigure changes its runtimes without a restart.
type Docker struct {
	Dir        string // everything below lives here
	DataRoot   string // --data-root
	ExecRoot   string // --exec-root
	Socket     string // -H unix://Socket
	PidFile    string // --pidfile
	ConfigFile string // --config-file, daemon.json
	LogFile    string // dockerd's stdout and stderr
	Namespace  string // --containerd-namespace
	Pid        int

	cli     string
	cmd     *exec.Cmd
	exited  chan struct{}
	options DockerOptions

	mu      sync.Mutex
	stopped bool
	image   string
}

// StartDocker starts a private dockerd and stops it, with its containers
// and mounts, when the test ends. Missing binaries fail the test with what
// to install.
func StartDocker(t testing.TB, opts DockerOptions) *Docker {
	t.Helper()
	RequireRoot(t)
	d, err := NewDocker(opts)
	if err != nil {
		t.Fatalf("start private dockerd: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Errorf("stop private dockerd: %v", err)
		}
	})
	return d
}

// NewDocker starts a private dockerd; the caller must call Stop. It is for
// TestMain, where there is no testing.TB; tests use StartDocker.
func NewDocker(opts DockerOptions) (*Docker, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("dockerd needs root: run the tests as root")
	}
	ensureSystemPath()
	dockerd, err := findBinary("dockerd", "apt-get install -y docker.io")
	if err != nil {
		return nil, err
	}
	cli, err := dockerCLI()
	if err != nil {
		return nil, err
	}
	if _, err := findBinary("runc", "apt-get install -y runc"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "guard-docker-")
	if err != nil {
		return nil, err
	}
	d := &Docker{
		Dir:        dir,
		DataRoot:   filepath.Join(dir, "var", "lib", "docker"),
		ExecRoot:   filepath.Join(dir, "var", "run", "docker"),
		Socket:     filepath.Join(dir, "var", "run", "docker.sock"),
		PidFile:    filepath.Join(dir, "var", "run", "docker.pid"),
		ConfigFile: filepath.Join(dir, "etc", "docker", "daemon.json"),
		LogFile:    filepath.Join(dir, "dockerd.log"),
		Namespace:  "guardtest" + strconv.Itoa(os.Getpid()) + "x" + filepath.Base(dir)[len("guard-docker-"):],
		cli:        cli,
		exited:     make(chan struct{}),
		options:    opts,
	}
	if err := d.start(dockerd); err != nil {
		stopErr := d.Stop()
		return nil, errors.Join(err, stopErr)
	}
	return d, nil
}

func (d *Docker) start(dockerd string) error {
	for _, dir := range []string{d.DataRoot, d.ExecRoot, filepath.Dir(d.ConfigFile), d.cliConfigDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	if err := d.writeConfig(d.options, dockerd); err != nil {
		return err
	}
	logFile, err := os.Create(d.LogFile)
	if err != nil {
		return err
	}
	defer logFile.Close()
	args := []string{
		"--data-root", d.DataRoot, "--exec-root", d.ExecRoot, "--pidfile", d.PidFile,
		"-H", "unix://" + d.Socket, "--config-file", d.ConfigFile,
		"--containerd-namespace", d.Namespace, "--containerd-plugins-namespace", d.Namespace + "plugins",
		"--iptables=false", "--ip6tables=false", "--bridge=none",
	}
	d.cmd = exec.Command(dockerd, append(args, d.options.Args...)...)
	d.cmd.Stdout = logFile
	d.cmd.Stderr = logFile
	// If the test process dies, the daemon shuts down rather than lingering.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		close(d.exited)
		return fmt.Errorf("start %s: %w", dockerd, err)
	}
	d.Pid = d.cmd.Process.Pid
	go func() {
		d.cmd.Wait()
		close(d.exited)
	}()
	return d.waitReady()
}

// writeConfig writes daemon.json. Docker 20.10 otherwise writes its trust
// key to /etc/docker/key.json, outside our directory; newer daemons know no
// such key and would refuse to start with it.
func (d *Docker) writeConfig(opts DockerOptions, dockerd string) error {
	config := map[string]any{}
	for key, value := range opts.DaemonConfig {
		config[key] = value
	}
	if len(opts.Runtimes) > 0 {
		config["runtimes"] = opts.Runtimes
	}
	if opts.DefaultRuntime != "" {
		config["default-runtime"] = opts.DefaultRuntime
	}
	if dockerd != "" && dockerdMajorVersion(dockerd) < 23 {
		config["deprecated-key-path"] = filepath.Join(d.Dir, "etc", "docker", "key.json")
	} else if previous, err := os.ReadFile(d.ConfigFile); err == nil {
		var old map[string]any
		if json.Unmarshal(previous, &old) == nil && old["deprecated-key-path"] != nil {
			config["deprecated-key-path"] = old["deprecated-key-path"]
		}
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return fmt.Errorf("encode daemon.json: %w", err)
	}
	tmp := d.ConfigFile + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.ConfigFile)
}

func dockerdMajorVersion(dockerd string) int {
	out, err := exec.Command(dockerd, "--version").Output()
	if err != nil {
		return 0
	}
	// "Docker version 20.10.24+dfsg1, build 5d6db84"
	fields := strings.Fields(string(out))
	if len(fields) < 3 {
		return 0
	}
	major, _ := strconv.Atoi(strings.SplitN(fields[2], ".", 2)[0])
	return major
}

func (d *Docker) waitReady() error {
	client := d.httpClient()
	deadline := time.Now().Add(dockerStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			return fmt.Errorf("dockerd exited during start; its log:\n%s", d.Log())
		default:
		}
		resp, err := client.Get("http://docker/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("dockerd did not answer on %s within %s; its log:\n%s", d.Socket, dockerStartTimeout, d.Log())
}

func (d *Docker) httpClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", d.Socket)
			},
		},
	}
}

// Log returns the last 64 KiB of dockerd's output, for failure messages.
func (d *Docker) Log() string {
	data, err := os.ReadFile(d.LogFile)
	if err != nil {
		return fmt.Sprintf("(no dockerd log: %v)", err)
	}
	if len(data) > 64<<10 {
		data = data[len(data)-64<<10:]
	}
	return string(data)
}

func (d *Docker) cliConfigDir() string { return filepath.Join(d.Dir, "docker-cli") }

// RuncRoot is the --root that Docker passes to the runtime, e.g. for
// `runc --root <RuncRoot> state <id>`.
func (d *Docker) RuncRoot() string {
	return filepath.Join(d.ExecRoot, "runtime-runc", d.Namespace)
}

// Command returns a docker CLI command aimed at this daemon. The CLI's own
// configuration lives in the daemon's directory, not in ~/.docker.
func (d *Docker) Command(args ...string) *exec.Cmd {
	return d.commandContext(context.Background(), args...)
}

func (d *Docker) commandContext(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, d.cli, append([]string{"-H", "unix://" + d.Socket}, args...)...)
	cmd.Env = append(withoutDockerEnv(os.Environ()), "DOCKER_CONFIG="+d.cliConfigDir())
	return cmd
}

// Run runs a docker CLI command and returns its stdout and stderr. A
// command that runs longer than three minutes is killed.
func (d *Docker) Run(args ...string) (stdout, stderr string, err error) {
	return d.runWithTimeout(dockerCommandTimeout, nil, args...)
}

// RunInput is Run with stdin.
func (d *Docker) RunInput(stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	return d.runWithTimeout(dockerCommandTimeout, stdin, args...)
}

func (d *Docker) runWithTimeout(timeout time.Duration, stdin io.Reader, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := d.commandContext(ctx, args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("docker %s: no answer within %s: %w", strings.Join(args, " "), timeout, ctx.Err())
	} else if err != nil {
		err = fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), stderr.String(), err
}

// MustRun runs a docker CLI command that must succeed and returns its
// stdout, trimmed.
func (d *Docker) MustRun(t testing.TB, args ...string) string {
	t.Helper()
	stdout, _, err := d.Run(args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return strings.TrimSpace(stdout)
}

// ImportBusybox imports a busybox rootfs (see BusyboxRootfs) as
// BusyboxImage with `docker import`, once per daemon, and returns the
// image name.
func (d *Docker) ImportBusybox(t testing.TB) string {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.image != "" {
		return d.image
	}
	var archive bytes.Buffer
	if err := writeTar(&archive, BusyboxRootfs(t)); err != nil {
		t.Fatalf("archive busybox rootfs: %v", err)
	}
	if _, _, err := d.RunInput(&archive, "import", "-", BusyboxImage); err != nil {
		t.Fatalf("%v", err)
	}
	d.image = BusyboxImage
	return d.image
}

// writeTar writes the tree at root as a tar stream with paths relative to it.
func writeTar(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		header, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		header.Name = rel
		header.Uid, header.Gid, header.Uname, header.Gname = 0, 0, "root", "root"
		if err := tw.WriteHeader(header); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// Reconfigure rewrites daemon.json with new runtimes and default runtime
// and makes dockerd reload it (SIGHUP), so that tests can switch policies
// without paying for a daemon restart. It waits until `docker info` shows
// the new runtimes.
func (d *Docker) Reconfigure(t testing.TB, opts DockerOptions) {
	t.Helper()
	if len(opts.Args) > 0 {
		t.Fatalf("Reconfigure cannot change dockerd flags %v: start another daemon", opts.Args)
	}
	if err := d.writeConfig(opts, ""); err != nil {
		t.Fatalf("write %s: %v", d.ConfigFile, err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("signal dockerd to reload: %v", err)
	}
	d.options = opts
	deadline := time.Now().Add(dockerStartTimeout)
	for {
		info, err := d.info()
		if err == nil && info.matches(opts) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd did not take the new daemon.json within %s (last docker info: %+v, %v); its log:\n%s",
				dockerStartTimeout, info, err, d.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type dockerInfo struct {
	Runtimes       map[string]json.RawMessage
	DefaultRuntime string
}

func (i dockerInfo) matches(opts DockerOptions) bool {
	for name := range opts.Runtimes {
		if _, ok := i.Runtimes[name]; !ok {
			return false
		}
	}
	want := opts.DefaultRuntime
	if want == "" {
		want = "runc"
	}
	return i.DefaultRuntime == want
}

func (d *Docker) info() (dockerInfo, error) {
	resp, err := d.httpClient().Get("http://docker/info")
	if err != nil {
		return dockerInfo{}, err
	}
	defer resp.Body.Close()
	var info dockerInfo
	err = json.NewDecoder(resp.Body).Decode(&info)
	return info, err
}

// Stop removes all containers, stops dockerd (SIGTERM, then SIGKILL after
// 30 s), ends the shims and containerd it left, kills what is left in its
// containers' cgroups, unmounts everything under its directory and removes
// the directory. It is safe to call more than once.
func (d *Docker) Stop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return nil
	}
	d.stopped = true
	var errs []error
	ids := d.removeContainers(&errs)
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(dockerStopTimeout):
			d.cmd.Process.Kill()
			<-d.exited
			errs = append(errs, fmt.Errorf("dockerd ignored SIGTERM for %s and was killed", dockerStopTimeout))
		}
	}
	killProcessesOf(d.Dir, d.Namespace)
	killContainerCgroups(ids)
	if err := unmountUnder(d.Dir); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(d.Dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", d.Dir, err))
	}
	return errors.Join(errs...)
}

func (d *Docker) removeContainers(errs *[]error) []string {
	if d.cmd == nil || d.Pid == 0 {
		return nil
	}
	select {
	case <-d.exited:
		return nil
	default:
	}
	out, _, err := d.runWithTimeout(time.Minute, nil, "ps", "-aq", "--no-trunc")
	if err != nil {
		*errs = append(*errs, err)
		return nil
	}
	ids := strings.Fields(out)
	if len(ids) > 0 {
		if _, _, err := d.runWithTimeout(2*time.Minute, nil, append([]string{"rm", "-f"}, ids...)...); err != nil {
			*errs = append(*errs, err)
		}
	}
	return ids
}

// killProcessesOf ends processes that belong to one private daemon: the
// supervised containerd and the shims carry its directory or its
// containerd namespace in their command line.
func killProcessesOf(dir, namespace string) {
	entries, _ := os.ReadDir("/proc")
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if belongsTo(args, dir, namespace) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func belongsTo(args []string, dir, namespace string) bool {
	for i, arg := range args {
		if strings.Contains(arg, dir+"/") {
			return true
		}
		if arg == "-namespace" && i+1 < len(args) && args[i+1] == namespace {
			return true
		}
	}
	return false
}

// killContainerCgroups kills what is left in the cgroups of the given
// containers (cgroupfs driver: <controller>/docker/<id> on cgroup v1,
// docker/<id> on v2) and removes the cgroups.
func killContainerCgroups(ids []string) {
	if len(ids) == 0 {
		return
	}
	var dirs []string
	for _, id := range ids {
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", "docker", id))
		controllers, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "docker", id))
		dirs = append(dirs, controllers...)
	}
	for _, dir := range dirs {
		procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(procs)) {
			if pid, err := strconv.Atoi(field); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	for _, dir := range dirs {
		for i := 0; i < 20; i++ {
			if err := syscall.Rmdir(dir); err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// unmountUnder detaches every mount point below dir, deepest first.
func unmountUnder(dir string) error {
	mounts, err := mountPointsUnder(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, mount := range mounts {
		if err := syscall.Unmount(mount, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mount, err))
		}
	}
	return errors.Join(errs...)
}

func mountPointsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mounts []string
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 5 {
			continue
		}
		mount := unescapeMountinfo(fields[4])
		if strings.HasPrefix(mount, dir+"/") {
			mounts = append(mounts, mount)
		}
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	return mounts, scanner.Err()
}

// unescapeMountinfo decodes the octal escapes (\040 for a space, …) that
// the kernel writes into mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// RemoveIfCreated removes, at the end of the test, those of paths that did
// not exist when it was called and are then empty directories. dockerd
// creates a missing bind source (e.g. -v /var/run/docker.sock:…) as a
// directory on the host even when the runtime then refuses the container;
// left behind, such a directory would break a later real install.
func RemoveIfCreated(t testing.TB, paths ...string) {
	t.Helper()
	var missing []string
	for _, path := range paths {
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, path)
		}
	}
	t.Cleanup(func() {
		for _, path := range missing {
			if info, err := os.Lstat(path); err == nil && info.IsDir() {
				syscall.Rmdir(path)
			}
		}
	})
}

// findBinary looks name up on PATH and says what to install if it is missing.
func findBinary(name, install string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH: %s", name, install)
	}
	return path, nil
}

// dockerCLI prefers the CLI of Debian's docker.io package, which matches
// its daemon, over a newer one that may come first on PATH.
func dockerCLI() (string, error) {
	if _, err := os.Stat("/usr/bin/docker"); err == nil {
		return "/usr/bin/docker", nil
	}
	return findBinary("docker", "apt-get install -y docker.io")
}

// ensureSystemPath makes sure dockerd finds runc, containerd and
// docker-init even when the test runs with a reduced PATH.
func ensureSystemPath() {
	path := os.Getenv("PATH")
	for _, dir := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		if !strings.Contains(":"+path+":", ":"+dir+":") {
			path += ":" + dir
		}
	}
	os.Setenv("PATH", strings.TrimPrefix(path, ":"))
}

// withoutDockerEnv drops DOCKER_* variables (DOCKER_HOST, DOCKER_CONTEXT,
// DOCKER_CONFIG, …) that would point the CLI elsewhere.
func withoutDockerEnv(env []string) []string {
	kept := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "DOCKER_") {
			kept = append(kept, kv)
		}
	}
	return kept
}
