package enforce

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// HostPaths keeps sensitive host paths out of containers.
//
// Fields: mounts[].source, with mounts[].options, .destination and .type,
// and the lowerdir, upperdir and workdir options of an overlay mount;
// root.path, with root.readonly (config.json); the annotations
// io.kubernetes.cri.sandbox-id, io.kubernetes.cri.sandbox-uid and
// io.kubernetes.cri.container-name.
//
// A mount is a bind mount when its options hold "bind" or "rbind", whatever
// its type says: runc decides so (libcontainer/specconv). Its source is
// taken as runc and the kernel take it: a relative source is joined to the
// bundle directory (runc's filepath.Join, which also cleans it), and
// symlinks are followed as the kernel follows them; for a path that does
// not exist yet the longest existing prefix is resolved. A non-bind mount whose source is an absolute
// path (a block device such as /dev/sda1) exposes that host path too and is
// judged the same way; "proc", "tmpfs" and the like are not paths.
//
// root.path is a host directory mounted at "/", read-only when
// root.readonly is true: "/usr", "/etc" or "/" would make the host's own
// files the container's. runc joins a relative root.path to the bundle
// directory and the kernel follows the symlinks, as for a bind source. A
// root that lies in the bundle directory, or is the bundle itself, is the
// engine's own and allowed: containerd (CRI, ctr) and runc users keep the
// root filesystem in "rootfs" there. Any other root, a rootfs symlink in
// the bundle that leads elsewhere included, is judged as a bind source
// with destination "/" by the rules below; engineManaged lists the image
// stores where Docker and Podman mount their containers' roots. Without a
// bundle (policy check --config), a relative root.path that does not climb
// out of it with ".." is taken as lying in it: only --bundle can tell
// where its symlinks lead.
//
// Allowed:
//   - binds that an engine makes for every container, listed in
//     engineManaged, and binds the admin allows, listed in allowed (both
//     override the sensitive list);
//   - otherwise, a source that is not sensitive: neither a sensitive path,
//     nor inside one, nor an ancestor of one (/var holds /var/lib/docker),
//     compared on path boundaries (/etcetera is not /etc), both as written
//     (cleaned) and as resolved. "/" itself counts only as "/": every path
//     lies inside it.
//   - with others: deny (restricted), nothing else: every other host path
//     bind is denied, sensitive or not.
//
// An admitted bind source may itself be a mount point that shows another
// host directory, which following symlinks does not reveal: docker volume
// create -o type=none -o o=bind -o device=/etc makes the volume's _data,
// which engineManaged admits, a bind mount of the host's /etc, and any
// Docker API user may create one. So each admitted bind source costs one
// statx call (is it the root of a mount?). Only when it is,
// /proc/self/mountinfo is read: the topmost mount there shows a directory
// of its device, and when another mount of that device shows the same
// directory (root "/" first, then the shortest mount point), the host path
// there is judged as a bind source, by all the rules above. A mount of one
// of isKernelInterfaceType is denied whatever its device: a fresh proc,
// overlay, binfmt_misc, mqueue... volume (docker volume create -o
// type=proc -o device=proc) shows the host's kernel state or files. A
// device mounted nowhere else (a fresh tmpfs, an NFS export, a disk of
// its own) shows no other host path and is admitted; a mount point that cannot be
// examined is denied.
//
// A source that lies inside a mount rather than at its root (a file of a
// bind mount of /etc at /srv/etc, the host's kernel settings under a proc
// mount at /host/proc) is judged the same way, as the file it is there:
// one statx for each directory above it, up to the first mount point, and
// mountinfo only when that is not "/"; a kernel interface filesystem is
// denied, a directory the host shows nowhere else is judged by its path.
// The mounts below a directory bound with rbind (docker run -v, --mount
// type=bind) come into the container with it, and are judged each as a
// source that is a mount point, from one read of mountinfo. The sources
// engineManaged admits are not looked at in these two ways: they lie
// where the admin's engine keeps its data, often a filesystem of its own,
// and every create would read mountinfo. runc binds root.path recursively
// too, so a root outside the bundle is judged as an rbind source at "/"
// in all three ways, unless it lies in an engine's image store, where the
// engine assembled it (Docker's and Podman's are overlay mounts).
//
// Rule patterns (engineManaged, allowed) name sources:
//   - an absolute path, or one that starts with a root placeholder such as
//     {dockerRoot}, replaced by its value from roots when the policy is
//     loaded (sensitive paths may start with one too), so a node with
//     other data directories sets just those roots in a policy that
//     extends this one;
//   - placeholders filled in per container: {id} the container id given to
//     the runtime; {sandboxID}, {podUID} and {name} from the annotations
//     io.kubernetes.cri.sandbox-id, .sandbox-uid and .container-name, which
//     only the CRI plugin writes on a Kubernetes node (where users can set
//     annotations themselves, as with docker run --annotation on Docker 24
//     and later, they could name another pod's files: leave the Kubernetes
//     rules out there). A placeholder without a value (no annotation), or
//     whose value is not a single path component, matches nothing;
//   - "*" matches any run of characters within one path component;
//   - a final "/**" matches anything strictly below the path before it.
//
// An unknown placeholder, a "**" elsewhere or a path that is not clean is an
// error when the policy is loaded. A pattern matches the source with symlinks
// followed, so a link planted in a volume cannot reach past it; a pattern
// without "*" also matches a source written exactly as the pattern (not
// cleaned), since it names one file the engine controls (Debian's /usr/bin/docker-init is a
// link to tini-static). A rule's destination, when given, must equal the
// mount's cleaned destination, and readOnly: true requires a read-only mount
// (ro or rro last among the options, as runc applies them).
//
// Policy settings:
//
//	hostPaths:
//	  roots: {dockerRoot: /var/lib/docker, ...}
//	  sensitive:
//	    - {path: /var/run/docker.sock, what: Docker API socket}
//	  engineManaged:
//	    - {source: "{dockerRoot}/containers/{id}/hosts"}
//	    - {source: /usr/bin/docker-init, destination: /sbin/docker-init, readOnly: true}
//	    - {source: "{dockerRoot}/overlay2/*/merged", destination: /}   # a root.path
//	  allowed: []        # the admin's own rules, same form
//	  others: allow      # allow or deny: host-path mounts no rule names
type HostPaths struct {
	Roots         map[string]string `yaml:"roots"`
	Sensitive     []SensitivePath   `yaml:"sensitive"`
	EngineManaged []MountRule       `yaml:"engineManaged"`
	Allowed       []MountRule       `yaml:"allowed"`
	Others        string            `yaml:"others"`

	compiled *hostPathRules
}

