package tests

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// The Kubernetes path end to end, without a kubelet: crictl → containerd's
// CRI plugin → the runc v2 shim → a runtime handler whose BinaryName is a
// wrapper in front of the real guard-runtime → runc, with the shipped
// Kubernetes policies unchanged: the private containerd sees its root and
// state at the stock paths, as on a node.

// Kubernetes namespaces that config.yaml maps to a policy, whatever the
// handler's own policy.
const (
	mappedToRestricted = "team-restricted"
	mappedToBaseline   = "team-baseline"
)

// handlerPolicies is what the node's handlers run, as deploy/ installs them.
var handlerPolicies = map[string]string{"guard-baseline": "k8s-baseline", "guard-restricted": "k8s-restricted"}

type guardedCRI struct {
	*harness.CRI
	guard, policies string
}

func TestKubernetes(t *testing.T) {
	k := startGuardedCRI(t)
	t.Run("SandboxesPassThePolicyAndAreAdmitted", k.testSandboxes)
	t.Run("NonRootReadOnlyPodRunsAndExecWorks", k.testRestrictedPodRuns)
	t.Run("ExecAsRootIsDenied", k.testExecAsRootIsDenied)
	t.Run("PrivilegedIsDeniedAndCrictlSaysWhy", k.testPrivilegedIsDenied)
	t.Run("HostPathEtcIsDenied", k.testHostPathEtcIsDenied)
	t.Run("HostNetworkPodIsDeniedAtItsSandbox", k.testHostNetworkSandboxIsDenied)
	t.Run("HostNetworkAppContainerIsDenied", k.testHostNetworkAppIsDenied)
	t.Run("PolicyPerNamespace", k.testPolicyPerNamespace)
}

// startGuardedCRI starts a private CRI containerd with the handlers
// guard-baseline and guard-restricted, and guard-apps, which sends pod
// sandboxes straight to runc and everything else through guard-runtime
// under k8s-baseline: it lets an app container reach guard-runtime in a
// pod whose sandbox the policy would have refused.
func startGuardedCRI(t *testing.T) *guardedCRI {
	harness.RequireRoot(t)
	runc := requireBinary(t, "runc", "apt-get install -y runc")
	guard := harness.GuardBinary(t)
	dir := t.TempDir()
	k := &guardedCRI{guard: guard, policies: filepath.Join(harness.ModuleRoot(t), "policy.d")}
	config := filepath.Join(dir, "config.yaml")
	writeFileMode(t, config, fmt.Sprintf(`runtime:
  path: %s
  sha256: %s
  cacheDir: %s
policy:
  dir: %s
  default: k8s-restricted
audit:
  file: %s
kubernetes:
  namespaces:
    %s: k8s-restricted
    %s: k8s-baseline
`, runc, fileDigest(t, runc), filepath.Join(dir, "cache"), k.policies, filepath.Join(dir, "audit.log"),
		mappedToRestricted, mappedToBaseline), 0o600)

	guarded := harness.GuardRuntime(guard, config, map[string]string{"baseline": "k8s-baseline", "restricted": "k8s-restricted"})
	cri, err := harness.StartCRI(harness.CRIOptions{
		Handlers: []string{"baseline", "restricted", "apps"},
		Runtime: func(handler string) harness.RuntimeCommand {
			if handler == "apps" {
				return appsOnlyRuntime(runc, guard, config, "k8s-baseline")
			}
			return guarded(handler)
		},
	})
	if err != nil {
		t.Fatalf("private CRI containerd: %v", err)
	}
	t.Cleanup(func() {
		if err := cri.Close(); err != nil {
			t.Errorf("stop the private CRI containerd: %v", err)
		}
	})
	t.Logf("CRI start-up: crictl %v, images %v, containerd %v", cri.Timings.Crictl, cri.Timings.Images, cri.Timings.Containerd)
	k.CRI = cri
	return k
}

