package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runningContainer is a busybox container started detached through
// guard-runtime, with a cgroup path of its own so that its limits can be
// read from the host.
type runningContainer struct {
	env                *runcEnv
	id, bundle, cgroup string
}

func (c *runningContainer) log() string { return filepath.Join(c.bundle, "log.json") }

// startContainer runs `guard-runtime --guard-policy=P run -d` on a bundle
// whose process is `sleep 600` as uid 1000.
func (e *runcEnv) startContainer(t *testing.T, policy, name string) *runningContainer {
	t.Helper()
	c := &runningContainer{env: e, id: name, cgroup: fmt.Sprintf("/guard-e2e-%d-%s", os.Getpid(), name)}
	c.bundle = e.bundle(t, []string{"sleep", "600"}, func(s *specs.Spec) {
		nonRootWithSeccomp(t)(s)
		s.Linux.CgroupsPath = c.cgroup
	})
	t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", c.id).Run() })
	// A detached container keeps runc's stdio: files, not pipes, so that
	// waiting for guard-runtime does not wait for the container.
	out, err := os.Create(filepath.Join(c.bundle, "run.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(e.guard, "--guard-config", e.config, "--guard-policy="+policy, "--root", e.root,
		"--log", c.log(), "--log-format", "json", "run", "-d", "--bundle", c.bundle, c.id)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(out.Name())
		t.Fatalf("start container %s under %s: %v\n%s", c.id, policy, err, data)
	}
	return c
}

// guard runs guard-runtime with runc's global flags for this container;
// policy "" leaves --guard-policy out.
func (c *runningContainer) guard(policy string, stdin []byte, args ...string) (string, string, error) {
	full := []string{"--guard-config", c.env.config}
	if policy != "" {
		full = append(full, "--guard-policy="+policy)
	}
	full = append(full, "--root", c.env.root, "--log", c.log(), "--log-format", "json")
	var out, errOut bytes.Buffer
	cmd := exec.Command(c.env.guard, append(full, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// cgroupValue reads one of the container's cgroup v1 files from the host.
func (c *runningContainer) cgroupValue(t *testing.T, controller, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", controller, c.cgroup, file))
	if err != nil {
		t.Fatalf("read the container's cgroup (this test needs cgroup v1 mounted at /sys/fs/cgroup): %v", err)
	}
	return strings.TrimSpace(string(data))
}

// execProcess writes a process file from one of Docker's exec captures,
// changed by edit.
func execProcess(t *testing.T, capture string, edit func(*specs.Process)) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "enforce", "testdata", "docker", capture))
	if err != nil {
		t.Fatalf("%v (get the captures with: git checkout docker -- enforce/testdata/docker)", err)
	}
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&p)
	}
	if data, err = json.Marshal(p); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func runs(args ...string) func(*specs.Process) {
	return func(p *specs.Process) { p.Args = args }
}

// assertDenied checks that a call was refused by policy for the reason
// want, on stderr and as the last error of runc's log, which is what
// containerd shows.
func (c *runningContainer) assertDenied(t *testing.T, stderr string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("admitted; want a denial containing %q", want)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	logData, _ := os.ReadFile(c.log())
	lines := strings.Split(strings.TrimSpace(string(logData)), "\n")
	var last struct{ Level, Msg string }
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if last.Level != "error" || !strings.Contains(last.Msg, want) {
		t.Errorf("the last line of runc's log is not the denial %q:\n%s", want, lines[len(lines)-1])
	}
}

const (
	capNetBindServiceOnly = "CapBnd:\t0000000000000400"
	restrictedMemory      = "536870912"
)

var capProbe = []string{"sh", "-c", "echo uid=$(id -u); grep -E '^(CapBnd|CapEff|NoNewPrivs)' /proc/self/status"}

