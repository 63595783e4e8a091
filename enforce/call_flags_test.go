package enforce

import (
	"strings"
	"testing"
)

// callFlags are runc's flags of a create that weaken the container's
// isolation whatever the document says, and the control that refuses each.
var callFlags = []struct {
	flag, control, message string
	ops                    []string
	set                    func(*Call)
}{
	{"--no-pivot", "pivotRoot", "chroot instead of pivot_root", []string{OpCreate, OpRun, OpRestore}, func(c *Call) { c.NoPivot = true }},
	{"--no-new-keyring", "sessionKeyring", "leaves the container in the session keyring runc was started with", []string{OpCreate, OpRun}, func(c *Call) { c.NoNewKeyring = true }},
}

// Every shipped policy denies each flag, whatever the document says, and
// admits the call without it.
func TestCallFlagsAreDenied(t *testing.T) {
	for _, policy := range Available(shippedPolicies) {
		p := loadShipped(t, policy)
		for _, f := range callFlags {
			for _, op := range f.ops {
				ctx := Context{Operation: op, ContainerID: "fixture"}
				f.set(&ctx.Call)
				d := judgeSpecIn(t, p, compliantSpec(), ctx)
				v := violationAt(d, f.flag)
				if v.Control != f.control || !strings.Contains(v.Message, f.message) {
					t.Errorf("%s %s %s: %+v", policy, op, f.flag, d.Violations)
				}
				if p.Mode != "audit" && d.Verdict != DenyVerdict {
					t.Errorf("%s %s %s: %s", policy, op, f.flag, d.Verdict)
				}
			}
			ctx := Context{Operation: OpCreate, ContainerID: "fixture"}
			if v := violationAt(judgeSpecIn(t, p, compliantSpec(), ctx), f.flag); v.Control != "" {
				t.Errorf("%s without %s: %+v", policy, f.flag, v)
			}
		}
	}
}

// The gate reads each flag as runc does: bare or =true is set, =false
// (the last occurrence wins) is not.
func TestGateReadsCallFlags(t *testing.T) {
	for _, f := range callFlags {
		for _, c := range []struct {
			args   []string
			denied bool
		}{
			{[]string{"create", f.flag}, true},
			{[]string{"run", f.flag + "=true"}, true},
			{[]string{"create", f.flag + "=false"}, false},
			{[]string{"create", f.flag, f.flag + "=0"}, false},
			{[]string{"create"}, false},
		} {
			bundle := testBundle(t, compliantSpec())
			args := append([]string{"--guard-policy=baseline", "--root", t.TempDir()}, c.args...)
			err := testGate(t, append(args, "--bundle", bundle, "c1")...).enforce()
			if denied := err != nil && strings.Contains(err.Error(), f.message); denied != c.denied {
				t.Errorf("%q: %v", c.args, err)
			}
		}
	}
}
