package enforce

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/guard-runtime/guard-runtime/spec"
)

// selfMountinfo lists the mounts of the runtime's mount namespace, which is
// the one runc resolves bind sources in.
const selfMountinfo = "/proc/self/mountinfo"

// maxMountinfoSize bounds the read of a mountinfo file: about 150 bytes a
// mount, so some 400,000 mounts. It is read through its descriptor, as
// documents are (spec.ReadFile), and not through an os.File, whose first
// use in a process sets up the network poller.
const maxMountinfoSize = 64 << 20

// mountEntry is one line of a mountinfo file: the fields mountOf needs.
type mountEntry struct {
	device     string // major:minor
	root       string // the directory of the filesystem shown at mountPoint
	mountPoint string
	fsType     string
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

// submount is a mount below a directory, as mountOf sees it.
type submount struct {
	point, fsType string
	hosts         []string
}

// mountsBelow lists the mounts whose mount points lie inside the
// directory p, each once (the topmost, where mounts are stacked), with one
// read of mountinfo.
func mountsBelow(mountinfo, p string) ([]submount, error) {
	data, err := spec.ReadFile(mountinfo, maxMountinfoSize)
	if err != nil {
		return nil, err
	}
	text := string(data)
	seen := map[string]bool{}
	var points []string
	if err := scanMountinfo(mountinfo, text, func(e mountEntry) {
		if pathWithin(e.mountPoint, p) && !seen[e.mountPoint] {
			seen[e.mountPoint] = true
			points = append(points, e.mountPoint)
		}
	}); err != nil {
		return nil, err
	}
	mounts := make([]submount, 0, len(points))
	for _, point := range points {
		hosts, fsType, _, err := mountIn(mountinfo, text, point)
		if err != nil {
			return nil, err
		}
		mounts = append(mounts, submount{point: point, fsType: fsType, hosts: hosts})
	}
	return mounts, nil
}

// isDirectory reports whether p is a directory, following symlinks as
// a bind mount does.
func isDirectory(p string) bool {
	var st unix.Stat_t
	return unix.Stat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

// errNotMounted says that mountinfo lists no mount at a path.
var errNotMounted = errors.New("no mount there in mountinfo")

// mountOf says which other host paths the mount at p shows: the topmost
// mount at p (the last in mountinfo) shows the directory root of its
// device, and every other mount of that device whose root is that
// directory or holds it shows it too, at a host path. All of them are
// returned: the mount that places it best could itself be a volume, and
// each host path must pass. hidden is true when the device is mounted
// elsewhere but no mount there holds the directory (a whole btrfs volume
// beside the host's own subvolume): the mount shows files the host does
// not show anywhere, which cannot be judged. A device mounted nowhere
// else (a fresh tmpfs, an NFS export, a disk of its own) gives neither;
// the error is errNotMounted when nothing is mounted at p.
func mountOf(mountinfo, p string) (hosts []string, fsType string, hidden bool, err error) {
	data, err := spec.ReadFile(mountinfo, maxMountinfoSize)
	if err != nil {
		return nil, "", false, err
	}
	return mountIn(mountinfo, string(data), p)
}

// mountIn is mountOf on text, the content of the mountinfo file named
// mountinfo.
func mountIn(mountinfo, text, p string) (hosts []string, fsType string, hidden bool, err error) {
	// Two passes over the text, no list of entries: a host with many
	// containers has thousands of mounts, and this runs on every create
	// with a bind source that is a mount point.
	var top mountEntry
	found := false
	if err := scanMountinfo(mountinfo, text, func(e mountEntry) {
		if e.mountPoint == p {
			top, found = e, true
		}
	}); err != nil {
		return nil, "", false, err
	}
	if !found {
		return nil, "", false, fmt.Errorf("%s: %s: %w", mountinfo, p, errNotMounted)
	}
	if !strings.HasPrefix(top.root, "/") {
		return nil, top.fsType, false, nil // a namespace file or the like: no directory of the host
	}
	elsewhere := false
	_ = scanMountinfo(mountinfo, text, func(e mountEntry) {
		if e.device != top.device || e.mountPoint == p {
			return
		}
		elsewhere = true
		if e.root == top.root || pathWithin(top.root, e.root) {
			hosts = append(hosts, path.Join(e.mountPoint, strings.TrimPrefix(top.root, e.root)))
		}
	})
	return hosts, top.fsType, elsewhere && len(hosts) == 0, nil
}

// scanMountinfo hands each line of a mountinfo file's text
// (proc_pid_mountinfo(5): id, parent, major:minor, root, mount point,
// options, optional fields, "-", type, source, super options) to use, in
// order, and fails at the first malformed line. The fields are slices of
// the text, decoded only where they hold an escape.
func scanMountinfo(name string, text string, use func(mountEntry)) error {
	for line := range strings.Lines(text) {
		e, ok, pathsOK := parseMountinfoLine(line)
		if !ok {
			return fmt.Errorf("%s: malformed line %q", name, line)
		}
		if !pathsOK {
			return fmt.Errorf("%s: malformed path in line %q", name, line)
		}
		use(e)
	}
	return nil
}

// parseMountinfoLine reads the fields mountOf needs from one line, and
// checks that the rest has its shape: options, optional fields, "-", and
// type, source and super options.
func parseMountinfoLine(line string) (e mountEntry, ok, pathsOK bool) {
	var fields [5]string
	rest := line
	for i := range fields {
		rest = strings.TrimLeft(rest, " ")
		end := strings.IndexByte(rest, ' ')
		if end <= 0 {
			return e, false, false
		}
		fields[i], rest = rest[:end], rest[end:]
	}
	options := strings.TrimLeft(rest, " ")
	sep := strings.Index(rest, " - ")
	if sep < 0 || strings.HasPrefix(options, "- ") || !hasTypeAndSource(rest[sep+3:]) || strings.Count(fields[2], ":") != 1 {
		return e, false, false
	}
	// The root of a mount of a namespace file or the like is not a path
	// ("net:[4026532178]" of nsfs): it places nothing on the host.
	root, rootOK := unescapeMountText(fields[3])
	mountPoint, mountOK := unescapeMountPath(fields[4])
	return mountEntry{device: fields[2], root: root, mountPoint: mountPoint, fsType: fsTypeOf(rest[sep+3:])}, true, rootOK && mountOK
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

// hasTypeAndSource reports whether what follows the "-" of a mountinfo
// line starts with a type and a source: the super options after them may
// be long (an overlay's lists of layers), and are not read.
func hasTypeAndSource(tail string) bool {
	typ, rest, ok := strings.Cut(tail, " ")
	return ok && typ != "" && strings.TrimSpace(rest) != ""
}

// fsTypeOf is the type that starts what follows the "-".
func fsTypeOf(tail string) string {
	typ, _, _ := strings.Cut(tail, " ")
	return typ
}