func TestExecIntoARestrictedContainer(t *testing.T) {
	e := newRuncEnv(t)
	c := e.startContainer(t, "restricted", "e2e-exec")
	id := c.id

	t.Run("as uid 0 is denied", func(t *testing.T) {
		file := execProcess(t, "exec-user-0.json", runs("true"))
		before, _ := os.ReadFile(file)
		_, errOut, err := c.guard("restricted", nil, "exec", "--process", file, id)
		c.assertDenied(t, errOut, err, `policy "restricted" denied exec in container `+id+`: runs as root (uid 0)`)
		if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
			t.Error("the process file of a denied exec changed")
		}
	})
	t.Run("with CAP_SYS_ADMIN is denied", func(t *testing.T) {
		file := execProcess(t, "exec-user-1000.json", func(p *specs.Process) {
			p.Args = []string{"true"}
			p.Capabilities.Bounding = append(p.Capabilities.Bounding, "CAP_SYS_ADMIN")
			p.Capabilities.Effective = append(p.Capabilities.Effective, "CAP_SYS_ADMIN")
		})
		_, errOut, err := c.guard("restricted", nil, "exec", "--process", file, id)
		c.assertDenied(t, errOut, err, "capability CAP_SYS_ADMIN is not allowed by policy restricted: remove --cap-add SYS_ADMIN")
	})
	t.Run("with Docker's default capabilities is rewritten", func(t *testing.T) {
		file := execProcess(t, "exec-user-1000.json", runs(capProbe...))
		out, errOut, err := c.guard("restricted", nil, "exec", "--process", file, id)
		if err != nil {
			t.Fatalf("exec refused: %v\n%s", err, errOut)
		}
		for _, want := range []string{"uid=1000", capNetBindServiceOnly, "NoNewPrivs:\t1"} {
			if !strings.Contains(out, want) {
				t.Errorf("exec output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("through a runtime entry with another policy gets the creator's", func(t *testing.T) {
		file := execProcess(t, "exec-user-0.json", runs("true"))
		_, errOut, err := c.guard("baseline", nil, "exec", "--process", file, id)
		c.assertDenied(t, errOut, err, `policy "restricted" denied exec in container `+id+`: runs as root`)
		// baseline alone would keep Docker's default set.
		file = execProcess(t, "exec-user-1000.json", runs(capProbe...))
		out, errOut, err := c.guard("baseline", nil, "exec", "--process", file, id)
		if err != nil || !strings.Contains(out, capNetBindServiceOnly) {
			t.Errorf("exec through baseline: %v\n%s%s", err, out, errOut)
		}
	})
	t.Run("without --process runs the container's process as judged", func(t *testing.T) {
		out, errOut, err := c.guard("", nil, append([]string{"exec", id}, capProbe...)...)
		if err != nil || !strings.Contains(out, "uid=1000") || !strings.Contains(out, capNetBindServiceOnly) {
			t.Errorf("exec from flags: %v\n%s%s", err, out, errOut)
		}
		out, errOut, err = c.guard("", nil, append([]string{"exec", "--cap", "CAP_CHOWN", "--env", "X=1", id}, capProbe...)...)
		if err != nil || !strings.Contains(out, capNetBindServiceOnly) {
			t.Errorf("exec --cap CAP_CHOWN was not reduced: %v\n%s%s", err, out, errOut)
		}
		// runc gets the judged process in a memory file; it must not leak
		// into the container.
		out, errOut, err = c.guard("", nil, "exec", id, "ls", "-l", "/proc/self/fd/")
		if err != nil || strings.Contains(out, "memfd") {
			t.Errorf("descriptors of the exec: %v\n%s%s", err, out, errOut)
		}
	})
	t.Run("after a delete runc refuses, still gets the creator's", func(t *testing.T) {
		if _, errOut, err := c.guard("audit", nil, "delete", id); err == nil {
			t.Fatalf("runc deleted a running container without --force:\n%s", errOut)
		}
		file := execProcess(t, "exec-user-0.json", runs("true"))
		_, errOut, err := c.guard("audit", nil, "exec", "--process", file, id)
		c.assertDenied(t, errOut, err, `policy "restricted" denied exec in container `+id+`: runs as root`)
	})
	t.Run("without --process as root is denied", func(t *testing.T) {
		_, errOut, err := c.guard("", nil, "exec", "--user", "0", id, "true")
		c.assertDenied(t, errOut, err, "runs as root")
		_, errOut, err = c.guard("", nil, "exec", "--cap", "CAP_SYS_ADMIN", id, "true")
		c.assertDenied(t, errOut, err, "CAP_SYS_ADMIN")
	})
}

func TestUpdateOfARestrictedContainer(t *testing.T) {
	e := newRuncEnv(t)
	c := e.startContainer(t, "restricted", "e2e-update")
	id := c.id
	if got := c.cgroupValue(t, "memory", "memory.limit_in_bytes"); got != restrictedMemory {
		t.Fatalf("the container started with memory.limit_in_bytes %s, want restricted's default %s", got, restrictedMemory)
	}

	t.Run("to 8 GiB is denied", func(t *testing.T) {
		_, errOut, err := c.guard("restricted", []byte(`{"memory":{"limit":8589934592,"swap":8589934592}}`), "update", "--resources", "-", id)
		c.assertDenied(t, errOut, err, `policy "restricted" denied update of container `+id+`: /memory/limit 8589934592 is above the maximum`)
		if got := c.cgroupValue(t, "memory", "memory.limit_in_bytes"); got != restrictedMemory {
			t.Errorf("memory.limit_in_bytes %s after a denied update", got)
		}
	})
	t.Run("to 1 GiB is applied, swap with it", func(t *testing.T) {
		// No swap: runc would keep the old 512 MiB memory+swap limit,
		// which the kernel refuses below the new limit.
		_, errOut, err := c.guard("restricted", []byte(`{"memory":{"limit":1073741824}}`), "update", "--resources", "-", id)
		if err != nil {
			t.Fatalf("update refused: %v\n%s", err, errOut)
		}
		if got := c.cgroupValue(t, "memory", "memory.limit_in_bytes"); got != "1073741824" {
			t.Errorf("memory.limit_in_bytes %s, want 1073741824", got)
		}
		if got := c.cgroupValue(t, "memory", "memory.memsw.limit_in_bytes"); got != "1073741824" {
			t.Errorf("memory.memsw.limit_in_bytes %s, want 1073741824", got)
		}
	})
	t.Run("with pids -1 is denied", func(t *testing.T) {
		_, errOut, err := c.guard("restricted", []byte(`{"pids":{"limit":-1}}`), "update", "--resources", "-", id)
		c.assertDenied(t, errOut, err, "/pids/limit -1 means no pids limit")
		if got := c.cgroupValue(t, "pids", "pids.max"); got != "1024" {
			t.Errorf("pids.max %s after a denied update, want 1024", got)
		}
	})
	t.Run("with flags is applied as judged", func(t *testing.T) {
		_, errOut, err := c.guard("", nil, "update", "--pids-limit", "2048", id)
		if err != nil {
			t.Fatalf("update --pids-limit 2048 refused: %v\n%s", err, errOut)
		}
		if got := c.cgroupValue(t, "pids", "pids.max"); got != "2048" {
			t.Errorf("pids.max %s, want 2048", got)
		}
		_, errOut, err = c.guard("baseline", nil, "update", "--memory", "3g", id)
		c.assertDenied(t, errOut, err, `policy "restricted" denied update of container `+id)
	})
	t.Run("delete forgets the container's policy", func(t *testing.T) {
		record := filepath.Join(e.root, id+"@guard-runtime.policy")
		if _, err := os.Stat(record); err != nil {
			t.Fatalf("no policy record while the container runs: %v", err)
		}
		if _, errOut, err := c.guard("", nil, "delete", "--force", id); err != nil {
			t.Fatalf("delete: %v\n%s", err, errOut)
		}
		if _, err := os.Stat(record); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("policy record kept after delete: %v", err)
		}
		if out, _, err := runCommand(e.runc, "--root", e.root, "state", id); err == nil {
			t.Errorf("runc still knows the container: %s", out)
		}
	})
}

// A restore creates a container from a bundle. CRIU cannot restore here,
// so this checks the decision: a denied restore ends in guard-runtime, an
// admitted one reaches runc with its config rewritten.
func TestRestoreIsJudgedLikeCreate(t *testing.T) {
	e := newRuncEnv(t)
	restore := func(bundle, id string) (string, error) {
		t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", id).Run() })
		_, errOut, err := runCommand(e.guard, "--guard-config", e.config, "--guard-policy=restricted", "--root", e.root,
			"--log", filepath.Join(bundle, "log.json"), "--log-format", "json",
			"restore", "--image-path", filepath.Join(t.TempDir(), "checkpoint"), "--bundle", bundle, id)
		return errOut, err
	}

	root := e.bundle(t, []string{"sleep", "600"}, nil) // runc's example runs as root
	errOut, err := restore(root, "e2e-restore-root")
	if err == nil || !strings.Contains(errOut, `policy "restricted" denied container e2e-restore-root: runs as root`) {
		t.Fatalf("restore of a root container: %v\n%s", err, errOut)
	}
	logData, _ := os.ReadFile(filepath.Join(root, "log.json"))
	if n := strings.Count(string(logData), "\n"); n != 1 || !strings.Contains(string(logData), "guard-runtime: policy") {
		t.Errorf("runc's log shows more than the denial, so runc ran:\n%s", logData)
	}
	if _, err := os.Stat(filepath.Join(e.root, "e2e-restore-root@guard-runtime.policy")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a denied restore left a policy record: %v", err)
	}

	user := e.bundle(t, []string{"sleep", "600"}, nonRootWithSeccomp(t))
	errOut, err = restore(user, "e2e-restore-user")
	if err == nil || strings.Contains(errOut, "guard-runtime:") {
		t.Fatalf("an admitted restore did not reach runc (which fails without a checkpoint): %v\n%s", err, errOut)
	}
	var s specs.Spec
	data, _ := os.ReadFile(filepath.Join(user, "config.json"))
	if err := json.Unmarshal(data, &s); err != nil || !s.Root.Readonly || !s.Process.NoNewPrivileges {
		t.Errorf("the admitted restore's config was not rewritten: %s", data)
	}
}