// SensitivePath is a host path no container may bind, and what it is, for
// messages.
type SensitivePath struct {
	Path string `yaml:"path"`
	What string `yaml:"what"`
}

// MountRule admits host-path mounts whose source matches Source.
type MountRule struct {
	Source      string `yaml:"source"`
	Destination string `yaml:"destination,omitempty"`
	ReadOnly    bool   `yaml:"readOnly,omitempty"`
}

// Values of HostPaths.Others.
const (
	othersAllow = "allow"
	othersDeny  = "deny"
)

// Annotations the CRI plugin of containerd writes into every config.json.
const (
	annotationContainerType = "io.kubernetes.cri.container-type"
	annotationSandboxID     = "io.kubernetes.cri.sandbox-id"
	annotationSandboxUID    = "io.kubernetes.cri.sandbox-uid"
	annotationContainerName = "io.kubernetes.cri.container-name"
)

// containerPlaceholders are the placeholders filled in per container.
var containerPlaceholders = []string{"id", "sandboxID", "podUID", "name"}

type hostPathRules struct {
	sensitive     []SensitivePath
	engineManaged []compiledRule
	allowed       []compiledRule
}

// compiledRule is a rule with its source's root expanded. Its pattern is
// compiled when a mount first gets past the prefix: a policy has tens of
// rules, a container a few host-path mounts, which most rules cannot match.
type compiledRule struct {
	MountRule
	// source is Source with its root expanded; prefix is the part of it
	// before the first component with a placeholder or "*", which every
	// path the rule matches equals or lies in.
	source, prefix string
	// pattern is nil until compiledPattern compiles it; broken says that
	// it could not be, and the rule then admits nothing.
	pattern *pathPattern
	broken  bool
}

// Validate implements Control: it compiles every rule, so that a policy
// with a malformed rule is refused when it is loaded.
func (c *HostPaths) Validate() error {
	rules, err := c.compile(true)
	if err != nil {
		return err
	}
	c.compiled = rules
	return nil
}

// validateCached is Validate for a policy read from the cache, which the
// full build validated whole when it wrote the entry: rule patterns are
// compiled as mounts need them (0.02 ms less per create). Should one not
// compile after all (an entry of another version), it admits nothing.
func (c *HostPaths) validateCached() error {
	rules, err := c.compile(false)
	if err != nil {
		return err
	}
	c.compiled = rules
	return nil
}

