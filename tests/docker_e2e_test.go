package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// guardedDocker is a private dockerd with guard-runtime registered the way
// hack/install.sh registers it: guard (the default policy, and the
// default runtime), guard-restricted, guard-baseline and guard-audit.
type guardedDocker struct {
	*harness.Docker
	image string
	runc  string
}

// dockerCapBndDefault is Docker's default capability set as CapBnd shows
// it: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
// NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP.
const dockerCapBndDefault = "CapBnd:\t00000000a80425fb"

// TestDocker runs every Docker check against one private dockerd: starting
// one costs seconds, a container well under one.
func TestDocker(t *testing.T) {
	d := startGuardedDocker(t)
	t.Run("NonRootRunsConfinedUnderRestricted", d.testNonRootRunsConfined)
	t.Run("RootIsDeniedWithTheReason", d.testRootIsDenied)
	t.Run("EscapesAreDenied", d.testEscapesAreDenied)
	t.Run("RaisedRlimitsAreDenied", d.testRaisedRlimitsAreDenied)
	t.Run("BindsInsideMountsAreJudgedAsWhatTheyShow", d.testBindsInsideMounts)
	t.Run("ExecAsRootIsDenied", d.testExecAsRootIsDenied)
	t.Run("PlainExecRuns", d.testPlainExecRuns)
	t.Run("UpdateAboveTheMaximumIsDenied", d.testUpdateAboveTheMaximumIsDenied)
	t.Run("UpdateWithinTheMaximumIsApplied", d.testUpdateWithinTheMaximumIsApplied)
	t.Run("AuditPolicyAdmitsAndRecords", d.testAuditPolicyAdmitsAndRecords)
	t.Run("DefaultRuntimeGuardsEveryContainer", d.testDefaultRuntime)
	t.Run("DemoShowsAllowRewriteAndDeny", d.testDemo)
}

func startGuardedDocker(t *testing.T) *guardedDocker {
	harness.RequireRoot(t)
	// Records must reach journald, where the checks read them back.
	harness.EnsureJournald(t)
	runc := requireBinary(t, "runc", "apt-get install -y runc")
	guard := harness.GuardBinary(t)
	dir := t.TempDir()
	policies := filepath.Join(dir, "policy.d")
	config := writeGuardConfig(t, dir, runc, policies)

	// dockerd runs `<path> --version` for docker info without the
	// runtimeArgs, so the default runtime's path must find its config by
	// itself, as the installed binary finds /etc/guard-runtime/config.yaml.
	// This wrapper is that binary, with the test's config as its default.
	installed := filepath.Join(dir, "guard-runtime-installed")
	writeFileMode(t, installed, fmt.Sprintf("#!/bin/sh\nexec %s --guard-config=%s \"$@\"\n", guard, config), 0o755)

	withPolicy := func(policy string) harness.Runtime {
		return harness.Runtime{Path: guard, RuntimeArgs: []string{"--guard-config=" + config, "--guard-policy=" + policy}}
	}
	docker := harness.StartDocker(t, harness.DockerOptions{
		Runtimes: map[string]harness.Runtime{
			"guard":            {Path: installed},
			"guard-restricted": withPolicy("restricted"),
			"guard-baseline":   withPolicy("baseline"),
			"guard-audit":      withPolicy("audit"),
		},
		DefaultRuntime: "guard",
	})
	// Policies are read on every call: they are in place before the first container.
	writeDockerPolicies(t, policies, docker.DataRoot)
	return &guardedDocker{Docker: docker, image: docker.ImportBusybox(t), runc: runc}
}

