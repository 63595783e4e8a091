package enforce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// The acceptance table: every document Docker 20.10 wrote in
// testdata/docker (see its README.md), and what baseline and restricted
// make of it.

// dockerCase is one captured document and the verdicts it must get.
type dockerCase struct {
	file                 string
	baseline, restricted Verdict
	// fields must each be named by a violation, under both policies.
	fields []string
	// restrictedFields must be named under restricted only.
	restrictedFields []string
}

var dockerCases = []dockerCase{
	{file: "default.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "user-1000.json", baseline: Allow, restricted: RewriteDoc},
	{file: "user-1000-read-only.json", baseline: Allow, restricted: RewriteDoc},
	{file: "privileged.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{
		"/process/capabilities", "/process/capabilities/bounding", "/linux/devices", "/linux/resources/devices/0",
		"/linux/seccomp", "/linux/maskedPaths", "/linux/readonlyPaths"}},
	{file: "bind-docker-sock.json", baseline: DenyVerdict, restricted: DenyVerdict},
	{file: "bind-etc.json", baseline: DenyVerdict, restricted: DenyVerdict},
	{file: "bind-rshared.json", baseline: DenyVerdict, restricted: DenyVerdict},
	{file: "named-volume.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "init.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "network-host.json", baseline: DenyVerdict, restricted: DenyVerdict},
	{file: "pid-host.json", baseline: DenyVerdict, restricted: DenyVerdict},
	{file: "ipc-host.json", baseline: DenyVerdict, restricted: DenyVerdict},
	{file: "uts-host.json", baseline: DenyVerdict, restricted: DenyVerdict},
	{file: "seccomp-unconfined.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{"/linux/seccomp"}},
	{file: "systempaths-unconfined.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{"/linux/maskedPaths", "/linux/readonlyPaths"}},
	{file: "no-new-privileges.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "device-fuse.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{"/linux/devices", "/linux/resources/devices/8"}},
	{file: "device-cgroup-rule-all.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{"/linux/resources/devices/8"}},
	{file: "sysctl-ip-forward.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{"/linux/sysctl/net.ipv4.ip_forward"}},
	{file: "cap-add-sys-admin.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{"/process/capabilities/bounding"}},
	{file: "cap-drop-all-add-net-bind-service.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "memory-512m.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "cpus-1.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "pids-limit-100.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "oom-score-adj-minus-500.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/oomScoreAdj"}},
	{file: "oom-kill-disable.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/linux/resources/memory/disableOOMKiller"}},
	{file: "tmpfs-tmp.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "workdir-proc-self-fd.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{"/process/cwd"}},
	{file: "ulimit-rtprio-99.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{"/process/rlimits/0/hard"}},
	{file: "ulimit-nofile-1024-2048.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/process/user/uid"}},
	{file: "exec-default.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/user/uid"}},
	{file: "exec-user-0.json", baseline: Allow, restricted: DenyVerdict, restrictedFields: []string{"/user/uid"}},
	{file: "exec-user-1000.json", baseline: Allow, restricted: RewriteDoc},
	{file: "exec-privileged.json", baseline: DenyVerdict, restricted: DenyVerdict, fields: []string{"/capabilities"}},
	{file: "update-memory-1g.json", baseline: Allow, restricted: Allow},
	{file: "update-pids-limit-200.json", baseline: Allow, restricted: Allow},
	{file: "update-cpus-2.json", baseline: Allow, restricted: Allow},
}

// capturedDaemonHook is the hook path of the capture's dockerd (pid 1287).
const capturedDaemonHook = "/proc/1287/exe"

// readDockerFixture reads a captured document. Its network hook named the
// capture's dockerd; it is pointed at this test process, which
// thisProcessIsTheDaemon lists as the daemon binary, so that the daemon
// check runs for real.
func readDockerFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "docker", name))
	if err != nil {
		t.Fatalf("read fixture: %v (restore testdata/docker from the repository)", err)
	}
	return bytes.ReplaceAll(data, []byte(capturedDaemonHook), fmt.Appendf(nil, "/proc/%d/exe", os.Getpid()))
}

// capturedContainerID is the id Docker gave the captured container, as
// its own files under /var/lib/docker/containers name it: the runtime
// gets that id on its command line, and hostPaths admits only the
// container's own files.
func capturedContainerID(data []byte) string {
	if m := dockerContainerFile.FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return fixtureContainerID
}

var dockerContainerFile = regexp.MustCompile(`/var/lib/docker/containers/([0-9a-f]{64})/`)

