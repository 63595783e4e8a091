package enforce

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// HostNamespaces keeps containers out of the host's namespaces.
//
// Fields: linux.namespaces[].type and linux.namespaces[].path (config.json).
//
// Allowed: every namespace type in required has an entry, and the entry's
// path, when it has one, names a namespace that is not the host's.
//   - A missing entry leaves the container in the runtime's namespace, the
//     host's: Docker's --pid host, --ipc host and --uts host, Kubernetes'
//     hostPID and hostIPC.
//   - A path is the host's when it is the same file (device and inode) as
//     /proc/1/ns/<type>, the host's init, or as /proc/self/ns/<type>: runc
//     runs in the engine's namespaces, so sharing those is host mode too.
//     This catches Docker's --network host, which keeps the entry with path
//     /var/run/docker/netns/default (a bind mount of the host's namespace),
//     and a Kubernetes hostNetwork pod, whose app containers name the pause
//     container's /proc/<pid>/ns/net.
//   - Paths under /proc/self/ and /proc/thread-self/ are the runtime's own
//     namespaces, so the host's, whatever the file comparison says.
//   - Joining another container's namespace (/proc/<pid>/ns/<type> of a
//     process outside the host's namespace) stays allowed.
//   - A path that cannot be examined is denied: guard-runtime does not admit
//     what it cannot check.
//   - A relative path is denied: runc checks that it exists from the bundle
//     directory, where it runs, but its init process opens it from the
//     root filesystem's directory (runc 1.1: a bundle's "netns" passes the
//     check while rootfs/netns is the namespace joined), so it names no one
//     file that could be judged. Engines write absolute paths.
//   - Some VMs' init refuses even root a look at /proc/1/ns (EACCES). That
//     reference is then skipped and guard-runtime's own namespaces, which
//     are the engine's, decide; if no reference can be read, the path is
//     denied.
//
// Policy settings:
//
//	hostNamespaces:
//	  required: [pid, ipc, uts, network, mount]   # OCI namespace types
type HostNamespaces struct {
	Required []specs.LinuxNamespaceType `yaml:"required"`
}

// nsFile is the /proc/<pid>/ns file name of an OCI namespace type, ""
// for another type.
func nsFile(t specs.LinuxNamespaceType) string {
	file, _ := namespaceNames(t)
	return file
}

// namespaceNames gives an OCI namespace type's /proc/<pid>/ns file name
// and how a user asks for the host's ("" for neither). A switch, not a
// package-level map: a map literal is built by the package's
// initialisation, in every runtime call.
func namespaceNames(t specs.LinuxNamespaceType) (file, hostHint string) {
	switch t {
	case specs.PIDNamespace:
		return "pid", "remove --pid host (Kubernetes: hostPID)"
	case specs.NetworkNamespace:
		return "net", "remove --network host (Kubernetes: hostNetwork)"
	case specs.MountNamespace:
		return "mnt", "give the container its own mount namespace"
	case specs.IPCNamespace:
		return "ipc", "remove --ipc host (Kubernetes: hostIPC)"
	case specs.UTSNamespace:
		return "uts", "remove --uts host"
	case specs.UserNamespace:
		return "user", ""
	case specs.CgroupNamespace:
		return "cgroup", ""
	case specs.TimeNamespace:
		return "time", ""
	}
	return "", ""
}

// hostNamespaceDirs hold the namespaces that count as the host's: the
// host's init, and guard-runtime's own, which runc will inherit. Tests
// point it at namespaces they create.
var hostNamespaceDirs = []string{"/proc/1/ns", "/proc/self/ns"}

// hostModeHint says how a user asked for a host namespace.
func hostModeHint(t specs.LinuxNamespaceType) string {
	if _, hint := namespaceNames(t); hint != "" {
		return hint
	}
	return fmt.Sprintf("give the container its own %s namespace", t)
}

// Validate implements Control.
func (c *HostNamespaces) Validate() error {
	for _, t := range c.Required {
		if nsFile(t) == "" {
			return fmt.Errorf("unknown namespace type %q: use pid, network, mount, ipc, uts, user, cgroup or time", t)
		}
	}
	return nil
}

// Check implements Control.
func (c *HostNamespaces) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	namespaces := in.Linux().Namespaces
	for _, t := range c.Required {
		if !slices.ContainsFunc(namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == t }) {
			r.Deny("/linux/namespaces", "linux.namespaces has no %s entry, so the container would share the host's %s namespace, which policy %s does not allow: %s", t, t, r.Policy(), hostModeHint(t))
		}
	}
	for i, ns := range namespaces {
		if ns.Path == "" || !slices.Contains(c.Required, ns.Type) {
			continue
		}
		field := fmt.Sprintf("/linux/namespaces/%d/path", i)
		if !filepath.IsAbs(ns.Path) {
			r.Deny(field, "the %s namespace path %s is relative: runc checks it in the bundle directory but joins the namespace it finds from the root filesystem's directory, so policy %s cannot tell which namespace that is; give an absolute path such as /proc/<pid>/ns/%s", ns.Type, ns.Path, r.Policy(), nsFile(ns.Type))
			continue
		}
		host, known, why := isHostNamespace(ns)
		switch {
		case !known:
			r.Deny(field, "the %s namespace %s cannot be told from the host's (%s), and policy %s does not admit what it cannot check: make sure the path exists on this host, or %s", ns.Type, ns.Path, why, r.Policy(), hostModeHint(ns.Type))
		case host:
			r.Deny(field, "the %s namespace %s is the host's (%s), which policy %s does not allow: %s", ns.Type, ns.Path, why, r.Policy(), hostModeHint(ns.Type))
		}
	}
}

// isHostNamespace reports whether ns, whose path is absolute, names a
// host namespace and why, or that it cannot tell (known false).
func isHostNamespace(ns specs.LinuxNamespace) (host, known bool, why string) {
	p := ns.Path
	clean := path.Clean(p)
	if strings.HasPrefix(clean, "/proc/self/") || strings.HasPrefix(clean, "/proc/thread-self/") {
		return true, true, "the runtime's own namespace is the engine's"
	}
	id, err := statFileID(p)
	if err != nil {
		return false, false, err.Error()
	}
	file := nsFile(ns.Type)
	compared := 0
	for _, dir := range hostNamespaceDirs {
		ref := dir + "/" + file
		hostID, err := statFileID(ref)
		if errors.Is(err, fs.ErrPermission) {
			continue // an init the kernel shields even from root
		}
		if err != nil {
			return false, false, err.Error()
		}
		if id == hostID {
			return true, true, "the same namespace as " + describeReference(dir, ref)
		}
		compared++
	}
	if compared == 0 {
		return false, false, fmt.Sprintf("none of %s/%s can be read", strings.Join(hostNamespaceDirs, ", "), file)
	}
	return false, true, ""
}

func describeReference(dir, ref string) string {
	switch dir {
	case "/proc/1/ns":
		return "the host's init, " + ref
	case "/proc/self/ns":
		return "the runtime's and engine's own, " + ref
	}
	return ref
}

// fileID identifies a file, and so a namespace, on the host.
type fileID struct {
	dev, ino uint64
}

func statFileID(p string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		return fileID{}, fmt.Errorf("stat %s: %w", p, err)
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, nil
}