// isRootName accepts letters and digits, starting with a letter.
func isRootName(name string) bool {
	for i, c := range name {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return name != ""
}

// compile checks the settings and expands the rules, compiling their
// patterns too when patterns is set.
func (c *HostPaths) compile(patterns bool) (*hostPathRules, error) {
	if c.Others != "" && c.Others != othersAllow && c.Others != othersDeny {
		return nil, fmt.Errorf("others %q is not valid: use allow or deny", c.Others)
	}
	for name, value := range c.Roots {
		if !isRootName(name) || slices.Contains(containerPlaceholders, name) {
			return nil, fmt.Errorf("root name %q is not valid: use letters and digits, and none of %s", name, strings.Join(containerPlaceholders, ", "))
		}
		if !isCleanAbs(value) {
			return nil, fmt.Errorf("root %s: %q must be a clean absolute path", name, value)
		}
	}
	rules := &hostPathRules{sensitive: make([]SensitivePath, 0, len(c.Sensitive))}
	for _, s := range c.Sensitive {
		p, err := c.expandRoot(s.Path)
		if err != nil || !isCleanAbs(p) {
			return nil, fmt.Errorf("sensitive path %q must be a clean absolute path, or a root placeholder and one: %v", s.Path, err)
		}
		if s.What == "" {
			return nil, fmt.Errorf("sensitive path %q: say what it is in what:, for the messages", s.Path)
		}
		rules.sensitive = append(rules.sensitive, SensitivePath{Path: p, What: s.What})
	}
	var err error
	if rules.engineManaged, err = c.compileRules("engineManaged", c.EngineManaged, patterns); err != nil {
		return nil, err
	}
	if rules.allowed, err = c.compileRules("allowed", c.Allowed, patterns); err != nil {
		return nil, err
	}
	return rules, nil
}

func (c *HostPaths) compileRules(list string, rules []MountRule, patterns bool) ([]compiledRule, error) {
	out := make([]compiledRule, 0, len(rules))
	for _, rule := range rules {
		expanded, err := c.expandRoot(rule.Source)
		if err != nil {
			return nil, fmt.Errorf("%s source %q: %w", list, rule.Source, err)
		}
		compiled := compiledRule{MountRule: rule, source: expanded, prefix: literalPrefix(expanded)}
		if patterns {
			if compiled.pattern, err = compilePathPattern(expanded); err != nil {
				return nil, fmt.Errorf("%s source %q: %w", list, rule.Source, err)
			}
		}
		if rule.Destination != "" && !isCleanAbs(rule.Destination) {
			return nil, fmt.Errorf("%s destination %q must be a clean absolute path", list, rule.Destination)
		}
		out = append(out, compiled)
	}
	return out, nil
}

// literalPrefix is the directory of pattern p before its first component
// with a placeholder or "*": "/var/lib/docker/containers" of
// "/var/lib/docker/containers/{id}/hosts", p itself without either.
func literalPrefix(p string) string {
	i := strings.IndexAny(p, "*{")
	if i < 0 {
		return p
	}
	if j := strings.LastIndexByte(p[:i], '/'); j > 0 {
		return p[:j]
	}
	return "/"
}

// mayMatch reports whether the rule can match the path p: whether p is
// its prefix or lies in it.
func (r *compiledRule) mayMatch(p string) bool {
	return p == r.prefix || pathWithin(p, r.prefix)
}

// compiledPattern is the rule's pattern, compiled at its first use; nil
// for a pattern that does not compile.
func (r *compiledRule) compiledPattern() *pathPattern {
	if r.pattern == nil && !r.broken {
		p, err := compilePathPattern(r.source)
		r.pattern, r.broken = p, err != nil
	}
	return r.pattern
}

// expandRoot replaces a leading root placeholder by its value.
func (c *HostPaths) expandRoot(p string) (string, error) {
	if !strings.HasPrefix(p, "{") {
		return p, nil
	}
	name, rest, ok := strings.Cut(p[1:], "}")
	if !ok {
		return "", errors.New("unclosed {")
	}
	if slices.Contains(containerPlaceholders, name) {
		return "", fmt.Errorf("{%s} cannot start a path: start with / or a root", name)
	}
	root, ok := c.Roots[name]
	if !ok {
		return "", fmt.Errorf("unknown root {%s}: define it under roots (known: %s)", name, strings.Join(sortedKeys(c.Roots), ", "))
	}
	if rest != "" && !strings.HasPrefix(rest, "/") {
		return "", fmt.Errorf("{%s} must be followed by / or end the path", name)
	}
	if root == "/" {
		return "/" + strings.TrimPrefix(rest, "/"), nil
	}
	return root + rest, nil
}

func (c *HostPaths) rules() (*hostPathRules, error) {
	if c.compiled != nil {
		return c.compiled, nil
	}
	return c.compile(true)
}

// Check implements Control.
func (c *HostPaths) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	rules, err := c.rules()
	if err != nil {
		r.Deny("/mounts", "policy %s has unusable hostPaths settings, so no mount can be judged: %v", r.Policy(), err)
		return
	}
	values := placeholderValues(in)
	c.checkRoot(in, r, rules, values)
	for i, m := range in.Spec.Mounts {
		if m.Type == "overlay" && !isBindMount(m.Options) {
			c.checkOverlay(in, r, rules, values, i, m)
			continue
		}
		c.checkMount(in, r, rules, values, i, m)
	}
}

