package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// leanEnv is the lean build installed in a directory of its own, with the
// handover recorder as its full build: every call the lean build hands
// over is a line in handovers.
type leanEnv struct {
	*runcEnv
	handovers string
}

func newLeanEnv(t *testing.T) *leanEnv {
	t.Helper()
	e := &leanEnv{runcEnv: newRuncEnv(t)}
	bin := t.TempDir()
	e.guard = filepath.Join(bin, "guard-runtime")
	copyExecutable(t, harness.GuardBinary(t), e.guard)
	copyExecutable(t, harness.BuildCommand(t, "./tests/cmd/handover"), filepath.Join(bin, "guard-runtime-full"))
	e.handovers = filepath.Join(t.TempDir(), "handovers")
	t.Setenv("GUARD_HANDOVER_LOG", e.handovers)
	t.Setenv("GUARD_HANDOVER_FULL", harness.FullGuardBinary(t))
	return e
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// handedOver is how many calls the lean build has handed over so far.
func (e *leanEnv) handedOver() int {
	data, _ := os.ReadFile(e.handovers)
	return strings.Count(string(data), "\n")
}

// waitForCacheableConfig waits until config.yaml is old enough to be
// cached: a file whose last change is under two seconds old is read anew
// on every call (see docs/runtime-verification.md).
func waitForCacheableConfig(t *testing.T, config string) {
	t.Helper()
	info, err := os.Stat(config)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(info.ModTime().Add(2500 * time.Millisecond)))
}

func (e *leanEnv) expectRun(t *testing.T, policy, bundle, id string, handovers int) {
	t.Helper()
	if _, errOut, err := e.guardRun(t, policy, bundle, id); err != nil {
		t.Fatalf("run %s under %s: %v\n%s", id, policy, err, errOut)
	}
	if got := e.handedOver(); got != handovers {
		t.Fatalf("after run %s: %d calls handed over to the full build, want %d", id, got, handovers)
	}
}

