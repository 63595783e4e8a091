// Command capture records the OCI documents containerd's CRI plugin hands a
// runtime for typical Kubernetes pods, as policy fixtures: it starts the
// tests' private CRI containerd with plain runc behind a logging wrapper,
// runs each pod of harness.CRIFixtureShapes (inputs in tests/testdata/cri)
// with crictl, and writes the config.json of every sandbox and container
// create, and the process file of an exec, into the output directory.
//
//	go run ./hack/cri/capture -out enforce/testdata/cri
//
// Needs root, containerd, runc, busybox-static, iproute2 and the Go module
// proxy (for crictl, built once into the test cache).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

func main() {
	out := flag.String("out", "enforce/testdata/cri", "directory for the captured documents")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "capture:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	cri, err := harness.StartCRI(harness.CRIOptions{Handlers: []string{"baseline"}})
	if err != nil {
		return err
	}
	defer cri.Close()
	fmt.Printf("containerd root %s, state %s (%s and %s inside its mount namespace)\n", cri.Root, cri.State, harness.NodeRoot, harness.NodeState)
	for _, shape := range harness.CRIFixtureShapes {
		docs, err := cri.CaptureFixture(harness.CRIHandlerPrefix+"baseline", shape)
		if err != nil {
			return fmt.Errorf("%s: %w", shape.Pod, err)
		}
		names := make([]string, 0, len(docs))
		for name := range docs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			path := filepath.Join(out, name+".json")
			if err := os.WriteFile(path, docs[name], 0o644); err != nil {
				return err
			}
			fmt.Println("wrote", path)
		}
	}
	return nil
}
