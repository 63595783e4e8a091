package enforce

import (
	"fmt"
	"slices"
	"strings"
)

// SELinux denies SELinux process types that are not confined.
//
// Fields: process.selinuxLabel (config.json and the exec process file),
// written user:role:type:level, where the level may itself hold colons
// (s0:c1,c2); restore's --lsm-profile and --lsm-mount-context.
// Allowed: no label, or a label whose type is not on the denied list and,
// where allowedTypes is given, is on it (Pod Security's baseline admits
// only container_t, container_init_t, container_kvm_t and
// container_engine_t: container_runtime_t, unconfined_service_t or kernel_t
// are just as unconfined as spc_t, and a list of what to deny never ends). A
// label with fewer than three parts has no type to judge and is denied.
// The label is read as the kernel reads what runc writes to
// /proc/self/attr/exec: one trailing newline is dropped, and a label with
// a NUL byte, of which the kernel would read only the part before it, is
// denied.
// A restore with a non-empty --lsm-profile or --lsm-mount-context is
// denied: runc hands them to CRIU, which labels the restored processes and
// mounts itself, past the label judged here.
//
// Policy settings:
//
//	seLinux:
//	  deniedTypes: [spc_t, unconfined_t]
//	  allowedTypes: [container_t, container_init_t, container_kvm_t, container_engine_t]
type SELinux struct {
	DeniedTypes  []string `yaml:"deniedTypes"`
	AllowedTypes []string `yaml:"allowedTypes,omitempty"`
}

// Validate implements Control.
func (c *SELinux) Validate() error {
	for _, t := range append(slices.Clone(c.DeniedTypes), c.AllowedTypes...) {
		if t == "" || strings.ContainsAny(t, ": ") {
			return fmt.Errorf("SELinux type %q must be a type name such as spc_t", t)
		}
	}
	return nil
}

// Check implements Control.
func (c *SELinux) Check(in *Input, r *Report) {
	denyLSMOverrides(in, r)
	if in.Process == nil || in.Process.SelinuxLabel == "" {
		return
	}
	label := in.Process.SelinuxLabel
	field := in.ProcessPath + "/selinuxLabel"
	if strings.IndexByte(label, 0) >= 0 {
		r.Deny(field, "SELinux label %q holds a NUL byte, of which the kernel reads only the part before it, and policy %s does not pass what it cannot judge: pass --security-opt label=type:<type>", label, r.Policy())
		return
	}
	parts := strings.SplitN(strings.TrimSuffix(label, "\n"), ":", 4)
	if len(parts) < 3 {
		r.Deny(field, "SELinux label %q is not user:role:type[:level], and policy %s does not pass what it cannot judge: pass --security-opt label=type:<type>", label, r.Policy())
		return
	}
	if slices.Contains(c.DeniedTypes, parts[2]) {
		r.Deny(field, "SELinux type %s (label %q) is not allowed by policy %s: remove --security-opt label=type:%s or label=disable", parts[2], label, r.Policy(), parts[2])
		return
	}
	if len(c.AllowedTypes) > 0 && !slices.Contains(c.AllowedTypes, parts[2]) {
		r.Deny(field, "SELinux type %s (label %q) is not one policy %s allows (%s): remove --security-opt label=type:%s (Kubernetes: seLinuxOptions.type), or use one of these", parts[2], label, r.Policy(), strings.Join(c.AllowedTypes, ", "), parts[2])
	}
}
