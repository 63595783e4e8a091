package enforce

// PassedDescriptors denies descriptors the caller hands the container
// through runc that open the host's files or devices to it: a directory
// descriptor reaches the host's filesystem through openat and
// /proc/self/fd/N as a bind mount would, a file or device descriptor reads
// and writes it, and neither goes through hostPaths, devices or any other
// control of the document.
//
// Fields: the descriptors runc passes to the process it starts, besides
// stdio (gate_descriptors.go has runc's rules): --preserve-fds N of create,
// run and exec, and for create, run and restore the LISTEN_FDS of
// systemd's socket activation when LISTEN_PID is runc's pid. guard-runtime
// inherits them, and fstats each. A violation's field is "--preserve-fds"
// or "LISTEN_FDS". `policy check` has no call, so no descriptors.
// Allowed: sockets, and pipes and FIFOs, opened for I/O. Denied: a
// directory, a regular file, a block or character device, a symbolic link,
// an O_PATH descriptor of any kind (the container could reopen the file it
// names, connect to the socket it names), anything else (eventfd, epoll,
// process descriptors), and a number the caller did not pass open: runc
// would pass whatever it has itself opened at that number, its --log file
// or a cgroup directory, or fail.
//
// Policy settings: none; `passedDescriptors: {}` turns the control on.
type PassedDescriptors struct{}

// Validate implements Control.
func (c *PassedDescriptors) Validate() error { return nil }

// Check implements Control.
func (c *PassedDescriptors) Check(in *Input, r *Report) {
	for _, d := range in.Call.Descriptors {
		switch {
		case d.Kind == DescriptorNotOpen:
			r.Deny(d.Via, "descriptor %d, which %s passes to the container, is not open in the call: runc would pass what it opens itself at that number (its --log file, a cgroup directory), and policy %s does not allow it: pass only descriptors that are open", d.FD, d.Via, r.Policy())
		case d.PathOnly:
			r.Deny(d.Via, "descriptor %d, which %s passes to the container, is an O_PATH reference to %s of the host, which the container could reopen through /proc/self/fd, and policy %s allows only sockets and pipes: do not pass it", d.FD, d.Via, d.Kind, r.Policy())
		case d.Kind != DescriptorSocket && d.Kind != DescriptorPipe:
			r.Deny(d.Via, "descriptor %d, which %s passes to the container, is %s, and policy %s allows only sockets and pipes: a directory, file or device descriptor opens the host's files or devices to the container as a bind mount would, outside hostPaths; do not pass it", d.FD, d.Via, d.Kind, r.Policy())
		}
	}
}
