package enforce

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Besides stdio, runc 1.1.5 hands the process it starts two runs of the
// descriptors it inherited, and guard-runtime inherits the same ones, since
// runc replaces it in the same process:
//
//   - create, run and restore (utils_linux.go, startContainer): systemd's
//     socket activation. When LISTEN_PID, read with strconv.Atoi, is
//     runc's pid (guard-runtime's, which the exec keeps) and LISTEN_FDS,
//     read the same way, is not 0, go-systemd's activation.Files(false)
//     takes descriptors 3 to 3+LISTEN_FDS-1, without checking that they are
//     open, and leaves the variables set.
//   - create, run and exec: --preserve-fds N, the N descriptors after
//     those: runc stats each through /proc/self/fd and fails at the first
//     it cannot. restore has no --preserve-fds. exec has no socket
//     activation, so its run starts at 3.
//
// A number the caller left closed is not closed when runc gets to it: runc
// opens its --log file and other files of its own first, at the lowest
// free numbers, and would pass those.

// PassedDescriptor is one descriptor runc passes to the container's process.
type PassedDescriptor struct {
	FD int
	// Via is what passes it: "--preserve-fds" or "LISTEN_FDS".
	Via  string
	Kind DescriptorKind
	// PathOnly marks an O_PATH descriptor: a reference to a file of the
	// host that the container can reopen through /proc/self/fd, whatever
	// its kind.
	PathOnly bool
}

// DescriptorKind is what a passed descriptor refers to.
type DescriptorKind uint8

const (
	// DescriptorNotOpen is a number the caller did not pass open: not open
	// in guard-runtime, or one of guard-runtime's own, which close at the
	// exec of runc.
	DescriptorNotOpen DescriptorKind = iota
	DescriptorSocket
	DescriptorPipe // a pipe or a FIFO
	DescriptorDirectory
	DescriptorRegularFile
	DescriptorCharDevice
	DescriptorBlockDevice
	DescriptorSymlink
	// DescriptorOther is anything else: an eventfd, a timerfd, an epoll or
	// a process descriptor, or what fstat cannot tell.
	DescriptorOther
)

// descriptorKinds names each kind, with the file type fstat gives it (0
// for the kinds fstat gives none of its own).
var descriptorKinds = [...]struct {
	fileType uint32
	name     string
}{
	DescriptorNotOpen:     {0, "not open"},
	DescriptorSocket:      {unix.S_IFSOCK, "a socket"},
	DescriptorPipe:        {unix.S_IFIFO, "a pipe"},
	DescriptorDirectory:   {unix.S_IFDIR, "a directory"},
	DescriptorRegularFile: {unix.S_IFREG, "a regular file"},
	DescriptorCharDevice:  {unix.S_IFCHR, "a character device"},
	DescriptorBlockDevice: {unix.S_IFBLK, "a block device"},
	DescriptorSymlink:     {unix.S_IFLNK, "a symbolic link"},
	DescriptorOther:       {0, "an object that is neither a file, a socket nor a pipe (an eventfd, timerfd, epoll or process descriptor)"},
}

// String describes the kind for messages.
func (k DescriptorKind) String() string {
	if int(k) < len(descriptorKinds) {
		return descriptorKinds[k].name
	}
	return "of an unknown kind"
}

// passedDescriptors lists the descriptors runc passes with this call, in
// runc's order, with getenv reading runc's environment (guard-runtime
// hands runc its own). It stops after the first that is not open: runc
// fails there or passes one of its own, and either way that one is
// refused, so a huge count costs no more than the descriptors that are
// open.
func passedDescriptors(inv *spec.Invocation, getenv func(string) string) []PassedDescriptor {
	var passed []PassedDescriptor
	add := func(fd int, via string) bool {
		d := inspectDescriptor(fd)
		d.Via = via
		passed = append(passed, d)
		return d.Kind != DescriptorNotOpen
	}
	base := 3
	if inv.Command != OpExec {
		// go-systemd's loop, bounds and all, and runc's next descriptor,
		// 3 plus as many as the loop took.
		n := listenFDs(getenv)
		for fd := 3; fd < 3+n; fd++ {
			if !add(fd, "LISTEN_FDS") {
				return passed
			}
			base++
		}
	}
	if inv.Command == OpRestore {
		return passed
	}
	preserve := 0
	if v, ok := inv.Option("preserve-fds"); ok {
		n, err := strconv.ParseInt(v, 0, strconv.IntSize)
		if err != nil {
			return passed // spec.Parse refuses such a value first
		}
		preserve = int(n)
	}
	// runc's loop: a count that overflows passes nothing.
	for fd := base; fd < base+preserve; fd++ {
		if !add(fd, "--preserve-fds") {
			break
		}
	}
	return passed
}

// listenFDs is the number of descriptors systemd's socket activation hands
// runc: go-systemd's rules, with os.Getpid() as runc's pid.
func listenFDs(getenv func(string) string) int {
	listenPID := getenv("LISTEN_PID")
	if listenPID == "" {
		return 0 // nearly always: spares strconv's error, made and dropped
	}
	pid, err := strconv.Atoi(listenPID)
	if err != nil || pid != os.Getpid() {
		return 0
	}
	n, err := strconv.Atoi(getenv("LISTEN_FDS"))
	if err != nil {
		return 0
	}
	return n
}

// inspectDescriptor says what fd refers to in this process.
func inspectDescriptor(fd int) PassedDescriptor {
	d := PassedDescriptor{FD: fd}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC != 0 {
		// Descriptors inherited through an exec never carry FD_CLOEXEC;
		// guard-runtime opens all of its own with it.
		return d
	}
	status, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	d.PathOnly = err == nil && status&unix.O_PATH != 0
	d.Kind = DescriptorOther
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return d
	}
	for k, e := range descriptorKinds {
		if e.fileType != 0 && e.fileType == st.Mode&unix.S_IFMT {
			d.Kind = DescriptorKind(k)
		}
	}
	return d
}
