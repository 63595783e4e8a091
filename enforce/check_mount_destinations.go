package enforce

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MountDestinations keeps mounts off the container's /proc and /sys, the
// kernel's proc, sysfs and cgroup filesystems to the engine's own mounts,
// and the host's /proc and /sys out of the container.
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
//   - A standard mount with readOnly: true only when it ends read-only:
//     ro after any rw among its options, which runc applies in order. rro
//     does not count: runc 1.1.5 applies the recursive attribute only to
//     bind mounts, and mounts a sysfs or cgroup with rro read-write.
//     Engines mount sysfs and cgroup
//     read-only unless the container is privileged (Podman on cgroup v2
//     also when /sys/fs/cgroup is unmasked); written to, sysfs reaches the
//     host's devices and kernel (/sys/kernel/uevent_helper names a program
//     the kernel runs as root), and a cgroup v1 hierarchy's release_agent
//     does the same.
//   - A mount that is not a bind and whose type is one of the types in
//     standard (proc, sysfs, cgroup, cgroup2) only as one of the standard
//     mounts, wherever it is placed: a second proc at /hostproc is a fresh
//     procfs without the masked and read-only paths, whose
//     /hostproc/sys/kernel/core_pattern names a program the host's kernel
//     runs as root; a second sysfs or cgroup is just as open. runc itself
//     refuses a proc only under /proc, not elsewhere.
//   - A bind mount whose source, as written or resolved (see HostPaths), is
//     not a protected path, inside one, or an ancestor of one: a bind of the
//     host's /proc or /sys hands the container the host's processes and
//     kernel settings. hostPaths denies these sources as well, since /proc
//     and /sys are among its sensitive paths; this control keeps them denied
//     in a policy that changes hostPaths.
//
// Destinations are judged as written, cleaned. runc follows symlinks of
// the root filesystem in a destination (except for proc and sysfs, which
// it refuses to mount through one), so an image with /x -> /sys can place
// a tmpfs or a bind on /sys. Such a mount only covers what is there, in
// the container's own mount namespace; changing the filesystem already
// there takes the remount option, which mountTypes refuses on every mount.
//
// Policy settings:
//
//	mountDestinations:
//	  protected: [/proc, /sys]
//	  standard:
//	    - {destination: /proc, type: proc, source: proc}
//	    - {destination: /sys, type: sysfs, source: sysfs, readOnly: true}
type MountDestinations struct {
	Protected []string        `yaml:"protected"`
	Standard  []StandardMount `yaml:"standard"`
}

// StandardMount is an engine's own mount on a protected path; ReadOnly
// requires it to end read-only.
type StandardMount struct {
	Destination string `yaml:"destination"`
	Type        string `yaml:"type"`
	Source      string `yaml:"source"`
	ReadOnly    bool   `yaml:"readOnly,omitempty"`
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
	if s := c.standard(dest, m); s != nil {
		if s.ReadOnly && !endsReadOnly(m.Options) {
			r.Deny(mountField(i, "options"), "the %s mount at %s is not read-only (its options must end with ro after any rw: runc applies them in order), which policy %s does not allow: a writable %s lets the container change the host's kernel settings; engines mount it read-only unless the container is privileged: remove --privileged (Podman: also --security-opt unmask=ALL or unmask=/sys/fs/cgroup), or the rw option", m.Type, dest, r.Policy(), m.Type)
		}
		return
	}
	bind := isBindMount(m.Options)
	if protected, ok := c.protectedBy(dest); ok {
		kind := m.Type
		if bind {
			kind = "bind"
		}
		r.Deny(mountField(i, "destination"), "a %s mount at %s is not allowed by policy %s: only the engine's own proc, sysfs and cgroup mounts may be placed on %s; remove the -v, --mount or --tmpfs option that targets it", kind, dest, r.Policy(), protected)
		return
	}
	if !bind && c.isStandardType(m.Type) {
		r.Deny(mountField(i, "type"), "a %s mount at %s is not allowed by policy %s: a %s mount outside %s is a second copy of the kernel's interface without the masked and read-only paths, through which the container can change the host's kernel settings; remove the --mount option that asks for it", m.Type, dest, r.Policy(), m.Type, c.standardPlaces(m.Type))
	}
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

// standard returns the standard mount that m at dest is, or nil.
func (c *MountDestinations) standard(dest string, m specs.Mount) *StandardMount {
	if isBindMount(m.Options) {
		return nil
	}
	for i := range c.Standard {
		if s := &c.Standard[i]; s.Destination == dest && s.Type == m.Type && s.Source == m.Source {
			return s
		}
	}
	return nil
}

// isStandardType reports whether typ is the type of a standard mount.
func (c *MountDestinations) isStandardType(typ string) bool {
	return slices.ContainsFunc(c.Standard, func(s StandardMount) bool { return s.Type == typ })
}

// standardPlaces names where the standard mounts of type typ go, for
// messages.
func (c *MountDestinations) standardPlaces(typ string) string {
	var places []string
	for _, s := range c.Standard {
		if s.Type == typ && !slices.Contains(places, s.Destination) {
			places = append(places, s.Destination)
		}
	}
	return strings.Join(places, " and ")
}

// endsReadOnly applies ro and rw (MS_RDONLY) as runc does, in order, the
// last winning. Unlike isReadOnlyMount it ignores rro: the recursive
// attribute, which runc sets only on bind mounts.
func endsReadOnly(options []string) bool {
	return lastOf(options, "ro", "rw")
}
