// Command capture records the OCI documents containerd's CRI plugin hands a
// runtime for typical Kubernetes pods, as policy fixtures: it starts the
// tests' private CRI containerd with plain runc behind a logging wrapper,
// runs each pod shape of tests/testdata/cri with crictl, and copies the
// config.json of every sandbox and container create (and the process file of
// an exec) into the output directory.
//
//	go run ./hack/cri/capture -out enforce/testdata/cri
//
// Needs root, containerd, runc, busybox-static and the Go module proxy (for
// crictl, built once into the test cache).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// handler is the runtime handler the pods run under; it does not appear in
// the documents.
const handler = "guard-baseline"

// shape is one pod: its crictl inputs and the fixture names to write.
type shape struct {
	pod, ctr  string
	sandbox   string // fixture name of the sandbox's config.json, "" to skip
	container string // fixture name of the app container's config.json
	exec      string // fixture name of an `id` exec's process file, "" for none
}

var shapes = []shape{
	{"pod-plain.json", "ctr-plain.json", "plain-sandbox", "plain-container", "plain-exec"},
	{"pod-restricted.json", "ctr-restricted.json", "", "restricted-container", "restricted-exec"},
	{"pod-privileged.json", "ctr-privileged.json", "privileged-sandbox", "privileged-container", ""},
	{"pod-hostpath-etc.json", "ctr-hostpath-etc.json", "", "hostpath-etc-container", ""},
	{"pod-hostnet.json", "ctr-hostnet.json", "hostnet-sandbox", "hostnet-container", ""},
	{"pod-seccomp-runtimedefault.json", "ctr-seccomp-runtimedefault.json", "seccomp-runtimedefault-sandbox", "seccomp-runtimedefault-container", ""},
	{"pod-kubelet.json", "ctr-kubelet.json", "kubelet-sandbox", "kubelet-container", "kubelet-exec"},
}

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
	cri, err := harness.StartCRI(harness.CRIOptions{Policies: []string{"baseline"}})
	if err != nil {
		return err
	}
	defer cri.Close()
	fmt.Printf("containerd root %s, state %s\n", cri.Root, cri.State)
	for _, s := range shapes {
		if err := capture(cri, s, out); err != nil {
			return fmt.Errorf("%s: %w", s.pod, err)
		}
	}
	return nil
}

func capture(cri *harness.CRI, s shape, out string) error {
	podJSON, err := harness.CRIInput(s.pod)
	if err != nil {
		return err
	}
	ctrJSON, err := harness.CRIInput(s.ctr)
	if err != nil {
		return err
	}
	podID, err := cri.RunPod(handler, podJSON)
	if err != nil {
		return err
	}
	defer cri.RemovePod(podID)
	ctrID, err := cri.CreateContainer(podID, ctrJSON, podJSON)
	if err != nil {
		return err
	}
	// The runtime sees the container's config.json on start; whether runc
	// then manages to run it (a privileged container cannot here) does not
	// matter for the fixture.
	if err := cri.StartContainer(ctrID); err != nil {
		fmt.Printf("%s: start failed, keeping the captured config: %v\n", s.ctr, err)
	}
	if s.exec != "" {
		if _, err := cri.Exec(ctrID, "id"); err != nil {
			return fmt.Errorf("exec: %w", err)
		}
	}
	w := cri.Handlers[handler]
	if s.sandbox != "" {
		if err := save(w.Captured, podID, filepath.Join(out, s.sandbox+".json")); err != nil {
			return err
		}
	}
	if err := save(w.Captured, ctrID, filepath.Join(out, s.container+".json")); err != nil {
		return err
	}
	if s.exec != "" {
		execs, err := w.CapturedExecs(ctrID)
		if err != nil || len(execs) == 0 {
			return fmt.Errorf("exec process file of %s not captured: %v", ctrID, err)
		}
		if err := os.WriteFile(filepath.Join(out, s.exec+".json"), execs[0], 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", filepath.Join(out, s.exec+".json"))
	}
	return nil
}

func save(captured func(string) ([]byte, error), id, path string) error {
	data, err := captured(id)
	if err != nil {
		return fmt.Errorf("config.json of %s not captured: %w", id, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}
