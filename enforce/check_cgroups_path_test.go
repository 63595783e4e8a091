package enforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// shimCgroups are the cgroups of runc, as /proc/self/cgroup lists them on
// a hybrid host, when containerd's shim runs it: containerd's.
const shimCgroups = `12:pids:/system.slice/containerd.service
11:memory:/system.slice/containerd.service
4:cpu,cpuacct:/system.slice/containerd.service
1:name=systemd:/system.slice/containerd.service
0::/system.slice/containerd.service
`

// initCgroups are systemd's, as /proc/1/cgroup lists them on a hybrid host.
const initCgroups = `12:pids:/
11:memory:/
4:cpu,cpuacct:/
1:name=systemd:/init.scope
0::/init.scope
`

// fakeCgroups points cgroupHost at a cgroup tree of the test's own, laid
// out as on a hybrid host (a directory per v1 hierarchy, cpu a link to
// cpu,cpuacct, cgroup v2 at unified/) or, when unified, as on cgroup v2,
// with runc's and init's cgroups as given, and the cgroups that exist,
// relative to its root. It returns the root.
func fakeCgroups(t *testing.T, unified bool, self, init string, existing ...string) string {
	t.Helper()
	root, files := t.TempDir(), t.TempDir()
	if !unified {
		for _, h := range []string{"pids", "memory", "cpu,cpuacct", "systemd", "unified"} {
			mustMkdir(t, filepath.Join(root, h))
		}
		mustSymlink(t, "cpu,cpuacct", filepath.Join(root, "cpu"))
		mustSymlink(t, "cpu,cpuacct", filepath.Join(root, "cpuacct"))
	}
	for _, dir := range existing {
		// Every cgroup has its cgroup.procs; "busy" ones hold a process.
		dir, busy := strings.CutSuffix(dir, " busy")
		mustMkdir(t, filepath.Join(root, dir))
		procs := ""
		if busy {
			procs = "4242\n"
		}
		for d := dir; d != "." && d != "/"; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(root, d, "cgroup.procs")); err != nil || d == dir {
				writeFile(t, filepath.Join(root, d), "cgroup.procs", []byte(procs))
			}
			procs = ""
		}
	}
	saved := cgroupHost
	t.Cleanup(func() { cgroupHost = saved })
	cgroupHost = cgroupLayout{root: root,
		self: writeFile(t, files, "self", []byte(self)), init: writeFile(t, files, "init", []byte(init)),
		unified: func(*dir) (bool, error) { return unified, nil }}
	return root
}

func withCgroupsPath(p string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.CgroupsPath = p }
}

func TestCgroupsPathFixtures(t *testing.T) {
	fakeCgroups(t, false, shimCgroups, initCgroups,
		"memory/victim", "pids/pidsonly", "cpu,cpuacct/cpuonly", "unified/v2only", "memory/docker",
		"memory/docker/running busy", "memory/parent/deeper", "memory/dind busy", "memory/dind/inner",
		"memory/system.slice/containerd.service busy", "memory/system.slice/containerd.service/tenant busy",
		"memory/system.slice/containerd.service/sibling")
	deny := func(name, p string) fixture {
		return fixture{name: name, change: withCgroupsPath(p), verdict: DenyVerdict, field: cgroupsPathField}
	}
	allow := func(name, p string) fixture {
		return fixture{name: name, change: withCgroupsPath(p), verdict: Allow}
	}
	runFixtures(t, "baseline", compliantSpec, []fixture{
		allow("none: runc makes its own", ""),
		allow("a fresh leaf, as Docker gives", "/docker/d918ce055f27"),
		deny("another container's", "/victim"),
		// docker run --cgroup-parent /docker/<other id>: charged to that container's limits.
		deny("inside a cgroup with processes", "/docker/running/new"),
		deny("deeper inside a cgroup with processes", "/docker/running/x/y/new"),
		allow("inside a parent without processes", "/parent/deeper/new"),
		// The nearest parent is empty, one above it holds the processes.
		deny("inside an empty cgroup of a busy one", "/dind/inner/new"),
		// On v1 a relative path lies below runc's own cgroup, which holds runc.
		allow("relative, below runc's own cgroup", "fresh"),
		deny("relative, inside a busy cgroup below runc's", "tenant/new"),
		deny("existing in one hierarchy only", "/pidsonly"),
		deny("existing through the cpu link", "/cpuonly"),
		deny("existing in the hybrid host's cgroup v2", "/v2only"),
		deny("an engine's parent", "/docker"),
		deny("another container's, behind ..", "/x/../victim"),
		deny("a fresh one, behind ..", "/x/../fresh"),
		deny("the root, spelt with ..", "/x/../"),
		deny("the root", "/"),
		deny("the root, spelt //", "//"),
		deny("relative, climbing", "../victim"),
		deny("runc's own cgroup", "."),
		deny("runc's own cgroup, spelt ./", "./"),
		deny("relative, beside another below runc's cgroup", "sibling"),
		allow("relative, fresh below runc's cgroup", "victim"),
		allow("systemd's form without --systemd-cgroup is a relative path", "system.slice:docker:abc"),
	})
	for _, name := range Available(shippedPolicies) {
		d := judgeSpec(t, loadShipped(t, name), cgroupsPathSpec("/victim"))
		if !hasViolationAt(d, cgroupsPathField) {
			t.Errorf("policy %s admits another container's cgroup: %+v", name, d.Violations)
		}
	}
}

