package tests

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// TestDemoShowsAllowRewriteAndDeny runs hack/demo.sh in its cheapest mode,
// runc bundles without Docker, as a newcomer would.
func TestDemoShowsAllowRewriteAndDeny(t *testing.T) {
	harness.RequireRoot(t)
	harness.EnsureJournald(t)
	requireBinary(t, "runc", "apt-get install -y runc")
	harness.StaticBusybox(t)

	cmd := demoCommand(t, "--runc", "--guard-runtime", harness.GuardBinary(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hack/demo.sh --runc: %v\n%s", err, out)
	}
	expectDemoShowsAllThreeDecisions(t, string(out))
	for _, want := range []*regexp.Regexp{
		// policy check's verdict before each run.
		regexp.MustCompile(`(?m)^policy restricted \(enforce mode\): allow$`),
		regexp.MustCompile(`(?m)^policy restricted \(enforce mode\): rewrite$`),
		regexp.MustCompile(`(?m)^policy restricted \(enforce mode\): deny$`),
		// The rewritten container really runs confined.
		regexp.MustCompile(`(?m)^rewrite +rewrite +ran: uid=1000 CapBnd=0000000000000400 root=ro memory=536870912$`),
		regexp.MustCompile(`guard-runtime: policy "restricted" denied container guard-demo-deny-[\d-]+: runs as root`),
	} {
		if !want.Match(out) {
			t.Errorf("the demo's output does not match %s:\n%s", want, out)
		}
	}
}

// TestDemoWithoutJournaldShowsTheFallbackFile hides journald's socket in a
// mount namespace of its own: the records then come from the audit file.
func TestDemoWithoutJournaldShowsTheFallbackFile(t *testing.T) {
	harness.RequireRoot(t)
	harness.EnsureJournald(t) // so that /run/systemd/journal exists to hide
	requireBinary(t, "runc", "apt-get install -y runc")
	unshare := requireBinary(t, "unshare", "apt-get install -y util-linux")
	harness.StaticBusybox(t)

	demo := demoCommand(t, "--runc", "--guard-runtime", harness.GuardBinary(t))
	script := `mount -t tmpfs tmpfs /run/systemd/journal && exec "$@"`
	cmd := exec.Command(unshare, append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh"}, demo.Args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hack/demo.sh --runc without journald: %v\n%s", err, out)
	}
	expectDemoShowsAllThreeDecisions(t, string(out))
	if n := strings.Count(string(out), "audit record (journald is not running; from the fallback file):"); n != 3 {
		t.Errorf("%d records came from the fallback file, want 3:\n%s", n, out)
	}
}

func demoCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	script := filepath.Join(harness.ModuleRoot(t), "hack", "demo.sh")
	return exec.Command("bash", append([]string{script}, args...)...)
}

// expectDemoShowsAllThreeDecisions checks what the demo is for: each case
// with its command, its outcome and its audit record, and a summary that
// puts the three decisions side by side.
func expectDemoShowsAllThreeDecisions(t *testing.T, out string) {
	t.Helper()
	for _, decision := range []string{"allow", "rewrite", "deny"} {
		outcome := "ran"
		if decision == "deny" {
			outcome = "refused"
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^=== ` + decision + `$`),
			regexp.MustCompile(`(?m)^\$ (guard-runtime|\S*docker) .*guard-demo-` + decision + `-\d+`),
			// The record, from journalctl -o json-pretty or the fallback file.
			regexp.MustCompile(`"GUARD_DECISION" ?: ?"` + decision + `"`),
			regexp.MustCompile(`(?m)^` + decision + ` +` + decision + ` +` + outcome),
		} {
			if !want.MatchString(out) {
				t.Errorf("the demo's output does not show %s (no match for %s):\n%s", decision, want, out)
			}
		}
	}
	queries := regexp.MustCompile(`(?m)^\$ (journalctl -t guard-runtime GUARD_CONTAINER_ID=\S+ -o json-pretty|grep -F .*GUARD_CONTAINER_ID)`)
	if n := len(queries.FindAllString(out, -1)); n != 3 {
		t.Errorf("the demo shows %d audit queries, want one per case:\n%s", n, out)
	}
}
