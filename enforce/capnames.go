package enforce

import (
	"strings"

	"github.com/moby/sys/capability"
)

// knownCapabilities holds the canonical names runc accepts, CAP_CHOWN …
// CAP_CHECKPOINT_RESTORE, from the kernel's list as moby/sys/capability
// knows it.
func knownCapabilities() map[string]bool {
	known := make(map[string]bool, 48)
	for _, c := range capability.ListKnown() {
		known["CAP_"+strings.ToUpper(c.String())] = true
	}
	return known
}
