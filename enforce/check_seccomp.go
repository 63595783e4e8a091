package enforce

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Seccomp requires a seccomp filter that restricts something.
//
// Fields: linux.seccomp.{defaultAction,syscalls[].action,syscalls[].names}
// (config.json; an exec process runs under the container's filter).
// Allowed: a profile that restricts: its default action is not
// SCMP_ACT_ALLOW or SCMP_ACT_LOG, or some rule with at least one syscall
// name takes a restricting action (SCMP_ACT_ERRNO, _KILL, _KILL_PROCESS,
// _KILL_THREAD, _TRAP, _TRACE, _NOTIFY). ALLOW and LOG rules let the call
// through, so a profile that allows by default and has only such rules is
// unconfined. An action runc would not know is denied: the policy does not
// pass what it cannot judge. Syscall names are not looked up: libseccomp
// skips a name it does not know, so a profile whose only restricting rule
// names no real call passes here and filters nothing.
//
// A missing linux.seccomp means no filter at all. Docker's
// `seccomp=unconfined` and the kubelet's Unconfined both leave it out, and
// so does the kubelet when the pod asks for nothing, so a missing profile
// cannot tell an explicit request from an unset one: the policy says
// whether it is denied or rewritten to the runtime default profile
// (github.com/moby/profiles/seccomp, the profile Docker uses, for the
// process's bounding capabilities and this machine's architecture and
// kernel). A present profile that allows everything is an explicit
// unconfined request and is always denied.
//
// Policy settings:
//
//	seccomp:
//	  missing: deny   # deny, or rewrite to the runtime default profile
type Seccomp struct {
	Missing Action `yaml:"missing"`
}

// Validate implements Control.
func (c *Seccomp) Validate() error {
	return validateAction(c.Missing, Deny, Rewrite)
}

// isRestricting: the action keeps a call from running as asked.
func isRestricting(a specs.LinuxSeccompAction) bool {
	switch a {
	case specs.ActErrno, specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap, specs.ActTrace, specs.ActNotify:
		return true
	}
	return false
}

// isPermissive: the action lets the call run.
func isPermissive(a specs.LinuxSeccompAction) bool {
	return a == specs.ActAllow || a == specs.ActLog
}

// Check implements Control.
func (c *Seccomp) Check(in *Input, r *Report) {
	if in.Spec == nil {
		return
	}
	profile := in.Linux().Seccomp
	if profile == nil {
		c.checkMissing(in, r)
		return
	}
	if !c.knownActions(profile, r) {
		return
	}
	if restricts(profile) {
		return
	}
	r.Deny("/linux/seccomp/defaultAction", "the seccomp profile allows every system call (default action %s and no rule that restricts), which policy %s does not allow: use the runtime default profile instead of --security-opt seccomp=<profile>", profile.DefaultAction, r.Policy())
}

func (c *Seccomp) checkMissing(in *Input, r *Report) {
	field := "/linux/seccomp"
	if c.Missing != Rewrite {
		r.Deny(field, "no seccomp filter (linux.seccomp is missing), which policy %s does not allow: remove --security-opt seccomp=unconfined", r.Policy())
		return
	}
	msg := fmt.Sprintf("no seccomp filter: the runtime default profile is set by policy %s", r.Policy())
	r.Rewrite(field, msg, func(e *spec.Editor) error {
		profile, err := runtimeDefaultProfile(in.Process)
		if err != nil {
			return err
		}
		return e.Set(field, profile)
	})
}

func (c *Seccomp) knownActions(profile *specs.LinuxSeccomp, r *Report) bool {
	known := func(a specs.LinuxSeccompAction) bool { return isRestricting(a) || isPermissive(a) }
	ok := true
	if !known(profile.DefaultAction) {
		r.Deny("/linux/seccomp/defaultAction", "seccomp default action %q is not one runc knows, and policy %s does not pass what it cannot judge: use an action such as SCMP_ACT_ERRNO", profile.DefaultAction, r.Policy())
		ok = false
	}
	for i, rule := range profile.Syscalls {
		if !known(rule.Action) {
			r.Deny(fmt.Sprintf("/linux/seccomp/syscalls/%d/action", i), "seccomp action %q is not one runc knows, and policy %s does not pass what it cannot judge: use an action such as SCMP_ACT_ERRNO", rule.Action, r.Policy())
			ok = false
		}
	}
	return ok
}

// restricts reports whether the profile stops some call from running.
func restricts(profile *specs.LinuxSeccomp) bool {
	if isRestricting(profile.DefaultAction) {
		return true
	}
	for _, rule := range profile.Syscalls {
		if isRestricting(rule.Action) && slices.ContainsFunc(rule.Names, func(n string) bool { return n != "" }) {
			return true
		}
	}
	return false
}
