package enforce

import (
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Privileged denies privileged containers and `exec --privileged` with one
// message that names the cause, on top of the specific violations the
// other controls report (a --privileged container breaks half a dozen of
// them, and a list of seventy capability and device messages hides the
// one flag the user has to remove).
//
// No OCI field says "privileged"; engines spell it out. The control
// recognises either signature:
//   - every capability: bounding, effective or permitted holds all of
//     CAP_CHOWN … CAP_AUDIT_READ, the 38 capabilities every kernel since
//     3.16 has, which Docker's --privileged and the CRI plugin's privileged
//     containers grant (newer engines add CAP_PERFMON, CAP_BPF,
//     CAP_CHECKPOINT_RESTORE); this is the only signature an exec process
//     file can carry;
//   - the unconfined system signature of a config: a device-cgroup rule
//     that allows every device, together with no linux.seccomp and no
//     linux.maskedPaths, which is what remains of --privileged when
//     capabilities were dropped.
//
// Fields: process.capabilities.{bounding,effective,permitted} (config.json
// and the exec process file); linux.resources.devices, linux.seccomp,
// linux.maskedPaths (config.json).
// Allowed: anything that matches neither signature.
//
// Policy settings: none; `privileged: {}` turns the control on.
type Privileged struct{}

// Validate implements Control.
func (c *Privileged) Validate() error { return nil }

// Check implements Control.
func (c *Privileged) Check(in *Input, r *Report) {
	// The field is where the strongest sign sits: the capabilities, which
	// an exec process file carries too, else the device rules.
	var evidence []string
	field := ""
	if in.Process != nil && holdsEveryCapability(in.Process.Capabilities) {
		evidence = append(evidence, "every capability")
		field = in.ProcessPath + "/capabilities"
	}
	if in.Spec != nil && hasUnconfinedSystemSignature(in.Linux()) {
		evidence = append(evidence, "access to every device, no seccomp filter and no masked paths")
		if field == "" {
			field = "/linux/resources/devices"
		}
	}
	if len(evidence) == 0 {
		return
	}
	remedy := "remove --privileged"
	if in.Spec == nil {
		remedy = "remove --privileged from the exec"
	}
	r.Deny(field, "privileged containers are not allowed by policy %s: %s (the document grants %s)", r.Policy(), remedy, strings.Join(evidence, "; "))
}

func hasUnconfinedSystemSignature(linux *specs.Linux) bool {
	return linux.Resources != nil && allowsAllDevices(linux.Resources.Devices) &&
		linux.Seccomp == nil && len(linux.MaskedPaths) == 0
}

// privilegedCapabilities are the capabilities of Linux 3.16: a set that
// holds all of them is what engines write for --privileged.
func privilegedCapabilities() []string {
	var names []string
	for _, c := range capability.ListKnown() {
		if c <= capability.CAP_AUDIT_READ {
			names = append(names, "CAP_"+strings.ToUpper(c.String()))
		}
	}
	return names
}

func holdsEveryCapability(caps *specs.LinuxCapabilities) bool {
	if caps == nil {
		// runc leaves the capabilities alone: the capabilities control
		// reports it, and it is no --privileged signature.
		return false
	}
	var every []string
	for _, set := range [][]string{caps.Bounding, caps.Effective, caps.Permitted} {
		// A set too short to hold them all is the usual case: it is told
		// without building the capabilities' names.
		if len(set) < privilegedCapabilityCount() {
			continue
		}
		if every == nil {
			every = privilegedCapabilities()
		}
		if containsAll(set, every) {
			return true
		}
	}
	return false
}

// privilegedCapabilityCount is len(privilegedCapabilities()).
func privilegedCapabilityCount() int {
	n := 0
	for _, c := range capability.ListKnown() {
		if c <= capability.CAP_AUDIT_READ {
			n++
		}
	}
	return n
}

func containsAll(set, want []string) bool {
	have := make(map[string]bool, len(set))
	for _, name := range set {
		have[name] = true
	}
	for _, name := range want {
		if !have[name] {
			return false
		}
	}
	return true
}

// allowsAllDevices reports whether some rule allows every device: an allow
// rule with no type (or "a") and wildcard major and minor.
func allowsAllDevices(rules []specs.LinuxDeviceCgroup) bool {
	for _, rule := range rules {
		if rule.Allow && deviceTypeIsAll(rule.Type) && isWildcard(rule.Major) && isWildcard(rule.Minor) {
			return true
		}
	}
	return false
}
