package enforce

import (
	"encoding/binary"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/guard-runtime/guard-runtime/spec"
)

// CgroupsPath keeps each container in a cgroup of its own.
//
// Fields: linux.cgroupsPath (config.json), read as runc 1.1.5 reads it: a
// path in the cgroup hierarchies (runc's cgroupfs driver), or systemd's
// "slice:prefix:name" when the call gives runc --systemd-cgroup.
//
// runc makes the container's cgroup at this path and writes the
// container's limits into it; a cgroup that exists already it joins, and
// writes them just the same. With "/victim", the cgroup of another
// container, runc raised that container's memory limit from 64M to 2G and
// charged the new container to it, out of reach of its own limits.
// "/x/../" is the root cgroup: the container's limits would be the whole
// host's, and runc's cleanup after a failed start removes the empty
// cgroups up the tree. create, run and restore each make a new container,
// and the engines give each one a fresh leaf: Docker "/docker/<id>",
// containerd "/<namespace>/<id>", the kubelet
// "/kubepods/.../pod<uid>/<id>", or systemd's
// "system.slice:docker:<id>" and the like.
//
// Allowed:
//   - no path: runc names the container's cgroup after its id, a relative
//     path (with --systemd-cgroup, the scope runc-<id>.scope in
//     system.slice), judged as such below; without a container id (policy
//     check without --id) there is nothing to judge;
//   - a cgroupfs path, absolute or relative, with no ".." component (runc
//     cleans the path lexically, so "/x/../victim" is "/victim"); that
//     does not clean to "/", the root cgroup, or to ".", the cgroup runc
//     runs in (a relative path lies below it: in each v1 hierarchy below
//     runc's own cgroup, on cgroup v2 below its parent, in the v2
//     hierarchy of a hybrid host below its root); and that names no cgroup
//     that exists, in any hierarchy runc would put the container in. An
//     existing one is another container's, the engine's or the host's;
//     one that a container left behind must be removed (rmdir) before the
//     path is used again. An absolute path's existing parents below the
//     hierarchy's root must hold no processes (looked at in memory's
//     hierarchy, or the first; on cgroup v2 in the one hierarchy): one
//     that does is another container's, and a container made inside it
//     is charged to its limits (--cgroup-parent /docker/<other id>).
//   - with --systemd-cgroup, "slice:prefix:name" where no part holds "/"
//     or "..", the name does not end in ".slice", and the scope's cgroup
//     (prefix-name.scope below the slice, where runc places it) does not
//     exist. runc 1.1.5 ignores systemd's refusal to start a unit that
//     exists: it joins the unit and sets the container's limits on it
//     through systemd. A name ending in ".slice" makes the container's
//     unit a slice, which runc can only adopt (systemd refuses to start a
//     new slice with the container's process in it), and no engine asks
//     for one. Not caught: a scope of the same name in another slice,
//     since systemd knows its units by name alone and only systemd can
//     tell whether it runs one.
//
// The hierarchies are those under /sys/fs/cgroup, where runc finds them
// on every standard layout: the whole of it on cgroup v2; on a v1 or
// hybrid host, each directory there (a v1 hierarchy, or unified/ for
// cgroup v2). A relative path is placed below the cgroups of the process
// that judges it, as /proc/self/cgroup lists them: runc's, which it
// inherits from guard-runtime; a systemd scope below the host init's, as
// runc places it. Whether a cgroup exists is read from this host when the
// config is judged: `policy check` of a saved config answers for the host
// it runs on, at that moment, and places a relative path below its own
// cgroups; give it --systemd-cgroup to read the path as runc
// --systemd-cgroup does.
//
// Policy settings: none; `cgroupsPath: {}` turns the control on.
type CgroupsPath struct{}

// cgroupsPathField is the JSON pointer of linux.cgroupsPath.
const cgroupsPathField = "/linux/cgroupsPath"

// Validate implements Control.
func (c *CgroupsPath) Validate() error { return nil }

