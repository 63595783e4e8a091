// Command handover stands in for guard-runtime's full build in tests: it
// appends the command line it was started with to $GUARD_HANDOVER_LOG and
// execs $GUARD_HANDOVER_FULL, the real full build, with it. A test
// installs it beside the lean build to see which calls the lean build
// hands over. It is a static binary because the lean build execs the full
// build through its open file, which a script cannot be.
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

func main() {
	log, full := os.Getenv("GUARD_HANDOVER_LOG"), os.Getenv("GUARD_HANDOVER_FULL")
	if log == "" || full == "" {
		fmt.Fprintln(os.Stderr, "handover: set GUARD_HANDOVER_LOG and GUARD_HANDOVER_FULL")
		os.Exit(2)
	}
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		_, err = fmt.Fprintln(f, strings.Join(os.Args[1:], " "))
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "handover: %v\n", err)
		os.Exit(2)
	}
	err = syscall.Exec(full, os.Args, os.Environ())
	fmt.Fprintf(os.Stderr, "handover: exec %s: %v\n", full, err)
	os.Exit(2)
}
