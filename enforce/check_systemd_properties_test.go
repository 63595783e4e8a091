package enforce

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func withAnnotation(key, value string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Annotations = map[string]string{key: value} }
}

func TestSystemdPropertiesFixtures(t *testing.T) {
	runFixtures(t, "restricted", compliantSpec, []fixture{
		{name: "MemoryMax", change: withAnnotation("org.systemd.property.MemoryMax", "infinity"),
			verdict: DenyVerdict, field: "/annotations/org.systemd.property.MemoryMax"},
		{name: "DeviceAllow", change: withAnnotation("org.systemd.property.DeviceAllow", "[('/dev/sda', 'rwm')]"),
			verdict: DenyVerdict, field: "/annotations/org.systemd.property.DeviceAllow"},
		{name: "other annotation", change: withAnnotation("org.example.note", "x"), verdict: Allow},
		{name: "near miss runc ignores", change: withAnnotation("org.systemd.propertyMemoryMax", "infinity"), verdict: Allow},
	})
	runFixtures(t, "baseline", compliantSpec, []fixture{
		{name: "baseline leaves them alone", change: withAnnotation("org.systemd.property.MemoryMax", "infinity"), verdict: Allow},
	})
}
