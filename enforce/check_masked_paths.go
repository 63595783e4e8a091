package enforce

import (
	"fmt"
	"path"

	"github.com/guard-runtime/guard-runtime/spec"
)

// MaskedPaths requires the masked and read-only /proc and /sys paths that
// hide the host's kernel internals (Pod Security's procMount Default).
//
// Fields: linux.maskedPaths, linux.readonlyPaths (config.json).
// Allowed: both lists present and non-empty. Docker's
// `systempaths=unconfined` and --privileged leave both out. With missing:
// rewrite, an empty or missing list is replaced by the policy's list (the
// kubelet sends its own lists, and a policy for Kubernetes nodes may
// restore them rather than deny).
//
// Policy settings:
//
//	maskedPaths:
//	  missing: deny          # deny, or rewrite to the lists below
//	  masked: [/proc/kcore, ...]
//	  readonly: [/proc/sys, ...]
type MaskedPaths struct {
	Missing  Action   `yaml:"missing"`
	Masked   []string `yaml:"masked"`
	Readonly []string `yaml:"readonly"`
}

// Validate implements Control.
func (c *MaskedPaths) Validate() error {
	if err := validateAction(c.Missing, Deny, Rewrite); err != nil {
		return err
	}
	for _, p := range append(append([]string{}, c.Masked...), c.Readonly...) {
		if !path.IsAbs(p) || path.Clean(p) != p {
			return fmt.Errorf("path %q must be a clean absolute path", p)
		}
	}
	if c.Missing == Rewrite && (len(c.Masked) == 0 || len(c.Readonly) == 0) {
		return fmt.Errorf("missing: rewrite needs both the masked and the readonly lists")
	}
	return nil
}

// Check implements Control.
func (c *MaskedPaths) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	linux := in.Linux()
	c.checkList(r, "/linux/maskedPaths", "masked", len(linux.MaskedPaths), c.Masked)
	c.checkList(r, "/linux/readonlyPaths", "read-only", len(linux.ReadonlyPaths), c.Readonly)
}

func (c *MaskedPaths) checkList(r *Report, field, what string, have int, defaults []string) {
	if have > 0 {
		return
	}
	msg := fmt.Sprintf("no %s paths (%s is empty or missing), which policy %s does not allow: remove --security-opt systempaths=unconfined", what, field, r.Policy())
	if c.Missing == Rewrite {
		msg = fmt.Sprintf("no %s paths: %s set to the defaults by policy %s", what, field, r.Policy())
	}
	r.Act(c.Missing, field, msg, func(e *spec.Editor) error {
		return e.Set(field, defaults)
	})
}
