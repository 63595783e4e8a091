package enforce

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Sysctls admits only the kernel parameters known to be namespaced and
// safe, so that a container cannot tune the host's kernel.
//
// Fields: linux.sysctl (config.json).
// Allowed: keys on the policy's list. runc writes a key to
// /proc/sys/<key with every "." turned into "/">, so the slash form
// (net/ipv4/ip_forward) is the same parameter as the dotted one and is
// compared in dotted form. Anything else in a key, such as "..", spaces or
// a different case, is simply not on the list.
//
// Policy settings:
//
//	sysctls:
//	  allowed: [kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, ...]
type Sysctls struct {
	Allowed []string `yaml:"allowed"`
}

// Validate implements Control.
func (c *Sysctls) Validate() error {
	for _, key := range c.Allowed {
		if key != canonicalSysctl(key) || key == "" {
			return fmt.Errorf("allowed sysctl %q must be written in dotted form, e.g. net.ipv4.ping_group_range", key)
		}
	}
	return nil
}

// Check implements Control.
func (c *Sysctls) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	sysctls := in.Linux().Sysctl
	keys := make([]string, 0, len(sysctls))
	for key := range sysctls {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if slices.Contains(c.Allowed, canonicalSysctl(key)) {
			continue
		}
		r.Deny("/linux/sysctl"+spec.Pointer(key), "sysctl %s=%q is not in the safe set of policy %s: remove --sysctl %s", key, sysctls[key], r.Policy(), key)
	}
}

// canonicalSysctl turns the slash form of a key into the dotted form.
func canonicalSysctl(key string) string {
	return strings.ReplaceAll(key, "/", ".")
}
