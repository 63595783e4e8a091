package enforce

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Operations guard-runtime enforces a policy on.
const (
	OpCreate  = "create"
	OpRun     = "run"
	OpRestore = "restore"
	OpExec    = "exec"
	OpUpdate  = "update"
)

// Input is what the controls judge: a bundle's config, an exec process or
// an update's resources, with pointers that say where each part sits in
// the document, so that one control serves all three documents.
type Input struct {
	Operation   string
	ContainerID string
	Bundle      string

	// Spec is the whole config.json; nil for exec and update.
	Spec *specs.Spec
	// Process is config.json's process, or the exec process file; nil for update.
	Process *specs.Process
	// ProcessPath is the JSON pointer of Process: "/process" or "".
	ProcessPath string
	// Resources is config.json's linux.resources, or the update document.
	Resources *specs.LinuxResources
	// ResourcesPath is the JSON pointer of Resources: "/linux/resources" or "".
	ResourcesPath string

	// Call is what runc gets with the document from the command line and
	// the caller; empty for `policy check`, which has no call.
	Call Call
}

// Call is what a runtime call hands runc besides its document that gives
// the container more than the document says, or decides how runc reads
// it, for the controls to judge with it.
type Call struct {
	// Descriptors are the caller's descriptors runc passes to the process
	// it starts (create, run, restore, exec), in runc's order.
	Descriptors []PassedDescriptor
	// LSMProfile and LSMMountContext are restore's --lsm-profile and
	// --lsm-mount-context, "" when absent or empty (runc then passes
	// nothing): runc hands them to CRIU, which labels the restored
	// processes and mounts with them.
	LSMProfile, LSMMountContext string
	// SystemdCgroup is runc's global --systemd-cgroup: runc then reads
	// linux.cgroupsPath as systemd's slice:prefix:name, not as a path.
	SystemdCgroup bool
	// NoPivot is --no-pivot of create, run and restore: runc then chroots
	// into the root filesystem instead of pivoting to it.
	NoPivot bool
	// NoNewKeyring is --no-new-keyring of create and run: the container
	// then shares the session keyring runc was started with.
	NoNewKeyring bool
}

// Annotations returns the config's annotations, if any.
func (in *Input) Annotations() map[string]string {
	if in.Spec == nil {
		return nil
	}
	return in.Spec.Annotations
}

// Linux returns the config's linux section, never nil.
func (in *Input) Linux() *specs.Linux {
	if in.Spec == nil || in.Spec.Linux == nil {
		return &specs.Linux{}
	}
	return in.Spec.Linux
}

func configInput(s *specs.Spec, ctx Context) *Input {
	in := &Input{Operation: ctx.Operation, ContainerID: ctx.ContainerID, Bundle: ctx.Bundle, Spec: s,
		Process: s.Process, ProcessPath: "/process", ResourcesPath: "/linux/resources", Call: ctx.Call}
	if s.Linux != nil {
		in.Resources = s.Linux.Resources
	}
	return in
}

func processInput(p *specs.Process, ctx Context) *Input {
	return &Input{Operation: ctx.Operation, ContainerID: ctx.ContainerID, Bundle: ctx.Bundle, Process: p, Call: ctx.Call}
}

func resourcesInput(r *specs.LinuxResources, ctx Context) *Input {
	return &Input{Operation: ctx.Operation, ContainerID: ctx.ContainerID, Bundle: ctx.Bundle, Resources: r}
}

// denyLSMOverrides refuses restore's --lsm-profile and --lsm-mount-context
// for the AppArmor and SELinux controls: CRIU, not runc, labels the
// restored processes and mounts with them, and guard-runtime cannot judge
// what CRIU applies. Both controls give the same messages, so a policy
// with both says it once.
func denyLSMOverrides(in *Input, r *Report) {
	if v := in.Call.LSMProfile; v != "" {
		r.Deny("--lsm-profile", "restore --lsm-profile %q has CRIU give the restored processes that LSM profile, and policy %s, which judges AppArmor profiles and SELinux labels, cannot judge what CRIU applies: restore without --lsm-profile", v, r.Policy())
	}
	if v := in.Call.LSMMountContext; v != "" {
		r.Deny("--lsm-mount-context", "restore --lsm-mount-context %q has CRIU mount the restored filesystems with that SELinux context, and policy %s, which judges AppArmor profiles and SELinux labels, cannot judge what CRIU applies: restore without --lsm-mount-context", v, r.Policy())
	}
}
