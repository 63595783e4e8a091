//go:build lean

package enforce

// What the lean build does where the full build needs a package it leaves
// out: each hands the call to the full build (see build.go), and is only
// reached before the call has had any effect.

import (
	"fmt"
	"io"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// ParseConfig is reached when config.yaml is not in the config cache.
func ParseConfig(data []byte) (*Config, error) {
	return nil, handOver("config.yaml is not in the config cache")
}

// load is reached when the policy is not in the policy cache.
func (l *policyLoader) load(p *Policy, name string, chain []string) error {
	return handOver(fmt.Sprintf("policy %q is not in the policy cache", name))
}

// extendsNameOf is only used to store a policy the lean build never loads.
func extendsNameOf(file string) string { return "" }

// runtimeDefaultProfile is reached when a policy adds the default seccomp
// profile to a document.
func runtimeDefaultProfile(proc *specs.Process) (*specs.LinuxSeccomp, error) {
	return nil, handOver("the policy adds the runtime default seccomp profile")
}

// hashFile is reached when the runtime is not in the verification cache.
func hashFile(fd int) (digest string, isELF bool, err error) {
	return "", false, handOver("the runtime is not in the verification cache")
}

// encodePolicyEntry and encodeConfigEntry are never reached: a cache miss
// hands the call over before an entry is stored.
func encodePolicyEntry(*policyEntry) []byte { return nil }

func encodeConfigEntry(*configEntry) []byte { return nil }

// enforceUpdate: an update reads its resources from a file, standard input
// or flags, and the full build judges all three; standard input must not
// be read before the hand-over.
func (g *Gate) enforceUpdate() error {
	return handOver("update")
}

// enforceExecFlags: an exec without --process.
func (g *Gate) enforceExecFlags(p *Policy, ctx Context) error {
	return handOver("exec without --process")
}

// PolicyCommand runs `guard-runtime policy` in the full build.
func PolicyCommand(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "guard-runtime policy: %v\n", handOver("policy"))
	return ExitUnusable
}

// PinCommand runs `guard-runtime pin` in the full build.
func PinCommand(inv *spec.Invocation, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "guard-runtime pin: %v\n", handOver("pin"))
	return 1
}
