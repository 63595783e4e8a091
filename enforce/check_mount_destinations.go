package enforce

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MountDestinations keeps mounts off the container's /proc and /sys, and
// the host's /proc and /sys out of the container.
//
// Fields: mounts[].destination, .type, .source and .options (config.json).
//
// Allowed:
//   - A mount whose destination, cleaned as runc places it, is on or under
//     a protected path (/proc, /sys) only when it is one of the standard
//     mounts: not a bind, with the destination, type and source of an entry
//     in standard. Those are the engines' own proc at /proc, sysfs at /sys
//     and cgroup at /sys/fs/cgroup; a bind, a tmpfs or a second proc there
//     could hide or replace what the kernel and the masked paths protect.
//     The engines' other mounts (tmpfs at /dev, devpts, mqueue at
//     /dev/mqueue, shm at /dev/shm) are not under /proc or /sys.
//   - A bind mount whose source, as written or resolved (see HostPaths), is
//     not a protected path, inside one, or an ancestor of one: a bind of the
//     host's /proc or /sys hands the container the host's processes and
//     kernel settings. hostPaths denies these sources as well, since /proc
//     and /sys are among its sensitive paths; this control keeps them denied
//     in a policy that changes hostPaths.
//
// Policy settings:
//
//	mountDestinations:
//	  protected: [/proc, /sys]
//	  standard:
//	    - {destination: /proc, type: proc, source: proc}
type MountDestinations struct {
	Protected []string        `yaml:"protected"`
	Standard  []StandardMount `yaml:"standard"`
}

// StandardMount is an engine's own mount on a protected path.
type StandardMount struct {
	Destination string `yaml:"destination"`
	Type        string `yaml:"type"`
	Source      string `yaml:"source"`
}

// Validate implements Control.
func (c *MountDestinations) Validate() error {
	for _, p := range c.Protected {
		if !isCleanAbs(p) || p == "/" {
			return fmt.Errorf("protected path %q must be a clean absolute path other than /", p)
		}
	}
	for _, m := range c.Standard {
		if !isCleanAbs(m.Destination) || m.Type == "" || m.Source == "" {
			return fmt.Errorf("standard mount %+v needs a clean absolute destination, a type and a source", m)
		}
	}
	return nil
}

// Check implements Control.
func (c *MountDestinations) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	for i, m := range in.Spec.Mounts {
		c.checkDestination(r, i, m)
		if isBindMount(m.Options) {
			c.checkBindSource(in, r, i, m)
		}
	}
}

func (c *MountDestinations) checkDestination(r *Report, i int, m specs.Mount) {
	dest := cleanDestination(m.Destination)
	protected, ok := c.protectedBy(dest)
	if !ok || c.isStandard(dest, m) {
		return
	}
	kind := m.Type
	if isBindMount(m.Options) {
		kind = "bind"
	}
	r.Deny(mountField(i, "destination"), "a %s mount at %s is not allowed by policy %s: only the engine's own proc, sysfs and cgroup mounts may be placed on %s; remove the -v, --mount or --tmpfs option that targets it", kind, dest, r.Policy(), protected)
}

func (c *MountDestinations) checkBindSource(in *Input, r *Report, i int, m specs.Mount) {
	src, err := resolveMountSource(in.Bundle, m.Source, true)
	if err != nil {
		r.Deny(mountField(i, "source"), "bind mount of %s cannot be judged, and policy %s does not admit what it cannot check: %v", m.Source, r.Policy(), err)
		return
	}
	for _, p := range []string{src.written, src.resolved} {
		for _, protected := range c.Protected {
			if p == protected || pathWithin(p, protected) || pathWithin(protected, p) {
				r.Deny(mountField(i, "source"), "bind mount of %s exposes the host's %s (its processes and kernel settings), which policy %s does not allow (they are among hostPaths' sensitive paths too): remove the -v or --mount option", src.describe(), protected, r.Policy())
				return
			}
		}
	}
}

func (c *MountDestinations) protectedBy(dest string) (string, bool) {
	for _, p := range c.Protected {
		if dest == p || pathWithin(dest, p) {
			return p, true
		}
	}
	return "", false
}

func (c *MountDestinations) isStandard(dest string, m specs.Mount) bool {
	if isBindMount(m.Options) {
		return false
	}
	return slices.ContainsFunc(c.Standard, func(s StandardMount) bool {
		return s.Destination == dest && s.Type == m.Type && s.Source == m.Source
	})
}