// Check implements Control.
func (c *CgroupsPath) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	systemd := in.Call.SystemdCgroup
	p := in.Linux().CgroupsPath
	// The subject is built with strconv, not fmt: it is built on every
	// create, and an admitted one needs no formatting.
	subject := "linux.cgroupsPath " + strconv.Quote(p)
	if p == "" {
		// runc names the container's cgroup after its id: a relative path,
		// or with systemd the scope runc-<id>.scope in system.slice. A
		// cgroup of that name that exists is joined like any other.
		if in.ContainerID == "" {
			return // policy check without --id: nothing to place it by
		}
		p = in.ContainerID
		if systemd {
			p = ":runc:" + in.ContainerID
		}
		subject = "the container's cgroup " + strconv.Quote(p) + " (no linux.cgroupsPath, so runc names it after the container id)"
	}
	var slice, unit string
	if systemd {
		var ok bool
		if slice, unit, ok = systemdScope(p, subject, r); !ok {
			return
		}
	} else if !saneCgroupfsPath(p, subject, r) {
		return
	}
	l := cgroupHost
	root, err := openDir(l.root)
	if err != nil {
		r.Deny(cgroupsPathField, "%s cannot be judged, and policy %s does not admit what it cannot check: the cgroup hierarchies cannot be found: %v", subject, r.Policy(), err)
		return
	}
	defer root.Close()
	var dirs []string
	if systemd {
		dirs, err = l.systemdDirs(root, slice, unit)
	} else {
		dirs, err = l.cgroupfsDirs(root, path.Clean(p))
	}
	if err != nil {
		r.Deny(cgroupsPathField, "%s cannot be judged, and policy %s does not admit what it cannot check: %v", subject, r.Policy(), err)
		return
	}
	// Each directory is looked at from the open root: one walk of
	// /sys/fs/cgroup for all of them.
	fd := root.fd
	for _, dir := range dirs {
		var st unix.Stat_t
		err := unix.Fstatat(fd, dir, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case err == unix.ENOENT:
			continue
		case err == nil:
			r.Deny(cgroupsPathField, "%s is the cgroup %s, which exists already: runc would join it and write this container's limits into it, and policy %s does not allow that, since it is another container's, the engine's or the host's; give the container a cgroup of its own that does not exist yet, as engines do (if a container that no longer runs left it behind, remove it with rmdir in each hierarchy)", subject, path.Join(l.root, dir), r.Policy())
		default:
			r.Deny(cgroupsPathField, "%s cannot be judged, and policy %s does not admit what it cannot check: stat %s: %v", subject, r.Policy(), path.Join(l.root, dir), err)
		}
		return
	}
	// A relative path of one component (runc's default, the id) is made
	// right where runc places it: it has no parent to look at.
	if systemd || len(dirs) == 0 || (!path.IsAbs(p) && !strings.Contains(path.Clean(p), "/")) {
		return
	}
	i := pickHierarchy(dirs)
	// Where the path starts: for an absolute one the hierarchy's own
	// directory ("memory" on cgroup v1, none on v2); for a relative one
	// where runc places it, whose cgroup (runc's own on v1, its parent on
	// v2) is the engine's, and not judged.
	start := strings.TrimSuffix(strings.TrimSuffix(dirs[i], strings.TrimPrefix(path.Clean(p), "/")), "/")
	if !path.IsAbs(p) {
		bases, err := l.cgroupfsDirs(root, ".")
		if err != nil || len(bases) != len(dirs) {
			r.Deny(cgroupsPathField, "%s cannot be judged, and policy %s does not admit what it cannot check: where runc places a relative path cannot be told: %v", subject, r.Policy(), err)
			return
		}
		start = bases[i]
	}
	checkParentHasNoProcesses(r, root, subject, dirs[i], start)
}

// pickHierarchy is the directory in which a new cgroup's parents are
// looked at: memory's where there is one (the limit a neighbour would
// share), the first otherwise. runc makes a container's cgroup in every
// hierarchy, so a container's cgroup exists in each.
func pickHierarchy(dirs []string) int {
	for i, d := range dirs {
		if strings.HasPrefix(d, "memory/") {
			return i
		}
	}
	return 0
}

