package enforce

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Devices keeps host devices out of containers.
//
// Fields: linux.devices (config.json); linux.resources.devices (config.json,
// and the resources of update).
// Allowed: no linux.devices entry: each one creates a host device node in
// the container. Device-cgroup rules that allow no more than the policy's
// rules: every allow rule of the document must be covered by an allow rule
// of the policy (same type, major and minor, or a wildcard there; access
// within the policy's). Deny rules only take access away and always pass.
// As runc reads a rule, an absent or "a" type means every type, and an
// absent or negative (-1, Docker's `*`) major or minor means every number;
// an empty access means rwm. Rules are judged one by one, not in order, so
// an allow rule that a later deny rule takes back is still refused: the
// check never has to reason about what runc's rule emulation makes of it.
//
// Policy settings:
//
//	devices:
//	  cgroupRules:   # the device-cgroup rules a document may carry
//	    - {allow: false, access: rwm}
//	    - {allow: true, type: c, major: 1, minor: 5, access: rwm}
//	    ...
type Devices struct {
	CgroupRules []DeviceRule `yaml:"cgroupRules"`
}

// DeviceRule is one device-cgroup rule, as in linux.resources.devices.
type DeviceRule struct {
	Allow  bool   `yaml:"allow"`
	Type   string `yaml:"type,omitempty"`
	Major  *int64 `yaml:"major,omitempty"`
	Minor  *int64 `yaml:"minor,omitempty"`
	Access string `yaml:"access"`
}

// Validate implements Control.
func (c *Devices) Validate() error {
	for i, rule := range c.CgroupRules {
		if !deviceTypeIsAll(rule.Type) && rule.Type != "b" && rule.Type != "c" {
			return fmt.Errorf("cgroupRules[%d]: type %q is not valid: use a, b or c", i, rule.Type)
		}
		if strings.Trim(rule.Access, "rwm") != "" {
			return fmt.Errorf("cgroupRules[%d]: access %q is not valid: use letters of rwm", i, rule.Access)
		}
	}
	return nil
}

// Check implements Control.
func (c *Devices) Check(in *Input, r *Report) {
	if in.Spec != nil {
		c.checkNodes(in.Linux().Devices, r)
	}
	if in.Resources != nil {
		for i, rule := range in.Resources.Devices {
			c.checkRule(rule, in.ResourcesPath+"/devices/"+strconv.Itoa(i), r)
		}
	}
}

// checkNodes reports all device nodes in one violation: --privileged
// lists every node of the host, and one line per node would bury the cause.
func (c *Devices) checkNodes(nodes []specs.LinuxDevice, r *Report) {
	if len(nodes) == 0 {
		return
	}
	var names []string
	for i, d := range nodes {
		if i == 8 {
			names = append(names, fmt.Sprintf("and %d more", len(nodes)-i))
			break
		}
		names = append(names, fmt.Sprintf("%s (%s)", d.Path, describeDevice(d.Type, &d.Major, &d.Minor)))
	}
	r.Deny("/linux/devices", "host devices %s in linux.devices are not allowed by policy %s: remove the --device options", strings.Join(names, ", "), r.Policy())
}

func (c *Devices) checkRule(rule specs.LinuxDeviceCgroup, field string, r *Report) {
	if !rule.Allow {
		return
	}
	for _, allowed := range c.CgroupRules {
		if allowed.Allow && allowed.covers(rule) {
			return
		}
	}
	what := describeDevice(rule.Type, rule.Major, rule.Minor)
	r.Deny(field, "device-cgroup rule %s allows %s %s, beyond what policy %s allows: remove the --device-cgroup-rule or --device option", field, what, normalAccess(rule.Access), r.Policy())
}

// covers reports whether allowed grants at least what rule does.
func (allowed DeviceRule) covers(rule specs.LinuxDeviceCgroup) bool {
	typeOK := deviceTypeIsAll(allowed.Type) || (!deviceTypeIsAll(rule.Type) && allowed.Type == rule.Type)
	return typeOK && numberCovers(allowed.Major, rule.Major) && numberCovers(allowed.Minor, rule.Minor) &&
		strings.Trim(normalAccess(rule.Access), normalAccess(allowed.Access)) == ""
}

func numberCovers(allowed, n *int64) bool {
	if isWildcard(allowed) {
		return true
	}
	return !isWildcard(n) && *allowed == *n
}

// deviceTypeIsAll: runc reads an absent type as "a", every device.
func deviceTypeIsAll(t string) bool { return t == "" || t == "a" }

// isWildcard: runc reads an absent major or minor as -1, which the kernel
// reads as `*`; any negative number is no real device number either.
func isWildcard(n *int64) bool { return n == nil || *n < 0 }

// normalAccess: an empty access is rwm, all of it.
func normalAccess(access string) string {
	if access == "" {
		return "rwm"
	}
	return access
}

func describeDevice(t string, major, minor *int64) string {
	if deviceTypeIsAll(t) {
		t = "a"
	}
	number := func(n *int64) string {
		if isWildcard(n) {
			return "*"
		}
		return fmt.Sprint(*n)
	}
	if t == "a" && isWildcard(major) && isWildcard(minor) {
		return "every device (a *:*)"
	}
	return fmt.Sprintf("%s %s:%s", t, number(major), number(minor))
}
