package enforce

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestOOMFixtures(t *testing.T) {
	runFixtures(t, "restricted", compliantSpec, []fixture{
		{name: "score -1", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-1) }, verdict: DenyVerdict, field: "/process/oomScoreAdj"},
		{name: "score -1000", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-1000) }, verdict: DenyVerdict, field: "/process/oomScoreAdj"},
		{name: "score 500", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(500) }, verdict: Allow},
		{name: "no score", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = nil }, verdict: RewriteDoc, field: "/process/oomScoreAdj"},
		{name: "OOM killer disabled", change: func(s *specs.Spec) { s.Linux.Resources.Memory.DisableOOMKiller = ptr(true) },
			verdict: DenyVerdict, field: "/linux/resources/memory/disableOOMKiller"},
		{name: "OOM killer kept", change: func(s *specs.Spec) { s.Linux.Resources.Memory.DisableOOMKiller = ptr(false) }, verdict: Allow},
	})
	runFixtures(t, "baseline", compliantSpec, []fixture{
		{name: "baseline leaves the score alone", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-1000) }, verdict: Allow},
	})
}

func TestOOMMissingScoreIsRewrittenToTheMinimum(t *testing.T) {
	s := compliantSpec()
	s.Process.OOMScoreAdj = nil
	d := judgeSpec(t, loadShipped(t, "restricted"), s)
	var got specs.Spec
	if err := d.Result.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	if got.Process.OOMScoreAdj == nil || *got.Process.OOMScoreAdj != 0 {
		t.Fatalf("oomScoreAdj rewritten to %v", got.Process.OOMScoreAdj)
	}
}

func TestOOMNodeMinimum(t *testing.T) {
	runPolicyFixtures(t, nodePolicy(t), compliantSpec, []fixture{
		{name: "guaranteed pod -997", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-997) }, verdict: Allow},
		{name: "sandbox -998", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-998) }, verdict: Allow},
		{name: "-999", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-999) }, verdict: DenyVerdict, field: "/process/oomScoreAdj"},
		{name: "no score, denied here", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = nil }, verdict: DenyVerdict, field: "/process/oomScoreAdj"},
	})
}

// A Kubernetes node accepts the kubelet's scores down to a sandbox's -998,
// but gives a container that comes without one a neutral 0, not -998.
func TestOOMKubernetesNode(t *testing.T) {
	runFixtures(t, "k8s-baseline", compliantSpec, []fixture{
		{name: "BestEffort 1000", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(1000) }, verdict: Allow},
		{name: "Guaranteed -997", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-997) }, verdict: Allow},
		{name: "sandbox -998", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-998) }, verdict: Allow},
		{name: "-999, the kubelet's own", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-999) }, verdict: DenyVerdict, field: "/process/oomScoreAdj"},
		{name: "no score", change: func(s *specs.Spec) { s.Process.OOMScoreAdj = nil }, verdict: RewriteDoc, field: "/process/oomScoreAdj"},
	})
	s := compliantSpec()
	s.Process.OOMScoreAdj = nil
	d := judgeSpec(t, loadShipped(t, "k8s-baseline"), s)
	var got specs.Spec
	if err := d.Result.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	if got.Process.OOMScoreAdj == nil || *got.Process.OOMScoreAdj != 0 {
		t.Fatalf("a missing oomScoreAdj became %v, want the default 0", got.Process.OOMScoreAdj)
	}
	if msg := violationAt(d, "/process/oomScoreAdj").Message; !strings.Contains(msg, "set to 0 by policy k8s-baseline") {
		t.Errorf("message: %s", msg)
	}
}

func TestOOMInUpdateAndExec(t *testing.T) {
	p := loadShipped(t, "restricted")
	d := judgeUpdateResources(t, p, `{"memory":{"disableOOMKiller":true}}`)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/memory/disableOOMKiller") {
		t.Fatalf("update: %s %+v", d.Verdict, d.Violations)
	}
	// runc does not apply an exec process's oomScoreAdj: nothing to judge.
	proc := compliantSpec().Process
	proc.OOMScoreAdj = ptr(-500)
	if d := judgeExecProcess(t, p, proc); d.Verdict != Allow {
		t.Fatalf("exec: %s %+v", d.Verdict, d.Violations)
	}
}

func TestOOMPolicyValidation(t *testing.T) {
	if err := (&OOM{MinScoreAdj: -1001, Missing: Deny}).Validate(); err == nil {
		t.Fatal("-1001 validated")
	}
	// A rewrite to a score the check would then deny cannot converge.
	if err := (&OOM{MinScoreAdj: -998, Default: ptr(-999), Missing: Rewrite}).Validate(); err == nil || !strings.Contains(err.Error(), "default -999") {
		t.Fatalf("a default below the minimum validated: %v", err)
	}
	if err := (&OOM{MinScoreAdj: 0, Default: ptr(1001), Missing: Rewrite}).Validate(); err == nil {
		t.Fatal("a default above 1000 validated")
	}
}