// checkParentHasNoProcesses refuses a new cgroup any of whose existing
// parents below the hierarchy's root holds processes: that is another
// container's cgroup (or a service's, or a session's), and a container
// made inside it is charged to its limits (docker run --cgroup-parent
// /docker/<other id>: the other container was OOM-killed). Every parent
// is looked at, not only the nearest: a container whose processes sit in
// a cgroup of its own below (systemd in a container) leaves its own empty.
// Engines' parents (/docker, a pod's cgroup, system.slice) hold none.
// The parents looked at are those below start: the hierarchy's root, or
// for a relative path the cgroup runc places it in (its own on v1, which
// holds runc itself; on v2 its parent), so that a relative path such as
// "containerd.service/x" on cgroup v2 (--cgroup-parent containerd.service
// of Docker's cgroupfs driver) is caught inside containerd's cgroup.
func checkParentHasNoProcesses(r *Report, root *dir, subject, dir, start string) {
	for parent := path.Dir(dir); parent != start && parent != "." && parent != "/"; parent = path.Dir(parent) {
		var st unix.Stat_t
		if err := unix.Fstatat(root.fd, parent, &st, unix.AT_SYMLINK_NOFOLLOW); err == unix.ENOENT {
			continue
		} else if err != nil {
			r.Deny(cgroupsPathField, "%s cannot be judged, and policy %s does not admit what it cannot check: stat %s: %v", subject, r.Policy(), path.Join(root.name, parent), err)
			return
		}
		fd, err := unix.Openat(root.fd, parent+"/cgroup.procs", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			r.Deny(cgroupsPathField, "%s cannot be judged, and policy %s does not admit what it cannot check: open %s: %v", subject, r.Policy(), path.Join(root.name, parent, "cgroup.procs"), err)
			return
		}
		var buf [1]byte
		n, err := unix.Read(fd, buf[:])
		unix.Close(fd)
		if err != nil || n > 0 {
			r.Deny(cgroupsPathField, "%s would be made inside the cgroup %s, which holds processes, and policy %s does not allow that: it is another container's, a service's or a session's, and this container would be charged to its limits; give the container a cgroup below the engine's own parent, such as /docker/<id> (remove --cgroup-parent)", subject, path.Join(root.name, parent), r.Policy())
			return
		}
	}
}

// saneCgroupfsPath judges a path as runc's cgroupfs driver reads it, but
// for whether its cgroup exists, and reports whether it passed.
func saneCgroupfsPath(p, subject string, r *Report) bool {
	if slices.Contains(strings.Split(p, "/"), "..") {
		r.Deny(cgroupsPathField, "%s has a \"..\" component, which policy %s does not allow: runc applies it lexically, so the path can name any cgroup, another container's included; give the container a path of its own without \"..\", such as /docker/<id>", subject, r.Policy())
		return false
	}
	switch path.Clean(p) {
	case "/":
		r.Deny(cgroupsPathField, "%s is the root cgroup, which policy %s does not allow: runc would write the container's limits into the host's own; give the container a path of its own, such as /docker/<id>", subject, r.Policy())
		return false
	case ".":
		r.Deny(cgroupsPathField, "%s is the cgroup runc runs in (a relative path lies below it), which policy %s does not allow: runc would write the container's limits into the engine's own cgroup; give the container a path of its own, such as /docker/<id>", subject, r.Policy())
		return false
	}
	return true
}

