package tests

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func (e *runcEnv) guardCmd(args ...string) (string, string, error) {
	return runCommand(e.guard, append([]string{"--guard-config", e.config}, args...)...)
}

// Engines parse the stdout of --version, features and state: it must be
// runc's, byte for byte, apart from guard-runtime's own first version line.
func TestPassThroughStdoutIsRuncs(t *testing.T) {
	e := newRuncEnv(t)

	out, _, err := e.guardCmd("--version")
	if err != nil {
		t.Fatalf("--version: %v", err)
	}
	runcOut, _, _ := runCommand(e.runc, "--version")
	first, rest, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, "guard-runtime version ") || rest != runcOut {
		t.Errorf("--version printed\n%s\nwant a guard-runtime line, then runc's:\n%s", out, runcOut)
	}

	out, errOut, err := e.guardCmd("features")
	runcOut, _, runcErr := runCommand(e.runc, "features")
	if (err == nil) != (runcErr == nil) || out != runcOut {
		t.Errorf("features differs from runc's: %v %q / %v %q (stderr %s)", err, out, runcErr, runcOut, errOut)
	}

	bundle := e.bundle(t, []string{"sleep", "30"}, nonRootWithSeccomp(t))
	if _, errOut, err := e.guardCmd("--guard-policy=restricted", "--root", e.root, "run", "-d", "--bundle", bundle, "pt-state"); err != nil {
		t.Fatalf("run -d: %v: %s", err, errOut)
	}
	t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", "pt-state").Run() })
	out, _, err = e.guardCmd("--root", e.root, "state", "pt-state")
	runcOut, _, _ = runCommand(e.runc, "--root", e.root, "state", "pt-state")
	if err != nil || out != runcOut {
		t.Errorf("state differs from runc's:\n%s\n%s", out, runcOut)
	}
	if _, errOut, err := e.guardCmd("--root", e.root, "kill", "pt-state", "KILL"); err != nil {
		t.Errorf("kill with a positional signal name: %v: %s", err, errOut)
	}
}

func TestUnknownCommandReachesRunc(t *testing.T) {
	e := newRuncEnv(t)
	_, errOut, err := e.guardCmd("no-such-command")
	_, runcErr, _ := runCommand(e.runc, "no-such-command")
	if err == nil || withoutTime(errOut) != withoutTime(runcErr) {
		t.Errorf("unknown command: guard-runtime said %q (%v), runc says %q", errOut, err, runcErr)
	}
}

// withoutTime drops the time= field of runc's log lines, which differs
// between two calls.
func withoutTime(s string) string {
	return timeField.ReplaceAllString(s, "")
}

var timeField = regexp.MustCompile(`time="[^"]*" `)