func cgroupsPathSpec(p string) *specs.Spec {
	s := compliantSpec()
	s.Linux.CgroupsPath = p
	return s
}

// Where the hierarchy cpu,cpuacct is mounted under that name alone, runc
// finds it through the mount table; so does the judgement, by its name.
func TestCgroupsPathInAJoinedHierarchyWithoutLinks(t *testing.T) {
	root := fakeCgroups(t, false, shimCgroups, initCgroups,
		"cpu,cpuacct/victim", "cpu,cpuacct/system.slice/containerd.service/sibling", "cpu,cpuacct/system.slice/docker-v.scope")
	for _, link := range []string{"cpu", "cpuacct"} {
		if err := os.Remove(filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	baseline := loadShipped(t, "baseline")
	for _, p := range []string{"/victim", "sibling"} {
		if d := judgeSpec(t, baseline, cgroupsPathSpec(p)); !hasViolationAt(d, cgroupsPathField) {
			t.Errorf("%s, existing in cpu,cpuacct, is admitted: %+v", p, d.Violations)
		}
	}
	if d := judgeWithSystemd(t, baseline, cgroupsPathSpec("system.slice:docker:v")); !hasViolationAt(d, cgroupsPathField) {
		t.Errorf("a scope existing in cpu,cpuacct is admitted: %+v", d.Violations)
	}
}

// On cgroup v2 runc places a relative path below the parent of its own
// cgroup: "containerd.service" is containerd's own cgroup.
func TestCgroupsPathOnCgroupV2(t *testing.T) {
	fakeCgroups(t, true, "0::/system.slice/containerd.service\n", "0::/init.scope\n",
		"victim", "system.slice/containerd.service/inner", "init.scope busy", "system.slice/containerd.service busy")
	runFixtures(t, "baseline", compliantSpec, []fixture{
		{name: "fresh", change: withCgroupsPath("/docker/abc"), verdict: Allow},
		{name: "another container's", change: withCgroupsPath("/victim"), verdict: DenyVerdict, field: cgroupsPathField},
		{name: "containerd's, relative", change: withCgroupsPath("containerd.service"), verdict: DenyVerdict, field: cgroupsPathField},
		{name: "fresh, relative, beside containerd's", change: withCgroupsPath("inner"), verdict: Allow},
		// A parent just below the root is a cgroup too on v2.
		{name: "inside a busy cgroup below the root", change: withCgroupsPath("/init.scope/new"), verdict: DenyVerdict, field: cgroupsPathField},
		// runc places a relative path below the parent of its own cgroup on v2:
		// --cgroup-parent containerd.service of Docker's cgroupfs driver.
		{name: "relative, inside runc's busy cgroup", change: withCgroupsPath("containerd.service/new"), verdict: DenyVerdict, field: cgroupsPathField},
		{name: "relative, fresh beside runc's cgroup", change: withCgroupsPath("fresh"), verdict: Allow},
	})
}

// judgeWithSystemd judges s as a create with runc's --systemd-cgroup.
func judgeWithSystemd(t *testing.T, p *Policy, s *specs.Spec) *Decision {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	ctx := Context{Operation: OpCreate, ContainerID: "fixture"}
	ctx.Call.SystemdCgroup = true
	return judgeDocument(t, p, data, ctx)
}

// runc 1.1.5 ignores systemd's "unit exists" and joins the unit.
func TestCgroupsPathWithSystemd(t *testing.T) {
	baseline := loadShipped(t, "baseline")
	cases := map[string]string{ // path → what the message says, "" when admitted
		"system.slice:docker:fresh":                         "",
		"kubepods-besteffort-podu.slice:cri-containerd:new": "",
		"system.slice:docker:victim":                        "exists already",
		":docker:victim":                                    "exists already",
		"kubepods-besteffort-podu.slice:cri-containerd:v":   "exists already",
		"system.slice:docker:kubepods.slice":                "makes the container's unit the slice kubepods.slice",
		"system.slice:docker:../x":                          `has the part "../x"`,
		"system.slice:docker:a/b":                           `has the part "a/b"`,
		"a/b.slice:docker:x":                                `has the part "a/b.slice"`,
		"/docker/abc":                                       "is not slice:prefix:name",
		"system.slice:docker":                               "is not slice:prefix:name",
		"system:docker:x":                                   `"system" is not a slice name`,
		"a--b.slice:docker:x":                               "empty component",
	}
	fakeCgroups(t, false, shimCgroups, initCgroups,
		"memory/system.slice/docker-victim.scope",
		"systemd/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podu.slice/cri-containerd-v.scope")
	for p, want := range cases {
		t.Run(p, func(t *testing.T) {
			d := judgeWithSystemd(t, baseline, cgroupsPathSpec(p))
			if want == "" {
				if d.Verdict != Allow {
					t.Fatalf("verdict %s: %+v", d.Verdict, d.Violations)
				}
				return
			}
			if v := violationAt(d, cgroupsPathField); d.Verdict != DenyVerdict || !strings.Contains(v.Message, want) {
				t.Fatalf("verdict %s, want deny saying %q: %+v", d.Verdict, want, d.Violations)
			}
		})
	}
	t.Run("cgroup v2", func(t *testing.T) {
		fakeCgroups(t, true, "0::/system.slice/containerd.service\n", "0::/init.scope\n", "system.slice/docker-victim.scope")
		if d := judgeWithSystemd(t, baseline, cgroupsPathSpec("system.slice:docker:victim")); !hasViolationAt(d, cgroupsPathField) {
			t.Errorf("an existing scope on cgroup v2 is admitted: %+v", d.Violations)
		}
		if d := judgeWithSystemd(t, baseline, cgroupsPathSpec("system.slice:docker:fresh")); d.Verdict != Allow {
			t.Errorf("a fresh scope on cgroup v2 is refused: %+v", d.Violations)
		}
	})
}

// What the captured engines hand the runtime is admitted while the
// container's cgroup does not exist, and refused when the same config
// comes again for a container that runs.
func TestCgroupsPathOfEngineConfigsIsTheirOwn(t *testing.T) {
	docker := thisProcessIsTheDaemon(t, "baseline")
	k8s := loadShipped(t, "k8s-baseline")
	cri := criFixture(t, "kubelet-container.json", pauseFor(t, "kubelet-container.json"))
	for cgroup, judge := range map[string]func() *Decision{
		"memory/docker/d918ce055f27093aaad30d6f5eb40999d0a21ba046a56728b8832ff5a8c04493": func() *Decision {
			return judgeDockerFixture(t, docker, "default.json")
		},
		"pids/kubepods/besteffort/pod6f0c7a52-1d1e-4c61-9a3e-000000000007/f692774e81d2a84a8e6d04f2a751ad8f93ec176904d4ad441ba71316cc110c0f": func() *Decision {
			return judgeDocument(t, k8s, cri, criContext(t, cri))
		},
	} {
		// The engine's parent, /docker or the pod's cgroup, exists.
		fakeCgroups(t, false, shimCgroups, initCgroups, filepath.Dir(cgroup))
		if d := judge(); d.Verdict == DenyVerdict {
			t.Errorf("%s: a fresh container is refused: %+v", cgroup, d.Violations)
		}
		fakeCgroups(t, false, shimCgroups, initCgroups, cgroup)
		if d := judge(); d.Verdict != DenyVerdict || !hasViolationAt(d, cgroupsPathField) {
			t.Errorf("%s: a second container in a running one's cgroup is admitted: %+v", cgroup, d.Violations)
		}
	}
}

// A create reads the path as runc does with the call's --systemd-cgroup,
// and so does policy check with its own.
func TestCgroupsPathIsReadAsTheCallHasRuncReadIt(t *testing.T) {
	fakeCgroups(t, false, shimCgroups, initCgroups, "memory/system.slice/docker-victim.scope")
	bundle := testBundleIn(t, filepath.Join(t.TempDir(), "b"), cgroupsPathSpec("system.slice:docker:victim"))
	mustContain(t, testGate(t, "--root", t.TempDir(), "--systemd-cgroup", "create", "--bundle", bundle, "c1").enforce(),
		`linux.cgroupsPath "system.slice:docker:victim" is the cgroup `)
	// Without it runc makes system.slice:docker:victim below its own cgroup.
	if err := testGate(t, "--root", t.TempDir(), "create", "--bundle", bundle, "c1").enforce(); err != nil {
		t.Errorf("a fresh relative path is refused: %v", err)
	}
	for args, want := range map[string]int{"": ExitAdmitted, "--systemd-cgroup": ExitDenied} {
		var out, errOut bytes.Buffer
		status := PolicyCommand(append([]string{"check", "--policy-dir", shippedPolicies, "--policy", "baseline", "--bundle", bundle}, strings.Fields(args)...), &out, &errOut)
		if status != want {
			t.Errorf("policy check %s: exit %d, want %d: %s%s", args, status, want, out.String(), errOut.String())
		}
	}
}

func TestCgroupsPathThatCannotBeJudgedIsDenied(t *testing.T) {
	baseline := loadShipped(t, "baseline")
	fakeCgroups(t, false, shimCgroups, initCgroups)
	cgroupHost.self = filepath.Join(t.TempDir(), "missing")
	if d := judgeSpec(t, baseline, cgroupsPathSpec("relative")); !strings.Contains(violationAt(d, cgroupsPathField).Message, "cannot be judged") {
		t.Errorf("unreadable cgroups of runc: %+v", d.Violations)
	}
	cgroupHost.self = writeFile(t, t.TempDir(), "self", []byte("not a cgroup line\n"))
	if d := judgeSpec(t, baseline, cgroupsPathSpec("relative")); !strings.Contains(violationAt(d, cgroupsPathField).Message, "is not a line of hierarchy id") {
		t.Errorf("malformed cgroups of runc: %+v", d.Violations)
	}
	cgroupHost.init = cgroupHost.self
	if d := judgeWithSystemd(t, baseline, cgroupsPathSpec("system.slice:docker:abc")); !strings.Contains(violationAt(d, cgroupsPathField).Message, "is not a line of hierarchy id") {
		t.Errorf("malformed cgroups of init: %+v", d.Violations)
	}
	cgroupHost.unified = func(*dir) (bool, error) { return false, errors.New("statfs: not permitted") }
	if d := judgeSpec(t, baseline, cgroupsPathSpec("/docker/abc")); !strings.Contains(violationAt(d, cgroupsPathField).Message, "statfs: not permitted") {
		t.Errorf("a root whose filesystem cannot be told: %+v", d.Violations)
	}
	cgroupHost.root = filepath.Join(t.TempDir(), "missing")
	if d := judgeSpec(t, baseline, cgroupsPathSpec("/docker/abc")); !strings.Contains(violationAt(d, cgroupsPathField).Message, "the cgroup hierarchies cannot be found") {
		t.Errorf("no hierarchies: %+v", d.Violations)
	}
	fakeCgroups(t, true, "1:name=systemd:/\n", initCgroups)
	if d := judgeSpec(t, baseline, cgroupsPathSpec("relative")); !strings.Contains(violationAt(d, cgroupsPathField).Message, "names no cgroup v2 cgroup") {
		t.Errorf("no cgroup v2 entry on cgroup v2: %+v", d.Violations)
	}
	// A file of a cgroup stands in the way.
	root := fakeCgroups(t, false, shimCgroups, initCgroups)
	writeFile(t, filepath.Join(root, "memory"), "memory.limit_in_bytes", []byte("9223372036854771712\n"))
	if d := judgeSpec(t, baseline, cgroupsPathSpec("/memory.limit_in_bytes/x")); d.Verdict != DenyVerdict {
		t.Errorf("a path through a cgroup's file is admitted: %+v", d.Violations)
	}
}

func TestExpandSliceFollowsRunc(t *testing.T) {
	for slice, want := range map[string]string{
		"system.slice":                   "/system.slice",
		"-.slice":                        "/",
		"kubepods-besteffort-pod1.slice": "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice",
		"x":                              "",
		".slice":                         "",
		"a--b.slice":                     "",
		"-a.slice":                       "",
		"a-.slice":                       "",
	} {
		got, err := expandSlice(slice)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("expandSlice(%q) = %q, %v; want %q", slice, got, err, want)
		}
	}
}

// The host's own layout is found where runc finds it.
func TestCgroupsPathReadsThisHost(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup"); err != nil {
		t.Skip("no /sys/fs/cgroup here")
	}
	root, err := openDir(cgroupHost.root)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	dirs, err := cgroupHost.cgroupfsDirs(root, "/guard-runtime-test-cgroup")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("dirs %v, %v", dirs, err)
	}
	for _, dir := range dirs {
		if info, err := os.Stat(filepath.Join("/sys/fs/cgroup", filepath.Dir(dir))); err != nil || !info.IsDir() || filepath.Base(dir) != "guard-runtime-test-cgroup" {
			t.Errorf("%s is not in a hierarchy under /sys/fs/cgroup: %v", dir, err)
		}
	}
	if d := judgeSpec(t, loadShipped(t, "baseline"), cgroupsPathSpec("/")); !hasViolationAt(d, cgroupsPathField) {
		t.Errorf("the root cgroup is admitted: %+v", d.Violations)
	}
}

