package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// policyFault is a policy directory in which policy "p" cannot be used.
type policyFault struct {
	name    string
	content string // of p.yaml; "" means there is none
	mode    os.FileMode
	owner   int
	want    []string // in the error, besides the file it must name
}

var policyFaults = []policyFault{
	{name: "not owned by root", content: "extends: restricted\n", owner: 1000, want: []string{"owned by uid 1000"}},
	{name: "group-writable", content: "extends: restricted\n", mode: 0o664, want: []string{"writable by group or others"}},
	{name: "world-writable", content: "extends: restricted\n", mode: 0o666, want: []string{"writable by group or others"}},
	{name: "YAML error", content: "extends: restricted\ncontrols:\n  runAsNonRoot: [\n", want: []string{"line 3"}},
	{name: "unknown key", content: "extends: restricted\ncontrol:\n  runAsNonRoot: {}\n", want: []string{"line 2", "control"}},
	{name: "unknown capability", content: "extends: restricted\ncontrols:\n  capabilities:\n    allowed: [CAP_NET_BIND_SERVICE, CAP_SYS_ADMINN]\n",
		want: []string{"line ", `"CAP_SYS_ADMINN"`}},
	{name: "empty", content: "\n", want: []string{"empty"}},
	{name: "does not exist", want: []string{`"p" does not exist`}},
}

