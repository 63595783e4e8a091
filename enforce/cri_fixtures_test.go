package enforce

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// The acceptance table for Kubernetes nodes: every document containerd's
// CRI plugin wrote in testdata/cri (see its README.md), and what Docker's
// baseline and the Kubernetes policies make of it.

// criCase is one captured document and the verdicts it must get.
type criCase struct {
	file string
	// The verdicts under baseline, k8s-baseline and k8s-restricted.
	baseline, k8sBaseline, k8sRestricted Verdict
	// fields must each be named by a violation under both Kubernetes
	// policies; restrictedFields under k8s-restricted only.
	fields, restrictedFields []string
}

var criCases = []criCase{
	// Sandboxes: the pause container runs as 65535 (or the pod's user) with
	// containerd's defaults, but without seccomp unless the pod asks for it.
	{file: "plain-sandbox.json", baseline: DenyVerdict, k8sBaseline: RewriteDoc, k8sRestricted: RewriteDoc,
		fields: []string{"/linux/seccomp"}, restrictedFields: []string{"/process/capabilities/bounding"}},
	{file: "privileged-sandbox.json", baseline: DenyVerdict, k8sBaseline: RewriteDoc, k8sRestricted: RewriteDoc,
		fields: []string{"/linux/seccomp"}},
	{file: "seccomp-runtimedefault-sandbox.json", baseline: Allow, k8sBaseline: Allow, k8sRestricted: RewriteDoc,
		restrictedFields: []string{"/process/capabilities/bounding"}},
	{file: "kubelet-sandbox.json", baseline: Allow, k8sBaseline: Allow, k8sRestricted: RewriteDoc,
		restrictedFields: []string{"/process/capabilities/bounding"}},
	// A hostNetwork pod's sandbox has no network (and no uts) entry.
	{file: "hostnet-sandbox.json", baseline: DenyVerdict, k8sBaseline: DenyVerdict, k8sRestricted: DenyVerdict,
		fields: []string{"/linux/namespaces"}},

	// App containers. crictl's bare requests carry no seccomp, no masked
	// paths and no oomScoreAdj; the kubelet's carry all three.
	{file: "plain-container.json", baseline: DenyVerdict, k8sBaseline: RewriteDoc, k8sRestricted: DenyVerdict,
		fields:           []string{"/linux/seccomp", "/linux/maskedPaths", "/linux/readonlyPaths", "/process/oomScoreAdj"},
		restrictedFields: []string{"/process/user/uid"}},
	{file: "restricted-container.json", baseline: DenyVerdict, k8sBaseline: RewriteDoc, k8sRestricted: RewriteDoc,
		fields: []string{"/linux/seccomp", "/linux/maskedPaths", "/linux/readonlyPaths", "/process/oomScoreAdj"}},
	{file: "seccomp-runtimedefault-container.json", baseline: DenyVerdict, k8sBaseline: RewriteDoc, k8sRestricted: DenyVerdict,
		fields: []string{"/linux/maskedPaths"}, restrictedFields: []string{"/process/user/uid"}},
	{file: "kubelet-container.json", baseline: Allow, k8sBaseline: Allow, k8sRestricted: Allow},
	{file: "privileged-container.json", baseline: DenyVerdict, k8sBaseline: DenyVerdict, k8sRestricted: DenyVerdict,
		fields: []string{"/process/capabilities/bounding", "/linux/devices", "/linux/resources/devices/0",
			"/mounts/4/options", "/mounts/5/options"}}, // /sys and /sys/fs/cgroup, writable
	{file: "hostpath-etc-container.json", baseline: DenyVerdict, k8sBaseline: DenyVerdict, k8sRestricted: DenyVerdict,
		fields: []string{"/mounts/6/source"}, restrictedFields: []string{"/process/user/uid"}},
	// Its network namespace is the pause process's /proc/<pid>/ns/net, which
	// is the host's: only the inode tells.
	{file: "hostnet-container.json", baseline: DenyVerdict, k8sBaseline: DenyVerdict, k8sRestricted: DenyVerdict,
		fields: []string{"/linux/namespaces/2/path", "/linux/namespaces/4/path"}},

	// Exec process files carry the container's user: the CRI cannot exec as
	// another one.
	{file: "plain-exec.json", baseline: Allow, k8sBaseline: Allow, k8sRestricted: DenyVerdict, restrictedFields: []string{"/user/uid"}},
	{file: "restricted-exec.json", baseline: Allow, k8sBaseline: Allow, k8sRestricted: Allow},
	{file: "kubelet-exec.json", baseline: Allow, k8sBaseline: Allow, k8sRestricted: Allow},
}

