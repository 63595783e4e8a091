package enforce

import (
	"strings"

	"github.com/moby/sys/capability"
)

// knownCapability reports whether name is a canonical name runc accepts,
// CAP_CHOWN … CAP_CHECKPOINT_RESTORE, from the kernel's list as
// moby/sys/capability knows it. It compares against the list rather than
// building a map of upper-cased names, which every judged document would
// pay for twice.
func knownCapability(name string) bool {
	rest, ok := strings.CutPrefix(name, "CAP_")
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		// Only upper-case ASCII is canonical; it also keeps EqualFold below
		// to plain ASCII case.
		if c := rest[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	for _, c := range capability.ListKnown() {
		if strings.EqualFold(c.String(), rest) {
			return true
		}
	}
	return false
}
