package harness

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Containerd is a private containerd daemon for the tests: its own root,
// state, gRPC socket and runc root, all under Dir, so that it never meets a
// containerd that Docker or the host runs.
//
// It runs in its own mount namespace where Dir/root is bound on
// /var/lib/containerd and Dir/run on /run/containerd, and its config names
// those stock directories: the runc v2 shim always puts its sockets under
// /run/containerd/s, runc's default root is /run/containerd/runc, and the
// documents the CRI plugin hands the runtime name the paths of a real node
// (sandbox files under /var/lib/containerd/io.containerd.grpc.v1.cri/…), so
// that the shipped policies judge them unchanged. Paths a client hands to it
// (rootfs, FIFOs, bind sources, log files) must therefore not lie under
// either directory: everything the harness passes lives in Dir.
type Containerd struct {
	Dir     string // the private tree; removed by Stop
	Address string // gRPC socket, for ctr --address and crictl
	Root    string // containerd's root on the host; NodeRoot inside
	State   string // containerd's state on the host; NodeState inside
	RunDir  string // the same as State, kept for callers that name it so
	LogFile string // containerd's stdout and stderr

	cmd      *exec.Cmd
	exited   chan struct{}
	mu       sync.Mutex
	busybox  string // lazily built busybox rootfs for ctr run --rootfs
	wrappers map[string]*RuntimeWrapper
}

// CtrNamespace is the containerd namespace CtrRun uses unless told otherwise.
const CtrNamespace = "guard-test"

// NodeRoot and NodeState are containerd's root and state directories on a
// node, where the private daemon sees its own.
const (
	NodeRoot  = "/var/lib/containerd"
	NodeState = "/run/containerd"
)

// ctrdTools are the host programs a private containerd needs, with the
// Debian package that provides each.
var ctrdTools = [][2]string{
	{"containerd", "containerd"},
	{"ctr", "containerd"},
	{"containerd-shim-runc-v2", "containerd"},
	{"runc", "runc"},
	{"unshare", "util-linux"},
	{"nsenter", "util-linux"},
	{"mount", "mount"},
}

// StartContainerd starts a private containerd with the CRI plugin disabled,
// for `ctr run` only. Use StartCRI for a daemon that also serves crictl; its
// Containerd can run ctr containers too.
func StartContainerd() (*Containerd, error) {
	return ctrdStart(ctrdConfigOptions{})
}

type ctrdConfigOptions struct {
	// criSection lays out what the CRI plugin needs under the daemon's
	// directory and returns its [plugins."io.containerd.grpc.v1.cri"] table;
	// nil disables the CRI plugin.
	criSection func(c *Containerd) (string, error)
}

func ctrdStart(opts ctrdConfigOptions) (*Containerd, error) {
	if err := ctrdNeedTools(ctrdTools); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "guard-ctrd-")
	if err != nil {
		return nil, fmt.Errorf("create containerd directory: %w", err)
	}
	c := &Containerd{
		Dir:     dir,
		Address: filepath.Join(dir, "containerd.sock"),
		Root:    filepath.Join(dir, "root"),
		State:   filepath.Join(dir, "run"),
		RunDir:  filepath.Join(dir, "run"),
		LogFile: filepath.Join(dir, "containerd.log"),
	}
	if err := c.start(opts); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Containerd) start(opts ctrdConfigOptions) error {
	for _, d := range []string{c.Root, c.State, c.RunDir, c.fifoDir()} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	cri := ""
	if opts.criSection != nil {
		section, err := opts.criSection(c)
		if err != nil {
			return err
		}
		cri = section
	}
	configPath := filepath.Join(c.Dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(c.config(opts.criSection != nil, cri)), 0o644); err != nil {
		return fmt.Errorf("write containerd config: %w", err)
	}
	// The binds need mount points; these are containerd's own default
	// directories, which its package creates anyway, so creating them empty
	// disturbs nothing. They stay: another private daemon may be using them
	// as mount points in its own namespace.
	for _, d := range []string{NodeState, NodeRoot} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return fmt.Errorf("create %s as a mount point: %w", d, err)
		}
	}
	logFile, err := os.OpenFile(c.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open containerd log: %w", err)
	}
	defer logFile.Close()
	c.cmd = exec.Command("unshare", "--mount", "--propagation", "private", "--",
		"/bin/sh", "-c", `mount --bind "$1" "$2" && mount --bind "$3" "$4" && exec containerd --config "$5"`,
		"containerd-in-private-mount-ns", c.State, NodeState, c.Root, NodeRoot, configPath)
	c.cmd.Stdout = logFile
	c.cmd.Stderr = logFile
	// A test binary killed by a timeout must not leave the daemon behind.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start containerd: %w", err)
	}
	c.exited = make(chan struct{})
	go func() { c.cmd.Wait(); close(c.exited) }()
	return c.waitReady(30 * time.Second)
}