var (
	// procNamespace is an app container's path to its pause process's namespaces.
	procNamespace = regexp.MustCompile(`/proc/[0-9]+/ns/`)
	// cniNetns is a sandbox's network namespace, mounted by containerd.
	cniNetns = regexp.MustCompile(`/run/containerd/io\.containerd\.grpc\.v1\.cri/netns/cni-[0-9a-f-]+`)
)

// criFixture reads a captured document with its host-specific namespace
// paths pointed at this machine: an app container's /proc/<pause pid>/ns/…
// at pause's, a sandbox's CNI namespace at pause's network namespace.
func criFixture(t *testing.T, name string, pause int) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "cri", name))
	if err != nil {
		t.Fatalf("read fixture: %v (restore testdata/cri from the repository)", err)
	}
	text := procNamespace.ReplaceAllString(string(data), fmt.Sprintf("/proc/%d/ns/", pause))
	text = cniNetns.ReplaceAllString(text, fmt.Sprintf("/proc/%d/ns/net", pause))
	return []byte(text)
}

// criContext is the call containerd's shim makes for a config: the
// container id is the last element of cgroupsPath, and the bundle lies in
// the shim's task directory.
func criContext(t *testing.T, data []byte) Context {
	t.Helper()
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s.Linux == nil || s.Linux.CgroupsPath == "" {
		t.Fatal("fixture has no cgroupsPath to take the container id from")
	}
	id := path.Base(s.Linux.CgroupsPath)
	return Context{Operation: OpCreate, ContainerID: id, Bundle: "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + id}
}

// judgeCRIFixture judges a captured document as the runtime is handed it.
func judgeCRIFixture(t *testing.T, p *Policy, name string, data []byte) *Decision {
	t.Helper()
	if strings.HasSuffix(name, "-exec.json") {
		doc, err := spec.DecodeProcess(data)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		d, err := EvaluateProcess(p, doc, Context{Operation: OpExec, ContainerID: fixtureContainerID})
		if err != nil {
			t.Fatalf("evaluate: %v", err)
		}
		return d
	}
	return judgeDocument(t, p, data, criContext(t, data))
}

// pauseFor starts a process in the namespaces the fixture's pause process
// had: a hostNetwork pod's shares the host's network and UTS namespaces.
func pauseFor(t *testing.T, name string) int {
	t.Helper()
	if strings.HasPrefix(name, "hostnet-") {
		return startInNewNamespaces(t, "--ipc")
	}
	return startInNewNamespaces(t, "--net", "--ipc", "--uts")
}

func TestCRIFixtures(t *testing.T) {
	policies := map[string]*Policy{}
	for _, name := range []string{"baseline", "k8s-baseline", "k8s-restricted"} {
		policies[name] = loadShipped(t, name)
	}
	for _, c := range criCases {
		t.Run(c.file, func(t *testing.T) {
			data := criFixture(t, c.file, pauseFor(t, c.file))
			for _, name := range []string{"baseline", "k8s-baseline", "k8s-restricted"} {
				d := judgeCRIFixture(t, policies[name], c.file, data)
				want, fields := c.baseline, []string(nil)
				switch name {
				case "k8s-baseline":
					want, fields = c.k8sBaseline, c.fields
				case "k8s-restricted":
					want, fields = c.k8sRestricted, append(slices.Clone(c.fields), c.restrictedFields...)
				}
				if d.Verdict != want {
					t.Errorf("%s: verdict %s, want %s; violations %+v", name, d.Verdict, want, d.Violations)
				}
				for _, field := range fields {
					if !hasViolationAt(d, field) {
						t.Errorf("%s: no violation at %s: %+v", name, field, d.Violations)
					}
				}
			}
		})
	}
}

// Every captured document has a row, so that a new capture is judged.
func TestCRIFixturesAreAllInTheTable(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cri", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/cri (%v): restore them from the repository", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if !slices.ContainsFunc(criCases, func(c criCase) bool { return c.file == name }) {
			t.Errorf("%s has no row in criCases", name)
		}
	}
}

