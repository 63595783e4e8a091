//go:build lean

package enforce

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/guard-runtime/guard-runtime/spec"
)

// handOver execs the full build with this process's own command line,
// environment and descriptors, for a call that needs more than the caches:
// reason says what. It returns only when the full build cannot run, and
// then the call fails closed.
func handOver(reason string) error {
	path, err := fullBinaryPath()
	if err == nil {
		err = execTrusted(path)
	}
	return fmt.Errorf("this call needs the full build of guard-runtime (%s), which cannot run: %w; install %s beside guard-runtime (hack/install.sh installs both)", reason, err, FullBinaryName)
}

// handOverOn hands the call over when err says that a document needs the
// reflective decoder or encoder the lean build leaves out, and returns err
// otherwise.
func handOverOn(err error) error {
	if errors.Is(err, spec.ErrNotInLeanBuild) {
		return handOver(err.Error())
	}
	return err
}

func fullBinaryPath() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find guard-runtime's own executable: %w", err)
	}
	return filepath.Join(filepath.Dir(self), FullBinaryName), nil
}

// execTrusted opens path, checks that only root can have written it, and
// execs that open file, so that a rename between the check and the exec
// cannot slip another binary in.
func execTrusted(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return fmt.Errorf("%s is not a regular file", path)
	case st.Uid != 0:
		return fmt.Errorf("%s is owned by uid %d, not root", path, st.Uid)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%s is writable by group or others (mode %04o)", path, st.Mode&0o7777)
	}
	err = unix.Exec("/proc/self/fd/"+strconv.Itoa(fd), os.Args, os.Environ())
	return fmt.Errorf("exec %s: %w", path, err)
}
