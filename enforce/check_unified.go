package enforce

import (
	"sort"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Unified denies raw cgroup v2 settings: runc writes each key as a file of
// the container's cgroup, after the typed limits, so memory.max or
// pids.max there would undo what the resources control enforces.
//
// Fields: linux.resources.unified (config.json, and the resources of update).
// Allowed: no key at all.
//
// Policy settings: none; `unified: {}` turns the control on.
type Unified struct{}

// Validate implements Control.
func (c *Unified) Validate() error { return nil }

// Check implements Control.
func (c *Unified) Check(in *Input, r *Report) {
	if in.Resources == nil {
		return
	}
	keys := make([]string, 0, len(in.Resources.Unified))
	for key := range in.Resources.Unified {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		r.Deny(in.ResourcesPath+spec.Pointer("unified", key), "raw cgroup setting %s=%q in linux.resources.unified is not allowed by policy %s: use the typed limits (--memory, --cpus, --pids-limit)", key, in.Resources.Unified[key], r.Policy())
	}
}