// The rewrites make what the kubelet would have sent: the runtime default
// seccomp profile, the kubelet's masked paths, a neutral OOM score; and for
// a sandbox under k8s-restricted, no capability but NET_BIND_SERVICE (kept
// for the app containers that add it back; the pause process has no use
// for it, but cannot be told from them without trusting an annotation).
func TestCRIRewritesGiveTheRuntimeDefaults(t *testing.T) {
	pause := startInNewNamespaces(t, "--net", "--ipc", "--uts")
	data := criFixture(t, "restricted-container.json", pause)
	d := judgeCRIFixture(t, loadShipped(t, "k8s-restricted"), "restricted-container.json", data)
	var got specs.Spec
	if err := d.Result.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	if got.Linux.Seccomp == nil || got.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Errorf("seccomp rewritten to %+v, want the runtime default profile", got.Linux.Seccomp)
	}
	want := loadShipped(t, "k8s-baseline").Controls.MaskedPaths
	if !slices.Equal(got.Linux.MaskedPaths, want.Masked) || !slices.Equal(got.Linux.ReadonlyPaths, want.Readonly) {
		t.Errorf("masked %v, read-only %v: want the kubelet's defaults", got.Linux.MaskedPaths, got.Linux.ReadonlyPaths)
	}
	if got.Process.OOMScoreAdj == nil || *got.Process.OOMScoreAdj != 0 {
		t.Errorf("oomScoreAdj rewritten to %v, want 0", got.Process.OOMScoreAdj)
	}
	if !slices.Equal(got.Process.Capabilities.Bounding, []string{"CAP_NET_BIND_SERVICE"}) {
		t.Errorf("the pod's NET_BIND_SERVICE was not kept: %v", got.Process.Capabilities.Bounding)
	}

	sandbox := criFixture(t, "plain-sandbox.json", pause)
	d = judgeCRIFixture(t, loadShipped(t, "k8s-restricted"), "plain-sandbox.json", sandbox)
	got = specs.Spec{}
	if err := d.Result.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]string{got.Process.Capabilities.Bounding, got.Process.Capabilities.Effective, got.Process.Capabilities.Permitted} {
		if !slices.Equal(set, []string{"CAP_NET_BIND_SERVICE"}) {
			t.Errorf("the pause container keeps %v under k8s-restricted", set)
		}
	}
	if got.Process.User.UID != 65535 || got.Linux.Seccomp == nil {
		t.Errorf("sandbox rewritten to uid %d, seccomp %v", got.Process.User.UID, got.Linux.Seccomp != nil)
	}
}

// Only the Kubernetes policies admit ordinary pods; Docker's baseline denies
// what crictl and a kubelet without SeccompDefault send, and says so.
func TestCRIDockerBaselineSaysWhyAPodIsDenied(t *testing.T) {
	pause := startInNewNamespaces(t, "--net", "--ipc", "--uts")
	data := criFixture(t, "plain-sandbox.json", pause)
	d := judgeCRIFixture(t, loadShipped(t, "baseline"), "plain-sandbox.json", data)
	if d.Verdict != DenyVerdict || !strings.Contains(d.Reason(), "no seccomp filter") {
		t.Fatalf("%s: %s", d.Verdict, d.Reason())
	}
}

// An absent profile cannot be told from Unconfined and gets the runtime
// default; a profile that is there and allows every call is an explicit
// request to run unconfined, and the Kubernetes policies deny it.
func TestCRIExplicitUnconfinedSeccompIsDenied(t *testing.T) {
	pause := startInNewNamespaces(t, "--net", "--ipc", "--uts")
	var doc map[string]any
	if err := json.Unmarshal(criFixture(t, "kubelet-container.json", pause), &doc); err != nil {
		t.Fatal(err)
	}
	doc["linux"].(map[string]any)["seccomp"] = map[string]any{"defaultAction": "SCMP_ACT_ALLOW"}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, policy := range []string{"k8s-baseline", "k8s-restricted"} {
		d := judgeCRI(t, loadShipped(t, policy), data)
		if d.Verdict != DenyVerdict || !hasViolationAt(d, "/linux/seccomp/defaultAction") {
			t.Errorf("%s: an allow-all seccomp profile got %s: %+v", policy, d.Verdict, d.Violations)
		}
	}
}
