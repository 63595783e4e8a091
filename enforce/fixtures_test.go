package enforce

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// shippedPolicies is the repository's policy.d, as installed.
const shippedPolicies = "../policy.d"

func loadShipped(t *testing.T, name string) *Policy {
	t.Helper()
	p, err := LoadPolicy(shippedPolicies, name)
	if err != nil {
		t.Fatalf("load shipped policy %s: %v", name, err)
	}
	return p
}

// compliantSpec is the minimal document that restricted admits unchanged:
// runc's own example spec, with every restricted field set to a value the
// policy allows. Fixtures change one field of it each.
func compliantSpec() *specs.Spec {
	s := specconv.Example()
	s.Process.User = specs.User{UID: 1000, GID: 1000}
	s.Process.NoNewPrivileges = true
	netBind := []string{"CAP_NET_BIND_SERVICE"}
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: netBind, Effective: netBind, Permitted: netBind}
	s.Root.Readonly = true
	limit, quota, period := int64(512<<20), int64(100000), uint64(100000)
	s.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit, Swap: &limit},
		CPU:    &specs.LinuxCPU{Quota: &quota, Period: &period},
		Pids:   &specs.LinuxPids{Limit: 1024},
	}
	s.Process.OOMScoreAdj = ptr(0)
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow}}}
	return s
}

// judgeSpec encodes s as an engine would and judges it.
func judgeSpec(t *testing.T, p *Policy, s *specs.Spec) *Decision {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return judgeConfig(t, p, data)
}

func judgeConfig(t *testing.T, p *Policy, data []byte) *Decision {
	t.Helper()
	doc, err := spec.DecodeConfig(data)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	d, err := EvaluateConfig(p, doc, Context{Operation: OpCreate, ContainerID: "fixture"})
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return d
}

// fixture is one change to the compliant document and what the policy must make of it.
type fixture struct {
	name    string
	change  func(*specs.Spec)
	verdict Verdict
	// field is the JSON pointer a violation must name; "" for allow.
	field string
}

func runFixtures(t *testing.T, policy string, base func() *specs.Spec, fixtures []fixture) {
	t.Helper()
	runPolicyFixtures(t, loadShipped(t, policy), base, fixtures)
}

func hasViolationAt(d *Decision, field string) bool {
	return slices.ContainsFunc(d.Violations, func(v Violation) bool { return v.Field == field })
}

func ptr[T any](v T) *T { return &v }
