package enforce

import (
	"sort"
	"strings"

	"github.com/guard-runtime/guard-runtime/spec"
)

// SystemdProperties denies org.systemd.property.* annotations: with the
// systemd cgroup driver runc passes them to systemd as properties of the
// container's unit, which can lift its limits (MemoryMax, TasksMax,
// DeviceAllow) or change how it runs.
//
// Fields: annotations (config.json), keys beginning with
// "org.systemd.property." as runc matches them, case-sensitively.
// Allowed: no such key.
//
// Policy settings: none; `systemdProperties: {}` turns the control on.
type SystemdProperties struct{}

// Validate implements Control.
func (c *SystemdProperties) Validate() error { return nil }

const systemdPropertyPrefix = "org.systemd.property."

// Check implements Control.
func (c *SystemdProperties) Check(in *Input, r *Report) {
	annotations := in.Annotations()
	var keys []string
	for key := range annotations {
		if strings.HasPrefix(key, systemdPropertyPrefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		r.Deny(spec.Pointer("annotations", key), "annotation %s=%q sets a systemd property of the container's unit, which policy %s does not allow: remove it", key, annotations[key], r.Policy())
	}
}
