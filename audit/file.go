package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// fallbackFile is the JSON-lines file records go to when journald is
// unreachable. Many runtime processes append to it at once (Docker starts
// containers in parallel), so each record is one line written by a single
// write(2) on an O_APPEND descriptor: the kernel then places every line
// whole at the end of the file, never interleaved with another writer's.
type fallbackFile struct {
	path string
	file *os.File
	// openErr is kept so that a file that cannot be opened is tried once
	// per process, not once per record.
	openErr error
}

func (f *fallbackFile) append(line []byte) error {
	if f.file == nil && f.openErr == nil {
		f.file, f.openErr = openAppend(f.path)
	}
	if f.openErr != nil {
		return f.openErr
	}
	return writeOnce(f.file, line)
}

// openAppend opens path for appending, creating it (0600: records name
// containers, bundles and policies) and its directory (0700) if missing.
func openAppend(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create directory for audit file: %w", err)
	}
	// O_NONBLOCK: a FIFO planted at the path must not hang the runtime call
	// in open(2); it is refused below as not a regular file.
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit file: %w", err)
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("stat audit file: %w", err)
	}
	if !info.Mode().IsRegular() {
		file.Close()
		return nil, fmt.Errorf("audit file %s is not a regular file (%s)", path, info.Mode().Type())
	}
	return file, nil
}

// writeOnce writes line with exactly one successful write(2). os.File.Write
// would retry after a short write, and the rest of the line could then land
// after another process's line; here a short write is reported instead.
func writeOnce(file *os.File, line []byte) error {
	raw, err := file.SyscallConn()
	if err != nil {
		return fmt.Errorf("write audit file %s: %w", file.Name(), err)
	}
	var written int
	var writeErr error
	err = raw.Write(func(fd uintptr) bool {
		for {
			written, writeErr = syscall.Write(int(fd), line)
			if !errors.Is(writeErr, syscall.EINTR) {
				return true
			}
		}
	})
	if err == nil {
		err = writeErr
	}
	if err != nil {
		return fmt.Errorf("write audit file %s: %w", file.Name(), err)
	}
	if written != len(line) {
		return fmt.Errorf("write audit file %s: short write, %d of %d bytes (disk full?)", file.Name(), written, len(line))
	}
	return nil
}

func (f *fallbackFile) close() error {
	if f.file == nil {
		return nil
	}
	err := f.file.Close()
	f.file = nil
	return err
}
