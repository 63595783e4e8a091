package enforce

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// selfMountinfo lists the mounts of the runtime's mount namespace, which is
// the one runc resolves bind sources in.
const selfMountinfo = "/proc/self/mountinfo"

// mountEntry is one line of a mountinfo file: the fields mountOf needs.
type mountEntry struct {
	device     string // major:minor
	root       string // the directory of the filesystem shown at mountPoint
	mountPoint string
}

// isMountRoot reports whether p is the root of a mount, with one statx
// call, and whether the kernel said so: one before 5.8 does not report
// STATX_ATTR_MOUNT_ROOT, and then p may be one (mountinfo tells). A path
// that does not exist is not one.
func isMountRoot(p string) (mounted, sure bool, err error) {
	var stx unix.Statx_t
	err = unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, 0, &stx)
	if errors.Is(err, unix.ENOENT) {
		return false, true, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("examine %s: %w", p, err)
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return true, false, nil
	}
	return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, true, nil
}

// errNotMounted says that mountinfo lists no mount at a path.
var errNotMounted = errors.New("no mount there in mountinfo")

// mountOf says which other host path the mount at p shows: the topmost
// mount at p (the last in mountinfo) shows the directory root of its
// device, and another mount of that device whose root is "/" or holds that
// directory places it on the host (root "/" first, then the shortest mount
// point). ok is false when its device is mounted nowhere else (a fresh
// tmpfs, an NFS export, a disk of its own); the error is errNotMounted
// when nothing is mounted at p.
func mountOf(mountinfo, p string) (host string, ok bool, err error) {
	entries, err := readMountinfo(mountinfo)
	if err != nil {
		return "", false, err
	}
	var top *mountEntry
	for i := range entries {
		if entries[i].mountPoint == p {
			top = &entries[i]
		}
	}
	if top == nil {
		return "", false, fmt.Errorf("%s: %s: %w", mountinfo, p, errNotMounted)
	}
	if !strings.HasPrefix(top.root, "/") {
		return "", false, nil // a namespace file or the like: no directory of the host
	}
	var best *mountEntry
	for i := range entries {
		e := &entries[i]
		if e.device != top.device || e.mountPoint == p || (e.root != top.root && !pathWithin(top.root, e.root)) {
			continue
		}
		if best == nil || preferMount(e, best) {
			best = e
		}
	}
	if best == nil {
		return "", false, nil
	}
	return path.Join(best.mountPoint, strings.TrimPrefix(top.root, best.root)), true, nil
}

// preferMount reports whether e places a device's files on the host
// better than than does: the whole filesystem first, then the shortest
// mount point.
func preferMount(e, than *mountEntry) bool {
	if (e.root == "/") != (than.root == "/") {
		return e.root == "/"
	}
	return len(e.mountPoint) < len(than.mountPoint)
}

// readMountinfo parses a mountinfo file (proc_pid_mountinfo(5)): id,
// parent, major:minor, root, mount point, options, optional fields, "-",
// type, source, super options.
func readMountinfo(name string) ([]mountEntry, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var entries []mountEntry
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		sep := 6
		for sep < len(fields) && fields[sep] != "-" {
			sep++
		}
		if sep+3 > len(fields) || strings.Count(fields[2], ":") != 1 {
			return nil, fmt.Errorf("%s: malformed line %q", name, line)
		}
		// The root of a mount of a namespace file or the like is not a
		// path ("net:[4026532178]" of nsfs): it places nothing on the host.
		root, rootOK := unescapeMountText(fields[3])
		mountPoint, mountOK := unescapeMountPath(fields[4])
		if !rootOK || !mountOK {
			return nil, fmt.Errorf("%s: malformed path in line %q", name, line)
		}
		entries = append(entries, mountEntry{device: fields[2], root: root, mountPoint: mountPoint})
	}
	return entries, nil
}

// unescapeMountPath decodes the octal escapes the kernel writes for a
// space, tab, newline and backslash (\040, \011, \012, \134); ok is false
// for a path that is not absolute or holds another backslash.
func unescapeMountPath(s string) (string, bool) {
	if !strings.HasPrefix(s, "/") {
		return "", false
	}
	return unescapeMountText(s)
}

// unescapeMountText decodes the kernel's octal escapes in a mountinfo
// field, whatever it holds; ok is false for another backslash.
func unescapeMountText(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+4 > len(s) {
			return "", false
		}
		switch s[i+1 : i+4] {
		case "040":
			b.WriteByte(' ')
		case "011":
			b.WriteByte('\t')
		case "012":
			b.WriteByte('\n')
		case "134":
			b.WriteByte('\\')
		default:
			return "", false
		}
		i += 3
	}
	return b.String(), true
}
