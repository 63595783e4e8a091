package spec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// MaxDocumentSize bounds every document guard-runtime reads. Docker's
// config.json is about 10 KiB; anything near this limit is not a container
// spec but an attempt to exhaust memory.
const MaxDocumentSize = 16 << 20

// ReadFile reads a regular file of at most limit bytes. It never blocks on a
// FIFO and refuses directories, devices and sockets with an error that says
// what was found instead. It reads through the file descriptor itself, in
// one read of the size fstat gives: a document is read on every create,
// and an *os.File would first try to register a regular file with the
// network poller, and io.ReadAll grow its buffer a read at a time.
func ReadFile(path string, limit int64) ([]byte, error) {
	fd, err := openForReading(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, &os.PathError{Op: "open", Path: path, Err: err})
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, fmt.Errorf("%s is %s, not a regular file", path, describeStatMode(st.Mode))
	}
	if st.Size > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit for an OCI document", path, st.Size, limit)
	}
	data, err := readFD(fd, st.Size, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is over the %d-byte limit for an OCI document", path, limit)
	}
	return data, nil
}

// openForReading opens path for reading without blocking on a FIFO.
func openForReading(path string) (int, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// readFD reads fd to its end, or to one byte past limit. size, the size
// fstat gave, sizes the buffer; a file that grows meanwhile is read on.
// procfs gives its files a size of 0: those start from 512 bytes (as
// os.ReadFile does), which hold /proc/self/cgroup whole, so that they are
// not read a byte, then two, then four.
func readFD(fd int, size, limit int64) ([]byte, error) {
	if size == 0 {
		size = min(limit, 511)
	}
	buf := make([]byte, 0, size+1) // +1: the read that finds the end
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, len(buf))
		}
		free := buf[len(buf):cap(buf)]
		if room := limit + 1 - int64(len(buf)); int64(len(free)) > room {
			free = free[:room]
		}
		n, err := syscall.Read(fd, free)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	return buf, nil
}

// ReadAllBounded reads r (e.g. stdin) up to limit bytes; more is an error.
func ReadAllBounded(r io.Reader, name string, limit int64) ([]byte, error) {
	return readBounded(r, name, limit)
}

func readBounded(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is over the %d-byte limit for an OCI document", name, limit)
	}
	return data, nil
}

func describeStatMode(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return "a directory"
	case syscall.S_IFIFO:
		return "a FIFO"
	case syscall.S_IFSOCK:
		return "a socket"
	case syscall.S_IFCHR, syscall.S_IFBLK:
		return "a device"
	default:
		return fmt.Sprintf("not a regular file (mode %#o)", mode&syscall.S_IFMT)
	}
}

// WriteFileAtomic replaces path with data so that a reader, or a crash at
// any point, sees either the old or the new content, never a mix: a
// temporary file in the same directory is written, synced and renamed over
// path, then the directory is synced. The file keeps its mode and owner. On
// any error path is untouched and no temporary file is left behind.
func WriteFileAtomic(path string, data []byte) (err error) {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".guard-*")
	if err != nil {
		return fmt.Errorf("create temporary file beside %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = matchOwnerAndMode(tmp, info); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return syncDir(dir)
}

func matchOwnerAndMode(f *os.File, info os.FileInfo) error {
	if err := f.Chmod(info.Mode().Perm()); err != nil {
		return fmt.Errorf("chmod %s: %w", f.Name(), err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil && !errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("chown %s: %w", f.Name(), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s to sync it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
