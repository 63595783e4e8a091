package enforce

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Documents that guard-runtime builds or consumes itself (an exec process
// built from flags, update resources read from stdin or built from flags)
// reach runc through a sealed memory file. It needs no disk, leaves nothing
// behind when guard-runtime's process becomes runc's, and once sealed no
// one can change it: runc reads exactly the bytes that were judged.

// sealedDocument returns a memory file holding data, sealed against any
// change, positioned at its start, closed on exec.
func sealedDocument(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("create a memory file for the %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := fillAndSeal(f, data); err != nil {
		f.Close()
		return nil, fmt.Errorf("hand the %s to the runtime: %w", name, err)
	}
	return f, nil
}

func fillAndSeal(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return err
	}
	_, err := f.Seek(0, 0)
	return err
}

// feedStdin makes data the runtime's standard input, in place of the
// stdin guard-runtime has read.
func feedStdin(name string, data []byte) error {
	f, err := sealedDocument(name, data)
	if err != nil {
		return err
	}
	defer f.Close()
	// dup3 without O_CLOEXEC: fd 0 survives the exec of the runtime.
	if err := unix.Dup3(int(f.Fd()), 0, 0); err != nil {
		return fmt.Errorf("make the %s the runtime's stdin: %w", name, err)
	}
	return nil
}

// passDocument makes data readable by the runtime at the returned path,
// /proc/self/fd/N, with N at least minFD: the descriptors below it are
// the ones runc passes on to the container (--preserve-fds), and the
// document must not reach the container.
func passDocument(name string, data []byte, minFD int) (string, error) {
	f, err := sealedDocument(name, data)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// F_DUPFD, unlike F_DUPFD_CLOEXEC, gives a descriptor that survives
	// the exec of the runtime; runc's init marks it close-on-exec before
	// the container's process starts.
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD, minFD)
	if err != nil {
		return "", fmt.Errorf("pass the %s to the runtime: %w", name, err)
	}
	return "/proc/self/fd/" + strconv.Itoa(fd), nil
}
