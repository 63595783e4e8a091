package enforce

import (
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// openInherited opens a descriptor as one inherited through an exec is:
// without FD_CLOEXEC. It is closed at the end of the test.
func openInherited(t *testing.T, open func() (int, error)) int {
	t.Helper()
	fd, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	return fd
}

// socketFile is a unix socket listening at a path of the test's own.
func socketFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return path
}

func TestInspectDescriptorTellsWhatTheContainerWouldGet(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "f", []byte("x"))
	link := filepath.Join(dir, "link")
	if err := os.Symlink("/etc", link); err != nil {
		t.Fatal(err)
	}
	sock := socketFile(t)
	tests := []struct {
		name     string
		open     func() (int, error)
		kind     DescriptorKind
		pathOnly bool
	}{
		{"a directory", func() (int, error) { return unix.Open("/etc", unix.O_RDONLY|unix.O_DIRECTORY, 0) }, DescriptorDirectory, false},
		{"a regular file", func() (int, error) { return unix.Open(file, unix.O_RDWR, 0) }, DescriptorRegularFile, false},
		{"/dev/null", func() (int, error) { return unix.Open("/dev/null", unix.O_RDWR, 0) }, DescriptorCharDevice, false},
		{"a pipe", func() (int, error) {
			var p [2]int
			err := unix.Pipe2(p[:], 0)
			unix.Close(p[1])
			return p[0], err
		}, DescriptorPipe, false},
		{"a connected socket", func() (int, error) {
			p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
			unix.Close(p[1])
			return p[0], err
		}, DescriptorSocket, false},
		{"an O_PATH socket file", func() (int, error) { return unix.Open(sock, unix.O_PATH, 0) }, DescriptorSocket, true},
		{"an O_PATH directory", func() (int, error) { return unix.Open("/etc", unix.O_PATH, 0) }, DescriptorDirectory, true},
		{"an O_PATH symbolic link", func() (int, error) { return unix.Open(link, unix.O_PATH|unix.O_NOFOLLOW, 0) }, DescriptorSymlink, true},
		{"an eventfd", func() (int, error) { return unix.Eventfd(0, 0) }, DescriptorOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd := openInherited(t, tt.open)
			got := inspectDescriptor(fd)
			if got.FD != fd || got.Kind != tt.kind || got.PathOnly != tt.pathOnly {
				t.Fatalf("inspectDescriptor(%d) = %+v, want %v (O_PATH %v)", fd, got, tt.kind, tt.pathOnly)
			}
		})
	}
	t.Run("one of guard-runtime's own", func(t *testing.T) {
		f, err := os.Open(file) // close-on-exec, as all of guard-runtime's are
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got := inspectDescriptor(int(f.Fd())); got.Kind != DescriptorNotOpen {
			t.Fatalf("a close-on-exec descriptor, which runc never sees, is %v", got.Kind)
		}
	})
	t.Run("a closed number", func(t *testing.T) {
		fd := openInherited(t, func() (int, error) { return unix.Open("/dev/null", unix.O_RDONLY, 0) })
		unix.Close(fd)
		if got := inspectDescriptor(fd); got.Kind != DescriptorNotOpen {
			t.Fatalf("a closed descriptor is %v", got.Kind)
		}
	})
}

// runc's rules for which numbers it passes. What this test process has
// open at those numbers is its own affair: only the first number, and what
// passes it, are compared.
func TestPassedDescriptorsFollowRuncsRules(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // "<fd> <via>" of the first descriptor, "" for none
	}{
		{"no descriptors", nil, []string{"run", "c1"}, ""},
		{"--preserve-fds", nil, []string{"run", "--preserve-fds", "2", "c1"}, "3 --preserve-fds"},
		{"--preserve-fds in hex, as Go's flag package reads it", nil, []string{"create", "--preserve-fds=0x1", "c1"}, "3 --preserve-fds"},
		{"--preserve-fds 0", nil, []string{"exec", "--preserve-fds", "0", "c1"}, ""},
		{"negative --preserve-fds", nil, []string{"run", "--preserve-fds=-4", "c1"}, ""},
		{"--preserve-fds that overflows runc's loop", nil, []string{"run", "--preserve-fds", strconv.Itoa(math.MaxInt), "c1"}, ""},
		{"LISTEN_FDS for this pid", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": self}, []string{"create", "c1"}, "3 LISTEN_FDS"},
		{"LISTEN_FDS for this pid, on restore", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": self}, []string{"restore", "c1"}, "3 LISTEN_FDS"},
		{"LISTEN_PID with a sign, as strconv.Atoi reads it", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "+" + self}, []string{"run", "c1"}, "3 LISTEN_FDS"},
		{"LISTEN_FDS for another pid", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "1"}, []string{"run", "c1"}, ""},
		{"LISTEN_FDS without LISTEN_PID", map[string]string{"LISTEN_FDS": "1"}, []string{"run", "c1"}, ""},
		{"LISTEN_FDS 0", map[string]string{"LISTEN_FDS": "0", "LISTEN_PID": self}, []string{"run", "c1"}, ""},
		{"LISTEN_FDS negative", map[string]string{"LISTEN_FDS": "-1", "LISTEN_PID": self}, []string{"run", "c1"}, ""},
		{"LISTEN_FDS not a number", map[string]string{"LISTEN_FDS": "1x", "LISTEN_PID": self}, []string{"run", "c1"}, ""},
		{"exec has no socket activation", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": self}, []string{"exec", "-p", "p.json", "c1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := mustParse(t, tt.args...)
			got := passedDescriptors(inv, func(key string) string { return tt.env[key] })
			first := ""
			if len(got) > 0 {
				first = fmt.Sprintf("%d %s", got[0].FD, got[0].Via)
			}
			if first != tt.want {
				t.Fatalf("first descriptor passed %q, want %q", first, tt.want)
			}
		})
	}
}

// Without socket activation, which is nearly every call, the check of
// LISTEN_PID costs nothing: strconv's error for an empty value, made and
// dropped, was an allocation on every create.
func TestListenFDsWithoutSocketActivationAllocatesNothing(t *testing.T) {
	none := func(string) string { return "" }
	if allocs := testing.AllocsPerRun(10, func() { listenFDs(none) }); allocs != 0 {
		t.Errorf("listenFDs without LISTEN_PID: %.0f allocations, want 0", allocs)
	}
}