func (c *Containerd) fifoDir() string { return filepath.Join(c.Dir, "fifo") }

// config is containerd 1.6's configuration (version 2) for the private daemon.
func (c *Containerd) config(withCRI bool, cri string) string {
	disabled := []string{
		"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
		"io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
	}
	if !withCRI {
		disabled = append(disabled, "io.containerd.grpc.v1.cri")
	}
	return fmt.Sprintf(`# Private containerd for guard-runtime's tests.
version = 2
root = %q
state = %q
disabled_plugins = %s

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  path = %q
%s`, NodeRoot, NodeState, ctrdTOMLStrings(disabled), c.Address, c.Address+".ttrpc",
		filepath.Join(c.Dir, "opt"), cri)
}

func ctrdTOMLStrings(list []string) string {
	quoted := make([]string, len(list))
	for i, s := range list {
		quoted[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// waitReady waits until the daemon answers `ctr version`.
func (c *Containerd) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("containerd exited during start-up (%v); log:\n%s", c.cmd.ProcessState, c.LogTail(40))
		default:
		}
		if conn, err := net.Dial("unix", c.Address); err == nil {
			conn.Close()
			if r := c.Ctr(context.Background(), "", "version"); r.Err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd did not answer on %s within %v; log:\n%s", c.Address, timeout, c.LogTail(40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// InMountNamespace returns a command that runs in containerd's mount
// namespace, where its shims run: there NodeRoot and NodeState are the
// daemon's own, as the paths in its containers' bundles expect.
func (c *Containerd) InMountNamespace(ctx context.Context, name string, args ...string) *exec.Cmd {
	pid := 0
	if c.cmd != nil && c.cmd.Process != nil {
		pid = c.cmd.Process.Pid // unshare execs sh, which execs containerd
	}
	full := append([]string{"--target", strconv.Itoa(pid), "--mount", "--", name}, args...)
	return exec.CommandContext(ctx, "nsenter", full...)
}

// LogTail returns the last lines of containerd's log, for error messages.
func (c *Containerd) LogTail(lines int) string {
	data, err := os.ReadFile(c.LogFile)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// CtrResult is the outcome of one ctr command.
type CtrResult = CommandResult

// CommandResult is what an engine's command line (ctr, podman) did.
type CommandResult struct {
	Args     []string
	Stdout   string
	Stderr   string
	ExitCode int   // the command's exit status; for `ctr run` and `podman run` the container's
	Err      error // nil when the command exited 0
}

// runForResult runs cmd, whose arguments after the engine's own global
// flags are args, and collects what it did.
func runForResult(cmd *exec.Cmd, name string, full, args []string) CommandResult {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := CommandResult{Args: full, Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		r.ExitCode = -1
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			r.ExitCode = exitErr.ExitCode()
		}
		r.Err = fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(r.Stderr))
	}
	return r
}

// Ctr runs ctr against the private daemon in the given containerd
// namespace ("" for ctr's default). It runs in the daemon's mount
// namespace, as ctr on a node runs beside its containerd: ctr mounts a
// container's snapshot itself to read the image's /etc/passwd (`run` of an
// image, `tasks exec --user`), and the snapshots lie under NodeRoot there.
func (c *Containerd) Ctr(ctx context.Context, namespace string, args ...string) CtrResult {
	full := []string{"--address", c.Address}
	if namespace != "" {
		full = append(full, "--namespace", namespace)
	}
	full = append(full, args...)
	return runForResult(c.InMountNamespace(ctx, "ctr", full...), "ctr", full, args)
}

// CtrRunSpec describes one `ctr run --rm --runc-binary … --rootfs …`.
type CtrRunSpec struct {
	Runtime   string        // --runc-binary: a RuntimeWrapper's Path (the option takes no arguments)
	Rootfs    string        // default: a busybox rootfs shared by the instance
	Image     string        // an imported image to run instead of Rootfs
	ID        string        // default: a fresh one
	Namespace string        // default: CtrNamespace
	Flags     []string      // more ctr run flags: --privileged, --net-host, --mount …, --read-only
	Command   []string      // the process; required, the rootfs has no image config
	Timeout   time.Duration // default one minute
}

// CtrRun runs a container to completion and returns ctr's output. The
// container's stdout and stderr are ctr's; so are ctr's own errors, such as
// "OCI runtime create failed: …" when the runtime refuses the container.
func (c *Containerd) CtrRun(spec CtrRunSpec) CtrResult {
	if spec.Runtime == "" || len(spec.Command) == 0 {
		return CtrResult{ExitCode: -1, Err: errors.New("CtrRun needs Runtime and Command")}
	}
	if spec.Rootfs == "" && spec.Image == "" {
		rootfs, err := c.BusyboxRootfs()
		if err != nil {
			return CtrResult{ExitCode: -1, Err: err}
		}
		spec.Rootfs = rootfs
	}
	if spec.ID == "" {
		spec.ID = "ctr-" + ctrdRandomID()
	}
	if spec.Namespace == "" {
		spec.Namespace = CtrNamespace
	}
	if spec.Timeout == 0 {
		spec.Timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout)
	defer cancel()
	// FIFOs must be created where both ctr (host mount namespace) and the
	// shim (containerd's) see them, so not under /run/containerd.
	args := []string{"run", "--rm", "--fifo-dir", c.fifoDir(), "--runc-binary", spec.Runtime}
	args = append(args, spec.Flags...)
	if spec.Image != "" {
		args = append(args, spec.Image, spec.ID)
	} else {
		args = append(args, "--rootfs", spec.Rootfs, spec.ID)
	}
	args = append(args, spec.Command...)
	return c.Ctr(ctx, spec.Namespace, args...)
}

// CtrExec runs `ctr tasks exec` of command in a running container, as any
// client of containerd's API can; flags such as --user come before the
// container id. A refused exec is ctr's error, with the runtime's reason.
func (c *Containerd) CtrExec(namespace, id string, flags []string, command ...string) CtrResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"tasks", "exec", "--fifo-dir", c.fifoDir(), "--exec-id", "exec-" + ctrdRandomID()}, flags...)
	args = append(append(args, id), command...)
	return c.Ctr(ctx, namespace, args...)
}

