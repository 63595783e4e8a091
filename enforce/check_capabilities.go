package enforce

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Capabilities limits the capabilities a process holds.
//
// Fields: process.capabilities.{bounding,effective,inheritable,permitted,ambient}
// (config.json and the exec process file).
// Allowed: canonical names (CAP_CHOWN, not chown or SYS_ADMIN) from the
// allowed list. A name on the drop list is removed from all five sets and
// the document rewritten; any other name is denied. A missing
// capabilities object leaves the process every capability root has, so it
// is denied, or rewritten to the allowed list written out explicitly.
//
// At exec the same rules apply to the process file. runc gives an exec
// process without capabilities the container's own set, which the policy
// cannot see (the container may predate it): such a process is treated as
// at create, denied or given the allowed list written out, so that it
// never holds more than the policy allows (in a container created with
// fewer, such an exec gets the allowed list, not the container's set).
//
// Policy settings:
//
//	capabilities:
//	  allowed: [CAP_NET_BIND_SERVICE]
//	  drop: [CAP_CHOWN, ...]   # removed instead of denied
//	  missing: rewrite         # rewrite or deny
type Capabilities struct {
	Allowed []string `yaml:"allowed"`
	Drop    []string `yaml:"drop"`
	Missing Action   `yaml:"missing"`
}

// Validate implements Control.
func (c *Capabilities) Validate() error {
	for _, name := range append(slices.Clone(c.Allowed), c.Drop...) {
		if !knownCapability(name) {
			return fmt.Errorf("unknown capability %q: use the kernel's name, e.g. CAP_NET_BIND_SERVICE", name)
		}
	}
	return validateAction(c.Missing, Rewrite, Deny)
}

// capabilitySets names the five sets in the order runc applies them.
var capabilitySets = []string{"bounding", "effective", "inheritable", "permitted", "ambient"}

// Check implements Control.
func (c *Capabilities) Check(in *Input, r *Report) {
	if in.Process == nil {
		return
	}
	field := in.ProcessPath + "/capabilities"
	caps := in.Process.Capabilities
	if caps == nil {
		r.Act(c.Missing, field, "process.capabilities is missing, so the process would keep every capability of root: list the capabilities explicitly", func(e *spec.Editor) error {
			return c.writeExplicit(e, field)
		})
		return
	}
	sets := map[string][]string{"bounding": caps.Bounding, "effective": caps.Effective,
		"inheritable": caps.Inheritable, "permitted": caps.Permitted, "ambient": caps.Ambient}
	for _, set := range capabilitySets {
		c.checkSet(r, field+"/"+set, sets[set])
	}
}

func (c *Capabilities) checkSet(r *Report, field string, names []string) {
	var kept, dropped, denied, unknown []string
	for _, name := range names {
		switch {
		case !knownCapability(name):
			unknown = append(unknown, strconv.Quote(name))
		case slices.Contains(c.Allowed, name):
			kept = append(kept, name)
		case slices.Contains(c.Drop, name):
			dropped = append(dropped, name)
		default:
			denied = append(denied, name)
		}
	}
	// The messages do not name the set, so that the same request in three
	// sets reads as one reason (Decision.Reason drops repeats); the
	// violations' fields still name each set.
	if len(unknown) > 0 {
		r.Deny(field, "%s %s%s not canonical, and policy %s does not pass on what it cannot judge: use names like CAP_NET_BIND_SERVICE", plural(len(unknown), "capability name", "capability names"), strings.Join(unknown, ", "), verb(len(unknown)), r.Policy())
	}
	if len(denied) > 0 {
		r.Deny(field, "%s %s not allowed by policy %s: remove %s (allowed: %s)", plural(len(denied), "capability", "capabilities"), strings.Join(denied, ", ")+verb(len(denied)), r.Policy(), capAddHint(denied), listOrNone(c.Allowed))
	}
	if len(dropped) == 0 {
		return
	}
	msg := fmt.Sprintf("capabilities %s removed from %s by policy %s", strings.Join(dropped, ", "), field, r.Policy())
	r.Rewrite(field, msg, func(e *spec.Editor) error {
		return e.Set(field, nonNil(kept))
	})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func verb(n int) string {
	if n == 1 {
		return " is"
	}
	return " are"
}

// capAddHint names the docker option that asked for the capabilities.
func capAddHint(denied []string) string {
	if len(denied) > 8 {
		return "--privileged or the --cap-add options"
	}
	opts := make([]string, len(denied))
	for i, name := range denied {
		opts[i] = "--cap-add " + strings.TrimPrefix(name, "CAP_")
	}
	return strings.Join(opts, ", ")
}

func (c *Capabilities) writeExplicit(e *spec.Editor, field string) error {
	allowed := nonNil(c.Allowed)
	return e.Set(field, map[string][]string{"bounding": allowed, "effective": allowed,
		"inheritable": {}, "permitted": allowed, "ambient": {}})
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