// systemdScope judges a path as runc --systemd-cgroup reads it, but for
// whether its scope exists, and returns the slice's cgroup path and the
// scope unit runc would start; ok is false when it denied.
func systemdScope(p, subject string, r *Report) (slicePath, unit string, ok bool) {
	parts := strings.Split(p, ":")
	if len(parts) != 3 {
		r.Deny(cgroupsPathField, "%s is not slice:prefix:name, the form runc --systemd-cgroup reads (it refuses the container too): give one such as system.slice:docker:<id>", subject)
		return "", "", false
	}
	for _, part := range parts {
		if strings.Contains(part, "/") || strings.Contains(part, "..") {
			r.Deny(cgroupsPathField, "%s has the part %q, with \"/\" or \"..\", which policy %s does not allow: runc builds the container's cgroup path from these parts, and systemd's names hold neither; give slice:prefix:name of plain names, such as system.slice:docker:<id>", subject, part, r.Policy())
			return "", "", false
		}
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if strings.HasSuffix(name, ".slice") {
		r.Deny(cgroupsPathField, "%s makes the container's unit the slice %s, which policy %s does not allow: runc 1.1.5 adopts a slice that exists (a pod's, the system's) and sets the container's limits on it; give the container a scope of its own, with a name such as its id", subject, name, r.Policy())
		return "", "", false
	}
	slicePath = "/system.slice" // runc's default parent
	if slice != "" {
		var err error
		if slicePath, err = expandSlice(slice); err != nil {
			r.Deny(cgroupsPathField, "%s: %v (runc refuses it too): give a slice such as system.slice", subject, err)
			return "", "", false
		}
	}
	return slicePath, prefix + "-" + name + ".scope", true
}

// expandSlice is the cgroup path of a systemd slice, as runc 1.1.5's
// ExpandSlice makes it: each "-" of the name nests it one slice deeper,
// so a-b.slice is /a.slice/a-b.slice, and -.slice is the root.
func expandSlice(slice string) (string, error) {
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || name == "" {
		return "", fmt.Errorf("%q is not a slice name", slice)
	}
	if name == "-" {
		return "/", nil
	}
	var p, prefix string
	for _, component := range strings.Split(name, "-") {
		if component == "" {
			return "", fmt.Errorf("%q is not a slice name: it has an empty component", slice)
		}
		p += "/" + prefix + component + ".slice"
		prefix += component + "-"
	}
	return p, nil
}

// cgroupLayout says where runc 1.1.5 finds the cgroup hierarchies and the
// cgroups its paths start from. Its methods give directories relative to
// root.
type cgroupLayout struct {
	// root holds the hierarchies, or is the one hierarchy of cgroup v2
	// when unified says so of it, opened.
	root    string
	unified func(root *dir) (bool, error)
	// self and init list, as /proc/<pid>/cgroup does, the cgroups of runc
	// (which guard-runtime becomes, so its own) and of the host's init,
	// below which systemd's slices lie.
	self, init string
}

// cgroupHost is this host's layout. Tests point it at trees of their own.
var cgroupHost = cgroupLayout{root: "/sys/fs/cgroup", unified: isCgroup2, self: "/proc/self/cgroup", init: "/proc/1/cgroup"}

// isCgroup2 tells a cgroup v2 root from the tmpfs that holds v1
// hierarchies, as runc does.
func isCgroup2(root *dir) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(root.fd, &st); err != nil {
		return false, fmt.Errorf("statfs %s: %w", root.name, err)
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC, nil
}

// cgroupfsDirs is where runc's cgroupfs driver makes the cgroup at p, a
// clean path that is neither "/" nor ".": one directory in each hierarchy.
func (l cgroupLayout) cgroupfsDirs(root *dir, p string) ([]string, error) {
	unified, err := l.unified(root)
	if err != nil {
		return nil, err
	}
	switch {
	case unified && path.IsAbs(p):
		return []string{path.Join(".", p)}, nil
	case path.IsAbs(p):
		return hierarchies(root, p)
	}
	return l.dirs(l.self, unified, func(own string, v2 bool) string {
		switch {
		case unified:
			// runc takes the parent of its own cgroup: its own has
			// processes, so no controller can be enabled below it.
			return path.Join(path.Dir(own), p)
		case v2:
			// On a hybrid host runc starts from the v2 hierarchy's root.
			return p
		}
		return path.Join(own, p)
	})
}

// hierarchies is p in each hierarchy under root on a v1 or hybrid host,
// where runc places an absolute path: each directory there is one (links
// such as cpu, to cpu,cpuacct, name one twice and are passed over), and
// unified/ is cgroup v2's. One listing of root costs less than finding
// them through the controllers /proc/self/cgroup names.
func hierarchies(root *dir, p string) ([]string, error) {
	names, err := root.subdirectories()
	if err != nil {
		return nil, fmt.Errorf("the cgroup hierarchies cannot be listed: %w", err)
	}
	for i, name := range names {
		names[i] = name + p // p is absolute and clean
	}
	return names, nil
}

// systemdDirs is where runc's systemd driver places the scope unit in the
// slice whose cgroup path is slice: below the host init's cgroup, less
// init.scope (where systemd itself runs), in each hierarchy.
func (l cgroupLayout) systemdDirs(root *dir, slice, unit string) ([]string, error) {
	unified, err := l.unified(root)
	if err != nil {
		return nil, err
	}
	if unified {
		return []string{path.Join(".", slice, unit)}, nil
	}
	return l.dirs(l.init, false, func(initCgroup string, _ bool) string {
		return path.Join(strings.TrimSuffix(path.Clean(initCgroup), "init.scope"), slice, unit)
	})
}

// dirs lists, for each hierarchy of the process whose cgroups file lists
// them, the directory at the path that at gives for the process's cgroup
// there; v2 says the hierarchy is cgroup v2's. On a v1 or hybrid host a
// v1 hierarchy is found by its controllers' names, together (cpu,cpuacct,
// where it is mounted) and each alone (where runc looks first: cpu, often
// a link to it), and cgroup v2 at unified/; on a unified host the v2
// hierarchy is root itself.
func (l cgroupLayout) dirs(cgroups string, unified bool, at func(cgroup string, v2 bool) string) ([]string, error) {
	data, err := spec.ReadFile(cgroups, spec.MaxDocumentSize)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.SplitN(line, ":", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s: %q is not a line of hierarchy id, controllers and cgroup", cgroups, line)
		}
		controllers, cgroup := fields[1], fields[2]
		switch {
		case controllers == "" && unified:
			dirs = append(dirs, path.Join(".", at(cgroup, true)))
		case controllers == "":
			dirs = append(dirs, path.Join("unified", at(cgroup, true)))
		case !unified:
			names := strings.Split(controllers, ",")
			if len(names) > 1 {
				names = append(names, controllers)
			}
			for _, name := range names {
				dirs = append(dirs, path.Join(strings.TrimPrefix(name, "name="), at(cgroup, false)))
			}
		}
	}
	if unified && len(dirs) == 0 {
		return nil, fmt.Errorf("%s names no cgroup v2 cgroup, and %s is cgroup v2", cgroups, l.root)
	}
	return dirs, nil
}

