//go:build !lean

package enforce

import (
	"fmt"

	seccompprofiles "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runtimeDefaultProfile builds Docker's default profile for the process's
// bounding set: capabilities such as CAP_SYS_ADMIN widen it, as they do in
// Docker. No process or no capabilities builds it for none, the narrowest.
func runtimeDefaultProfile(proc *specs.Process) (*specs.LinuxSeccomp, error) {
	caps := &specs.LinuxCapabilities{}
	if proc != nil && proc.Capabilities != nil {
		caps.Bounding = proc.Capabilities.Bounding
	}
	profile, err := seccompprofiles.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: caps}})
	if err != nil {
		return nil, fmt.Errorf("build the runtime default seccomp profile: %w", err)
	}
	if profile == nil {
		return nil, fmt.Errorf("the runtime default seccomp profile is empty")
	}
	return profile, nil
}
