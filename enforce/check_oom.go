package enforce

import (
	"fmt"

	"github.com/guard-runtime/guard-runtime/spec"
)

// OOM keeps containers within reach of the kernel's OOM killer, so that a
// runaway container cannot make the kernel kill host processes instead.
//
// Fields: process.oomScoreAdj (config.json; runc ignores it in an exec
// process file, whose process keeps runc's own score);
// linux.resources.memory.disableOOMKiller (config.json, and the resources
// of update).
// Allowed: oomScoreAdj at or above the policy's minimum; disableOOMKiller
// absent or false. A missing oomScoreAdj leaves the process runc's own
// score, inherited from the engine's shim (containerd runs its shims at
// -999 or so), so it is denied or rewritten to the default. Docker always
// writes one; the CRI plugin writes one whenever the request carries
// resources, as the kubelet's always do.
//
// A node's minimum is lower than the score a missing one should get: the
// kubelet writes -998 for pod sandboxes and -997 for Guaranteed pods, so a
// Kubernetes policy accepts -998, yet a container created without resources
// (crictl, say) should not be protected like a sandbox: default says what
// it gets instead.
//
// Policy settings:
//
//	oom:
//	  minScoreAdj: 0     # -1000..1000; the kubelet writes -997 and -998
//	  missing: rewrite   # rewrite (set the default) or deny
//	  default: 0         # optional, at or above minScoreAdj; default: minScoreAdj
type OOM struct {
	MinScoreAdj int    `yaml:"minScoreAdj"`
	Missing     Action `yaml:"missing"`
	Default     *int   `yaml:"default,omitempty"`
}

// Validate implements Control.
func (c *OOM) Validate() error {
	if c.MinScoreAdj < -1000 || c.MinScoreAdj > 1000 {
		return fmt.Errorf("minScoreAdj %d is outside -1000..1000", c.MinScoreAdj)
	}
	if d := c.Default; d != nil && (*d < c.MinScoreAdj || *d > 1000) {
		return fmt.Errorf("default %d is outside minScoreAdj..1000 (%d..1000): a rewritten score must pass the check", *d, c.MinScoreAdj)
	}
	return validateAction(c.Missing, Rewrite, Deny)
}

// missingScore is what a missing oomScoreAdj is rewritten to.
func (c *OOM) missingScore() int {
	if c.Default != nil {
		return *c.Default
	}
	return c.MinScoreAdj
}

// Check implements Control.
func (c *OOM) Check(in *Input, r *Report) {
	if in.Spec != nil && in.Process != nil {
		c.checkScore(in, r)
	}
	if in.Resources != nil && in.Resources.Memory != nil {
		if d := in.Resources.Memory.DisableOOMKiller; d != nil && *d {
			r.Deny(in.ResourcesPath+"/memory/disableOOMKiller", "disabling the OOM killer is not allowed by policy %s: remove --oom-kill-disable", r.Policy())
		}
	}
}

func (c *OOM) checkScore(in *Input, r *Report) {
	field := in.ProcessPath + "/oomScoreAdj"
	score := in.Process.OOMScoreAdj
	if score == nil {
		rewritten := c.missingScore()
		msg := fmt.Sprintf("no oomScoreAdj: the process would keep the engine's score; set to %d by policy %s", rewritten, r.Policy())
		if c.Missing == Deny {
			msg = fmt.Sprintf("no oomScoreAdj: the process would keep the engine's score, and policy %s requires one of at least %d: pass --oom-score-adj", r.Policy(), c.MinScoreAdj)
		}
		r.Act(c.Missing, field, msg, func(e *spec.Editor) error { return e.Set(field, rewritten) })
		return
	}
	if *score < c.MinScoreAdj {
		r.Deny(field, "oomScoreAdj %d is below the minimum %d of policy %s: remove --oom-score-adj or raise it", *score, c.MinScoreAdj, r.Policy())
	}
}
