// Command fdreport stands in for an OCI runtime in tests: it records the
// file descriptors and file locks it was started with, so a test can show
// what a caller hands the runtime. It writes "<N> -> <target>" lines to
// $GUARD_FDREPORT.fds and its lines of /proc/locks to $GUARD_FDREPORT.locks.
// It is a static binary because guard-runtime refuses to execute a script
// as the runtime.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	prefix := os.Getenv("GUARD_FDREPORT")
	if prefix == "" {
		fmt.Fprintln(os.Stderr, "fdreport: set GUARD_FDREPORT")
		os.Exit(2)
	}
	// Read the descriptor table before opening anything else.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fdreport:", err)
		os.Exit(1)
	}
	var fds strings.Builder
	for _, e := range entries {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil {
			fmt.Fprintf(&fds, "%s -> %s\n", e.Name(), target)
		}
	}
	locks, _ := os.ReadFile("/proc/locks")
	var mine strings.Builder
	pid := strconv.Itoa(os.Getpid())
	for _, line := range strings.Split(string(locks), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == pid {
			mine.WriteString(line + "\n")
		}
	}
	if err := os.WriteFile(prefix+".fds", []byte(fds.String()), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "fdreport:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(prefix+".locks", []byte(mine.String()), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "fdreport:", err)
		os.Exit(1)
	}
}
