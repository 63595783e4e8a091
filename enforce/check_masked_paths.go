package enforce

import (
	"errors"
	"fmt"
	"strings"

	"github.com/guard-runtime/guard-runtime/spec"
)

// MaskedPaths requires the masked and read-only /proc and /sys paths that
// hide the host's kernel internals (Pod Security's procMount Default).
//
// Fields: linux.maskedPaths, linux.readonlyPaths (config.json).
//
// Allowed: every path of masked is masked, that is listed in
// linux.maskedPaths or below a path listed there; every path of readonly is
// read-only or masked, that is listed in, or below a path listed in,
// linux.readonlyPaths or linux.maskedPaths, on path boundaries. Only an
// entry written as a clean absolute path counts: runc hands each entry to
// the kernel as written, inside the container, and the kernel resolves a
// ".." after the image's symlinks, so /lnk/../proc/sys with /lnk -> /a/b
// names /a/proc/sys, and /proc/sys stayed writable. What counts is that
// the required paths are named: runc
// skips a listed path that does not exist, so ["/nonexistent"] protects
// nothing. Docker's --security-opt systempaths=unconfined and --privileged
// leave both lists out, Podman's --security-opt unmask=... takes paths
// off, and so does a pod's procMount: Unmasked.
//
// With missing: deny, a document that lacks required paths is denied,
// naming them. With missing: rewrite, they are appended to
// linux.maskedPaths and linux.readonlyPaths, what the document lists
// staying (the kubelet sends its own lists, and a policy for Kubernetes
// nodes may restore them rather than deny).
//
// The lists name what every engine's default provides, so that a default
// container of any engine passes: Docker and containerd mask /proc/asound
// where Podman and older kubelets make it read-only, so it is required
// read-only, which masking satisfies too. A path only some engines mask
// (the kubelet's /sys/devices/virtual/powercap, Podman's /sys/fs/selinux
// and /sys/dev/block) is not in the shipped lists.
//
// Policy settings:
//
//	maskedPaths:
//	  missing: deny          # deny, or rewrite: append the missing paths
//	  masked: [/proc/kcore, ...]
//	  readonly: [/proc/sys, ...]
type MaskedPaths struct {
	Missing  Action   `yaml:"missing"`
	Masked   []string `yaml:"masked"`
	Readonly []string `yaml:"readonly"`
}

// Validate implements Control.
func (c *MaskedPaths) Validate() error {
	if err := validateAction(c.Missing, Deny, Rewrite); err != nil {
		return err
	}
	for _, p := range append(append([]string{}, c.Masked...), c.Readonly...) {
		if !isCleanAbs(p) {
			return fmt.Errorf("path %q must be a clean absolute path", p)
		}
	}
	if len(c.Masked) == 0 && len(c.Readonly) == 0 {
		return errors.New("name the paths a container must have masked (masked:) or read-only (readonly:); with neither, the control checks nothing")
	}
	return nil
}

// Check implements Control.
func (c *MaskedPaths) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	linux := in.Linux()
	masked := cleanPaths(linux.MaskedPaths)
	c.require(r, "/linux/maskedPaths", "masked", "linux.maskedPaths names neither them nor a directory above them",
		c.Masked, masked, nil)
	c.require(r, "/linux/readonlyPaths", "read-only", "neither linux.readonlyPaths nor linux.maskedPaths names them or a directory above them",
		c.Readonly, cleanPaths(linux.ReadonlyPaths), masked)
}

// require records the paths of required that neither list covers, and
// appends them to field on rewrite.
func (c *MaskedPaths) require(r *Report, field, what, why string, required, listed, alsoListed []string) {
	var missing []string
	for _, p := range required {
		if !covers(listed, p) && !covers(alsoListed, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	names := strings.Join(missing, ", ")
	msg := fmt.Sprintf("%s not %s: %s, which policy %s does not allow (runc skips a listed path that does not exist, so no other entry stands in for these): remove --security-opt systempaths=unconfined or unmask= (Kubernetes: procMount: Unmasked)", names, what, why, r.Policy())
	if c.Missing == Rewrite {
		msg = fmt.Sprintf("%s not %s: appended to %s by policy %s", names, what, strings.ReplaceAll(field[1:], "/", "."), r.Policy())
	}
	r.Act(c.Missing, field, msg, func(e *spec.Editor) error {
		for _, p := range missing {
			if err := e.Append(field, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// cleanPaths keeps the entries of a document's list that name a path
// whatever the image holds: clean absolute paths. Any other spelling is
// resolved by the kernel through the image's symlinks, and stands in for
// nothing the policy requires.
func cleanPaths(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if isCleanAbs(p) {
			out = append(out, p)
		}
	}
	return out
}

// covers reports whether p is listed, or lies below a listed path.
func covers(listed []string, p string) bool {
	for _, l := range listed {
		if p == l || pathWithin(p, l) {
			return true
		}
	}
	return false
}