// appsOnlyRuntime runs a sandbox's create with plain runc and every other
// call with guard-runtime under policy.
func appsOnlyRuntime(runc, guard, config, policy string) harness.RuntimeCommand {
	script := `bundle=. sub= prev=
for arg in "$@"; do
	case "$prev" in --bundle|-b) bundle=$arg ;; esac
	case "$arg" in --bundle=*) bundle=${arg#--bundle=} ;; create) [ -n "$sub" ] || sub=$arg ;; esac
	prev=$arg
done
if [ "$sub" = create ] && grep -Eq '"io\.kubernetes\.cri\.container-type": *"sandbox"' "$bundle/config.json"; then
	exec "$RUNC" "$@"
fi
exec "$GUARD" --guard-config "$GUARD_CONFIG" --guard-policy="$GUARD_POLICY" "$@"`
	return harness.RuntimeCommand{Path: "/usr/bin/env", Args: []string{
		"RUNC=" + runc, "GUARD=" + guard, "GUARD_CONFIG=" + config, "GUARD_POLICY=" + policy,
		"/bin/sh", "-c", script, "apps-only-runtime"}}
}

var podCount atomic.Int64

// pod is a crictl pod config from tests/testdata/cri with a name and uid of
// its own, so that pods of different subtests never clash, in the given
// Kubernetes namespace ("" keeps the input's).
func (k *guardedCRI) pod(t *testing.T, input, namespace string) []byte {
	t.Helper()
	var pod map[string]any
	if err := json.Unmarshal(criInput(t, input), &pod); err != nil {
		t.Fatal(err)
	}
	n := podCount.Add(1)
	meta := pod["metadata"].(map[string]any)
	meta["name"] = fmt.Sprintf("%s-%d", meta["name"], n)
	meta["uid"] = fmt.Sprintf("9a3e0000-0000-4000-8000-%012d", n)
	if namespace != "" {
		meta["namespace"] = namespace
	}
	data, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func criInput(t *testing.T, name string) []byte {
	t.Helper()
	data, err := harness.CRIInput(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// runPod runs a pod sandbox, removed when the test ends.
func (k *guardedCRI) runPod(t *testing.T, handler string, podJSON []byte) (string, error) {
	t.Helper()
	id, err := k.RunPod(handler, podJSON)
	if id != "" {
		t.Cleanup(func() {
			if err := k.RemovePod(id); err != nil {
				t.Errorf("remove pod %s: %v", id, err)
			}
		})
	}
	return id, err
}

func (k *guardedCRI) mustRunPod(t *testing.T, handler string, podJSON []byte) string {
	t.Helper()
	id, err := k.runPod(t, handler, podJSON)
	if err != nil {
		t.Fatalf("pod sandbox under %s was refused: %v", handler, err)
	}
	return id
}

func (k *guardedCRI) mustRunContainer(t *testing.T, podID, ctr string, podJSON []byte) string {
	t.Helper()
	id, err := k.RunContainer(podID, criInput(t, ctr), podJSON)
	if err != nil {
		t.Fatalf("container %s: %v", ctr, err)
	}
	return id
}

// refusal returns what crictl printed for a refused call, with the quotes
// that crictl's log lines escape unescaped, failing the test when the call
// was not refused.
func refusal(t *testing.T, what string, err error) string {
	t.Helper()
	var ce *harness.CrictlError
	if !errors.As(err, &ce) {
		t.Fatalf("%s was not refused (%v)", what, err)
	}
	stderr := strings.ReplaceAll(ce.Stderr, `\"`, `"`)
	msg := strings.TrimSpace(stderr)
	if len(msg) > 600 {
		msg = msg[:600] + " …"
	}
	t.Logf("crictl reported: %s", msg)
	return stderr
}

func wantAll(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%.2000s", what, want, text)
		}
	}
}

// admittedUnder returns the policy guard-runtime recorded when it admitted
// a container, beside runc's state (the CRI plugin's runc root), or "".
func (k *guardedCRI) admittedUnder(t *testing.T, id string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(k.State, "runc", harness.CRINamespace, id+"@guard-runtime.policy"))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	var record struct {
		Policy string `json:"policy"`
	}
	if err != nil || json.Unmarshal(data, &record) != nil {
		t.Fatalf("policy record of %s: %v %s", id, err, data)
	}
	return record.Policy
}

