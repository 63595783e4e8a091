package enforce

import (
	"fmt"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// ReadOnlyRoot requires a read-only root filesystem, so that a compromised
// process cannot plant binaries or change the image's files.
//
// Fields: root.readonly (config.json); mounts[].destination for the tmpfs
// mounts that keep the usual scratch directories writable.
// Allowed: true. With action rewrite, false or absent becomes true and the
// listed tmpfs mounts are added, except where a mount already targets them.
//
// Policy settings:
//
//	readOnlyRoot:
//	  action: rewrite   # rewrite or deny
//	  tmpfs:            # added with the rewrite
//	    - destination: /tmp
//	      options: [nosuid, nodev, noexec, size=64m, mode=1777]
type ReadOnlyRoot struct {
	Action Action       `yaml:"action"`
	Tmpfs  []TmpfsMount `yaml:"tmpfs"`
}

// TmpfsMount is a tmpfs mount the rewrite adds.
type TmpfsMount struct {
	Destination string   `yaml:"destination"`
	Options     []string `yaml:"options"`
}

// Validate implements Control.
func (c *ReadOnlyRoot) Validate() error {
	for _, m := range c.Tmpfs {
		if !path.IsAbs(m.Destination) || path.Clean(m.Destination) != m.Destination {
			return fmt.Errorf("tmpfs destination %q must be a clean absolute path", m.Destination)
		}
	}
	return validateAction(c.Action, Rewrite, Deny)
}

// Check implements Control.
func (c *ReadOnlyRoot) Check(in *Input, r *Report) {
	if in.Spec == nil || (in.Spec.Root != nil && in.Spec.Root.Readonly) {
		return
	}
	msg := "the root filesystem is writable: pass --read-only"
	if c.Action == Rewrite {
		msg = fmt.Sprintf("the root filesystem is made read-only by policy %s", r.Policy())
	}
	r.Act(c.Action, "/root/readonly", msg, func(e *spec.Editor) error {
		if err := e.Set("/root/readonly", true); err != nil {
			return err
		}
		return c.addTmpfs(e, in.Spec.Mounts)
	})
}

func (c *ReadOnlyRoot) addTmpfs(e *spec.Editor, mounts []specs.Mount) error {
	for _, t := range c.Tmpfs {
		if hasMountAt(mounts, t.Destination) {
			continue
		}
		m := specs.Mount{Destination: t.Destination, Type: "tmpfs", Source: "tmpfs", Options: t.Options}
		if err := e.Append("/mounts", m); err != nil {
			return err
		}
	}
	return nil
}

func hasMountAt(mounts []specs.Mount, dest string) bool {
	for _, m := range mounts {
		if path.Clean("/"+m.Destination) == dest {
			return true
		}
	}
	return false
}
