// Package engines checks the test harness itself against the real engines
// (containerd through ctr and through its CRI plugin, and Podman), with
// plain runc standing where guard-runtime will: a container runs with the
// requested user and output, the engine really called the wrapper, and a
// runtime's refusal reaches the engine's user.
package engines

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := harness.CloseSharedEngines(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the shared engines:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func runc(t *testing.T) harness.RuntimeCommand {
	t.Helper()
	rt, err := harness.RuncCommand()
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func refusing(t *testing.T) harness.RuntimeCommand {
	t.Helper()
	rt, err := harness.RefusingRuntime()
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// callsWith returns the wrapper's calls whose subcommand is sub and whose
// last argument (the container ID) is id.
func callsWith(t *testing.T, w *harness.RuntimeWrapper, sub, id string) [][]string {
	t.Helper()
	calls, err := w.Calls()
	if err != nil {
		t.Fatal(err)
	}
	var found [][]string
	for _, call := range calls {
		if len(call) > 0 && call[len(call)-1] == id && contains(call, sub) {
			found = append(found, call)
		}
	}
	return found
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func logCalls(t *testing.T, w *harness.RuntimeWrapper) {
	t.Helper()
	calls, _ := w.Calls()
	for _, call := range calls {
		t.Logf("runtime called: %s", strings.Join(call, " "))
	}
}

func TestCtrRunGoesThroughTheRuntimeWrapper(t *testing.T) {
	ctrd := harness.SharedContainerd(t)
	w, err := ctrd.RuntimeWrapper("runc-smoke", runc(t))
	if err != nil {
		t.Fatal(err)
	}
	r := ctrd.CtrRun(harness.CtrRunSpec{
		Runtime: w.Path, ID: "smoke-ctr",
		Command: []string{"/bin/sh", "-c", "echo hello from ctr; id -u; exit 7"},
	})
	if r.ExitCode != 7 {
		t.Fatalf("ctr run exit status = %d, want the container's 7; stderr: %s", r.ExitCode, r.Stderr)
	}
	if got, want := r.Stdout, "hello from ctr\n0\n"; got != want {
		t.Errorf("container stdout = %q, want %q", got, want)
	}
	if len(callsWith(t, w, "create", "smoke-ctr")) != 1 || len(callsWith(t, w, "start", "smoke-ctr")) != 1 {
		logCalls(t, w)
		t.Fatalf("ctr did not create and start smoke-ctr through the wrapper")
	}
	create := callsWith(t, w, "create", "smoke-ctr")[0]
	if !contains(create, "--bundle") || !contains(create, "--log") {
		t.Errorf("create call lacks --bundle or --log: %v", create)
	}
	config, err := w.Captured("smoke-ctr")
	if err != nil {
		t.Fatalf("config.json of smoke-ctr was not captured: %v", err)
	}
	var spec struct {
		Root struct {
			Path string `json:"path"`
		} `json:"root"`
	}
	if err := json.Unmarshal(config, &spec); err != nil || spec.Root.Path == "" {
		t.Errorf("captured config.json has no root.path (%v): %.200s", err, config)
	}
	logCalls(t, w)
}

func TestCtrRunUserAndFlags(t *testing.T) {
	ctrd := harness.SharedContainerd(t)
	w, err := ctrd.RuntimeWrapper("runc-smoke", runc(t))
	if err != nil {
		t.Fatal(err)
	}
	r := ctrd.CtrRun(harness.CtrRunSpec{
		Runtime: w.Path, ID: "smoke-ctr-readonly", Flags: []string{"--read-only"},
		Command: []string{"/bin/sh", "-c", "touch /probe 2>/dev/null && echo writable || echo read-only"},
	})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if strings.TrimSpace(r.Stdout) != "read-only" {
		t.Errorf("--read-only container could write its root: %q", r.Stdout)
	}
}

func TestCtrRunReportsTheRuntimesRefusal(t *testing.T) {
	ctrd := harness.SharedContainerd(t)
	w, err := ctrd.RuntimeWrapper("refusing", refusing(t))
	if err != nil {
		t.Fatal(err)
	}
	r := ctrd.CtrRun(harness.CtrRunSpec{
		Runtime: w.Path, ID: "smoke-ctr-refused",
		Flags:   []string{"--env", harness.RefuseEnv},
		Command: []string{"/bin/true"},
	})
	if r.Err == nil {
		t.Fatalf("refused container ran; stdout %q", r.Stdout)
	}
	if !strings.Contains(r.Stderr, harness.RefusalReason) {
		t.Errorf("ctr's error does not carry the runtime's reason %q:\n%s", harness.RefusalReason, r.Stderr)
	}
	if r := ctrd.CtrRun(harness.CtrRunSpec{Runtime: w.Path, Command: []string{"/bin/true"}}); r.Err != nil {
		t.Errorf("refusing runtime also refused a container without %s: %v", harness.RefuseEnv, r.Err)
	}
}

func TestCtrImportedBusyboxImage(t *testing.T) {
	ctrd := harness.SharedContainerd(t)
	if err := ctrd.ImportBusyboxImage(harness.CtrNamespace, "localhost/busybox:smoke"); err != nil {
		t.Fatal(err)
	}
	r := ctrd.Ctr(t.Context(), harness.CtrNamespace, "images", "list", "--quiet")
	if r.Err != nil || !strings.Contains(r.Stdout, "localhost/busybox:smoke") {
		t.Fatalf("imported image not listed: %v %q", r.Err, r.Stdout)
	}
	w, err := ctrd.RuntimeWrapper("runc-smoke", runc(t))
	if err != nil {
		t.Fatal(err)
	}
	r = ctrd.CtrRun(harness.CtrRunSpec{
		Runtime: w.Path, Image: "localhost/busybox:smoke",
		Command: []string{"/bin/sh", "-c", "echo from-image"},
	})
	if r.Err != nil || r.Stdout != "from-image\n" {
		t.Fatalf("container from the imported image: %v %q", r.Err, r.Stdout)
	}
}

func startCRI(t *testing.T) *harness.CRI {
	t.Helper()
	cri := harness.SharedCRI(t, harness.CRIOptions{
		Handlers: []string{"baseline", "restricted", "refusing"},
		Runtime: func(handler string) harness.RuntimeCommand {
			if handler == "refusing" {
				return refusing(t)
			}
			return runc(t)
		},
	})
	t.Logf("CRI start-up: crictl %v, images %v, containerd %v",
		cri.Timings.Crictl, cri.Timings.Images, cri.Timings.Containerd)
	return cri
}

func input(t *testing.T, name string) []byte {
	t.Helper()
	data, err := harness.CRIInput(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// runPodWithContainer runs a pod and its app container and registers the
// pod's removal.
func runPodWithContainer(t *testing.T, cri *harness.CRI, handler, pod, ctr string) (podID, ctrID string) {
	t.Helper()
	podJSON := input(t, pod)
	podID, err := cri.RunPod(handler, podJSON)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cri.RemovePod(podID); err != nil {
			t.Errorf("remove pod: %v", err)
		}
	})
	ctrID, err = cri.RunContainer(podID, input(t, ctr), podJSON)
	if err != nil {
		t.Fatal(err)
	}
	return podID, ctrID
}

func TestCRIPodRunsThroughEachHandler(t *testing.T) {
	cri := startCRI(t)
	for _, handler := range []string{"guard-baseline", "guard-restricted"} {
		t.Run(handler, func(t *testing.T) {
			podID, ctrID := runPodWithContainer(t, cri, handler, "pod-restricted.json", "ctr-restricted.json")
			out, err := cri.Exec(ctrID, "/bin/sh", "-c", "id -u; touch /probe 2>/dev/null && echo writable || echo read-only")
			if err != nil {
				t.Fatal(err)
			}
			if out != "1000\nread-only\n" {
				t.Errorf("exec output = %q, want uid 1000 and a read-only root", out)
			}
			_, err = cri.Exec(ctrID, "/bin/sh", "-c", "echo to-stderr >&2; exit 3")
			var crictlErr *harness.CrictlError
			if !errors.As(err, &crictlErr) || crictlErr.CommandExitCode != 3 || !strings.Contains(crictlErr.Stderr, "to-stderr") {
				t.Errorf("exec of a failing command: want exit status 3 and its stderr, got %v", err)
			}
			w := cri.Handlers[handler]
			for _, id := range []string{podID, ctrID} {
				if len(callsWith(t, w, "create", id)) != 1 {
					logCalls(t, w)
					t.Fatalf("%s was not created through the %s wrapper", id, handler)
				}
			}
			if execs, err := w.CapturedExecs(ctrID); err != nil || len(execs) != 2 {
				t.Errorf("want the process files of two execs captured, got %d (%v)", len(execs), err)
			}
			sandbox := capturedSpec(t, cri, handler, podID)
			if sandbox.Annotations["io.kubernetes.cri.container-type"] != "sandbox" || sandbox.Process.User.UID != 65535 {
				t.Errorf("sandbox config: type %q uid %d, want a sandbox running as 65535",
					sandbox.Annotations["io.kubernetes.cri.container-type"], sandbox.Process.User.UID)
			}
			app := capturedSpec(t, cri, handler, ctrID)
			if app.Annotations["io.kubernetes.cri.sandbox-namespace"] != "tenant-a" || app.Process.User.UID != 1000 {
				t.Errorf("app config: namespace %q uid %d, want tenant-a and 1000",
					app.Annotations["io.kubernetes.cri.sandbox-namespace"], app.Process.User.UID)
			}
			if _, ok := app.Annotations["example.com/ctr-note"]; ok {
				t.Errorf("the request's own annotation reached config.json")
			}
		})
	}
}

type capturedDoc struct {
	Annotations map[string]string `json:"annotations"`
	Process     struct {
		User struct {
			UID int `json:"uid"`
		} `json:"user"`
	} `json:"process"`
	Linux struct {
		Namespaces []struct {
			Type string `json:"type"`
			Path string `json:"path"`
		} `json:"namespaces"`
	} `json:"linux"`
}

func capturedSpec(t *testing.T, cri *harness.CRI, handler, id string) capturedDoc {
	t.Helper()
	data, err := cri.Captured(handler, id)
	if err != nil {
		t.Fatalf("config.json of %s not captured: %v", id, err)
	}
	var doc capturedDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("captured config.json of %s: %v", id, err)
	}
	return doc
}

func TestCRIPrivateNetworkHasAddress(t *testing.T) {
	cri := startCRI(t)
	podID, ctrID := runPodWithContainer(t, cri, "guard-baseline", "pod-plain.json", "ctr-plain.json")
	out, err := cri.Exec(ctrID, "/bin/sh", "-c", "ip -o -4 addr show dev eth0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "inet 10.99.") {
		t.Errorf("eth0 in the pod has no nullcni address: %q", out)
	}
	inspect, err := cri.InspectPod(podID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(inspect), `"ip": "10.99.`) {
		t.Errorf("containerd did not record the pod IP: %.400s", inspect)
	}
}

func TestCRIHostNetworkPodSharesTheHostNamespace(t *testing.T) {
	cri := startCRI(t)
	podID, ctrID := runPodWithContainer(t, cri, "guard-baseline", "pod-hostnet.json", "ctr-hostnet.json")
	pid, err := cri.SandboxPID(podID)
	if err != nil {
		t.Fatal(err)
	}
	app := capturedSpec(t, cri, "guard-baseline", ctrID)
	var netPath string
	for _, ns := range app.Linux.Namespaces {
		if ns.Type == "network" {
			netPath = ns.Path
		}
	}
	if want := fmt.Sprintf("/proc/%d/ns/net", pid); netPath != want {
		t.Fatalf("app container's network namespace = %q, want the pause process's %q", netPath, want)
	}
	pause, err1 := os.Readlink(netPath)
	host, err2 := os.Readlink("/proc/self/ns/net")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if pause != host {
		t.Errorf("host-network pod's namespace %s is not the host's %s", pause, host)
	}
}

func TestCRIRuntimeRefusalReachesCrictl(t *testing.T) {
	cri := startCRI(t)
	podJSON := input(t, "pod-plain.json")
	podID, err := cri.RunPod("guard-refusing", podJSON)
	if err != nil {
		t.Fatalf("the refusing runtime refuses only containers with %s, not the sandbox: %v", harness.RefuseEnv, err)
	}
	defer cri.RemovePod(podID)
	var ctr map[string]any
	if err := json.Unmarshal(input(t, "ctr-plain.json"), &ctr); err != nil {
		t.Fatal(err)
	}
	key, value, _ := strings.Cut(harness.RefuseEnv, "=")
	ctr["envs"] = []map[string]string{{"key": key, "value": value}}
	ctrJSON, _ := json.Marshal(ctr)
	id, err := cri.RunContainer(podID, ctrJSON, podJSON)
	var crictlErr *harness.CrictlError
	if !errors.As(err, &crictlErr) {
		t.Fatalf("refused container %q: want a crictl error, got %v", id, err)
	}
	if !strings.Contains(crictlErr.Stderr, harness.RefusalReason) {
		t.Errorf("crictl's error does not carry the runtime's reason:\n%s", crictlErr.Stderr)
	}
	t.Logf("crictl reported: %s", strings.TrimSpace(crictlErr.Stderr))
}

func TestPodmanRunsTheRuntimeByPathAndByName(t *testing.T) {
	podman := harness.SharedPodman(t)
	w, err := podman.AddRuntime("runc-smoke", runc(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, runtime := range []string{w.Path, "runc-smoke"} {
		r := podman.Run(harness.PodmanRunSpec{
			Runtime: runtime, Flags: []string{"--user", "1000"},
			Command: []string{"/bin/sh", "-c", "echo hello from podman; id -u; exit 5"},
		})
		if r.ExitCode != 5 {
			t.Fatalf("--runtime %s: exit status %d, want the container's 5; stderr: %s", runtime, r.ExitCode, r.Stderr)
		}
		if r.Stdout != "hello from podman\n1000\n" {
			t.Errorf("--runtime %s: stdout = %q", runtime, r.Stdout)
		}
	}
	calls, err := w.Calls()
	if err != nil {
		t.Fatal(err)
	}
	creates := 0
	for _, call := range calls {
		if len(call) > 0 && call[0] == "create" {
			creates++
			if contains(call, "--log") || contains(call, "--root") {
				t.Errorf("podman passed a global flag it was not known to pass: %v", call)
			}
		}
	}
	if creates != 2 {
		logCalls(t, w)
		t.Errorf("want 2 creates through the wrapper, got %d", creates)
	}
	logCalls(t, w)
}

func TestPodmanReportsTheRuntimesRefusal(t *testing.T) {
	podman := harness.SharedPodman(t)
	w, err := podman.AddRuntime("refusing", refusing(t))
	if err != nil {
		t.Fatal(err)
	}
	r := podman.Run(harness.PodmanRunSpec{
		Runtime: w.Path, Flags: []string{"--env", harness.RefuseEnv}, Command: []string{"/bin/true"},
	})
	if r.Err == nil {
		t.Fatal("refused container ran")
	}
	if !strings.Contains(r.Stderr, harness.RefusalReason) {
		t.Errorf("podman's error does not carry the runtime's reason:\n%s", r.Stderr)
	}
}
