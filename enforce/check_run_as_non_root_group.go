package enforce

import (
	"fmt"
	"slices"

	"github.com/guard-runtime/guard-runtime/spec"
)

// RunAsNonRootGroup keeps processes out of the root group (gid 0), as
// their primary group and among their supplementary groups (Pod Security
// Policy's runAsGroup and supplementalGroups MustRunAs a non-zero range;
// Pod Security Standards' restricted does not ask for it, since images
// such as OpenShift's make their writable directories group 0's on
// purpose).
//
// Fields: process.user.gid and process.user.additionalGids (config.json
// and the exec process file).
// Allowed: a gid other than 0, and no 0 among additionalGids.
//
// The root group owns most of an image's and a host's files: whatever is
// group-writable there is writable to a process in it, and a bind mount of
// a host directory brings the host's group-0 files along. Docker's
// `-u 1000` on an image without /etc/passwd runs the process with gid 0
// and additionalGids [0]; `--group-add 0` adds 0.
//
// Policy settings:
//
//	runAsNonRootGroup:
//	  action: deny     # deny, or rewrite: a primary gid 0 becomes gid,
//	  gid: 65534       # and 0 leaves additionalGids (gid: for rewrite only)
type RunAsNonRootGroup struct {
	Action Action `yaml:"action"`
	GID    uint32 `yaml:"gid"`
}

// Validate implements Control.
func (c *RunAsNonRootGroup) Validate() error {
	if err := validateAction(c.Action, Deny, Rewrite); err != nil {
		return err
	}
	if c.Action == Rewrite && c.GID == 0 {
		return fmt.Errorf("rewrite needs gid: the non-zero group a process in group 0 gets instead")
	}
	return nil
}

// Check implements Control.
func (c *RunAsNonRootGroup) Check(in *Input, r *Report) {
	if in.Process == nil {
		return
	}
	user := in.Process.User
	if user.GID == 0 {
		field := in.ProcessPath + "/user/gid"
		r.Act(c.Action, field, "runs in the root group (gid 0): pass --user UID:GID with a non-zero gid, or give the user a group in the image's /etc/passwd", func(e *spec.Editor) error {
			return e.Set(field, c.GID)
		})
	}
	if slices.Contains(user.AdditionalGids, 0) {
		field := in.ProcessPath + "/user/additionalGids"
		others := slices.DeleteFunc(slices.Clone(user.AdditionalGids), func(gid uint32) bool { return gid == 0 })
		r.Act(c.Action, field, "has the root group (gid 0) among its supplementary groups: remove --group-add 0 (Docker adds 0 itself for --user UID without a group on an image without /etc/passwd: pass UID:GID)", func(e *spec.Editor) error {
			return e.Set(field, others)
		})
	}
}
