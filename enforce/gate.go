package enforce

import (
	"fmt"
	"io"
	"os"

	"github.com/guard-runtime/guard-runtime/audit"
	"github.com/guard-runtime/guard-runtime/spec"
)

// Gate carries out one runtime call: it judges the document of a create,
// run, restore, exec or update against the policy, records the decision,
// and hands the call to the verified runtime. Every other command goes to
// the runtime untouched.
type Gate struct {
	Inv    *spec.Invocation
	Stdout io.Writer
	Stderr io.Writer
	// Banner is printed on Stdout just before the hand-off, e.g. the
	// guard-runtime line of --version: only when the runtime is about to
	// run, so that a call that fails leaves stdout empty for the engine.
	Banner string

	cfg     *Config
	runtime *Runtime
	audit   *audit.Logger
}

// Run carries out the call. It returns only when the call must not reach
// the runtime, or the hand-off failed, with the exit status to use.
func (g *Gate) Run() int {
	if err := refuseCriu(g.Inv); err != nil {
		return g.fail(err)
	}
	cfg, err := LoadConfig(g.configPath())
	if err != nil {
		return g.fail(fmt.Errorf("guard-runtime: %w", err))
	}
	g.cfg = cfg
	g.audit = audit.Open(cfg.Audit.File)
	// The runtime is verified before anything else, so that a tampered
	// runtime refuses the call before a config is rewritten.
	if g.runtime, err = OpenRuntime(cfg.Runtime); err != nil {
		err = fmt.Errorf("guard-runtime: refusing to run the runtime: %w", err)
		g.recordFailure(err)
		return g.fail(err)
	}
	if g.Inv.Guarded() {
		if err := g.enforce(); err != nil {
			return g.fail(err)
		}
	}
	if g.Inv.Command == "delete" {
		g.forgetPolicy()
	}
	return g.handOff()
}

// refuseCriu refuses runc's global --criu PATH, on every command: runc
// runs that program as root to checkpoint and restore, and guard-runtime
// verifies the runtime it runs but cannot verify a CRIU binary. It comes
// before anything else, as a command line runc refuses does, so no
// command, pass-through ones included, reaches runc with it.
func refuseCriu(inv *spec.Invocation) error {
	if !inv.CriuGiven() {
		return nil
	}
	return fmt.Errorf("guard-runtime: refusing --criu %q: runc would run that program as root to checkpoint or restore, and guard-runtime verifies the runtime it runs but cannot verify a CRIU binary: remove --criu (CriuPath in the engine's runtime options) so that runc runs the criu on its PATH", inv.Global.Criu)
}

func (g *Gate) configPath() string {
	if g.Inv.Guard.Config != "" {
		return g.Inv.Guard.Config
	}
	return DefaultConfigPath
}

func (g *Gate) enforce() error {
	switch g.Inv.Command {
	case OpCreate, OpRun, OpRestore:
		return g.enforceConfig()
	case OpExec:
		return g.enforceExec()
	case OpUpdate:
		return g.enforceUpdate()
	}
	return nil
}

// policy loads the policy that applies to this call.
func (g *Gate) policy(name string) (*Policy, error) {
	dir := g.cfg.Policy.Dir
	if g.Inv.Guard.PolicyDir != "" {
		dir = g.Inv.Guard.PolicyDir
	}
	if name == "" {
		name = g.Inv.Guard.Policy
	}
	if name == "" {
		name = g.cfg.Policy.Default
	}
	p, err := loadPolicyCached(dir, name, g.cfg.Runtime.CacheDir)
	if err != nil {
		err = fmt.Errorf("guard-runtime: cannot use policy %q, refusing the call: %w", name, err)
		g.recordFailure(err)
		return nil, err
	}
	return p, nil
}

func (g *Gate) handOff() int {
	if g.Banner != "" && g.Stdout != nil {
		fmt.Fprint(g.Stdout, g.Banner)
	}
	err := g.runtime.Exec(g.Inv.RuntimeArgs, os.Environ())
	err = fmt.Errorf("guard-runtime: exec %s: %w", g.runtime.Path, err)
	g.recordFailure(err)
	return g.fail(err)
}

// fail reports err where the engine shows it and returns the exit status.
func (g *Gate) fail(err error) int {
	reportError(g.Stderr, g.Inv.Global.Log, g.Inv.Global.LogFormat, err.Error())
	return 1
}

// denial is the error of a denied document, in the words docker run shows.
func denial(d *Decision, ctx Context) error {
	what := "container " + ctx.ContainerID
	switch ctx.Operation {
	case OpExec:
		what = "exec in container " + ctx.ContainerID
	case OpUpdate:
		what = "update of container " + ctx.ContainerID
	}
	return fmt.Errorf("guard-runtime: policy %q denied %s: %s", d.Policy, what, d.Reason())
}
