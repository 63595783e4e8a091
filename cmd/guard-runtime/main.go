// Command guard-runtime is an OCI runtime shim: engines call it exactly as
// they call runc. It enforces the host's policy on create, run, restore,
// exec and update, verifies the real runtime binary, and execs it.
package main

import (
	"fmt"
	"os"

	"github.com/guard-runtime/guard-runtime/enforce"
	"github.com/guard-runtime/guard-runtime/spec"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	inv, err := spec.Parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "guard-runtime: %v\n", err)
		return 1
	}
	switch inv.Command {
	case "policy":
		return enforce.PolicyCommand(inv.Positional, os.Stdout, os.Stderr)
	case "pin":
		return enforce.PinCommand(inv, os.Stdout, os.Stderr)
	}
	gate := &enforce.Gate{Inv: inv, Stdout: os.Stdout, Stderr: os.Stderr}
	if inv.Command == "" && inv.Global.Version {
		// dockerd reads the last lines naming "version" and "commit:", which
		// stay runc's own.
		gate.Banner = fmt.Sprintf("guard-runtime version %s\n", version)
	}
	return gate.Run()
}