// writeGuardConfig writes a config.yaml that pins the real runc and uses
// the policies in policies, as hack/install.sh writes the installed one.
func writeGuardConfig(t *testing.T, dir, runc, policies string) string {
	t.Helper()
	config := filepath.Join(dir, "config.yaml")
	content := fmt.Sprintf("runtime:\n  path: %s\n  sha256: %s\n  cacheDir: %s\npolicy:\n  dir: %s\n  default: restricted\naudit:\n  file: %s\n",
		runc, fileDigest(t, runc), filepath.Join(dir, "cache"), policies, filepath.Join(dir, "audit.log"))
	writeFileMode(t, config, content, 0o600)
	return config
}

// writeDockerPolicies copies the repository's policies into dir, with
// Docker's data root set to the private daemon's, as the admin of a host
// whose dockerd has another --data-root sets it: the engine's own binds
// (the container's resolv.conf, hostname, hosts) are recognised by it.
func writeDockerPolicies(t *testing.T, dir, dataRoot string) {
	t.Helper()
	shipped := filepath.Join(harness.ModuleRoot(t), "policy.d")
	files, err := filepath.Glob(filepath.Join(shipped, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no policies in %s (%v)", shipped, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		data := []byte(readText(t, file))
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if setYAMLScalar(&doc, dataRoot, "controls", "hostPaths", "roots", "dockerRoot") {
			if data, err = yaml.Marshal(&doc); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
		}
		writeFileMode(t, filepath.Join(dir, filepath.Base(file)), string(data), 0o644)
	}
}

// setYAMLScalar sets the scalar at the path of mapping keys below the
// document node, and reports whether the document has it.
func setYAMLScalar(doc *yaml.Node, value string, path ...string) bool {
	node := doc
	if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	for _, key := range path {
		if node.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == key {
				next = node.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		node = next
	}
	if node.Kind != yaml.ScalarNode {
		return false
	}
	node.Value = value
	return true
}

// run starts a container named name with `docker run --network none`,
// where args are the options, then the image and cmd. It returns the
// container's full id (empty if docker did not create it), stdout and
// the error with docker's stderr.
func (d *guardedDocker) run(t *testing.T, name string, args []string, cmd ...string) (id, stdout string, err error) {
	t.Helper()
	all := append([]string{"run", "--name", name}, args...)
	if !hasOption(args, "--network") {
		all = append(all, "--network", "none")
	}
	all = append(append(all, d.image), cmd...)
	stdout, _, err = d.Run(all...)
	id, _, _ = d.Run("inspect", "--format", "{{.Id}}", name)
	return strings.TrimSpace(id), stdout, err
}

func hasOption(args []string, option string) bool {
	for _, arg := range args {
		if arg == option || strings.HasPrefix(arg, option+"=") {
			return true
		}
	}
	return false
}

// mustRun is run for a container that must start and exit 0.
func (d *guardedDocker) mustRun(t *testing.T, name string, args []string, cmd ...string) (id, stdout string) {
	t.Helper()
	id, stdout, err := d.run(t, name, args, cmd...)
	if err != nil {
		t.Fatalf("docker run %s: %v", strings.Join(args, " "), err)
	}
	if id == "" {
		t.Fatalf("docker run %s: no container %s afterwards", strings.Join(args, " "), name)
	}
	return id, stdout
}

// denialOf returns what guard-runtime said after "policy "<policy>" denied
// <what> <id>: " in docker's error text, or fails the test when docker's
// error does not carry guard-runtime's denial for that container. err
// holds docker's stderr; stdout is searched too, because docker exec
// prints the runtime's error there.
func denialOf(t *testing.T, err error, stdout, policy, what, id string) string {
	t.Helper()
	if err == nil {
		t.Fatalf("policy %s admitted what it must deny (%s %s)", policy, what, id)
	}
	prefix := fmt.Sprintf("guard-runtime: policy %q denied %s %s: ", policy, what, id)
	text := err.Error() + "\n" + stdout
	_, reason, found := strings.Cut(text, prefix)
	if id == "" || !found {
		t.Fatalf("docker's error does not carry guard-runtime's denial %q:\n%s", prefix, text)
	}
	reason, _, _ = strings.Cut(reason, "\n")
	return reason
}

// waitForRecord returns the one audit record of the container with the
// given operation.
func waitForRecord(t *testing.T, id, operation string, matches ...string) map[string]string {
	t.Helper()
	all := append([]string{"SYSLOG_IDENTIFIER=guard-runtime", "GUARD_CONTAINER_ID=" + id, "GUARD_OPERATION=" + operation}, matches...)
	records := harness.WaitForJournalEntries(t, 1, all...)
	if len(records) != 1 {
		t.Errorf("%d audit records match %v, want 1: %v", len(records), all, records)
	}
	return records[len(records)-1]
}

func violationsOf(t *testing.T, record map[string]string) []map[string]string {
	t.Helper()
	var violations []map[string]string
	if err := json.Unmarshal([]byte(record["GUARD_VIOLATIONS"]), &violations); err != nil {
		t.Fatalf("GUARD_VIOLATIONS is not a JSON array: %q: %v", record["GUARD_VIOLATIONS"], err)
	}
	return violations
}

func hasViolation(violations []map[string]string, control, action string) bool {
	for _, v := range violations {
		if v["control"] == control && v["action"] == action {
			return true
		}
	}
	return false
}

// hostCgroupValue reads a file of the container's cgroup from the host
// (cgroup v1, cgroupfs driver), which needs nothing to run in the container.
func hostCgroupValue(t *testing.T, controller, id, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", controller, "docker", id, file))
	if err != nil {
		t.Fatalf("read the container's %s cgroup: %v", controller, err)
	}
	return strings.TrimSpace(string(data))
}

func (d *guardedDocker) testNonRootRunsConfined(t *testing.T) {
	id, out := d.mustRun(t, "restricted-1000", []string{"--runtime", "guard-restricted", "-u", "1000"}, probeScript...)
	for _, want := range []string{"uid=1000", "CapBnd:\t0000000000000400", "memory=536870912", "pids=1024"} {
		if !strings.Contains(out, want) {
			t.Errorf("container output lacks %q:\n%s", want, out)
		}
	}
	if !rootMountedReadOnly(out) {
		t.Errorf("root is not mounted read-only:\n%s", out)
	}

	record := waitForRecord(t, id, "create")
	expectFields(t, record, map[string]string{"GUARD_DECISION": "rewrite", "GUARD_MODE": "enforce",
		"GUARD_POLICY": "restricted", "PRIORITY": "5", "GUARD_RUNTIME": d.runc})
	if !strings.Contains(record["GUARD_BUNDLE"], id) {
		t.Errorf("GUARD_BUNDLE %q is not the container's bundle", record["GUARD_BUNDLE"])
	}
	if !strings.Contains(record["GUARD_PATCH"], `"/root/readonly"`) {
		t.Errorf("GUARD_PATCH does not make the root read-only: %s", record["GUARD_PATCH"])
	}
}

func (d *guardedDocker) testRootIsDenied(t *testing.T) {
	id, _, err := d.run(t, "restricted-root", []string{"--runtime", "guard-restricted"}, "true")
	reason := denialOf(t, err, "", "restricted", "container", id)
	t.Logf("docker run --runtime guard-restricted %s true:\n%v", d.image, err)
	if !strings.Contains(reason, "runs as root (uid 0)") {
		t.Errorf("the denial does not say the container runs as root: %s", reason)
	}
	// It stays behind as created, never started, so that its id leads to the record.
	if state := d.MustRun(t, "inspect", "--format", "{{.State.Status}} {{.State.StartedAt}}", id); !strings.HasPrefix(state, "created 0001-01-01") {
		t.Errorf("the denied container's state is %q, want created and never started", state)
	}

	record := waitForRecord(t, id, "create")
	expectFields(t, record, map[string]string{"GUARD_DECISION": "deny", "GUARD_MODE": "enforce",
		"GUARD_POLICY": "restricted", "PRIORITY": "4"})
	if !hasViolation(violationsOf(t, record), "runAsNonRoot", "deny") {
		t.Errorf("the record has no runAsNonRoot denial: %s", record["GUARD_VIOLATIONS"])
	}
}

// escape is a docker run option that opens a way out of the container,
// and the words guard-runtime's reason must contain for it.
type escape struct {
	name   string
	args   []string
	reason *regexp.Regexp
}

var escapes = []escape{
	// Under --privileged a container has every capability; either the
	// privileged control or the capabilities control may name it.
	{"privileged", []string{"--privileged"}, regexp.MustCompile(`(?i)privileged|CAP_SYS_ADMIN`)},
	// The source may be named as given or resolved (/var/run is /run).
	{"docker-sock", []string{"-v", "/var/run/docker.sock:/var/run/docker.sock"}, regexp.MustCompile(`/run/docker\.sock`)},
	{"network-host", []string{"--network", "host"}, regexp.MustCompile(`(?is)network.*host|host.*network`)},
	{"pid-host", []string{"--pid", "host"}, regexp.MustCompile(`(?is)\bpid\b.*host|host.*\bpid\b`)},
}

// testEscapesAreDenied asserts on guard-runtime's reason, not on the
// failure alone: on this machine a privileged container fails inside runc
// (no CAP_SYS_RESOURCE) whatever the policy decides.
func (d *guardedDocker) testEscapesAreDenied(t *testing.T) {
	// dockerd creates a missing bind source as a directory on the host,
	// even for a container the runtime then refuses.
	harness.RemoveIfCreated(t, "/var/run/docker.sock")
	for _, policy := range []string{"restricted", "baseline"} {
		for _, e := range escapes {
			t.Run(policy+"/"+e.name, func(t *testing.T) {
				args := []string{"--runtime", "guard-" + policy}
				if policy == "restricted" {
					// Not root, so that the escape is the only reason to deny.
					args = append(args, "-u", "1000")
				}
				id, _, err := d.run(t, policy+"-"+e.name, append(args, e.args...), "true")
				reason := denialOf(t, err, "", policy, "container", id)
				t.Logf("denied: %s", reason)
				if !e.reason.MatchString(reason) {
					t.Errorf("the denial of %s does not say why (want %s): %s", strings.Join(e.args, " "), e.reason, reason)
				}
				record := waitForRecord(t, id, "create")
				expectFields(t, record, map[string]string{"GUARD_DECISION": "deny", "GUARD_POLICY": policy})
			})
		}
	}
}

// testRaisedRlimitsAreDenied: runc sets --ulimit with the host's
// privileges. This machine lacks CAP_SYS_RESOURCE, so runc could not raise
// these limits anyway: the test asserts on guard-runtime's reason and its
// record, not on the failure. restricted denies a limit above its maximum
// rather than lowering it, so no shipped policy rewrites one here;
// TestRlimitsRewriteIsWhatRuncSets covers the rewrite with runc.
func (d *guardedDocker) testRaisedRlimitsAreDenied(t *testing.T) {
	for _, c := range []struct{ policy, ulimit, reason string }{
		{"baseline", "rtprio=99", "RLIMIT_RTPRIO hard limit 99 is above the maximum 0 of policy baseline"},
		{"baseline", "nice=40", "RLIMIT_NICE hard limit 40 is above the maximum 20 of policy baseline"},
		{"restricted", "nofile=2000000:2000000", "RLIMIT_NOFILE hard limit 2000000 is above the maximum 1048576 of policy restricted"},
	} {
		t.Run(c.policy+"/"+c.ulimit, func(t *testing.T) {
			name := c.policy + "-ulimit-" + strings.SplitN(c.ulimit, "=", 2)[0]
			id, _, err := d.run(t, name, []string{"--runtime", "guard-" + c.policy, "-u", "1000", "--ulimit", c.ulimit}, "true")
			reason := denialOf(t, err, "", c.policy, "container", id)
			if !strings.Contains(reason, c.reason) {
				t.Errorf("the denial of --ulimit %s does not say why (want %q): %s", c.ulimit, c.reason, reason)
			}
			record := waitForRecord(t, id, "create")
			expectFields(t, record, map[string]string{"GUARD_DECISION": "deny", "GUARD_POLICY": c.policy})
			if !hasViolation(violationsOf(t, record), "rlimits", "deny") {
				t.Errorf("the record has no rlimits denial: %s", record["GUARD_VIOLATIONS"])
			}
		})
	}
}

// testBindsInsideMounts: a host directory mounted at another path shows
// its files there too, so a bind source inside such a mount is judged as
// the file it is, whatever its path: a file of the host's /etc through a
// bind mount of /etc, the host's kernel settings through a proc mount;
// and a source with such mounts below it brings them along.
func (d *guardedDocker) testBindsInsideMounts(t *testing.T) {
	dir := t.TempDir()
	etc, proc := filepath.Join(dir, "etc-copy"), filepath.Join(dir, "hostproc")
	for _, m := range []struct{ source, target, fstype string }{{"/etc", etc, ""}, {"proc", proc, "proc"}} {
		if err := os.Mkdir(m.target, 0o755); err != nil {
			t.Fatal(err)
		}
		flags := uintptr(0)
		if m.fstype == "" {
			flags = unix.MS_BIND
		}
		if err := unix.Mount(m.source, m.target, m.fstype, flags, ""); err != nil {
			t.Fatalf("mount %s on %s: %v", m.source, m.target, err)
		}
		t.Cleanup(func() { unix.Unmount(m.target, unix.MNT_DETACH) })
	}
	for _, c := range []struct{ name, source, reason string }{
		{"etc", filepath.Join(etc, "hostname"), "it lies in the mount at " + etc + ", which shows the host's /etc/hostname"},
		{"proc", filepath.Join(proc, "sys", "kernel"), "it lies in the proc filesystem mounted at " + proc},
		// -v binds with rbind: the mounts below the source come along.
		{"below", dir, "rbind carries the mount at " + etc + " below it into the container, which shows the host's /etc"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, _, err := d.run(t, "baseline-inside-"+c.name, []string{"--runtime", "guard-baseline", "-v", c.source + ":/x"}, "true")
			reason := denialOf(t, err, "", "baseline", "container", id)
			if !strings.Contains(reason, c.reason) {
				t.Errorf("the denial of -v %s:/x does not say why (want %q): %s", c.source, c.reason, reason)
			}
			expectFields(t, waitForRecord(t, id, "create"), map[string]string{"GUARD_DECISION": "deny", "GUARD_POLICY": "baseline"})
		})
	}
}

// startRestricted starts a long-running -u 1000 container under restricted.
func (d *guardedDocker) startRestricted(t *testing.T, name string) string {
	t.Helper()
	id, _ := d.mustRun(t, name, []string{"-d", "--runtime", "guard-restricted", "-u", "1000"}, "sleep", "600")
	return id
}

func (d *guardedDocker) testExecAsRootIsDenied(t *testing.T) {
	id := d.startRestricted(t, "restricted-exec-root")
	stdout, _, err := d.Run("exec", "-u", "0", id, "true")
	reason := denialOf(t, err, stdout, "restricted", "exec in container", id)
	t.Logf("docker exec -u 0:\n%v\n%s", err, stdout)
	if !strings.Contains(reason, "runs as root (uid 0)") {
		t.Errorf("the exec denial does not say it runs as root: %s", reason)
	}
	record := waitForRecord(t, id, "exec", "GUARD_DECISION=deny")
	expectFields(t, record, map[string]string{"GUARD_POLICY": "restricted", "PRIORITY": "4"})
}

// testPlainExecRuns: Docker hands exec its 14 default capabilities;
// restricted leaves NET_BIND_SERVICE only, as at create, and the exec runs.
func (d *guardedDocker) testPlainExecRuns(t *testing.T) {
	id := d.startRestricted(t, "restricted-exec")
	out, _, err := d.Run("exec", id, "sh", "-c", "id -u; grep CapBnd /proc/self/status")
	if err != nil {
		t.Fatalf("a plain docker exec into a restricted container failed: %v\n%s", err, out)
	}
	if fields := strings.Fields(out); len(fields) != 3 || fields[0] != "1000" || fields[2] != "0000000000000400" {
		t.Errorf("docker exec printed %q, want uid 1000 and CapBnd 0000000000000400", out)
	}
	expectFields(t, waitForRecord(t, id, "exec"), map[string]string{"GUARD_POLICY": "restricted", "GUARD_DECISION": "rewrite"})
}

// testUpdateAboveTheMaximumIsDenied raises the memory limit with
// --memory-swap as well: without it dockerd 20.10 itself refuses any
// --memory above the swap limit it has on record (none), and the update
// never reaches the runtime.
func (d *guardedDocker) testUpdateAboveTheMaximumIsDenied(t *testing.T) {
	id := d.startRestricted(t, "restricted-update-8g")
	stdout, _, err := d.Run("update", "--memory", "8g", "--memory-swap", "8g", id)
	reason := denialOf(t, err, stdout, "restricted", "update of container", id)
	t.Logf("docker update --memory 8g --memory-swap 8g:\n%v", err)
	if !strings.Contains(strings.ToLower(reason), "memory") {
		t.Errorf("the update denial does not name the memory limit: %s", reason)
	}
	if limit := hostCgroupValue(t, "memory", id, "memory.limit_in_bytes"); limit != "536870912" {
		t.Errorf("memory.limit_in_bytes is %s after the denied update, want restricted's 536870912", limit)
	}
	expectFields(t, waitForRecord(t, id, "update"), map[string]string{"GUARD_DECISION": "deny", "GUARD_POLICY": "restricted"})
}

func (d *guardedDocker) testUpdateWithinTheMaximumIsApplied(t *testing.T) {
	id := d.startRestricted(t, "restricted-update-1g")
	if _, _, err := d.Run("update", "--memory", "1g", "--memory-swap", "1g", id); err != nil {
		t.Fatalf("an update within the policy's maximum failed: %v", err)
	}
	if limit := hostCgroupValue(t, "memory", id, "memory.limit_in_bytes"); limit != "1073741824" {
		t.Errorf("memory.limit_in_bytes is %s after docker update --memory 1g, want 1073741824", limit)
	}
}

func (d *guardedDocker) testAuditPolicyAdmitsAndRecords(t *testing.T) {
	id, out := d.mustRun(t, "audit-root", []string{"--runtime", "guard-audit"}, probeScript...)
	for _, want := range []string{"uid=0", dockerCapBndDefault} {
		if !strings.Contains(out, want) {
			t.Errorf("the audited container was changed: output lacks %q:\n%s", want, out)
		}
	}
	if rootMountedReadOnly(out) || strings.Contains(out, "memory=536870912") {
		t.Errorf("the audit policy rewrote the container:\n%s", out)
	}

	record := waitForRecord(t, id, "create")
	expectFields(t, record, map[string]string{"GUARD_DECISION": "allow", "GUARD_MODE": "audit", "GUARD_POLICY": "audit"})
	if patch, ok := record["GUARD_PATCH"]; ok {
		t.Errorf("an audit-mode record carries a patch: %s", patch)
	}
	violations := violationsOf(t, record)
	// Each with the action restricted would have taken.
	for _, want := range [][2]string{{"runAsNonRoot", "deny"}, {"readOnlyRoot", "rewrite"}, {"capabilities", "rewrite"}} {
		if !hasViolation(violations, want[0], want[1]) {
			t.Errorf("the audit record lacks the %s violation with action %s: %s", want[0], want[1], record["GUARD_VIOLATIONS"])
		}
	}
}

// testDefaultRuntime: with "default-runtime": "guard", dockerd keeps
// working and every container without --runtime is guarded by the
// configured default policy.
func (d *guardedDocker) testDefaultRuntime(t *testing.T) {
	var info struct {
		DefaultRuntime string
		Runtimes       map[string]json.RawMessage
		RuncCommit     struct{ ID string }
	}
	if err := json.Unmarshal([]byte(d.MustRun(t, "info", "--format", "{{json .}}")), &info); err != nil {
		t.Fatalf("docker info: %v", err)
	}
	if info.DefaultRuntime != "guard" {
		t.Errorf("docker info: default runtime %q, want guard", info.DefaultRuntime)
	}
	for _, name := range []string{"guard", "guard-restricted", "guard-baseline", "guard-audit", "runc"} {
		if _, ok := info.Runtimes[name]; !ok {
			t.Errorf("docker info does not list the runtime %s: %v", name, info.Runtimes)
		}
	}
	// dockerd took this from `<guard runtime> --version`, passed through to runc.
	if want := runcCommit(t, d.runc); info.RuncCommit.ID != want {
		t.Errorf("docker info: runc commit %q, want %q from runc --version", info.RuncCommit.ID, want)
	}

	id, _, err := d.run(t, "default-root", nil, "true")
	reason := denialOf(t, err, "", "restricted", "container", id)
	if !strings.Contains(reason, "runs as root") {
		t.Errorf("the default runtime's denial does not say why: %s", reason)
	}
	id, out := d.mustRun(t, "default-1000", []string{"-u", "1000"}, "grep", "CapBnd", "/proc/self/status")
	if !strings.Contains(out, "CapBnd:\t0000000000000400") {
		t.Errorf("a container of the default runtime was not confined: %s", out)
	}
	if runtime := d.MustRun(t, "inspect", "--format", "{{.HostConfig.Runtime}}", id); runtime != "guard" {
		t.Errorf("the container's runtime is %q, want guard", runtime)
	}
	expectFields(t, waitForRecord(t, id, "create"), map[string]string{"GUARD_DECISION": "rewrite", "GUARD_POLICY": "restricted"})
}

// runcCommit is the "commit:" line of runc --version, which docker info shows.
func runcCommit(t *testing.T, runc string) string {
	t.Helper()
	out, err := exec.Command(runc, "--version").Output()
	if err != nil {
		t.Fatalf("runc --version: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if commit, ok := strings.CutPrefix(line, "commit: "); ok {
			return strings.TrimSpace(commit)
		}
	}
	t.Fatalf("runc --version prints no commit line:\n%s", out)
	return ""
}

// testDemo runs hack/demo.sh in its Docker mode against this daemon.
func (d *guardedDocker) testDemo(t *testing.T) {
	cmd := demoCommand(t, "--docker", "--image", d.image)
	cmd.Env = append(withoutEnv(os.Environ(), "DOCKER_"), "DOCKER_HOST=unix://"+d.Socket, "DOCKER="+dockerCLIPath(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hack/demo.sh --docker: %v\n%s", err, out)
	}
	expectDemoShowsAllThreeDecisions(t, string(out))
}

// dockerCLIPath prefers the CLI of Debian's docker.io, which matches its
// daemon, as the harness does.
func dockerCLIPath(t *testing.T) string {
	if _, err := os.Stat("/usr/bin/docker"); err == nil {
		return "/usr/bin/docker"
	}
	return requireBinary(t, "docker", "apt-get install -y docker.io")
}

func withoutEnv(env []string, prefix string) []string {
	var kept []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, prefix) {
			kept = append(kept, kv)
		}
	}
	return kept
}
