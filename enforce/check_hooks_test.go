package enforce

import (
	"fmt"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const fixtureContainerID = "d918ce055f27093aaad30d6f5eb40999d0a21ba046a56728b8832ff5a8c04493"

// dockerHook is Docker's network hook naming process pid.
func dockerHook(pid int) specs.Hook {
	return specs.Hook{Path: fmt.Sprintf("/proc/%d/exe", pid),
		Args: []string{"libnetwork-setkey", "-exec-root=/var/run/docker", fixtureContainerID, "d38947f13179"}}
}

// thisProcessIsTheDaemon loads a shipped policy and lists the test binary
// as the Docker daemon, so that a hook naming this process's pid points at
// a daemon binary, as it does on a Docker host.
func thisProcessIsTheDaemon(t *testing.T, policy string) *Policy {
	t.Helper()
	p := loadShipped(t, policy)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p.Controls.Hooks.DockerDaemons = append(p.Controls.Hooks.DockerDaemons, exe)
	return p
}

func TestHooksFixtures(t *testing.T) {
	self := os.Getpid()
	withHooks := func(h specs.Hooks) func(*specs.Spec) { return func(s *specs.Spec) { s.Hooks = &h } }
	fixtures := []fixture{
		{name: "docker's network hook from the daemon", change: withHooks(specs.Hooks{Prestart: []specs.Hook{dockerHook(self)}}), verdict: Allow},
		{name: "docker's network hook as createRuntime", change: withHooks(specs.Hooks{CreateRuntime: []specs.Hook{dockerHook(self)}}), verdict: Allow},
		{name: "docker's network hook naming another binary", change: withHooks(specs.Hooks{Prestart: []specs.Hook{dockerHook(1)}}),
			verdict: DenyVerdict, field: "/hooks/prestart/0/path"},
		{name: "docker's network hook naming no process", change: withHooks(specs.Hooks{Prestart: []specs.Hook{dockerHook(1 << 30)}}),
			verdict: DenyVerdict, field: "/hooks/prestart/0/path"},
		{name: "docker's network hook with an environment", change: func(s *specs.Spec) {
			h := dockerHook(self)
			h.Env = []string{"LD_PRELOAD=/tmp/x.so"}
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{h}}
		}, verdict: DenyVerdict, field: "/hooks/prestart/0"},
		{name: "docker's network hook as poststop", change: withHooks(specs.Hooks{Poststop: []specs.Hook{dockerHook(self)}}),
			verdict: DenyVerdict, field: "/hooks/poststop/0"},
		{name: "libnetwork-setkey with other arguments", change: func(s *specs.Spec) {
			h := dockerHook(self)
			h.Args = append(h.Args, "--extra")
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{h}}
		}, verdict: DenyVerdict, field: "/hooks/prestart/0"},
		{name: "a shell in createContainer", change: withHooks(specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "id"}}}}),
			verdict: DenyVerdict, field: "/hooks/createContainer/0"},
		{name: "startContainer", change: withHooks(specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}), verdict: DenyVerdict, field: "/hooks/startContainer/0"},
		{name: "poststart", change: withHooks(specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true"}}}), verdict: DenyVerdict, field: "/hooks/poststart/0"},
		{name: "empty hooks", change: withHooks(specs.Hooks{}), verdict: Allow},
	}
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) {
			runPolicyFixtures(t, thisProcessIsTheDaemon(t, policy), compliantSpec, fixtures)
		})
	}
}

func TestHooksShippedDaemonsDoNotMatchOtherBinaries(t *testing.T) {
	s := compliantSpec()
	s.Hooks = &specs.Hooks{Prestart: []specs.Hook{dockerHook(os.Getpid())}}
	d := judgeSpec(t, loadShipped(t, "baseline"), s)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/hooks/prestart/0/path") {
		t.Fatalf("a hook naming the test binary passed as dockerd: %s %+v", d.Verdict, d.Violations)
	}
}

func TestHooksAllowlistAndUnverifiedDockerHook(t *testing.T) {
	p := loadShipped(t, "baseline")
	p.Controls.Hooks = &Hooks{Allowed: []string{"/usr/bin/nvidia-container-runtime-hook"}, DockerNetworkHook: true}
	if err := p.validate(); err != nil {
		t.Fatal(err)
	}
	runPolicyFixtures(t, p, compliantSpec, []fixture{
		{name: "allowlisted path", change: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/usr/bin/nvidia-container-runtime-hook", Args: []string{"nvidia-container-runtime-hook", "prestart"}}}}
		}, verdict: Allow},
		{name: "allowlisted path, spelled differently", change: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/usr/bin/../bin/nvidia-container-runtime-hook"}}}
		}, verdict: DenyVerdict, field: "/hooks/prestart/0"},
		{name: "docker hook, pid not verified", change: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{dockerHook(1)}}
		}, verdict: Allow},
	})
	p.Controls.Hooks.DockerNetworkHook = false
	runPolicyFixtures(t, p, compliantSpec, []fixture{
		{name: "docker hook turned off", change: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{dockerHook(os.Getpid())}}
		}, verdict: DenyVerdict, field: "/hooks/prestart/0"},
	})
}