// procStatus returns the fields of /proc/<pid>/status.
func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if key, value, ok := strings.Cut(line, ":"); ok {
			fields[key] = strings.TrimSpace(value)
		}
	}
	return fields
}

type capturedConfig struct {
	Process struct {
		User struct {
			UID int `json:"uid"`
		} `json:"user"`
	} `json:"process"`
	Annotations map[string]string `json:"annotations"`
	Linux       struct {
		Seccomp     json.RawMessage `json:"seccomp"`
		MaskedPaths []string        `json:"maskedPaths"`
	} `json:"linux"`
}

// captured is the config.json as containerd wrote it, before guard-runtime.
func (k *guardedCRI) captured(t *testing.T, handler, id string) (capturedConfig, []byte) {
	t.Helper()
	data, err := k.Captured(handler, id)
	if err != nil {
		t.Fatalf("config.json of %s not captured: %v", id, err)
	}
	var c capturedConfig
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c, data
}

// Pod sandboxes go through the handler's policy like app containers: the
// pause process runs as 65535 under the runtime default seccomp profile
// that guard-runtime added, and under k8s-restricted without the runtime's
// default capabilities.
func (k *guardedCRI) testSandboxes(t *testing.T) {
	wantCaps := map[string]string{
		"guard-baseline":   "00000000a80425fb", // containerd's default set
		"guard-restricted": "0000000000000400", // NET_BIND_SERVICE
	}
	for handler, policy := range handlerPolicies {
		t.Run(handler, func(t *testing.T) {
			podID := k.mustRunPod(t, handler, k.pod(t, "pod-restricted.json", ""))
			if got := k.admittedUnder(t, podID); got != policy {
				t.Errorf("sandbox admitted under %q, want %q", got, policy)
			}
			doc, _ := k.captured(t, handler, podID)
			if doc.Annotations["io.kubernetes.cri.container-type"] != "sandbox" || doc.Process.User.UID != 65535 || doc.Linux.Seccomp != nil {
				t.Fatalf("containerd's sandbox config: type %q, uid %d, seccomp %s; want a sandbox as 65535 without seccomp",
					doc.Annotations["io.kubernetes.cri.container-type"], doc.Process.User.UID, doc.Linux.Seccomp)
			}
			pid, err := k.SandboxPID(podID)
			if err != nil {
				t.Fatal(err)
			}
			status := procStatus(t, pid)
			if status["Seccomp"] != "2" || !strings.HasPrefix(status["Uid"], "65535") || status["CapBnd"] != wantCaps[handler] {
				t.Errorf("pause process: Seccomp %s, Uid %s, CapBnd %s; want 2, 65535, %s",
					status["Seccomp"], status["Uid"], status["CapBnd"], wantCaps[handler])
			}
		})
	}
}

func (k *guardedCRI) testRestrictedPodRuns(t *testing.T) {
	podJSON := k.pod(t, "pod-restricted.json", "")
	podID := k.mustRunPod(t, "guard-restricted", podJSON)
	ctrID := k.mustRunContainer(t, podID, "ctr-restricted.json", podJSON)
	if got := k.admittedUnder(t, ctrID); got != "k8s-restricted" {
		t.Errorf("container admitted under %q", got)
	}
	out, err := k.Exec(ctrID, "/bin/sh", "-c",
		"id -u; touch /probe 2>/dev/null && echo writable || echo read-only; grep ^Seccomp: /proc/self/status; stat -c %F /proc/timer_list")
	if err != nil {
		t.Fatalf("crictl exec: %v", err)
	}
	if want := "1000\nread-only\nSeccomp:\t2\ncharacter special file\n"; out != want {
		t.Errorf("crictl exec printed %q, want %q (uid 1000, read-only root, seccomp filter, /proc/timer_list masked)", out, want)
	}
	// containerd asked for neither the filter nor the masked paths:
	// guard-runtime rewrote them in.
	if doc, _ := k.captured(t, "guard-restricted", ctrID); doc.Linux.Seccomp != nil || len(doc.Linux.MaskedPaths) != 0 {
		t.Errorf("containerd's config already had seccomp %s and masked paths %v", doc.Linux.Seccomp, doc.Linux.MaskedPaths)
	}
}

