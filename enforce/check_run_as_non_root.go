package enforce

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// RunAsNonRoot denies processes that run as root, in the container or on
// the host.
//
// Fields: process.user.uid (config.json and the exec process file);
// linux.namespaces (type user) and linux.uidMappings.
//
// Allowed: a uid other than 0, or uid 0 inside a user namespace whose
// mapping puts container uid 0 on a non-zero host uid. A new user
// namespace must not map any container uid to host uid 0: a process
// running as that uid is root on the host for every file it opens (uid
// 1000 mapped to host 0 read a host file of mode 0600), whether it is
// the container's process or a later exec's, which joins the same
// namespace and is judged without the mapping. Joining an existing user
// namespace by path gives no mapping to judge, so uid 0 there counts as
// root.
//
// Policy settings: none; `runAsNonRoot: {}` turns the control on.
type RunAsNonRoot struct{}

// Validate implements Control.
func (c *RunAsNonRoot) Validate() error { return nil }

// Check implements Control.
func (c *RunAsNonRoot) Check(in *Input, r *Report) {
	if in.Spec != nil {
		if uid, ok := hostRootIn(in.Linux()); ok {
			r.Deny("/linux/uidMappings", "the user namespace maps container uid %d to host uid 0, which policy %s does not allow: a process running as uid %d would be root on the host for every file it opens; map the container's uids to unprivileged host uids (userns-remap, or a subordinate range)", uid, r.Policy(), uid)
			return
		}
	}
	if in.Process == nil || in.Process.User.UID != 0 {
		return
	}
	if in.Spec != nil && rootIsMappedAway(in.Linux()) {
		return
	}
	r.Deny(in.ProcessPath+"/user/uid", "runs as root (uid 0): set USER in the image or pass --user with a non-zero uid")
}

// newUserNamespace reports whether the container gets a user namespace of
// its own, whose mapping the config gives.
func newUserNamespace(linux *specs.Linux) bool {
	newUserNS := false
	for _, ns := range linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			newUserNS = ns.Path == ""
		}
	}
	return newUserNS
}

// hostRootIn returns the container uid that a new user namespace maps to
// host uid 0: the first of a mapping whose host range starts there.
func hostRootIn(linux *specs.Linux) (uint32, bool) {
	if !newUserNamespace(linux) {
		return 0, false
	}
	for _, m := range linux.UIDMappings {
		if m.Size > 0 && m.HostID == 0 {
			return m.ContainerID, true
		}
	}
	return 0, false
}

// rootIsMappedAway reports whether the container gets a new user namespace
// that maps its uid 0 to a host uid other than 0. Joining an existing user
// namespace by path gives no mapping to judge, so it counts as root.
func rootIsMappedAway(linux *specs.Linux) bool {
	if !newUserNamespace(linux) {
		return false
	}
	for _, m := range linux.UIDMappings {
		if m.ContainerID == 0 && m.Size > 0 {
			return m.HostID != 0
		}
	}
	return false
}
