package enforce

import (
	"fmt"
	"slices"
	"strings"
)

// AppArmor denies AppArmor profiles that confine nothing.
//
// Fields: process.apparmorProfile (config.json and the exec process file);
// restore's --lsm-profile and --lsm-mount-context.
// Allowed: no profile, or any profile not on the denied list. An absent
// profile is fine: hosts without AppArmor have none, and Docker leaves the
// field out there even for apparmor=unconfined. The name is compared as
// the kernel reads it: runc writes "exec <profile>" to
// /proc/self/attr/apparmor/exec, and the kernel trims the white space
// around the name, so " unconfined" and "unconfined\n" are unconfined. A
// profile with a NUL byte, of which the kernel reads only the part before
// it, is denied.
// A restore with a non-empty
// --lsm-profile or --lsm-mount-context is denied: runc hands them to CRIU,
// which labels the restored processes and mounts itself, past the
// profile judged here.
//
// Policy settings:
//
//	appArmor:
//	  denied: [unconfined]
type AppArmor struct {
	Denied []string `yaml:"denied"`
}

// Validate implements Control.
func (c *AppArmor) Validate() error {
	for _, name := range c.Denied {
		if name == "" || strings.TrimSpace(name) != name {
			return fmt.Errorf("denied AppArmor profile %q must be a non-empty name without spaces around it", name)
		}
	}
	return nil
}

// Check implements Control.
func (c *AppArmor) Check(in *Input, r *Report) {
	denyLSMOverrides(in, r)
	if in.Process == nil || in.Process.ApparmorProfile == "" {
		return
	}
	profile := in.Process.ApparmorProfile
	if strings.IndexByte(profile, 0) >= 0 {
		r.Deny(in.ProcessPath+"/apparmorProfile", "AppArmor profile %q holds a NUL byte, of which the kernel reads only the part before it, and policy %s does not pass what it cannot judge: name the profile alone", profile, r.Policy())
		return
	}
	if slices.Contains(c.Denied, strings.TrimSpace(profile)) {
		r.Deny(in.ProcessPath+"/apparmorProfile", "AppArmor profile %q is not allowed by policy %s: remove --security-opt apparmor=%s", profile, r.Policy(), profile)
	}
}