// The CRI has no exec as another user: crictl exec runs as the container's
// user, which k8s-restricted never lets be root. Any other client of
// containerd's API can ask the pod's shim for one, and that process file
// reaches the handler's guard-runtime, which judges it by the policy the
// container was created under.
func (k *guardedCRI) testExecAsRootIsDenied(t *testing.T) {
	podJSON := k.pod(t, "pod-restricted.json", "")
	podID := k.mustRunPod(t, "guard-restricted", podJSON)
	ctrID := k.mustRunContainer(t, podID, "ctr-restricted.json", podJSON)
	if out, err := k.Exec(ctrID, "id", "-u"); err != nil || out != "1000\n" {
		t.Fatalf("crictl exec: %q %v", out, err)
	}
	r := k.CtrExec(harness.CRINamespace, ctrID, []string{"--user", "0"}, "id", "-u")
	if r.Err == nil {
		t.Fatalf("exec as root ran in a k8s-restricted container, printing %q", r.Stdout)
	}
	t.Logf("ctr reported: %s", strings.TrimSpace(r.Stderr))
	wantAll(t, "ctr's error", r.Stderr, `policy "k8s-restricted" denied exec in container `+ctrID, "runs as root (uid 0)")
	if r := k.CtrExec(harness.CRINamespace, ctrID, []string{"--user", "1000"}, "id", "-u"); r.Err != nil || r.Stdout != "1000\n" {
		t.Errorf("the same exec as the container's own user: %q %v", r.Stdout, r.Err)
	}
}

// A privileged pod's sandbox looks like any other and is admitted; its
// privileged container is refused when containerd creates its task, at
// crictl start, and crictl shows guard-runtime's reason.
func (k *guardedCRI) testPrivilegedIsDenied(t *testing.T) {
	for handler, policy := range handlerPolicies {
		t.Run(handler, func(t *testing.T) {
			podJSON := k.pod(t, "pod-privileged.json", "")
			podID := k.mustRunPod(t, handler, podJSON)
			id, err := k.RunContainer(podID, criInput(t, "ctr-privileged.json"), podJSON)
			stderr := refusal(t, "privileged container", err)
			wantAll(t, "crictl's error", stderr, "starting the container", `guard-runtime: policy "`+policy+`" denied container `+id,
				"privileged containers are not allowed by policy "+policy)
		})
	}
}

func (k *guardedCRI) testHostPathEtcIsDenied(t *testing.T) {
	for handler, policy := range handlerPolicies {
		t.Run(handler, func(t *testing.T) {
			podJSON := k.pod(t, "pod-hostpath-etc.json", "")
			podID := k.mustRunPod(t, handler, podJSON)
			_, err := k.RunContainer(podID, criInput(t, "ctr-hostpath-etc.json"), podJSON)
			wantAll(t, "crictl's error", refusal(t, "hostPath /etc", err),
				"bind mount of /etc (the host's configuration) at /host-etc is not allowed by policy "+policy,
				"remove the hostPath volume from the pod")
		})
	}
}

// A hostNetwork pod's sandbox has no network namespace entry: it is the
// host's, and the pod is refused at crictl runp, before any container.
func (k *guardedCRI) testHostNetworkSandboxIsDenied(t *testing.T) {
	for handler, policy := range handlerPolicies {
		t.Run(handler, func(t *testing.T) {
			_, err := k.runPod(t, handler, k.pod(t, "pod-hostnet.json", ""))
			wantAll(t, "crictl's error", refusal(t, "hostNetwork pod", err),
				`guard-runtime: policy "`+policy+`" denied container`,
				"linux.namespaces has no network entry", "(Kubernetes: hostNetwork)")
		})
	}
}

