package enforce

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// RunAsNonRoot denies processes that run as root.
//
// Fields: process.user.uid (config.json and the exec process file);
// linux.namespaces (type user) and linux.uidMappings.
// Allowed: a uid other than 0, or uid 0 inside a user namespace whose
// mapping puts container uid 0 on a non-zero host uid.
//
// Policy settings: none; `runAsNonRoot: {}` turns the control on.
type RunAsNonRoot struct{}

// Validate implements Control.
func (c *RunAsNonRoot) Validate() error { return nil }

// Check implements Control.
func (c *RunAsNonRoot) Check(in *Input, r *Report) {
	if in.Process == nil || in.Process.User.UID != 0 {
		return
	}
	if in.Spec != nil && rootIsMappedAway(in.Linux()) {
		return
	}
	r.Deny(in.ProcessPath+"/user/uid", "runs as root (uid 0): set USER in the image or pass --user with a non-zero uid")
}

// rootIsMappedAway reports whether the container gets a new user namespace
// that maps its uid 0 to a host uid other than 0. Joining an existing user
// namespace by path gives no mapping to judge, so it counts as root.
func rootIsMappedAway(linux *specs.Linux) bool {
	newUserNS := false
	for _, ns := range linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			newUserNS = ns.Path == ""
		}
	}
	if !newUserNS {
		return false
	}
	for _, m := range linux.UIDMappings {
		if m.ContainerID == 0 && m.Size > 0 {
			return m.HostID != 0
		}
	}
	return false
}
