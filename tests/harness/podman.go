package harness

import (
	"context"
	"errors"
	"fmt"
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

// Podman runs Debian's podman with private storage, state, locks, events
// and network configuration under Dir, so that it leaves the host's podman
// state alone. Podman is daemonless: nothing runs between two calls.
//
// What stays global: runc keeps a running container's state in /run/runc
// (podman passes runc no --root), and rootful podman always opens its
// netavark IPAM database under /run/containers/networks.
type Podman struct {
	Dir            string
	Root           string // --root: images and containers
	RunRoot        string // --runroot
	TmpDir         string // --tmpdir: libpod's state, file locks
	ContainersConf string // CONTAINERS_CONF, with the runtimes table
	StorageConf    string // CONTAINERS_STORAGE_CONF

	mu       sync.Mutex
	rootfs   string
	wrappers map[string]*RuntimeWrapper
}

// PodmanUlimits are the rlimits every container here needs: podman's
// defaults (nofile 1048576, nproc 32768 or more) are above this machine's
// hard limits, and raising a hard limit needs CAP_SYS_RESOURCE.
var PodmanUlimits = []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

var podmanTools = [][2]string{{"podman", "podman"}, {"conmon", "conmon"}, {"runc", "runc"}}

// NewPodman prepares a private podman; AddRuntime fills its runtimes table.
func NewPodman() (*Podman, error) {
	if err := ctrdNeedTools(podmanTools); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "guard-podman-")
	if err != nil {
		return nil, fmt.Errorf("create podman directory: %w", err)
	}
	p := &Podman{
		Dir:            dir,
		Root:           filepath.Join(dir, "root"),
		RunRoot:        filepath.Join(dir, "runroot"),
		TmpDir:         filepath.Join(dir, "tmp"),
		ContainersConf: filepath.Join(dir, "containers.conf"),
		StorageConf:    filepath.Join(dir, "storage.conf"),
	}
	if err := p.writeConfig(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

// writeConfig isolates podman: with CONTAINERS_CONF set it reads no other
// containers.conf. File locks replace the shared-memory lock segment
// /dev/shm/libpod_lock, which every rootful podman on the host shares and
// which a fresh tmpdir would reset.
func (p *Podman) writeConfig() error {
	var b strings.Builder
	fmt.Fprintf(&b, `# Private podman for guard-runtime's tests.
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q
lock_type = "file"

[engine.runtimes]
`, filepath.Join(p.Dir, "events.log"), p.TmpDir)
	names := make([]string, 0, len(p.wrappers))
	for name := range p.wrappers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "%q = [%q]\n", name, p.wrappers[name].Path)
	}
	fmt.Fprintf(&b, "\n[network]\nnetwork_config_dir = %q\n", filepath.Join(p.Dir, "networks"))
	if err := os.WriteFile(p.ContainersConf, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write containers.conf: %w", err)
	}
	storage := fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", p.Root, p.RunRoot)
	if err := os.WriteFile(p.StorageConf, []byte(storage), 0o644); err != nil {
		return fmt.Errorf("write storage.conf: %w", err)
	}
	return nil
}

// AddRuntime writes a RuntimeWrapper named name under Dir/runtimes that
// execs rt and enters it in the [engine.runtimes] table of containers.conf,
// so that both `--runtime <wrapper path>` and `--runtime <name>` work, as on
// a host configured for guard-runtime. Adding a name again returns the same
// wrapper.
func (p *Podman) AddRuntime(name string, rt RuntimeCommand) (*RuntimeWrapper, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, err := ctrdCachedWrapper(&p.wrappers, filepath.Join(p.Dir, "runtimes"), name, rt)
	if err != nil {
		return nil, err
	}
	return w, p.writeConfig()
}

// PodmanResult is the outcome of one podman command.
type PodmanResult = CommandResult