// RuntimeWrapper returns the wrapper named name under Dir/runtimes that
// execs rt, writing it on first use; its Path is what CtrRunSpec.Runtime
// wants. Asking again for a name with a different rt is an error.
func (c *Containerd) RuntimeWrapper(name string, rt RuntimeCommand) (*RuntimeWrapper, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ctrdCachedWrapper(&c.wrappers, filepath.Join(c.Dir, "runtimes"), name, rt)
}

func ctrdCachedWrapper(cache *map[string]*RuntimeWrapper, dir, name string, rt RuntimeCommand) (*RuntimeWrapper, error) {
	if w, ok := (*cache)[name]; ok {
		if !slices.Equal(append([]string{w.Command.Path}, w.Command.Args...), append([]string{rt.Path}, rt.Args...)) {
			return nil, fmt.Errorf("runtime wrapper %q already runs %s %v", name, w.Command.Path, w.Command.Args)
		}
		return w, nil
	}
	w, err := WriteRuntimeWrapper(dir, name, rt, true)
	if err != nil {
		return nil, err
	}
	if *cache == nil {
		*cache = map[string]*RuntimeWrapper{}
	}
	(*cache)[name] = w
	return w, nil
}

// BusyboxRootfs returns a busybox root filesystem under Dir, built on first
// use, for `ctr run --rootfs`.
func (c *Containerd) BusyboxRootfs() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busybox != "" {
		return c.busybox, nil
	}
	dir := filepath.Join(c.Dir, "busybox-rootfs")
	if err := writeBusyboxRootfs(dir, true); err != nil {
		return "", err
	}
	c.busybox = dir
	return dir, nil
}

