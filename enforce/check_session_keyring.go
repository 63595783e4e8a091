package enforce

// SessionKeyring requires that runc give the container a session keyring
// of its own.
//
// Fields: runc's --no-new-keyring of create and run (the call, not the
// document; a violation's field is "--no-new-keyring"). Engines pass it
// from their own configuration: containerd's runc options with
// NoNewKeyring. `policy check` has no call, so no --no-new-keyring.
// Allowed: a call without --no-new-keyring, or with --no-new-keyring=false.
//
// runc joins every container to a new anonymous session keyring, so that
// keys the caller holds stay the caller's. With --no-new-keyring the
// container's processes share the session keyring runc was started with,
// the engine's, root's on the host: every key in it (a filesystem's
// encryption keys, Kerberos tickets, keys other services added) is one
// keyctl call away wherever the seccomp filter allows keyctl (Docker's
// default profile denies it; a custom one, or none, may not).
//
// Policy settings: none; `sessionKeyring: {}` turns the control on.
type SessionKeyring struct{}

// Validate implements Control.
func (c *SessionKeyring) Validate() error { return nil }

// Check implements Control.
func (c *SessionKeyring) Check(in *Input, r *Report) {
	if in.Call.NoNewKeyring {
		r.Deny("--no-new-keyring", "runc --no-new-keyring leaves the container in the session keyring runc was started with, the engine's on the host, whose keys its processes could read and use, and policy %s does not allow it: unset NoNewKeyring in the runtime's options", r.Policy())
	}
}
