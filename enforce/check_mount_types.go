package enforce

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MountTypes admits only the filesystem types the engines mount
// themselves, so that a container cannot mount a filesystem that reaches
// the host's files or the kernel state of the whole host.
//
// Fields: mounts[].type, with mounts[].options and .destination
// (config.json).
//
// A mount that is not a bind mount is a new filesystem of its type, which
// runc mounts as root before it drops the container's capabilities. Many
// types reach past the container: overlay with lowerdir=/etc shows the
// host's /etc/shadow; binfmt_misc is one register for the whole host, and
// an interpreter registered there runs whenever the host runs a matching
// program, as root when root runs it;
// debugfs, tracefs, securityfs and bpf show or change the host's kernel.
// (A type whose source is a host path, such as ext4 on /dev/sda1, is
// judged by hostPaths too.)
//
// No mount may carry the remount option, bind or not: runc turns it into
// MS_REMOUNT, which changes the mount already at the destination instead
// of making a new one, and with it the flags of its filesystem, the
// host's own when the destination lies on it (a remount,ro at / made the
// host's tmpfs read-only; remount,size=300m grew it). Engines never ask
// for it.
//
// Allowed:
//   - a bind mount, whatever its type: its options hold bind or rbind, so
//     runc ignores the type (see HostPaths); hostPaths and
//     mountDestinations judge its source and destination;
//   - any other mount whose type is on the allowed list, compared exactly,
//     as the kernel names filesystem types. An empty type is on no list.
//     The engines' own mounts are proc, sysfs, cgroup (or cgroup2), tmpfs
//     (/dev, /dev/shm, --tmpfs), devpts and mqueue; proc, sysfs and cgroup
//     are safe on the list only with mountDestinations, which admits them
//     solely as the engine's standard mounts. Other filesystems reach a
//     container as volumes: the engine mounts them on the host and binds
//     them in.
//
// Policy settings:
//
//	mountTypes:
//	  allowed: [proc, sysfs, cgroup, cgroup2, tmpfs, devpts, mqueue]
type MountTypes struct {
	Allowed []string `yaml:"allowed"`
}

// Validate implements Control.
func (c *MountTypes) Validate() error {
	for _, t := range c.Allowed {
		switch {
		case t == "" || strings.ContainsAny(t, " \t\n,"):
			return fmt.Errorf("allowed type %q must be a filesystem type as the kernel names it, e.g. tmpfs", t)
		case t == "bind" || t == "rbind":
			return fmt.Errorf("allowed type %q admits nothing: a bind mount is one whose options hold bind or rbind, whatever its type, and hostPaths judges those", t)
		}
	}
	return nil
}

// Check implements Control.
func (c *MountTypes) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	for i, m := range in.Spec.Mounts {
		if slices.Contains(m.Options, "remount") {
			r.Deny(mountField(i, "options"), "the mount at %s has the remount option, which policy %s does not allow: it changes the mount and the filesystem already at that place, which may be the host's, instead of mounting a new one; remove the option", cleanDestination(m.Destination), r.Policy())
			continue
		}
		if isBindMount(m.Options) || slices.Contains(c.Allowed, m.Type) {
			continue
		}
		c.deny(r, i, m)
	}
}

func (c *MountTypes) deny(r *Report, i int, m specs.Mount) {
	dest := cleanDestination(m.Destination)
	allowed := strings.Join(c.Allowed, ", ")
	if allowed == "" {
		allowed = "none"
	}
	if m.Type == "" {
		r.Deny(mountField(i, "type"), "the mount at %s has no type and no bind or rbind option, which policy %s does not allow: only bind mounts and the engines' own filesystem types (%s) may be mounted; give a bind mount the rbind option, or use a named volume", dest, r.Policy(), allowed)
		return
	}
	r.Deny(mountField(i, "type"), "the %s mount at %s is not allowed by policy %s: only the engines' own filesystem types (%s) may be mounted into a container, since others can reach the host's files or kernel; use a named volume instead, or ask the admin to add %s to mountTypes.allowed", m.Type, dest, r.Policy(), allowed, m.Type)
}
