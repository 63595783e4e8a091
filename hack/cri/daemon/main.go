// Command daemon starts the tests' private CRI containerd for interactive
// use, prints how to reach it with crictl and ctr and where each runtime
// handler logs its calls, and tears everything down on Ctrl-C.
//
//	go run ./hack/cri/daemon                       # handlers run plain runc
//	go run ./hack/cri/daemon -guard-runtime ./guard-runtime -guard-config /etc/guard-runtime/config.yaml
//
// -handlers lists the handlers as name=policy (handler guard-<name> runs
// guard-runtime with that policy), or name alone for a policy of the same
// name; the default registers guard-baseline and guard-restricted with the
// Kubernetes policies, as deploy/ does. Then, for instance:
//
//	$CRICTL runp --runtime guard-restricted tests/testdata/cri/pod-plain.json
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

func main() {
	binary := flag.String("guard-runtime", "", "guard-runtime binary for the handlers (default: plain runc)")
	config := flag.String("guard-config", "/etc/guard-runtime/config.yaml", "config file passed to guard-runtime")
	handlers := flag.String("handlers", "baseline=k8s-baseline,restricted=k8s-restricted",
		"handlers guard-<name>, each as name=policy or name")
	flag.Parse()

	opts := harness.CRIOptions{}
	policies := map[string]string{}
	for _, entry := range strings.Split(*handlers, ",") {
		name, policy, _ := strings.Cut(entry, "=")
		opts.Handlers = append(opts.Handlers, name)
		if policy != "" {
			policies[name] = policy
		}
	}
	if *binary != "" {
		abs, err := filepath.Abs(*binary)
		if err != nil {
			fail(err)
		}
		opts.Runtime = harness.GuardRuntime(abs, *config, policies)
	}
	cri, err := harness.StartCRI(opts)
	if err != nil {
		fail(err)
	}
	fmt.Printf("CRICTL='%s --config %s'\n", cri.CrictlPath, cri.CrictlConfig)
	fmt.Printf("CTR='ctr --address %s --namespace %s'\n", cri.Address, harness.CRINamespace)
	fmt.Printf("containerd log: %s\n", cri.LogFile)
	for _, name := range cri.HandlerNames() {
		w := cri.Handlers[name]
		fmt.Printf("handler %s: %s (argv log %s, config.json copies in %s)\n", name, w.Path, w.ArgvLog, w.CaptureDir)
	}
	fmt.Println("Ctrl-C stops containerd and removes everything.")

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
	if err := cri.Close(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "daemon:", err)
	os.Exit(1)
}
