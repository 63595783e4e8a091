package enforce

import (
	"strings"
	"testing"

	"github.com/moby/sys/capability"
)

// knownCapability accepts exactly the canonical names of the kernel's
// capabilities, as "CAP_" and the upper-cased name.
func TestKnownCapability(t *testing.T) {
	for _, c := range capability.ListKnown() {
		name := "CAP_" + strings.ToUpper(c.String())
		if !knownCapability(name) {
			t.Errorf("%s refused", name)
		}
		for _, odd := range []string{strings.ToLower(name), "CAP_" + c.String(), name + " ", " " + name, strings.TrimPrefix(name, "CAP_")} {
			if knownCapability(odd) {
				t.Errorf("%q accepted", odd)
			}
		}
	}
	for _, odd := range []string{"", "CAP_", "CAP_NET_ADMIN\x00", "CAP_ſYS_ADMIN", "CAP_SYS_ADMİN", "CAP_\u212aILL", "CAP_FOO"} {
		if knownCapability(odd) {
			t.Errorf("%q accepted", odd)
		}
	}
}
