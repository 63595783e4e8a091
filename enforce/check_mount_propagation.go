package enforce

import (
	"fmt"
	"slices"
	"strconv"
)

// MountPropagation denies shared mount propagation, through which mounts
// made in the container appear on the host and the reverse (CIS Docker
// Benchmark 5.20).
//
// Fields: mounts[].options, linux.rootfsPropagation (config.json).
//
// Allowed: no option and no rootfsPropagation in denied. runc applies every
// propagation option of a mount in order, each with its own mount(2) call,
// so the last one decides the mount's own propagation, but an earlier one
// still acts: ["rshared", "private"] makes the whole tree shared, then only
// its top private, and the submounts stay shared. So a denied option is
// denied wherever it stands in the list. Options are compared exactly, as
// runc does ("Shared" is not a propagation flag to runc).
//
// Policy settings:
//
//	mountPropagation:
//	  denied: [shared, rshared]
type MountPropagation struct {
	Denied []string `yaml:"denied"`
}

// propagationFlags are the propagation options runc knows.
var propagationFlags = []string{"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"}

// Validate implements Control.
func (c *MountPropagation) Validate() error {
	for _, p := range c.Denied {
		if !slices.Contains(propagationFlags, p) {
			return fmt.Errorf("unknown propagation %q: use one of %v", p, propagationFlags)
		}
	}
	return nil
}

// Check implements Control.
func (c *MountPropagation) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	for i, m := range in.Spec.Mounts {
		for j, o := range m.Options {
			if slices.Contains(c.Denied, o) {
				r.Deny(mountField(i, "options/"+strconv.Itoa(j)), "the mount at %s has propagation %s, which would share mounts between the container and the host; policy %s does not allow it: remove bind-propagation=%s (Kubernetes: mountPropagation: Bidirectional)", cleanDestination(m.Destination), o, r.Policy(), o)
				break
			}
		}
	}
	if p := in.Linux().RootfsPropagation; slices.Contains(c.Denied, p) {
		r.Deny("/linux/rootfsPropagation", "linux.rootfsPropagation is %s, which would share the container's mounts with the host; policy %s does not allow it: remove the shared bind propagation that asked for it", p, r.Policy())
	}
}