// A call the caches can carry out runs in the lean build alone; a cache
// miss, a document only the full build can read, and guard-runtime's own
// commands are handed over, and give what the full build gives.
func TestLeanBuildHandsOverOnlyWhatItCannotDo(t *testing.T) {
	harness.EnsureJournald(t)
	e := newLeanEnv(t)
	waitForCacheableConfig(t, e.config)
	withSeccomp := func(s *specs.Spec) { s.Linux.Seccomp = runtimeDefaultSeccomp(t, s) }

	coldID, warmID := uniqueID("lean-cold"), uniqueID("lean-warm")
	e.expectRun(t, "baseline", e.bundle(t, []string{"true"}, withSeccomp), coldID, 1)
	e.expectRun(t, "baseline", e.bundle(t, []string{"true"}, withSeccomp), warmID, 1)
	cold := harness.WaitForJournalEntries(t, 1, "SYSLOG_IDENTIFIER=guard-runtime", "GUARD_CONTAINER_ID="+coldID)[0]
	warm := harness.WaitForJournalEntries(t, 1, "SYSLOG_IDENTIFIER=guard-runtime", "GUARD_CONTAINER_ID="+warmID)[0]
	for _, field := range []string{"PRIORITY", "GUARD_DECISION", "GUARD_MODE", "GUARD_POLICY", "GUARD_OPERATION", "GUARD_RUNTIME", "GUARD_RUNTIME_SHA256"} {
		if cold[field] != warm[field] || warm[field] == "" {
			t.Errorf("%s: %q from the full build, %q from the lean build", field, cold[field], warm[field])
		}
	}
	if want := strings.ReplaceAll(cold["MESSAGE"], coldID, warmID); warm["MESSAGE"] != want {
		t.Errorf("MESSAGE %q from the lean build, want %q", warm["MESSAGE"], want)
	}

	// A pass-through command.
	if _, errOut, err := e.guardCmd("--root", e.root, "list"); err != nil {
		t.Fatalf("list: %v: %s", err, errOut)
	}
	if got := e.handedOver(); got != 1 {
		t.Fatalf("list was handed over (%d hand-overs)", got)
	}

	// A rewrite: restricted's first use is a policy cache miss; then the
	// lean build rewrites by itself.
	e.expectRun(t, "restricted", e.bundle(t, []string{"true"}, nonRootWithSeccomp(t)), uniqueID("lean-rewrite"), 2)
	rewritten := e.bundle(t, []string{"true"}, nonRootWithSeccomp(t))
	e.expectRun(t, "restricted", rewritten, uniqueID("lean-rewrite"), 2)
	if data, _ := os.ReadFile(filepath.Join(rewritten, "config.json")); !strings.Contains(string(data), `"readonly":true`) {
		t.Errorf("the lean build did not rewrite config.json: %s", data)
	}

	// A document the generated decoders leave to reflection, which says
	// what is wrong with it: the full build refuses it, in its own words.
	mistyped := e.bundle(t, []string{"true"}, withSeccomp)
	data, _ := os.ReadFile(filepath.Join(mistyped, "config.json"))
	data = []byte(strings.Replace(string(data), `{`, `{"domainname":5,`, 1))
	if err := os.WriteFile(filepath.Join(mistyped, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	id := uniqueID("lean-mistyped")
	_, errOut, err := e.guardRun(t, "baseline", mistyped, id)
	if err == nil || !strings.Contains(errOut, `field /domainname holds a JSON number`) {
		t.Errorf("a config with a number for a domain name: %v, stderr %q", err, errOut)
	}
	if got := e.handedOver(); got != 3 {
		t.Errorf("the mistyped config was not handed over (%d hand-overs)", got)
	}
	if out, _, err := runCommand(e.runc, "--root", e.root, "state", id); err == nil {
		t.Errorf("runc knows the refused container: %s", out)
	}

	// guard-runtime's own commands.
	policies, _ := filepath.Abs("../policy.d")
	if out, errOut, err := runCommand(e.guard, "policy", "lint", "--policy-dir", policies); err != nil {
		t.Errorf("policy lint through the lean build: %v\n%s%s", err, out, errOut)
	}
	if got := e.handedOver(); got != 4 {
		t.Errorf("policy lint was not handed over (%d hand-overs)", got)
	}
}

// Without a usable full build, a call the lean build cannot carry out
// fails closed and says what to install; nothing runs.
func TestLeanBuildWithoutItsFullBuildFailsClosed(t *testing.T) {
	e := newRuncEnv(t)
	bin := t.TempDir()
	e.guard = filepath.Join(bin, "guard-runtime")
	copyExecutable(t, harness.GuardBinary(t), e.guard)
	bundle := e.bundle(t, []string{"true"}, nonRootWithSeccomp(t))
	full := filepath.Join(bin, "guard-runtime-full")

	for _, tc := range []struct {
		name, want string
		install    func()
	}{
		{"missing", "no such file or directory", func() {}},
		{"writable by others", "writable by group or others", func() {
			copyExecutable(t, harness.FullGuardBinary(t), full)
			os.Chmod(full, 0o777)
		}},
	} {
		tc.install()
		id := uniqueID("lean-nofull")
		_, errOut, err := e.guardRun(t, "restricted", bundle, id)
		if err == nil {
			t.Fatalf("%s full build: the container ran", tc.name)
		}
		for _, want := range []string{tc.want, "guard-runtime-full", "hack/install.sh"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s full build: stderr lacks %q: %s", tc.name, want, errOut)
			}
		}
		if out, _, err := runCommand(e.runc, "--root", e.root, "state", id); err == nil {
			t.Errorf("%s full build: runc knows the container: %s", tc.name, out)
		}
	}

	os.Chmod(full, 0o755)
	if _, errOut, err := e.guardRun(t, "restricted", bundle, uniqueID("lean-full")); err != nil {
		t.Fatalf("with the full build installed: %v: %s", err, errOut)
	}
}