// ImportImage imports an OCI image archive into a namespace and unpacks it
// for the default snapshotter.
func (c *Containerd) ImportImage(namespace, archive string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return c.Ctr(ctx, namespace, "images", "import", "--platform", "linux/"+runtime.GOARCH, archive).Err
}

// ImportBusyboxImage builds a busybox image from the host's busybox-static
// and imports it under ref (e.g. "localhost/busybox:test") into namespace.
func (c *Containerd) ImportBusyboxImage(namespace, ref string) error {
	archive := filepath.Join(c.Dir, "images", strings.NewReplacer("/", "_", ":", "_").Replace(ref)+".tar")
	if err := WriteBusyboxImage(archive, ref); err != nil {
		return err
	}
	return c.ImportImage(namespace, archive)
}

// Stop removes every container the daemon still runs, stops it, kills shims
// it left behind and removes Dir. It is safe to call on a half-started
// instance and more than once.
func (c *Containerd) Stop() error {
	var errs []error
	if c.cmd != nil && c.cmd.Process != nil {
		select {
		case <-c.exited:
		default:
			c.removeAllContainers()
			c.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.exited:
			case <-time.After(10 * time.Second):
				c.cmd.Process.Kill()
				<-c.exited
			}
		}
	}
	ctrdKillShims(c.Address)
	if err := ctrdDeleteRuncLeftovers(filepath.Join(c.RunDir, "runc")); err != nil {
		errs = append(errs, err)
	}
	if c.Dir != "" {
		if err := os.RemoveAll(c.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", c.Dir, err))
		}
	}
	c.cmd = nil
	return errors.Join(errs...)
}

// removeAllContainers asks the daemon to kill and delete every task and
// container in every namespace, so that no shim or container outlives it.
func (c *Containerd) removeAllContainers() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	namespaces := strings.Fields(c.Ctr(ctx, "", "namespaces", "list", "--quiet").Stdout)
	// ctr puts a container's cgroup at /<namespace>/<id>.
	defer func() {
		var parents []string
		for _, ns := range namespaces {
			parents = append(parents, "/"+ns)
		}
		ctrdPruneCgroups(parents)
	}()
	for _, ns := range namespaces {
		for _, id := range strings.Fields(c.Ctr(ctx, ns, "tasks", "list", "--quiet").Stdout) {
			c.Ctr(ctx, ns, "tasks", "delete", "--force", id)
		}
		for _, id := range strings.Fields(c.Ctr(ctx, ns, "containers", "list", "--quiet").Stdout) {
			c.Ctr(ctx, ns, "containers", "delete", id)
		}
	}
}