// dir is a directory open for listing and lookups, without an os.File:
// every create opens /sys/fs/cgroup, and an os.File's set-up and
// ReadDir's entries cost a fresh process more than the system calls do.
type dir struct {
	fd   int
	name string
}

func openDir(name string) (*dir, error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return &dir{fd: fd, name: name}, nil
}

func (d *dir) Close() error { return unix.Close(d.fd) }

// subdirectories lists the directories in d, by the type getdents gives
// (as os.DirEntry.IsDir, so that links such as cpu -> cpu,cpuacct are left
// out), without . and ..; an entry of unknown type is looked up.
func (d *dir) subdirectories() ([]string, error) {
	var buf [4096]byte
	var names []string
	for {
		n, err := unix.Getdents(d.fd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", d.name, err)
		}
		if n <= 0 {
			return names, nil
		}
		// linux_dirent64: inode (8 bytes), offset (8), record length (2),
		// type (1), then the NUL-terminated name.
		for b := buf[:n]; len(b) > 0; {
			size := int(binary.NativeEndian.Uint16(b[16:18]))
			if size < 20 || size > len(b) {
				return nil, fmt.Errorf("list %s: a directory entry of %d bytes", d.name, size)
			}
			name, _, _ := strings.Cut(string(b[19:size]), "\x00")
			if name != "." && name != ".." && d.isDir(name, b[18]) {
				names = append(names, name)
			}
			b = b[size:]
		}
	}
}

func (d *dir) isDir(name string, typ byte) bool {
	if typ != unix.DT_UNKNOWN {
		return typ == unix.DT_DIR
	}
	var st unix.Stat_t
	return unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}
