package enforce

// PivotRoot requires that runc confine the container to its root
// filesystem with pivot_root(2), not with chroot(2).
//
// Fields: runc's --no-pivot of create, run and restore (the call, not the
// document; a violation's field is "--no-pivot"). Engines pass it from
// their own configuration: dockerd when DOCKER_RAMDISK is set in its
// environment, containerd's runc shim with NoPivotRoot, minikube's
// provisioners. `policy check` has no call, so no --no-pivot.
// Allowed: a call without --no-pivot, or with --no-pivot=false.
//
// With --no-pivot runc moves the root filesystem over "/" and chroots
// into it, instead of pivoting to it and detaching the old root: the
// host's root filesystem stays mounted in the container's mount
// namespace, below the container's root, with chroot(2) as the only
// boundary where pivot_root(2) leaves nothing. runc's maintainers call
// the flag insecure and deprecate it ("pivot_root(2) is far more secure
// than chroot(2) (even with the hardenings we've added over the years)",
// opencontainers/runc#4435), and crun's dropped it as unsafe. (A plain
// chroot escape from inside, with CAP_SYS_CHROOT, found only the
// container's root with runc 1.1.5 here: runc's hardening holds against
// that one.) pivot_root works on every root filesystem but a ramdisk,
// where a policy that extends this one can turn the control off
// (pivotRoot: null).
//
// Policy settings: none; `pivotRoot: {}` turns the control on.
type PivotRoot struct{}

// Validate implements Control.
func (c *PivotRoot) Validate() error { return nil }

// Check implements Control.
func (c *PivotRoot) Check(in *Input, r *Report) {
	if in.Call.NoPivot {
		r.Deny("--no-pivot", "runc --no-pivot confines the container with chroot instead of pivot_root, leaving the host's root filesystem mounted below the container's root (runc deprecates the flag as insecure), and policy %s does not allow it: unset DOCKER_RAMDISK in dockerd's environment, or NoPivotRoot in the runtime's options", r.Policy())
	}
}