// policyDir copies the shipped policies into a fresh directory, owned by
// root and not writable by others, as an installed policy.d.
func policyDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "policy.d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shipped, _ := filepath.Glob("../policy.d/*.yaml")
	for _, file := range shipped {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(file)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// breakPolicy turns p.yaml of dir into the fault.
func (f policyFault) breakPolicy(t *testing.T, dir string) string {
	t.Helper()
	file := filepath.Join(dir, "p.yaml")
	os.Remove(file)
	if f.content == "" {
		return file
	}
	if err := os.WriteFile(file, []byte(f.content), 0o644); err != nil {
		t.Fatal(err)
	}
	if f.mode != 0 {
		if err := os.Chmod(file, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if f.owner != 0 {
		if err := os.Chown(file, f.owner, f.owner); err != nil {
			t.Fatal(err)
		}
	}
	return file
}

func (f policyFault) checkMessage(t *testing.T, file, msg string) {
	t.Helper()
	if !strings.Contains(msg, file) {
		t.Errorf("the error does not name %s: %q", file, msg)
	}
	for _, want := range f.want {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q: %q", want, msg)
		}
	}
}

// A create under a policy that cannot be used never starts a container,
// leaves the bundle as it was, and says why, naming the file.
func TestCreateUnderAnUnusablePolicyStartsNothing(t *testing.T) {
	e := newRuncEnv(t)
	settings := e.baseSettings(t)
	settings.policyDir = policyDir(t)
	config := writeGuardSettings(t, settings)
	for i, fault := range policyFaults {
		t.Run(fault.name, func(t *testing.T) {
			file := fault.breakPolicy(t, settings.policyDir)
			bundle := e.bundle(t, []string{"true"}, nonRootWithSeccomp(t))
			before, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
			id := "policy-fault-" + string(rune('a'+i))
			t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", id).Run() })
			out, errOut, err := runCommand(e.guard, "--guard-config", config, "--guard-policy=p", "--root", e.root,
				"--log", filepath.Join(bundle, "log.json"), "--log-format", "json", "create", "--bundle", bundle, id)
			if err == nil {
				t.Fatalf("create succeeded under a policy that cannot be used")
			}
			if out != "" {
				t.Errorf("stdout is not empty: %q", out)
			}
			fault.checkMessage(t, file, errOut)
			logLine, _ := os.ReadFile(filepath.Join(bundle, "log.json"))
			var entry struct{ Level, Msg string }
			if err := json.Unmarshal(bytes.TrimSpace(logLine), &entry); err != nil || entry.Level != "error" {
				t.Errorf("runc log is not one error line: %v: %q", err, logLine)
			}
			fault.checkMessage(t, file, entry.Msg)
			if out, _, err := runCommand(e.runc, "--root", e.root, "state", id); err == nil {
				t.Errorf("runc knows the container: %s", out)
			}
			after, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
			if !bytes.Equal(before, after) {
				t.Error("config.json changed")
			}
			assertNoTempFiles(t, bundle)
		})
	}
}

// An exec or an update of a running container is refused once its policy
// cannot be used, and changes nothing in the container.
func TestExecAndUpdateUnderAnUnusablePolicyAreRefused(t *testing.T) {
	e := newRuncEnv(t)
	settings := e.baseSettings(t)
	settings.policyDir = policyDir(t)
	config := writeGuardSettings(t, settings)
	good := policyFault{content: "extends: restricted\n"}
	good.breakPolicy(t, settings.policyDir)
	bundle := e.bundle(t, []string{"sleep", "120"}, nonRootWithSeccomp(t))
	const id = "policy-fault-running"
	t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", id).Run() })
	if _, errOut, err := runCommand(e.guard, "--guard-config", config, "--guard-policy=p", "--root", e.root, "run", "-d", "--bundle", bundle, id); err != nil {
		t.Fatalf("run -d under a usable policy: %v: %s", err, errOut)
	}
	pidsBefore := runcExecOutput(t, e, id, "cat", "/sys/fs/cgroup/pids/pids.max")
	process := filepath.Join(t.TempDir(), "process.json")
	processJSON := `{"user":{"uid":1000,"gid":1000},"args":["touch","/tmp/exec-ran"],"cwd":"/","noNewPrivileges":true,` +
		`"capabilities":{"bounding":[],"effective":[],"permitted":[]}}`
	if err := os.WriteFile(process, []byte(processJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	notEnforced := false
	for _, fault := range policyFaults {
		t.Run(fault.name, func(t *testing.T) {
			file := fault.breakPolicy(t, settings.policyDir)
			out, errOut, err := runCommand(e.guard, "--guard-config", config, "--guard-policy=p", "--root", e.root, "exec", "--process", process, id)
			if err == nil || out != "" {
				t.Fatalf("exec: exit %v, stdout %q; want a refusal", err, out)
			}
			if got := runcExecOutput(t, e, id, "sh", "-c", "test -e /tmp/exec-ran && echo ran || echo no"); got != "no" {
				t.Fatalf("the refused exec ran")
			}
			updOut, updErr, err := runWithStdin(e.guard, `{"pids":{"limit":100}}`, "--guard-config", config, "--guard-policy=p", "--root", e.root, "update", "--resources", "-", id)
			if err == nil || updOut != "" {
				t.Fatalf("update: exit %v, stdout %q; want a refusal", err, updOut)
			}
			if got := runcExecOutput(t, e, id, "cat", "/sys/fs/cgroup/pids/pids.max"); got != pidsBefore {
				t.Fatalf("the refused update changed pids.max from %s to %s", pidsBefore, got)
			}
			if strings.Contains(errOut+updErr, "is not enforced yet") {
				notEnforced = true
				return
			}
			fault.checkMessage(t, file, errOut)
			fault.checkMessage(t, file, updErr)
		})
	}
	if notEnforced {
		t.Skip("refusals checked; their messages are not, because exec and update are not enforced in this tree yet")
	}
}

func runcExecOutput(t *testing.T, e *runcEnv, id string, args ...string) string {
	t.Helper()
	out, errOut, err := runCommand(e.runc, append([]string{"--root", e.root, "exec", id}, args...)...)
	if err != nil {
		t.Fatalf("runc exec %s %v: %v: %s", id, args, err, errOut)
	}
	return strings.TrimSpace(out)
}

func runWithStdin(bin, stdin string, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// policy lint finds the same faults, exits 2 and names the file.
func TestPolicyLintNamesUnusablePolicies(t *testing.T) {
	guard := newRuncEnv(t).guard
	for _, fault := range policyFaults {
		if fault.content == "" {
			continue
		}
		t.Run(fault.name, func(t *testing.T) {
			dir := policyDir(t)
			file := fault.breakPolicy(t, dir)
			out, errOut, err := runCommand(guard, "policy", "lint", "--policy-dir", dir)
			if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 {
				t.Fatalf("lint: %v, want exit status 2; stderr %s", err, errOut)
			}
			fault.checkMessage(t, file, errOut)
			if !strings.Contains(out, "# policy restricted") {
				t.Errorf("lint does not print the policies that are fine:\n%s", out)
			}
		})
	}
}