// Podman runs podman with the private global flags in front of args.
func (p *Podman) Podman(ctx context.Context, args ...string) PodmanResult {
	full := []string{"--root", p.Root, "--runroot", p.RunRoot, "--tmpdir", p.TmpDir,
		"--cgroup-manager", "cgroupfs", "--events-backend", "file"}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, "podman", full...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.ContainersConf, "CONTAINERS_STORAGE_CONF="+p.StorageConf)
	return runForResult(cmd, "podman", full, args)
}

// PodmanRunSpec describes one `podman --runtime … run --rm … --rootfs DIR CMD`.
type PodmanRunSpec struct {
	Runtime string        // --runtime: a wrapper's path or a name from the runtimes table
	Rootfs  string        // default: a busybox rootfs shared by the instance
	Flags   []string      // more run flags: --user, --privileged, --network host, -v …
	Command []string      // the process; required
	Timeout time.Duration // default one minute
}

// Run runs a container to completion with --network none and
// PodmanUlimits unless Flags says otherwise. The runtime's error output
// reaches Stderr: podman passes no --log, so guard-runtime's denials are
// printed there.
func (p *Podman) Run(spec PodmanRunSpec) PodmanResult {
	if spec.Runtime == "" || len(spec.Command) == 0 {
		return PodmanResult{ExitCode: -1, Err: errors.New("Podman.Run needs Runtime and Command")}
	}
	if spec.Rootfs == "" {
		rootfs, err := p.BusyboxRootfs()
		if err != nil {
			return PodmanResult{ExitCode: -1, Err: err}
		}
		spec.Rootfs = rootfs
	}
	if spec.Timeout == 0 {
		spec.Timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout)
	defer cancel()
	args := []string{"--runtime", spec.Runtime, "run", "--rm"}
	if !podmanHasFlag(spec.Flags, "--network", "--net") {
		args = append(args, "--network", "none")
	}
	if !podmanHasFlag(spec.Flags, "--ulimit") {
		args = append(args, PodmanUlimits...)
	}
	args = append(args, spec.Flags...)
	// --rootfs is a boolean that makes the next argument the rootfs and
	// ends podman's flags: every run flag must come before it.
	args = append(args, "--rootfs", spec.Rootfs)
	args = append(args, spec.Command...)
	return p.Podman(ctx, args...)
}

func podmanHasFlag(flags []string, names ...string) bool {
	for _, f := range flags {
		for _, name := range names {
			if f == name || strings.HasPrefix(f, name+"=") {
				return true
			}
		}
	}
	return false
}

// BusyboxRootfs returns a busybox root filesystem under Dir, built on
// first use.
func (p *Podman) BusyboxRootfs() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rootfs != "" {
		return p.rootfs, nil
	}
	dir := filepath.Join(p.Dir, "busybox-rootfs")
	if err := writeBusyboxRootfs(dir, true); err != nil {
		return "", err
	}
	p.rootfs = dir
	return dir, nil
}

// Close removes every container of the private podman and its directory.
func (p *Podman) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	if r := p.Podman(ctx, "rm", "--all", "--force"); r.Err != nil {
		errs = append(errs, r.Err)
	}
	// conmon runs `podman container cleanup` when a container exits, also
	// one the runtime refused; it writes into Dir while it runs.
	p.waitForCleanup(10 * time.Second)
	if err := os.RemoveAll(p.Dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", p.Dir, err))
	}
	// With cgroupfs, podman parents containers at /libpod_parent and conmon
	// at /libpod_parent/conmon.
	ctrdPruneCgroups([]string{"/libpod_parent/conmon"})
	return errors.Join(errs...)
}

// waitForCleanup waits until no conmon or podman process of this instance
// (one that names Dir on its command line) is left, and kills those that
// outlast the timeout.
func (p *Podman) waitForCleanup(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		pids := p.instancePids()
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *Podman) instancePids() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), p.Dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// SharedPodman returns the test binary's private podman, prepared on first
// use. TestMain must call CloseSharedEngines.
func SharedPodman(t testing.TB) *Podman {
	t.Helper()
	return shareEngine(t, &ctrdShared.podman, &ctrdShared.podmanErr, "private podman", func() (*Podman, error) { return NewPodman() })
}