func judgeDockerFixture(t *testing.T, p *Policy, name string) *Decision {
	t.Helper()
	data := readDockerFixture(t, name)
	ctx := Context{ContainerID: capturedContainerID(data)}
	var d *Decision
	switch {
	case strings.HasPrefix(name, "exec-"):
		doc, err := spec.DecodeProcess(data)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		ctx.Operation = OpExec
		d, err = EvaluateProcess(p, doc, ctx)
		if err != nil {
			t.Fatalf("evaluate: %v", err)
		}
	case strings.HasPrefix(name, "update-"):
		doc, err := spec.DecodeResources(data)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		ctx.Operation = OpUpdate
		d, err = EvaluateResources(p, doc, ctx)
		if err != nil {
			t.Fatalf("evaluate: %v", err)
		}
	default:
		doc, err := spec.DecodeConfig(data)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		ctx.Operation = OpCreate
		d, err = EvaluateConfig(p, doc, ctx)
		if err != nil {
			t.Fatalf("evaluate: %v", err)
		}
	}
	return d
}

func TestDockerFixtures(t *testing.T) {
	policies := map[string]*Policy{
		"baseline":   thisProcessIsTheDaemon(t, "baseline"),
		"restricted": thisProcessIsTheDaemon(t, "restricted"),
	}
	for _, c := range dockerCases {
		t.Run(c.file, func(t *testing.T) {
			for _, name := range []string{"baseline", "restricted"} {
				p := policies[name]
				d := judgeDockerFixture(t, p, c.file)
				want, fields := c.baseline, c.fields
				if name == "restricted" {
					want, fields = c.restricted, append(slices.Clone(c.fields), c.restrictedFields...)
				}
				if d.Verdict != want {
					t.Errorf("%s: verdict %s, want %s; violations %+v", name, d.Verdict, want, d.Violations)
				}
				for _, field := range fields {
					if !hasViolationAt(d, field) {
						t.Errorf("%s: no violation at %s: %+v", name, field, d.Violations)
					}
				}
			}
		})
	}
}

// Every captured document has a row, so that a new capture is judged.
func TestDockerFixturesAreAllInTheTable(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "docker", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/docker (%v): restore them from the repository", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if !slices.ContainsFunc(dockerCases, func(c dockerCase) bool { return c.file == name }) {
			t.Errorf("%s has no row in dockerCases", name)
		}
	}
}

func TestDockerPrivilegedSaysSoOnce(t *testing.T) {
	for _, file := range []string{"privileged.json", "exec-privileged.json"} {
		d := judgeDockerFixture(t, thisProcessIsTheDaemon(t, "baseline"), file)
		msgs := privilegedMessages(d)
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "privileged containers are not allowed by policy baseline: remove --privileged") {
			t.Errorf("%s: want one privileged message, got %q", file, msgs)
		}
	}
}

// Without the pid substitution, the capture's hook names a process that is
// not this machine's dockerd, and the shipped policy refuses to run it.
func TestDockerHookOfAnotherDaemonIsDenied(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "docker", "default.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := loadShipped(t, "baseline")
	if exe, err := os.Readlink(capturedDaemonHook); err == nil && slices.Contains(p.Controls.Hooks.DockerDaemons, exe) {
		t.Skipf("pid 1287 is a dockerd (%s) on this machine: the capture's hook is valid here", exe)
	}
	d := judgeConfig(t, p, data)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/hooks/prestart/0/path") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}

// Judging documents in the control tests.

// runPolicyFixtures is runFixtures with a policy given in full.
func runPolicyFixtures(t *testing.T, p *Policy, base func() *specs.Spec, fixtures []fixture) {
	t.Helper()
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			s := base()
			if f.change != nil {
				f.change(s)
			}
			d := judgeSpec(t, p, s)
			if d.Verdict != f.verdict {
				t.Fatalf("verdict %s, want %s; violations %+v", d.Verdict, f.verdict, d.Violations)
			}
			if f.field != "" && !hasViolationAt(d, f.field) {
				t.Fatalf("no violation at %s: %+v", f.field, d.Violations)
			}
		})
	}
}

// judgeExecProcess judges proc as the process file of an exec.
func judgeExecProcess(t *testing.T, p *Policy, proc *specs.Process) *Decision {
	t.Helper()
	data, err := json.Marshal(proc)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := spec.DecodeProcess(data)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	d, err := EvaluateProcess(p, doc, Context{Operation: OpExec, ContainerID: fixtureContainerID})
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return d
}

// judgeUpdateResources judges doc as the resources of an update.
func judgeUpdateResources(t *testing.T, p *Policy, doc string) *Decision {
	t.Helper()
	res, err := spec.DecodeResources([]byte(doc))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	d, err := EvaluateResources(p, res, Context{Operation: OpUpdate, ContainerID: fixtureContainerID})
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return d
}
