package spec

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory and
// unmounts it when the test ends. Mounting needs root, as the tests do.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the fault tests mount a small tmpfs: run them as root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)+",mode=0755"); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fillUp writes a file in dir until the filesystem is full.
func fillUp(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the tmpfs: %v", err)
			}
			return
		}
	}
}

// checkUntouched fails unless dir holds exactly the files named, and path
// its original content.
func checkUntouched(t *testing.T, dir, path string, original []byte, files ...string) {
	t.Helper()
	if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, original) {
		t.Errorf("%s changed (%v)", path, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != strings.Join(files, " ") {
		t.Errorf("%s holds %v, want %v: a temporary file was left behind", dir, names, files)
	}
}

func TestWriteFileAtomicOnAFullFilesystem(t *testing.T) {
	dir := mountTmpfs(t, 64<<10)
	path := filepath.Join(dir, "config.json")
	original := []byte(`{"ociVersion":"1.0.2"}`)
	if err := os.WriteFile(path, original, 0o640); err != nil {
		t.Fatal(err)
	}
	fillUp(t, dir)
	err := WriteFileAtomic(path, bytes.Repeat([]byte("x"), 32<<10))
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("WriteFileAtomic on a full filesystem: %v", err)
	}
	checkUntouched(t, dir, path, original, "config.json", "filler")
}

func TestWriteFileAtomicOnAReadOnlyFilesystem(t *testing.T) {
	dir := mountTmpfs(t, 64<<10)
	path := filepath.Join(dir, "config.json")
	original := []byte(`{"ociVersion":"1.0.2"}`)
	if err := os.WriteFile(path, original, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount %s read-only: %v", dir, err)
	}
	err := WriteFileAtomic(path, []byte(`{"ociVersion":"1.0.2","root":{"readonly":true}}`))
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), path) {
		t.Fatalf("WriteFileAtomic on a read-only filesystem: %v", err)
	}
	checkUntouched(t, dir, path, original, "config.json")
}

// A write that fits keeps the file's mode and leaves nothing else behind.
func TestWriteFileAtomicKeepsTheModeAndLeavesNoTemporaryFile(t *testing.T) {
	dir := mountTmpfs(t, 64<<10)
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(`{}`), 0o640); err != nil {
		t.Fatal(err)
	}
	want := []byte(`{"root":{"readonly":true}}`)
	if err := WriteFileAtomic(path, want); err != nil {
		t.Fatal(err)
	}
	checkUntouched(t, dir, path, want, "config.json")
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("mode after the rewrite: %v %v, want 0640", info.Mode(), err)
	}
}