// ctrdKillShims kills runc v2 shims started for the daemon at address that
// are still alive; a shim outlives containerd by design.
func ctrdKillShims(address string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-address" && args[i+1] == address {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// ctrdDeleteRuncLeftovers force-deletes containers left in the runc roots
// under dir (one per containerd namespace), which also removes their cgroups.
func ctrdDeleteRuncLeftovers(dir string) error {
	roots, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var errs []error
	for _, root := range roots {
		rootDir := filepath.Join(dir, root.Name())
		ids, _ := os.ReadDir(rootDir)
		for _, id := range ids {
			out, err := exec.Command("runc", "--root", rootDir, "delete", "--force", id.Name()).CombinedOutput()
			if err != nil {
				errs = append(errs, fmt.Errorf("runc delete --force %s: %w: %s", id.Name(), err, out))
			}
		}
	}
	return errors.Join(errs...)
}

// ctrdPruneCgroups removes each cgroup path and then its parents, in every
// hierarchy, as long as they are empty: runc removes a container's own
// cgroup but leaves the parents it created. A cgroup still in use by
// anyone stays, because rmdir refuses a non-empty cgroup.
func ctrdPruneCgroups(paths []string) {
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	hierarchies = append(hierarchies, "/sys/fs/cgroup")
	for _, path := range paths {
		for _, h := range hierarchies {
			for dir := filepath.Join(h, path); len(dir) > len(h); dir = filepath.Dir(dir) {
				if err := syscall.Rmdir(dir); err != nil {
					break
				}
			}
		}
	}
}

// ctrdNeedTools checks that each named program is on PATH; the error
// names the Debian package to install for each missing one.
func ctrdNeedTools(tools [][2]string) error {
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool[0]); err != nil {
			missing = append(missing, fmt.Sprintf("%s (apt-get install -y %s)", tool[0], tool[1]))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing on this host: %s", strings.Join(missing, ", "))
	}
	return nil
}

func ctrdRandomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// --- The runtime an engine calls -----------------------------------------

// RuntimeCommand is the command line that stands where an engine expects
// runc: today plain runc, later guard-runtime with its leading flags.
type RuntimeCommand struct {
	Path string   // absolute path of the binary
	Args []string // flags put before the engine's arguments
}

// RuncCommand is the host's runc with no extra flags.
func RuncCommand() (RuntimeCommand, error) {
	path, err := exec.LookPath("runc")
	if err != nil {
		return RuntimeCommand{}, errors.New("runc not found: apt-get install -y runc")
	}
	return RuntimeCommand{Path: path}, nil
}

// GuardRuntimeCommand is guard-runtime with a config file and a policy, the
// way a node's wrapper or Docker's runtimeArgs call it.
func GuardRuntimeCommand(binary, configFile, policy string) RuntimeCommand {
	return RuntimeCommand{Path: binary, Args: []string{"--guard-config", configFile, "--guard-policy=" + policy}}
}

// RefuseEnv, set in a container's environment, makes RefusingRuntime
// refuse to create it; RefusalReason is what it says.
const (
	RefuseEnv     = "GUARD_TEST_REFUSE=1"
	RefusalReason = "refused by the test runtime: GUARD_TEST_REFUSE=1 is set"
)

// RefusingRuntime stands in for a runtime that denies a container: on
// create or run of a bundle whose config.json holds RefuseEnv it fails the
// way guard-runtime does, with an error record in runc's --log file (where
// the containerd shim looks) and the reason on stderr (where podman looks).
// Everything else goes to runc. It shows that a denial's reason reaches
// ctr, crictl and podman before guard-runtime exists.
func RefusingRuntime() (RuntimeCommand, error) {
	runc, err := RuncCommand()
	if err != nil {
		return RuntimeCommand{}, err
	}
	script := `log= bundle=. sub= prev=
for arg in "$@"; do
	case "$prev" in --log) log=$arg ;; --bundle|-b) bundle=$arg ;; esac
	case "$arg" in --log=*) log=${arg#--log=} ;; --bundle=*) bundle=${arg#--bundle=} ;; create|run) [ -n "$sub" ] || sub=$arg ;; esac
	prev=$arg
done
if [ -n "$sub" ] && grep -q "` + RefuseEnv + `" "$bundle/config.json" 2>/dev/null; then
	[ -z "$log" ] || printf '{"level":"error","msg":"%s","time":"%s"}
' "$REASON" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$log"
	echo "$REASON" >&2
	exit 1
fi
exec "$RUNC" "$@"`
	return RuntimeCommand{Path: "/usr/bin/env", Args: []string{
		"REASON=" + RefusalReason, "RUNC=" + runc.Path, "/bin/sh", "-c", script, "refusing-runtime"}}, nil
}