// What the check costs a create of Docker's on this host: a statfs, a
// listing of /sys/fs/cgroup and an lstat in each hierarchy.
func BenchmarkCgroupsPathOfADockerCreate(b *testing.B) {
	if _, err := os.Stat("/sys/fs/cgroup"); err != nil {
		b.Skip("no /sys/fs/cgroup here")
	}
	in := &Input{Spec: cgroupsPathSpec("/docker/d918ce055f27093aaad30d6f5eb40999d0a21ba046a56728b8832ff5a8c04493")}
	c := &CgroupsPath{}
	for b.Loop() {
		r := &Report{}
		c.Check(in, r)
		if len(r.violations) > 0 {
			b.Fatal(r.violations)
		}
	}
}

// The hierarchies are listed as os.ReadDir would list them: directories
// only, a link to one (cpu -> cpu,cpuacct) and a file left out, and more
// entries than one read of the directory returns.
func TestSubdirectoriesListsTheDirectories(t *testing.T) {
	root := t.TempDir()
	want := []string{"cpu,cpuacct", "memory"}
	for i := range 300 {
		want = append(want, fmt.Sprintf("hierarchy-with-a-long-name-%03d", i))
	}
	for _, name := range want {
		if err := os.Mkdir(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("cpu,cpuacct", filepath.Join(root, "cpu")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "release_agent", nil)
	d, err := openDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := d.subdirectories()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("listed %d names, want the %d directories: %v", len(got), len(want), got)
	}
}

// Without a linux.cgroupsPath runc names the container's cgroup after its
// id, below its own cgroup (or the scope runc-<id>.scope in system.slice
// with --systemd-cgroup): a cgroup of that name that exists is joined and
// its limits rewritten like any other.
func TestCgroupsPathAbsentIsTheContainerID(t *testing.T) {
	fakeCgroups(t, false, shimCgroups, initCgroups,
		"pids/system.slice/containerd.service/fixture", "memory/system.slice/runc-fixture.scope")
	baseline := loadShipped(t, "baseline")
	if d := judgeSpecIn(t, baseline, compliantSpec(), Context{Operation: OpCreate, ContainerID: "fixture"}); !strings.Contains(violationAt(d, cgroupsPathField).Message, `the container's cgroup "fixture" (no linux.cgroupsPath, so runc names it after the container id) is the cgroup`) {
		t.Errorf("an existing cgroup named like the id: %+v", d.Violations)
	}
	if d := judgeWithSystemd(t, baseline, compliantSpec()); !strings.Contains(violationAt(d, cgroupsPathField).Message, "exists already") {
		t.Errorf("an existing runc-<id>.scope: %+v", d.Violations)
	}
	if d := judgeSpecIn(t, baseline, compliantSpec(), Context{Operation: OpCreate, ContainerID: "fresh"}); hasViolationAt(d, cgroupsPathField) {
		t.Errorf("a new cgroup named like the id: %+v", d.Violations)
	}
}