// checkOverlay judges the host directories an overlay mount is made of
// (Podman's -v SRC:DST:O): its source is only a name, but each lowerdir
// shows the host directory's files in the container, read-only, and
// upperdir and workdir are written through. Each is judged as a
// non-recursive bind source at the mount's destination (overlayfs shows
// no mounts below a lower directory), lowerdirs as read-only. A relative
// directory, or an option list that cannot be split as the kernel splits
// it, is denied: it names no one host directory.
func (c *HostPaths) checkOverlay(in *Input, r *Report, rules *hostPathRules, values map[string]string, i int, m specs.Mount) {
	for _, o := range overlayOptions(m.Options) {
		key, value, ok := strings.Cut(o, "=")
		if !ok {
			continue
		}
		var dirs []string
		readOnly := false
		switch key {
		case "lowerdir", "lowerdir+", "datadir+":
			dirs, readOnly = overlayDirs(value), true
		case "upperdir", "workdir":
			dirs = []string{value}
		default:
			continue
		}
		for _, dir := range dirs {
			if !filepath.IsAbs(dir) || strings.Contains(dir, `\`) {
				r.Deny(mountField(i, "options"), "overlay mount at %s: %s=%s cannot be judged, and policy %s does not admit what it cannot check: give absolute host directories without escapes", m.Destination, key, value, r.Policy())
				return
			}
			options := []string{"bind"}
			if readOnly {
				options = append(options, "ro")
			}
			denials := len(r.violations)
			dirMount := specs.Mount{Type: "bind", Source: dir, Destination: m.Destination, Options: options}
			c.checkSource(in, r, rules, values, i, "overlay mount ("+key+")", dirMount, true)
			if len(r.violations) > denials {
				return
			}
		}
	}
}

// overlayOptions splits options as the kernel reads them: runc passes
// the options it does not know as flags to mount(2) joined by commas, and
// the kernel splits them there again, so "lowerdir=/a,upperdir=/b" in one
// option is two. (A backslash, which would escape a comma, is refused
// where a directory is read.)
func overlayOptions(options []string) []string {
	var out []string
	for _, o := range options {
		out = append(out, strings.Split(o, ",")...)
	}
	return out
}

// overlayDirs splits a lowerdir list at its colons, as the kernel does.
func overlayDirs(list string) []string {
	return strings.Split(list, ":")
}

// rootField is the JSON pointer of root.path.
const rootField = "/root/path"

// rootAdvice says what to do about a refused root.path.
var rootAdvice = advice{
	sensitive: "give the container a root filesystem of its own: run an image, or a directory made for it, not a host directory (--rootfs)",
	unlisted:  "only a root filesystem in the bundle, an engine's image store or one that hostPaths.allowed lists with destination: / may be used; run an image, or ask the admin to allow this directory",
}

func (c *HostPaths) checkRoot(in *Input, r *Report, rules *hostPathRules, values map[string]string) {
	root := in.Spec.Root
	if root == nil {
		return // runc refuses a config without one
	}
	src, inBundle, err := resolveRoot(in.Bundle, root.Path)
	if err != nil {
		r.Deny(rootField, "the root filesystem %s cannot be judged, and policy %s does not admit what it cannot check: %v", root.Path, r.Policy(), err)
		return
	}
	if inBundle {
		return
	}
	if subject, why := c.refusal(in, rules, values, src, "/", root.Readonly, rootAdvice); why != "" {
		r.Deny(rootField, "root filesystem %s is not allowed by policy %s: %s", subject, r.Policy(), why)
		return
	}
	if matchingRule(rules.engineManaged, src, "/", root.Readonly, values) != nil {
		return // an engine's image store: the engine assembled this root (an overlay mount, often)
	}
	// runc binds the root recursively (MS_BIND|MS_REC): it is judged as an
	// rbind source, with what the host shows there besides its path.
	c.checkMountsAt(in, r, rules, values, rootField, "root filesystem", src, "/", root.Readonly, true)
}

// resolveRoot places root.path on the host as runc does, and reports
// whether it lies in the bundle directory (which resolveBundle resolved),
// or is the bundle itself. Only the path as resolved counts there: that
// is the directory the kernel mounts.
func resolveRoot(bundle, root string) (src mountSource, inBundle bool, err error) {
	if bundle == "" && !filepath.IsAbs(root) {
		if rel := filepath.Clean(root); rel == ".." || strings.HasPrefix(rel, "../") {
			return mountSource{}, false, fmt.Errorf("root.path %q leads out of the bundle directory, which is not known here: judge the bundle (--bundle), not the file", root)
		}
		return mountSource{}, true, nil
	}
	if src, err = resolveMountSource(bundle, root, true); err != nil {
		return mountSource{}, false, err
	}
	return src, bundle != "" && (src.resolved == bundle || pathWithin(src.resolved, bundle)), nil
}

func (c *HostPaths) checkMount(in *Input, r *Report, rules *hostPathRules, values map[string]string, i int, m specs.Mount) {
	bind := isBindMount(m.Options)
	if !bind && !filepath.IsAbs(m.Source) {
		return // proc, tmpfs, sysfs…: the source is only a name
	}
	what := "bind mount"
	if !bind {
		what = m.Type + " mount"
	}
	c.checkSource(in, r, rules, values, i, what, m, bind)
}

// checkSource judges the host path m.Source of a mount, described as what.
func (c *HostPaths) checkSource(in *Input, r *Report, rules *hostPathRules, values map[string]string, i int, what string, m specs.Mount, bind bool) {
	src, err := resolveMountSource(in.Bundle, m.Source, bind)
	if err != nil {
		r.Deny(mountField(i, "source"), "%s of %s at %s cannot be judged, and policy %s does not admit what it cannot check: %v", what, m.Source, m.Destination, r.Policy(), err)
		return
	}
	dest, readOnly := cleanDestination(m.Destination), isReadOnlyMount(m.Options)
	if subject, why := c.refusal(in, rules, values, src, dest, readOnly, mountAdvice(in)); why != "" {
		r.Deny(mountField(i, "source"), "%s of %s at %s is not allowed by policy %s: %s", what, subject, dest, r.Policy(), why)
		return
	}
	if !bind {
		return
	}
	c.checkMountsAt(in, r, rules, values, mountField(i, "source"), what, src, dest, readOnly, slices.Contains(m.Options, "rbind"))
}

// checkMountsAt judges what the host shows at an admitted bind source (or
// root filesystem) src besides its path: the mount it is, the mount it
// lies in, and with rbind the mounts below it. field is where violations
// point.
func (c *HostPaths) checkMountsAt(in *Input, r *Report, rules *hostPathRules, values map[string]string, field, what string, src mountSource, dest string, readOnly, rbind bool) {
	hosts, fsType, hidden, err := mountedHostPaths(selfMountinfo, src.resolved)
	if err != nil {
		r.Deny(field, "%s of %s at %s cannot be judged, and policy %s does not admit what it cannot check: it may be a mount of another host directory: %v", what, src.describe(), dest, r.Policy(), err)
		return
	}
	if isKernelInterfaceType(fsType) {
		r.Deny(field, "%s of %s at %s is not allowed by policy %s: it is a mount of a %s filesystem, which shows the host's kernel, processes or files to the container whoever mounted it; remove the volume, or recreate it with a filesystem for data (tmpfs, a disk, a network share)", what, src.describe(), dest, r.Policy(), fsType)
		return
	}
	if hidden {
		r.Deny(field, "%s of %s at %s is not allowed by policy %s: it is a mount of a part of a host filesystem that the host mounts only in other parts, so what it shows cannot be judged; remove the volume, or recreate it from a directory the host mounts", what, src.describe(), dest, r.Policy())
		return
	}
	for _, host := range hosts {
		hostSrc := mountSource{literal: host, written: host, resolved: host}
		if subject, why := c.refusal(in, rules, values, hostSrc, dest, readOnly, volumeAdvice); why != "" {
			r.Deny(field, "%s of %s at %s is not allowed by policy %s: it is a mount of the host's %s: %s", what, src.describe(), dest, r.Policy(), subject, why)
			return
		}
	}
	// fsType is set only for a source that is a mount point itself. One
	// that is not may lie inside a mount, which shows it elsewhere too; the
	// engine's own files are where the admin's engine keeps them, and are
	// not looked at, so that Docker's hosts and resolv.conf on a
	// /var/lib/docker of its own do not cost every create a read of
	// mountinfo.
	if matchingRule(rules.engineManaged, src, dest, readOnly, values) != nil {
		return
	}
	if fsType == "" && !c.checkEnclosingMount(in, r, rules, values, field, what, src, dest, readOnly) {
		return
	}
	if rbind {
		c.checkSubmounts(in, r, rules, values, field, what, src, dest, readOnly)
	}
}

// checkSubmounts judges the mounts below an rbind source, which runc
// carries into the container with it: with a proc filesystem at
// /srv/hostproc, -v /srv:/x gives the container the host's kernel
// settings at /x/hostproc, and with the host's /etc bind-mounted at
// /srv/etc, its /etc. Each is judged as a bind source that is a mount
// point, at its place under the destination; a directory the host shows
// nowhere else is admitted, as under a source of its own. Only a directory
// has mounts below it; mountinfo is read for those.
func (c *HostPaths) checkSubmounts(in *Input, r *Report, rules *hostPathRules, values map[string]string, field, what string, src mountSource, dest string, readOnly bool) {
	if !isDirectory(src.resolved) {
		return // a file; or a source gone since the statx above, which runc cannot bind either
	}
	mounts, err := mountsBelow(selfMountinfo, src.resolved)
	if err != nil {
		r.Deny(field, "%s of %s at %s cannot be judged, and policy %s does not admit what it cannot check: the mounts below it, which rbind carries along, cannot be listed: %v", what, src.describe(), dest, r.Policy(), err)
		return
	}
	for _, sub := range mounts {
		point := sub.point
		if isKernelInterfaceType(sub.fsType) {
			r.Deny(field, "%s of %s at %s is not allowed by policy %s: rbind carries the %s filesystem mounted at %s below it into the container, which shows the host's kernel, processes or files; bind a directory without it, or with bind-nonrecursive", what, src.describe(), dest, r.Policy(), sub.fsType, point)
			return
		}
		under := path.Join(dest, strings.TrimPrefix(point, src.resolved))
		for _, host := range sub.hosts {
			hostSrc := mountSource{literal: host, written: host, resolved: host}
			if subject, why := c.refusal(in, rules, values, hostSrc, under, readOnly, mountAdvice(in)); why != "" {
				r.Deny(field, "%s of %s at %s is not allowed by policy %s: rbind carries the mount at %s below it into the container, which shows the host's %s: %s", what, src.describe(), dest, r.Policy(), point, subject, why)
				return
			}
		}
	}
}

// checkEnclosingMount judges a bind source that lies inside a mount (not
// at its root) as what that mount shows: the host paths where the same
// files appear, and the filesystem's type. A file inside a bind mount of
// the host's /etc is the host's /etc/…, and one inside a proc mount at
// another path is the host's kernel interface, whatever the path says.
// A mount whose directory the host shows nowhere else (a disk of its own,
// a tmpfs, a btrfs subvolume) is judged by its path alone, as before.
// It reports whether the source is admitted.
func (c *HostPaths) checkEnclosingMount(in *Input, r *Report, rules *hostPathRules, values map[string]string, field, what string, src mountSource, dest string, readOnly bool) bool {
	point, hosts, fsType, err := enclosingMount(selfMountinfo, src.resolved)
	switch {
	case err != nil:
		r.Deny(field, "%s of %s at %s cannot be judged, and policy %s does not admit what it cannot check: it may lie in a mount of another host directory: %v", what, src.describe(), dest, r.Policy(), err)
		return false
	case isKernelInterfaceType(fsType):
		r.Deny(field, "%s of %s at %s is not allowed by policy %s: it lies in the %s filesystem mounted at %s, which shows the host's kernel, processes or files to the container; %s", what, src.describe(), dest, r.Policy(), fsType, point, removeMountHint(in))
		return false
	}
	rel := strings.TrimPrefix(src.resolved, point)
	for _, host := range hosts {
		shown := path.Join(host, rel)
		hostSrc := mountSource{literal: shown, written: shown, resolved: shown}
		if subject, why := c.refusal(in, rules, values, hostSrc, dest, readOnly, mountAdvice(in)); why != "" {
			r.Deny(field, "%s of %s at %s is not allowed by policy %s: it lies in the mount at %s, which shows the host's %s: %s", what, src.describe(), dest, r.Policy(), point, subject, why)
			return false
		}
	}
	return true
}

// enclosingMount finds the mount that p, a path that is no mount point,
// lies in: the nearest directory above it that is one, looked at with one
// statx each. For the root filesystem it returns nothing: "/" shows the
// host's "/". Otherwise it returns the mount point, the host paths where
// its directory appears besides (mountOf), and its filesystem type.
func enclosingMount(mountinfo, p string) (point string, hosts []string, fsType string, err error) {
	for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
		mounted, sure, err := isMountRoot(dir)
		if err != nil {
			return "", nil, "", err
		}
		if !mounted {
			continue
		}
		hosts, fsType, _, err := mountOf(mountinfo, dir)
		if errors.Is(err, errNotMounted) && !sure {
			continue // a kernel that does not say, and mountinfo has none
		}
		if err != nil {
			return "", nil, "", err
		}
		return dir, hosts, fsType, nil
	}
	return "", nil, "", nil
}

// volumeAdvice says what to do about a bind source that is a mount of a
// refused host directory: a volume created with bind options
// (docker volume create -o type=none -o o=bind -o device=/etc).
var volumeAdvice = advice{
	sensitive: "remove the volume, or recreate it without the bind options",
	unlisted:  "only the engine's own mounts and the hostPaths.allowed list may use host paths; remove the volume, or recreate it without the bind options",
}

// isKernelInterfaceType reports the filesystems that a bind source which
// is a mount point may not be, whether or not their device is mounted
// elsewhere: a fresh instance of each shows the host's, not the
// container's, kernel state, processes or files (a volume of type proc
// wrote the host's kernel.core_pattern; overlay's lowerdir names host
// directories; binfmt_misc registers interpreters for the whole host; a
// new mqueue shows the mounting daemon's message queues). A switch, not a
// package-level map, which every runtime call would build.
func isKernelInterfaceType(fsType string) bool {
	switch fsType {
	case "proc", "sysfs", "cgroup", "cgroup2", "devtmpfs",
		"debugfs", "tracefs", "securityfs", "binfmt_misc", "bpf",
		"configfs", "pstore", "efivarfs", "fusectl", "selinuxfs",
		"nsfs", "overlay", "autofs", "rpc_pipefs", "mqueue":
		return true
	}
	return false
}

// mountedHostPaths returns, when the bind source p is a mount point, its
// filesystem type and what mountOf finds of it elsewhere on the host;
// nothing when p is no mount point.
func mountedHostPaths(mountinfo, p string) (hosts []string, fsType string, hidden bool, err error) {
	mounted, sure, err := isMountRoot(p)
	if err != nil || !mounted {
		return nil, "", false, err
	}
	hosts, fsType, hidden, err = mountOf(mountinfo, p)
	if errors.Is(err, errNotMounted) && !sure {
		return nil, "", false, nil
	}
	return hosts, fsType, hidden, err
}

// mountField is the JSON pointer of a field of mounts[i].
func mountField(i int, name string) string {
	return "/mounts/" + strconv.Itoa(i) + "/" + name
}

// advice says what to do about a refused host path: one that is
// sensitive, or one that no rule names under others: deny.
type advice struct {
	sensitive, unlisted string
}

func mountAdvice(in *Input) advice {
	return advice{
		sensitive: removeMountHint(in),
		unlisted:  "only the engine's own mounts and the hostPaths.allowed list may use host paths; use a named volume instead, or ask the admin to allow it",
	}
}

// refusal says why a host-path mount is refused, with the source described
// for the message; why is "" when the mount is admitted.
func (c *HostPaths) refusal(in *Input, rules *hostPathRules, values map[string]string, src mountSource, dest string, readOnly bool, what advice) (subject, why string) {
	if matchingRule(rules.engineManaged, src, dest, readOnly, values) != nil || matchingRule(rules.allowed, src, dest, readOnly, values) != nil {
		return "", ""
	}
	if rule := matchingRule(rules.engineManaged, src, dest, readOnly, nil); rule != nil {
		return src.describe(), fmt.Sprintf("it is an engine's file of another container or pod (it matches %q only with another container id, sandbox id, pod uid or name than this container's %q and its io.kubernetes.cri annotations); a container may bind only its own (to judge a saved config, give policy check its container id with --id)", rule.Source, in.ContainerID)
	}
	if detail, ok := sensitiveHit(rules.sensitive, src); ok {
		return fmt.Sprintf("%s (%s)", src.written, detail), what.sensitive
	}
	if c.Others == othersDeny {
		return src.describe(), what.unlisted
	}
	return "", ""
}

func removeMountHint(in *Input) string {
	if in.Annotations()[annotationContainerType] != "" {
		return "remove the hostPath volume from the pod"
	}
	return "remove the -v or --mount option"
}

// placeholderValues fills the per-container placeholders of rule patterns.
func placeholderValues(in *Input) map[string]string {
	ann := in.Annotations()
	return map[string]string{
		"id":        in.ContainerID,
		"sandboxID": ann[annotationSandboxID],
		"podUID":    ann[annotationSandboxUID],
		"name":      ann[annotationContainerName],
	}
}

// isBindMount applies runc's rule: a bind mount is one whose options hold
// bind or rbind, whatever its type.
func isBindMount(options []string) bool {
	return slices.Contains(options, "bind") || slices.Contains(options, "rbind")
}

// isReadOnlyMount applies the options as runc does, in order, the last of
// ro/rw (MS_RDONLY) and of rro/rrw (the recursive attribute) winning.
func isReadOnlyMount(options []string) bool {
	return lastOf(options, "ro", "rw") || lastOf(options, "rro", "rrw")
}

// lastOf reports whether on comes after every off among the options, as
// runc applies a flag and its opposite in order.
func lastOf(options []string, on, off string) bool {
	set := false
	for _, o := range options {
		switch o {
		case on:
			set = true
		case off:
			set = false
		}
	}
	return set
}

// cleanDestination is the mount point as runc places it: a relative
// destination lands relative to the root filesystem.
func cleanDestination(dest string) string {
	if isCleanAbs(dest) {
		return dest
	}
	return path.Clean("/" + dest)
}

// isCleanAbs reports whether p is absolute and path.Clean leaves it as it
// is: "/", or components after each "/" that are neither empty, "." nor
// "..". It runs for every path of a policy on each call that loads one,
// without path.Clean's copy.
func isCleanAbs(p string) bool {
	if p == "/" {
		return true
	}
	if p == "" || p[0] != '/' {
		return false
	}
	for rest := p[1:]; ; {
		comp, more, found := strings.Cut(rest, "/")
		if comp == "" || comp == "." || comp == ".." {
			return false
		}
		if !found {
			return true
		}
		rest = more
	}
}

// mountSource is a host path a mount uses, three ways.
type mountSource struct {
	// literal is the path handed to the kernel: the source as written, or
	// a relative source joined to the bundle (which cleans it, as in runc).
	literal string
	// written is literal cleaned.
	written string
	// resolved is where the kernel will find it, symlinks followed.
	resolved string
}

func (s mountSource) describe() string {
	if s.resolved != s.written {
		return fmt.Sprintf("%s (resolves to %s)", s.written, s.resolved)
	}
	return s.written
}

// resolveMountSource places a mount source on the host as runc does.
func resolveMountSource(bundle, source string, bind bool) (mountSource, error) {
	if strings.IndexByte(source, 0) >= 0 {
		return mountSource{}, errors.New("the source holds a NUL byte")
	}
	literal := source
	if !filepath.IsAbs(source) {
		if !bind {
			return mountSource{}, fmt.Errorf("source %q is not a path", source)
		}
		if bundle == "" {
			return mountSource{}, fmt.Errorf("the relative source %q lies in the bundle directory, which is not known here: judge the bundle (--bundle), not the file", source)
		}
		literal = filepath.Join(bundle, source)
	}
	resolved, err := resolveExisting(literal)
	if err != nil {
		return mountSource{}, err
	}
	return mountSource{literal: literal, written: filepath.Clean(literal), resolved: resolved}, nil
}

// maxSymlinks is the kernel's limit on symlinks followed in one lookup.
const maxSymlinks = 40

// resolveExisting follows the symlinks of the absolute path p as the
// kernel does, a component at a time, ".." applying to where the walk has
// got to. Once a component does not exist, the rest is appended as written
// (cleaned): runc would fail on it today, and whatever is created there
// later lies at that path. A dangling symlink resolves to its target.
func resolveExisting(p string) (string, error) {
	resolved, rest, links := "/", p, 0
	for rest != "" {
		var comp string
		comp, rest = nextComponent(rest)
		switch comp {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		next := resolved + "/" + comp
		if resolved == "/" {
			next = "/" + comp
		}
		info, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.Join(next, rest), nil
		}
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if links++; links > maxSymlinks {
			return "", fmt.Errorf("resolve %s: more than %d symlinks", p, maxSymlinks)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		if filepath.IsAbs(target) {
			resolved = "/"
		}
		rest = target + "/" + rest
	}
	return resolved, nil
}

// nextComponent splits the first component off a path.
func nextComponent(p string) (comp, rest string) {
	p = strings.TrimLeft(p, "/")
	comp, rest, _ = strings.Cut(p, "/")
	return comp, rest
}

// matchingRule returns the first rule that admits the mount, or nil. With
// nil values, a placeholder matches any single path component.
func matchingRule(rules []compiledRule, src mountSource, dest string, readOnly bool, values map[string]string) *compiledRule {
	resolved, literal := splitPath(src.resolved), splitPath(src.literal)
	for i := range rules {
		rule := &rules[i]
		if rule.Destination != "" && rule.Destination != dest {
			continue
		}
		if rule.ReadOnly && !readOnly {
			continue
		}
		if !rule.mayMatch(src.resolved) && !rule.mayMatch(src.literal) {
			continue
		}
		pattern := rule.compiledPattern()
		if pattern == nil {
			continue
		}
		if pattern.match(resolved, values) {
			return rule
		}
		if !pattern.wildcard && literal != nil && pattern.match(literal, values) {
			return rule
		}
	}
	return nil
}

// splitPath returns the components of an absolute path, nil for another.
func splitPath(p string) []string {
	if !path.IsAbs(p) {
		return nil
	}
	if p == "/" {
		return []string{}
	}
	return strings.Split(p[1:], "/")
}

// sensitiveHit says how the source, as resolved or as written, equals, lies
// in or holds a sensitive path, the closest match first.
func sensitiveHit(sensitive []SensitivePath, src mountSource) (string, bool) {
	for _, p := range []string{src.resolved, src.written} {
		detail, ok := closestSensitive(sensitive, p)
		if !ok {
			continue
		}
		if p != src.written {
			detail = "resolves to " + p + ", " + detail
		}
		return detail, true
	}
	return "", false
}

func closestSensitive(sensitive []SensitivePath, p string) (string, bool) {
	var inside, holds *SensitivePath
	for i := range sensitive {
		s := &sensitive[i]
		switch {
		case p == s.Path:
			return s.What, true
		case s.Path != "/" && pathWithin(p, s.Path):
			if inside == nil || len(s.Path) > len(inside.Path) {
				inside = s
			}
		case pathWithin(s.Path, p):
			if holds == nil {
				holds = s
			}
		}
	}
	if inside != nil {
		return fmt.Sprintf("inside %s, %s", inside.Path, inside.What), true
	}
	if holds != nil {
		return fmt.Sprintf("holds %s, %s", holds.Path, holds.What), true
	}
	return "", false
}

// pathWithin reports whether p lies strictly below dir, on path boundaries.
func pathWithin(p, dir string) bool {
	if dir == "/" {
		return p != "/" && strings.HasPrefix(p, "/")
	}
	return len(p) > len(dir) && p[len(dir)] == '/' && strings.HasPrefix(p, dir)
}

// pathPattern is a compiled rule source: one list of tokens per path
// component, and whether it ends in /**.
type pathPattern struct {
	components [][]patternToken
	subtree    bool
	wildcard   bool
}

type patternToken struct {
	kind tokenKind
	text string // the literal, or the placeholder's name
}

type tokenKind int

const (
	tokenLiteral tokenKind = iota
	tokenStar
	tokenPlaceholder
)

func compilePathPattern(p string) (*pathPattern, error) {
	pat := &pathPattern{}
	if rest, ok := strings.CutSuffix(p, "/**"); ok {
		pat.subtree, pat.wildcard = true, true
		p = rest
		if p == "" {
			p = "/"
		}
	}
	if strings.Contains(p, "**") {
		return nil, errors.New(`"**" may only end a pattern, as "/**"`)
	}
	if !isCleanAbs(p) {
		return nil, errors.New("must be a clean absolute path (no //, . or .. components, no trailing /)")
	}
	if p == "/" {
		return pat, nil
	}
	// One backing array holds a token per component, which is all a
	// component of plain text needs: a policy's tens of rules are compiled
	// on every runtime call, from the cache too.
	n := strings.Count(p, "/")
	pat.components = make([][]patternToken, 0, n)
	backing := make([]patternToken, n)
	for rest := p[1:]; ; {
		comp, more, found := strings.Cut(rest, "/")
		tokens, err := parseComponent(comp, backing[:0:1])
		if err != nil {
			return nil, err
		}
		backing = backing[1:]
		for _, t := range tokens {
			if t.kind == tokenStar {
				pat.wildcard = true
			}
		}
		pat.components = append(pat.components, tokens)
		if !found {
			break
		}
		rest = more
	}
	return pat, nil
}

// parseComponent appends the tokens of one path component to tokens.
func parseComponent(comp string, tokens []patternToken) ([]patternToken, error) {
	for comp != "" {
		switch {
		case comp[0] == '*':
			tokens = append(tokens, patternToken{kind: tokenStar})
			comp = comp[1:]
		case comp[0] == '{':
			name, rest, ok := strings.Cut(comp[1:], "}")
			if !ok {
				return nil, fmt.Errorf("unclosed {%s", name)
			}
			if !slices.Contains(containerPlaceholders, name) {
				return nil, fmt.Errorf("unknown placeholder {%s}: use {%s}, or a root at the start of the path", name, strings.Join(containerPlaceholders, "}, {"))
			}
			tokens = append(tokens, patternToken{kind: tokenPlaceholder, text: name})
			comp = rest
		case comp[0] == '}':
			return nil, errors.New("} without {")
		default:
			end := 0
			for end < len(comp) && comp[end] != '*' && comp[end] != '{' && comp[end] != '}' {
				end++
			}
			tokens = append(tokens, patternToken{kind: tokenLiteral, text: comp[:end]})
			comp = comp[end:]
		}
	}
	return tokens, nil
}

// match reports whether the path with the given components matches, with
// the placeholders' values.
func (pat *pathPattern) match(comps []string, values map[string]string) bool {
	if pat.subtree {
		if len(comps) <= len(pat.components) {
			return false
		}
	} else if len(comps) != len(pat.components) {
		return false
	}
	for i, tokens := range pat.components {
		if !matchComponent(tokens, comps[i], values) {
			return false
		}
	}
	return true
}

func matchComponent(tokens []patternToken, s string, values map[string]string) bool {
	if len(tokens) == 0 {
		return s == ""
	}
	t := tokens[0]
	switch t.kind {
	case tokenStar:
		for i := 0; i <= len(s); i++ {
			if matchComponent(tokens[1:], s[i:], values) {
				return true
			}
		}
		return false
	case tokenPlaceholder:
		if values == nil {
			for i := 1; i <= len(s); i++ {
				if isPathComponent(s[:i]) && matchComponent(tokens[1:], s[i:], values) {
					return true
				}
			}
			return false
		}
		v := values[t.text]
		if !isPathComponent(v) {
			return false
		}
		return strings.HasPrefix(s, v) && matchComponent(tokens[1:], s[len(v):], values)
	default:
		return strings.HasPrefix(s, t.text) && matchComponent(tokens[1:], s[len(t.text):], values)
	}
}

// isPathComponent reports whether v can stand for one path component: an
// annotation such as "../../etc" must not widen a rule.
func isPathComponent(v string) bool {
	return v != "" && v != "." && v != ".." && !strings.ContainsAny(v, "/\x00")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