// RuntimeWrapper is a /bin/sh script an engine calls as its runtime. It
// appends the engine's arguments to ArgvLog (one call per line, arguments
// joined by single spaces), copies the documents a call hands over into
// CaptureDir when capture is on, and execs Command with its Args in front of
// the engine's arguments. It leaves stdin alone: `update --resources -`
// reads the resources from it.
type RuntimeWrapper struct {
	Path       string
	ArgvLog    string
	CaptureDir string // "" when capture is off
	Command    RuntimeCommand
}

// WriteRuntimeWrapper writes the script dir/name, its argv log
// dir/name.argv and, with capture, the directory dir/name.captured where
// `create`/`run` leave <container id>.json (the bundle's config.json) and
// `exec` leaves exec-<container id>-<pid>.json (the --process file).
func WriteRuntimeWrapper(dir, name string, rt RuntimeCommand, capture bool) (*RuntimeWrapper, error) {
	w := &RuntimeWrapper{
		Path:    filepath.Join(dir, name),
		ArgvLog: filepath.Join(dir, name+".argv"),
		Command: rt,
	}
	if capture {
		w.CaptureDir = filepath.Join(dir, name+".captured")
		if err := os.MkdirAll(w.CaptureDir, 0o755); err != nil {
			return nil, fmt.Errorf("create capture directory: %w", err)
		}
	}
	execLine := []string{ctrdShellQuote(rt.Path)}
	for _, arg := range rt.Args {
		execLine = append(execLine, ctrdShellQuote(arg))
	}
	script := fmt.Sprintf(ctrdWrapperScript, ctrdShellQuote(w.ArgvLog), ctrdShellQuote(w.CaptureDir),
		strings.Join(execLine, " "))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create wrapper directory: %w", err)
	}
	if err := os.WriteFile(w.Path, []byte(script), 0o755); err != nil {
		return nil, fmt.Errorf("write runtime wrapper: %w", err)
	}
	return w, nil
}

// ctrdWrapperScript finds the subcommand the way runc does: the first
// argument that is neither a global flag nor the value of one.
const ctrdWrapperScript = `#!/bin/sh
# Runtime wrapper written by guard-runtime's test harness.
printf '%%s\n' "$*" >>%s
capture=%s
if [ -n "$capture" ]; then
	sub= prev= bundle= process= last=
	for arg in "$@"; do
		if [ -z "$sub" ]; then
			case "$prev" in
			--root|--log|--log-format|--criu) ;;
			*) case "$arg" in -*) ;; *) sub=$arg ;; esac ;;
			esac
		else
			case "$prev" in --bundle|-b) bundle=$arg ;; --process|-p) process=$arg ;; esac
			case "$arg" in --bundle=*) bundle=${arg#--bundle=} ;; --process=*) process=${arg#--process=} ;; esac
		fi
		prev=$arg
		last=$arg
	done
	case "$sub" in
	create|run) cp "${bundle:-.}/config.json" "$capture/$last.json" ;;
	exec) [ -z "$process" ] || cp "$process" "$capture/exec-$last-$$.json" ;;
	esac
fi
exec %s "$@"
`

func ctrdShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Calls returns the engine's argument lists, one per runtime call, in order.
func (w *RuntimeWrapper) Calls() ([][]string, error) {
	data, err := os.ReadFile(w.ArgvLog)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read argv log: %w", err)
	}
	var calls [][]string
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		calls = append(calls, strings.Fields(scanner.Text()))
	}
	return calls, scanner.Err()
}

// Captured returns the config.json the wrapper saw for a container's create.
func (w *RuntimeWrapper) Captured(id string) ([]byte, error) {
	if w.CaptureDir == "" {
		return nil, errors.New("runtime wrapper was written without capture")
	}
	return os.ReadFile(filepath.Join(w.CaptureDir, id+".json"))
}

// CapturedExecs returns the --process files of a container's execs, oldest first.
func (w *RuntimeWrapper) CapturedExecs(id string) ([][]byte, error) {
	if w.CaptureDir == "" {
		return nil, errors.New("runtime wrapper was written without capture")
	}
	paths, err := filepath.Glob(filepath.Join(w.CaptureDir, "exec-"+id+"-*.json"))
	if err != nil {
		return nil, err
	}
	sort.Slice(paths, func(i, j int) bool {
		a, _ := os.Stat(paths[i])
		b, _ := os.Stat(paths[j])
		return a != nil && b != nil && a.ModTime().Before(b.ModTime())
	})
	var docs [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		docs = append(docs, data)
	}
	return docs, nil
}

// --- Images and root filesystems without a registry ---------------------