// Were the sandbox admitted, the app container would be refused on its
// own: it names the pause process's /proc/<pid>/ns/net, which is the
// host's namespace. guard-apps lets the sandbox through to runc.
func (k *guardedCRI) testHostNetworkAppIsDenied(t *testing.T) {
	podJSON := k.pod(t, "pod-hostnet.json", "")
	podID := k.mustRunPod(t, "guard-apps", podJSON)
	pid, err := k.SandboxPID(podID)
	if err != nil {
		t.Fatal(err)
	}
	id, err := k.RunContainer(podID, criInput(t, "ctr-hostnet.json"), podJSON)
	netns := fmt.Sprintf("/proc/%d/ns/net", pid)
	wantAll(t, "crictl's error", refusal(t, "hostNetwork app container", err),
		`policy "k8s-baseline" denied container `+id, "the network namespace "+netns+" is the host's", "(Kubernetes: hostNetwork)")

	// The same document, judged offline by policy check, as an admin would.
	_, doc := k.captured(t, "guard-apps", id)
	if !strings.Contains(string(doc), `"path":"`+netns+`"`) {
		t.Fatalf("the app container's config does not join %s: %s", netns, doc)
	}
	file := filepath.Join(t.TempDir(), "config.json")
	writeFileMode(t, file, string(doc), 0o644)
	out, err := exec.Command(k.guard, "policy", "check", "--json", "--policy-dir", k.policies, "--policy", "k8s-baseline",
		"--config", file, "--id", id).Output()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("policy check: want exit status 1 (denied), got %v: %s", err, out)
	}
	var result struct {
		Decision   string `json:"decision"`
		Violations []struct {
			Control, Field string
		} `json:"violations"`
	}
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("policy check --json: %v: %s", err, out)
	}
	found := false
	for _, v := range result.Violations {
		found = found || v.Control == "hostNamespaces" && v.Field == "/linux/namespaces/4/path"
	}
	if result.Decision != "deny" || !found {
		t.Errorf("policy check: want the network namespace path denied, got %s", out)
	}
}

// config.yaml maps two Kubernetes namespaces to two policies; the mapping
// holds under either handler, for the sandbox and its containers.
func (k *guardedCRI) testPolicyPerNamespace(t *testing.T) {
	for handler := range handlerPolicies {
		t.Run(handler, func(t *testing.T) {
			podJSON := k.pod(t, "pod-plain.json", mappedToBaseline)
			podID := k.mustRunPod(t, handler, podJSON)
			ctrID := k.mustRunContainer(t, podID, "ctr-plain.json", podJSON)
			if out, err := k.Exec(ctrID, "id", "-u"); err != nil || out != "0\n" {
				t.Errorf("root container in %s: exec printed %q (%v), want uid 0", mappedToBaseline, out, err)
			}
			for _, id := range []string{podID, ctrID} {
				if got := k.admittedUnder(t, id); got != "k8s-baseline" {
					t.Errorf("%s in %s admitted under %q, want k8s-baseline", id, mappedToBaseline, got)
				}
			}

			podJSON = k.pod(t, "pod-plain.json", mappedToRestricted)
			podID = k.mustRunPod(t, handler, podJSON)
			if got := k.admittedUnder(t, podID); got != "k8s-restricted" {
				t.Errorf("sandbox in %s admitted under %q, want k8s-restricted", mappedToRestricted, got)
			}
			_, err := k.RunContainer(podID, criInput(t, "ctr-plain.json"), podJSON)
			wantAll(t, "crictl's error", refusal(t, "root container in "+mappedToRestricted, err),
				`policy "k8s-restricted" denied container`, "runs as root (uid 0)")
		})
	}
}
