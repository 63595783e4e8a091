package enforce

import "github.com/guard-runtime/guard-runtime/spec"

// NoNewPrivileges requires the no_new_privs bit, so that setuid binaries
// and file capabilities cannot raise a process's privileges.
//
// Fields: process.noNewPrivileges (config.json and the exec process file).
// Allowed: true.
//
// Policy settings:
//
//	noNewPrivileges:
//	  action: rewrite   # rewrite (set true) or deny
type NoNewPrivileges struct {
	Action Action `yaml:"action"`
}

// Validate implements Control.
func (c *NoNewPrivileges) Validate() error {
	return validateAction(c.Action, Rewrite, Deny)
}

// Check implements Control.
func (c *NoNewPrivileges) Check(in *Input, r *Report) {
	if in.Process == nil || in.Process.NoNewPrivileges {
		return
	}
	field := in.ProcessPath + "/noNewPrivileges"
	r.Act(c.Action, field, "noNewPrivileges is not set: pass --security-opt no-new-privileges", func(e *spec.Editor) error {
		return e.Set(field, true)
	})
}