// ctrdImageConfig is the part of an OCI image configuration the harness sets.
type ctrdImageConfig struct {
	User       string   `json:"User,omitempty"`
	Env        []string `json:"Env,omitempty"`
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

const ctrdDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// WriteBusyboxImage writes an OCI image archive of busybox named ref,
// ready for `ctr images import`, with the accounts of busyboxFiles.
func WriteBusyboxImage(archive, ref string) error {
	files, err := busyboxFiles(true)
	if err != nil {
		return err
	}
	return ctrdWriteOCIArchive(archive, ref, ctrdImageConfig{
		Env: []string{ctrdDefaultPath}, Cmd: []string{"/bin/sh"}, WorkingDir: "/",
	}, files)
}

// ctrdWriteOCIArchive writes an OCI image layout as a tar archive: one
// gzipped layer, a config, a manifest and an index whose entry carries the
// image name, which is how `ctr images import` learns it.
func ctrdWriteOCIArchive(archive, ref string, cfg ctrdImageConfig, files []rootfsFile) error {
	layer, diffID, err := ctrdLayer(files)
	if err != nil {
		return err
	}
	epoch := "1970-01-01T00:00:00Z"
	config, _ := json.Marshal(map[string]any{
		"created": epoch, "architecture": runtime.GOARCH, "os": "linux", "config": cfg,
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		"history": []map[string]any{{"created": epoch, "created_by": "guard-runtime test harness"}},
	})
	blobs := map[string][]byte{}
	descriptor := func(mediaType string, data []byte) map[string]any {
		digest := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
		blobs[digest] = data
		return map[string]any{"mediaType": mediaType, "digest": digest, "size": len(data)}
	}
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor("application/vnd.oci.image.config.v1+json", config),
		"layers":        []any{descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)},
	})
	entry := descriptor("application/vnd.oci.image.manifest.v1+json", manifest)
	entry["platform"] = map[string]string{"architecture": runtime.GOARCH, "os": "linux"}
	tag := ref[strings.LastIndex(ref, ":")+1:]
	entry["annotations"] = map[string]string{"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag}
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []any{entry},
	})

	if err := os.MkdirAll(filepath.Dir(archive), 0o755); err != nil {
		return fmt.Errorf("create image directory: %w", err)
	}
	out, err := os.Create(archive)
	if err != nil {
		return fmt.Errorf("create image archive: %w", err)
	}
	tw := tar.NewWriter(out)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	err = add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	if err == nil {
		err = add("index.json", index)
	}
	digests := make([]string, 0, len(blobs))
	for d := range blobs {
		digests = append(digests, d)
	}
	sort.Strings(digests)
	for _, d := range digests {
		if err == nil {
			err = add("blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), blobs[d])
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write image archive %s: %w", archive, err)
	}
	return nil
}

// ctrdLayer returns the gzipped layer and the digest of its uncompressed tar.
func ctrdLayer(files []rootfsFile) (layer []byte, diffID string, err error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, f := range files {
		hdr := &tar.Header{Name: f.Path, Mode: int64(f.Mode.Perm()), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if f.Mode&os.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		switch {
		case f.Dir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, f.Path+"/"
		case f.Link != "":
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, f.Link
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, "", fmt.Errorf("layer entry %s: %w", f.Path, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, "", fmt.Errorf("layer entry %s: %w", f.Path, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	diffID = fmt.Sprintf("sha256:%x", sha256.Sum256(raw.Bytes()))
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if _, err := io.Copy(zw, &raw); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return gz.Bytes(), diffID, nil
}

// --- Building the project's test commands -------------------------------

// ctrdModuleRoot is the guard-runtime source tree the harness belongs to.
func ctrdModuleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if ok {
		root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root, nil
		}
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("cannot find the guard-runtime module root: run the tests from the source tree")
	}
	return filepath.Dir(gomod), nil
}

// ctrdGoBuild builds a static binary of a package of this module.
func ctrdGoBuild(pkg, out string) error {
	root, err := ctrdModuleRoot()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("go"); err != nil {
		return errors.New("go not found: the tests build their helper commands with the Go toolchain")
	}
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, output)
	}
	return nil
}

// --- One engine per test binary -----------------------------------------

// ctrdShared holds the engines a test binary shares: starting containerd
// once per package instead of once per test keeps the suite fast.
var ctrdShared struct {
	sync.Mutex
	containerd    *Containerd
	containerdErr error
	cri           *CRI
	criErr        error
	podman        *Podman
	podmanErr     error
}

// SharedContainerd returns the test binary's private containerd (CRI plugin
// off), starting it on first use. A start-up failure fails every caller with
// the same message. TestMain must call CloseSharedEngines.
func SharedContainerd(t testing.TB) *Containerd {
	t.Helper()
	return shareEngine(t, &ctrdShared.containerd, &ctrdShared.containerdErr, "private containerd", func() (*Containerd, error) { return StartContainerd() })
}

// shareEngine starts an engine on first use, under ctrdShared's lock, and
// fails every caller with the same message when it could not start.
func shareEngine[E any](t testing.TB, engine **E, startErr *error, what string, start func() (*E, error)) *E {
	t.Helper()
	ctrdShared.Lock()
	defer ctrdShared.Unlock()
	if *engine == nil && *startErr == nil {
		*engine, *startErr = start()
	}
	if *startErr != nil {
		t.Fatalf("%s: %v", what, *startErr)
	}
	return *engine
}

// CloseSharedEngines stops whatever SharedContainerd, SharedCRI and
// SharedPodman started. Call it from TestMain after m.Run.
func CloseSharedEngines() error {
	ctrdShared.Lock()
	defer ctrdShared.Unlock()
	var errs []error
	if ctrdShared.cri != nil {
		errs = append(errs, ctrdShared.cri.Close())
	}
	if ctrdShared.containerd != nil {
		errs = append(errs, ctrdShared.containerd.Stop())
	}
	if ctrdShared.podman != nil {
		errs = append(errs, ctrdShared.podman.Close())
	}
	ctrdShared.cri, ctrdShared.containerd, ctrdShared.podman = nil, nil, nil
	return errors.Join(errs...)
}

// BuildCommand builds a command of this module (e.g. "./tests/cmd/pause")
// as a static binary in the test's temp dir and returns its path.
func BuildCommand(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if err := ctrdGoBuild(pkg, out); err != nil {
		t.Fatalf("build %s: %v", pkg, err)
	}
	return out
}
