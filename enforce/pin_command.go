//go:build !lean

package enforce

import (
	"flag"
	"fmt"
	"io"

	"github.com/guard-runtime/guard-runtime/spec"
)

// PinCommand runs `guard-runtime [--guard-config FILE] pin [--add DIGEST]`:
// it pins the configured runtime's current content in config.yaml, or adds
// a digest to the pins ahead of an upgrade.
func PinCommand(inv *spec.Invocation, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("guard-runtime pin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	add := fs.String("add", "", "add this sha256 digest to the pins instead of replacing them")
	if err := fs.Parse(inv.Positional); err != nil || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: guard-runtime [--guard-config FILE] pin [--add DIGEST]")
		return 2
	}
	path := inv.Guard.Config
	if path == "" {
		path = DefaultConfigPath
	}
	if *add != "" {
		if err := AddPin(path, *add); err != nil {
			fmt.Fprintf(stderr, "guard-runtime pin: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "added pin %s to %s\n", *add, path)
		return 0
	}
	digest, err := Pin(path)
	if err != nil {
		fmt.Fprintf(stderr, "guard-runtime pin: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "pinned sha256 %s in %s\n", digest, path)
	return 0
}
