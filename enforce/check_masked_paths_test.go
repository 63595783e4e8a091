package enforce

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestMaskedPathsFixtures(t *testing.T) {
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) {
			runFixtures(t, policy, compliantSpec, []fixture{
				{name: "no masked paths", change: func(s *specs.Spec) { s.Linux.MaskedPaths = nil }, verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "empty masked paths", change: func(s *specs.Spec) { s.Linux.MaskedPaths = []string{} }, verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "no read-only paths", change: func(s *specs.Spec) { s.Linux.ReadonlyPaths = nil }, verdict: DenyVerdict, field: "/linux/readonlyPaths"},
				{name: "a single masked path", change: func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"/proc/kcore"} }, verdict: Allow},
			})
		})
	}
}

func TestMaskedPathsRewriteToDefaults(t *testing.T) {
	s := compliantSpec()
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, []string{}
	p := nodePolicy(t)
	d := judgeSpec(t, p, s)
	if d.Verdict != RewriteDoc || !hasViolationAt(d, "/linux/maskedPaths") || !hasViolationAt(d, "/linux/readonlyPaths") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
	var got specs.Spec
	if err := d.Result.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Linux.MaskedPaths, p.Controls.MaskedPaths.Masked) || !slices.Equal(got.Linux.ReadonlyPaths, p.Controls.MaskedPaths.Readonly) {
		t.Fatalf("rewritten to %v and %v", got.Linux.MaskedPaths, got.Linux.ReadonlyPaths)
	}
	if !slices.Contains(got.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(got.Linux.ReadonlyPaths, "/proc/sysrq-trigger") {
		t.Fatalf("the shipped lists lack Docker's defaults: %v %v", got.Linux.MaskedPaths, got.Linux.ReadonlyPaths)
	}
}

func TestMaskedPathsRewriteNeedsLists(t *testing.T) {
	if err := (&MaskedPaths{Missing: Rewrite}).Validate(); err == nil {
		t.Fatal("rewrite without lists validated")
	}
}
