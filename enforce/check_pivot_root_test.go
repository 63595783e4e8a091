package enforce

import (
	"strings"
	"testing"
)

// Every shipped policy denies --no-pivot, whatever the document says.
func TestPivotRootDeniesNoPivot(t *testing.T) {
	for _, policy := range Available(shippedPolicies) {
		p := loadShipped(t, policy)
		if p.Controls.PivotRoot == nil {
			t.Errorf("policy %s does not turn pivotRoot on", policy)
			continue
		}
		for _, op := range []string{OpCreate, OpRun, OpRestore} {
			ctx := Context{Operation: op, ContainerID: "fixture", Call: Call{NoPivot: true}}
			d := judgeSpecIn(t, p, compliantSpec(), ctx)
			v := violationAt(d, "--no-pivot")
			if v.Control != "pivotRoot" || !strings.Contains(v.Message, "chroot instead of pivot_root") {
				t.Errorf("%s %s --no-pivot: %+v", policy, op, d.Violations)
			}
			if p.Mode != "audit" && d.Verdict != DenyVerdict {
				t.Errorf("%s %s --no-pivot: %s", policy, op, d.Verdict)
			}
		}
		ctx := Context{Operation: OpCreate, ContainerID: "fixture"}
		if v := violationAt(judgeSpecIn(t, p, compliantSpec(), ctx), "--no-pivot"); v.Control != "" {
			t.Errorf("%s without --no-pivot: %+v", policy, v)
		}
	}
}

// The gate reads --no-pivot as runc does: bare or =true is set, =false
// (the last occurrence wins) is not.
func TestGateReadsNoPivot(t *testing.T) {
	for _, c := range []struct {
		args   []string
		denied bool
	}{
		{[]string{"create", "--no-pivot"}, true},
		{[]string{"run", "--no-pivot=true"}, true},
		{[]string{"create", "--no-pivot=false"}, false},
		{[]string{"create", "--no-pivot", "--no-pivot=0"}, false},
		{[]string{"create"}, false},
	} {
		bundle := testBundle(t, compliantSpec())
		root := t.TempDir()
		args := append([]string{"--guard-policy=baseline", "--root", root}, c.args...)
		args = append(args, "--bundle", bundle, "c1")
		err := testGate(t, args...).enforce()
		if denied := err != nil && strings.Contains(err.Error(), "--no-pivot confines the container"); denied != c.denied {
			t.Errorf("%q: %v", c.args, err)
		}
	}
}
