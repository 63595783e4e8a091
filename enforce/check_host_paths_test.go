package enforce

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// hostMountControls are the controls of the host namespaces and mounts.
var hostMountControls = []string{"hostNamespaces", "hostPaths", "mountDestinations", "mountTypes", "mountPropagation"}

// judgeSpecIn judges s with a given runtime call context.
func judgeSpecIn(t *testing.T, p *Policy, s *specs.Spec, ctx Context) *Decision {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return judgeDocument(t, p, data, ctx)
}

func judgeDocument(t *testing.T, p *Policy, data []byte, ctx Context) *Decision {
	t.Helper()
	doc, err := spec.DecodeConfig(data)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	d, err := EvaluateConfig(p, doc, ctx)
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return d
}

func violationAt(d *Decision, field string) Violation {
	for _, v := range d.Violations {
		if v.Field == field {
			return v
		}
	}
	return Violation{}
}

// hostMountViolations lists "control field" of the violations of the host
// namespace and mount controls, sorted.
func hostMountViolations(d *Decision) []string {
	var out []string
	for _, v := range d.Violations {
		if slices.Contains(hostMountControls, v.Control) {
			out = append(out, v.Control+" "+v.Field)
		}
	}
	sort.Strings(out)
	return out
}

func addMount(m specs.Mount) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Mounts = append(s.Mounts, m) }
}

// dockerBind is a mount as docker run -v writes it.
func dockerBind(source, destination string, extra ...string) specs.Mount {
	return specs.Mount{Destination: destination, Type: "bind", Source: source, Options: append([]string{"rbind", "rprivate"}, extra...)}
}

// newMountField is the field of a mount appended to the compliant spec.
var newMountField = fmt.Sprintf("/mounts/%d/source", len(compliantSpec().Mounts))

// verdicts are what baseline and restricted must make of one case.
type verdicts struct{ baseline, restricted Verdict }

var (
	denyBoth      = verdicts{DenyVerdict, DenyVerdict}
	allowBaseline = verdicts{Allow, DenyVerdict}
	allowBoth     = verdicts{Allow, Allow}
)

// underBoth runs judge as a subtest under each of baseline and restricted,
// with the verdict wanted there.
func (v verdicts) underBoth(t *testing.T, name string, judge func(t *testing.T, p *Policy, want Verdict)) {
	t.Helper()
	for _, policy := range []string{"baseline", "restricted"} {
		want := v.baseline
		if policy == "restricted" {
			want = v.restricted
		}
		t.Run(policy+"/"+name, func(t *testing.T) { judge(t, loadShipped(t, policy), want) })
	}
}

func TestHostPathsFixtures(t *testing.T) {
	id := "fixture" // the container id judgeSpec gives
	cases := []struct {
		name  string
		mount specs.Mount
		want  verdicts
	}{
		{"Docker API socket", dockerBind("/var/run/docker.sock", "/var/run/docker.sock"), denyBoth},
		{"Docker API socket under /run", dockerBind("/run/docker.sock", "/docker.sock"), denyBoth},
		{"containerd socket", dockerBind("/run/containerd/containerd.sock", "/c.sock"), denyBoth},
		{"CRI-O socket", dockerBind("/var/run/crio/crio.sock", "/c.sock"), denyBoth},
		{"Podman socket", dockerBind("/run/podman/podman.sock", "/p.sock"), denyBoth},
		{"/etc", dockerBind("/etc", "/host-etc"), denyBoth},
		{"inside /etc", dockerBind("/etc/ssl/certs", "/certs", "ro"), denyBoth},
		{"/etc with a trailing slash", dockerBind("/etc/", "/host-etc"), denyBoth},
		{"/etc through // and ..", dockerBind("//srv/../etc", "/host-etc"), denyBoth},
		{"/etcetera is not /etc", dockerBind("/etcetera", "/x"), allowBaseline},
		{"/ (the host's root)", dockerBind("/", "/host"), denyBoth},
		{"/var holds /var/lib/docker", dockerBind("/var", "/host-var"), denyBoth},
		{"/var/lib holds /var/lib/kubelet", dockerBind("/var/lib", "/x"), denyBoth},
		{"/var/lib/docker", dockerBind("/var/lib/docker", "/x"), denyBoth},
		{"another container's files", dockerBind("/var/lib/docker/containers/0123456789abcdef/hosts", "/etc/hosts"), denyBoth},
		{"/boot", dockerBind("/boot", "/boot"), denyBoth},
		{"/dev", dockerBind("/dev", "/dev"), denyBoth},
		{"host /dev/shm (--ipc host)", dockerBind("/dev/shm", "/dev/shm"), denyBoth},
		{"/proc", dockerBind("/proc", "/host-proc"), denyBoth},
		{"/sys/fs/cgroup", dockerBind("/sys/fs/cgroup", "/cg"), denyBoth},
		{"/usr", dockerBind("/usr", "/usr", "ro"), denyBoth},
		{"/root", dockerBind("/root/.ssh", "/ssh"), denyBoth},
		{"/run/user", dockerBind("/run/user/1000", "/x"), denyBoth},
		{"/var/lib/kubelet", dockerBind("/var/lib/kubelet/pods", "/x"), denyBoth},
		{"/var/lib/containerd", dockerBind("/var/lib/containerd", "/x"), denyBoth},
		{"a plain host directory", dockerBind("/srv/data", "/data"), allowBaseline},
		{"a home directory", dockerBind("/home/user/src", "/src"), allowBaseline},
		{"bind by options whatever the type", specs.Mount{Destination: "/x", Type: "none", Source: "/etc", Options: []string{"bind"}}, denyBoth},
		{"type bind without bind option names a host path too", specs.Mount{Destination: "/x", Type: "bind", Source: "/etc"}, denyBoth},
		{"a host block device", specs.Mount{Destination: "/mnt", Type: "ext4", Source: "/dev/sda1"}, denyBoth},
		{"a non-bind mount of a host path", specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "/srv/data"}, allowBaseline},
		{"tmpfs names no host path", specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid"}}, allowBoth},
		// Engine-managed binds.
		{"the container's own hosts", dockerBind("/var/lib/docker/containers/"+id+"/hosts", "/etc/hosts"), allowBoth},
		{"the container's own resolv.conf", dockerBind("/var/lib/docker/containers/"+id+"/resolv.conf", "/etc/resolv.conf"), allowBoth},
		{"the container's own shareable shm", dockerBind("/var/lib/docker/containers/"+id+"/mounts/shm", "/dev/shm"), allowBoth},
		{"another file of the container", dockerBind("/var/lib/docker/containers/"+id+"/config.v2.json", "/c"), denyBoth},
		{"the container's dir itself", dockerBind("/var/lib/docker/containers/"+id, "/c"), denyBoth},
		{"a named volume", specs.Mount{Destination: "/data", Type: "bind", Source: "/var/lib/docker/volumes/data/_data", Options: []string{"rbind"}}, allowBoth},
		// Containers write inside a volume: a link swapped in there between
		// the check and runc's mount led a bind to the host's /etc.
		{"inside a named volume", dockerBind("/var/lib/docker/volumes/data/_data/sub", "/sub"), denyBoth},
		{"a volume's metadata", dockerBind("/var/lib/docker/volumes/metadata.db", "/m"), denyBoth},
		{"a volume escaping by ..", dockerBind("/var/lib/docker/volumes/data/_data/../../../../../../etc", "/x"), denyBoth},
		{"--init", specs.Mount{Destination: "/sbin/docker-init", Type: "bind", Source: "/usr/bin/docker-init", Options: []string{"bind", "ro"}}, allowBoth},
		{"docker-init writable", specs.Mount{Destination: "/sbin/docker-init", Type: "bind", Source: "/usr/bin/docker-init", Options: []string{"bind", "ro", "rw"}}, denyBoth},
		{"docker-init elsewhere", specs.Mount{Destination: "/bin/init", Type: "bind", Source: "/usr/bin/docker-init", Options: []string{"bind", "ro"}}, denyBoth},
		{"a pod's volume without its annotations", dockerBind("/var/lib/kubelet/pods/00000000-0000-4000-8000-000000000010/volumes/kubernetes.io~empty-dir/x", "/x"), denyBoth},
	}
	for _, c := range cases {
		c.want.underBoth(t, c.name, func(t *testing.T, p *Policy, verdict Verdict) {
			d := judgeSpec(t, p, func() *specs.Spec { s := compliantSpec(); addMount(c.mount)(s); return s }())
			got := hostMountViolations(d)
			denied := slices.Contains(got, "hostPaths "+newMountField)
			if denied != (verdict == DenyVerdict) {
				t.Fatalf("hostPaths denial %v, want verdict %s: %v", denied, verdict, d.Violations)
			}
			if verdict == Allow && d.Verdict != Allow {
				t.Fatalf("verdict %s: %+v", d.Verdict, d.Violations)
			}
		})
	}
}

func TestHostPathsMessageSaysWhatAndWhatToDo(t *testing.T) {
	d := judgeSpec(t, loadShipped(t, "baseline"), func() *specs.Spec {
		s := compliantSpec()
		addMount(dockerBind("/var/run/docker.sock", "/var/run/docker.sock"))(s)
		return s
	}())
	msg := violationAt(d, newMountField).Message
	for _, want := range []string{"bind mount of /var/run/docker.sock", "Docker API socket", "policy baseline", "remove the -v"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	d = judgeSpec(t, loadShipped(t, "baseline"), func() *specs.Spec {
		s := compliantSpec()
		addMount(dockerBind("/var", "/host-var"))(s)
		return s
	}())
	if msg := violationAt(d, newMountField).Message; !strings.Contains(msg, "(holds /var/") {
		t.Errorf("an ancestor's message should say which sensitive path it holds: %s", msg)
	}
}

func TestHostPathsResolveAsTheKernelDoes(t *testing.T) {
	dir := t.TempDir()
	mustSymlink(t, "/etc", filepath.Join(dir, "etc-link"))
	mustSymlink(t, "/usr/share", filepath.Join(dir, "share"))
	mustSymlink(t, "/guard-runtime-no-such-dir/x", filepath.Join(dir, "dangling"))
	mustSymlink(t, "/etc/guard-runtime-not-yet", filepath.Join(dir, "dangling-etc"))
	mustSymlink(t, "loop2", filepath.Join(dir, "loop1"))
	mustSymlink(t, "loop1", filepath.Join(dir, "loop2"))
	mustMkdir(t, filepath.Join(dir, "data"))
	mustSymlink(t, "../../../../../../../../../etc", filepath.Join(dir, "data", "up"))
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mustMkdir(t, filepath.Join(dir, "data"))
	cases := []struct {
		name, source string
		baseline     Verdict
	}{
		{"a symlink to /etc", dir + "/etc-link", DenyVerdict},
		{"a file through a symlink to /etc", dir + "/etc-link/passwd", DenyVerdict},
		// Lexically dir's parent/etc/passwd; the kernel follows share to
		// /usr/share first, and /usr/share/../../etc is /etc.
		{".. after a symlink", dir + "/share/../../etc/passwd", DenyVerdict},
		{"a dangling symlink is judged by its target", dir + "/dangling", Allow},
		{"a dangling symlink into /etc", dir + "/dangling-etc", DenyVerdict},
		{"below a dangling symlink into /etc", dir + "/dangling-etc/y", DenyVerdict},
		{"a relative symlink out to /etc", dir + "/data/up/passwd", DenyVerdict},
		{"a symlink loop cannot be judged", dir + "/loop1", DenyVerdict},
		{"below a file cannot be judged", dir + "/file/x", DenyVerdict},
		{"a plain directory", dir + "/data", Allow},
		{"a path that does not exist yet", dir + "/data/new/deeper", Allow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := judgeSpec(t, loadShipped(t, "baseline"), func() *specs.Spec {
				s := compliantSpec()
				addMount(dockerBind(c.source, "/x"))(s)
				return s
			}())
			if d.Verdict != c.baseline || (c.baseline == DenyVerdict && !hasViolationAt(d, newMountField)) {
				t.Fatalf("verdict %s, want %s: %+v", d.Verdict, c.baseline, d.Violations)
			}
		})
	}
}

func TestRelativeBindSourcesLieInTheBundle(t *testing.T) {
	bundle := t.TempDir()
	mustMkdir(t, filepath.Join(bundle, "data"))
	cases := []struct {
		name, source         string
		baseline, restricted Verdict
	}{
		{"a directory of the bundle", "data", Allow, DenyVerdict},
		{"out of the bundle to /etc", "../../../../../../../../etc", DenyVerdict, DenyVerdict},
	}
	for _, c := range cases {
		for _, policy := range []string{"baseline", "restricted"} {
			want := c.baseline
			if policy == "restricted" {
				want = c.restricted
			}
			t.Run(policy+"/"+c.name, func(t *testing.T) {
				s := compliantSpec()
				addMount(dockerBind(c.source, "/x"))(s)
				d := judgeSpecIn(t, loadShipped(t, policy), s, Context{Operation: OpCreate, ContainerID: "fixture", Bundle: bundle})
				if (want == DenyVerdict) != hasViolationAt(d, newMountField) {
					t.Fatalf("want %s: %+v", want, d.Violations)
				}
			})
		}
	}
	t.Run("no bundle known", func(t *testing.T) {
		s := compliantSpec()
		addMount(dockerBind("data", "/x"))(s)
		d := judgeSpec(t, loadShipped(t, "baseline"), s)
		if !hasViolationAt(d, newMountField) || !strings.Contains(violationAt(d, newMountField).Message, "--bundle") {
			t.Fatalf("a relative source without a bundle must be refused, saying to judge the bundle: %+v", d.Violations)
		}
	})
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestPathPatterns(t *testing.T) {
	values := map[string]string{"id": "abc", "sandboxID": "s1", "podUID": "", "name": "../x"}
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"/var/lib/docker/containers/{id}/hosts", "/var/lib/docker/containers/abc/hosts", true},
		{"/var/lib/docker/containers/{id}/hosts", "/var/lib/docker/containers/abd/hosts", false},
		{"/var/lib/docker/containers/{id}/hosts", "/var/lib/docker/containers/abc/hosts/x", false},
		{"/v/*/_data", "/v/name/_data", true},
		{"/v/*/_data", "/v/a/b/_data", false},
		{"/v/*-containers/{id}", "/v/overlay-containers/abc", true},
		{"/v/*-containers/{id}", "/v/overlay/abc", false},
		{"/v/*x*y", "/v/axbxy", true},
		{"/p/{sandboxID}/**", "/p/s1/shm", true},
		{"/p/{sandboxID}/**", "/p/s1/a/b/c", true},
		{"/p/{sandboxID}/**", "/p/s1", false},
		{"/p/{podUID}/x", "/p//x", false},
		{"/p/{podUID}/x", "/p/x", false},
		{"/p/{name}", "/p/../x", false},
		{"/**", "/anything", true},
	}
	for _, c := range cases {
		p, err := compilePathPattern(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got := p.match(splitPath(c.path), values); got != c.want {
			t.Errorf("%s matches %s: %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}

func TestPathPatternErrors(t *testing.T) {
	for pattern, want := range map[string]string{
		"/a/{uid}/b":     "unknown placeholder {uid}",
		"/a/**/b":        `"**" may only end a pattern`,
		"/a//b":          "clean absolute path",
		"/a/../b":        "clean absolute path",
		"a/b":            "clean absolute path",
		"/a/{id":         "unclosed {",
		"/a/id}":         "} without {",
		"{nowhere}/x":    "unknown root {nowhere}",
		"{id}/x":         "cannot start a path",
		"{dockerRoot}x":  "must be followed by /",
		"/ok/{podUID}/*": "",
	} {
		c := &HostPaths{Roots: map[string]string{"dockerRoot": "/var/lib/docker"}, EngineManaged: []MountRule{{Source: pattern}}}
		err := c.Validate()
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", pattern, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want an error with %q", pattern, err, want)
		}
	}
}

func TestHostPathsSettingsAreValidatedAtLoad(t *testing.T) {
	dir := policyDir(t, map[string]string{"node": "extends: baseline\ncontrols:\n  hostPaths:\n    allowed:\n      - {source: \"/srv/{tenant}/**\"}\n"})
	_, err := LoadPolicy(dir, "node")
	if err == nil || !strings.Contains(err.Error(), "unknown placeholder {tenant}") || !strings.Contains(err.Error(), "controls.hostPaths") {
		t.Fatalf("an unknown placeholder must be refused at load, naming the control: %v", err)
	}
	for _, bad := range []string{
		"others: maybe",
		"roots: {dockerRoot: var/lib/docker}",
		"roots: {id: /x}",
		"sensitive: [{path: /etc/}]",
		"sensitive: [{path: /etc}]",
	} {
		dir := policyDir(t, map[string]string{"node": "extends: baseline\ncontrols:\n  hostPaths:\n    " + bad + "\n"})
		if _, err := LoadPolicy(dir, "node"); err == nil {
			t.Errorf("hostPaths setting %q was accepted", bad)
		}
	}
}

// policyDir is a policy directory with the shipped policies and extra
// ones, name → YAML.
func policyDir(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(shippedPolicies, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("shipped policies: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range extra {
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func loadFrom(t *testing.T, dir, name string) *Policy {
	t.Helper()
	p, err := LoadPolicy(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAllowListAndRootsAreData(t *testing.T) {
	host := t.TempDir()
	docker := filepath.Join(host, "docker")
	mustMkdir(t, filepath.Join(docker, "volumes/v/_data/sub"))
	mustSymlink(t, "/etc", filepath.Join(docker, "volumes/v/_data/etc-link"))
	mustMkdir(t, filepath.Join(host, "shared/x"))
	mustMkdir(t, filepath.Join(host, "other"))
	node := fmt.Sprintf(`extends: restricted
controls:
  hostPaths:
    roots:
      dockerRoot: %s
    allowed:
      - {source: "%s/shared/**", readOnly: true}
`, docker, host)
	dir := policyDir(t, map[string]string{"node": node})
	p := loadFrom(t, dir, "node")
	if got := len(p.Controls.HostPaths.Roots); got != len(loadShipped(t, "baseline").Controls.HostPaths.Roots) {
		t.Fatalf("overriding one root lost the others: %v", p.Controls.HostPaths.Roots)
	}
	cases := []struct {
		name  string
		mount specs.Mount
		deny  bool
	}{
		{"a volume under the node's Docker root", dockerBind(docker+"/volumes/v/_data", "/v"), false},
		{"a link in a volume that points at /etc", dockerBind(docker+"/volumes/v/_data/etc-link", "/v"), true},
		{"the node's Docker root is sensitive", dockerBind(docker+"/containers", "/c"), true},
		{"allowed, read-only", dockerBind(host+"/shared/x", "/x", "ro"), false},
		{"allowed only read-only", dockerBind(host+"/shared/x", "/x"), true},
		{"not allowed", dockerBind(host+"/other", "/x", "ro"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := judgeSpec(t, p, func() *specs.Spec { s := compliantSpec(); addMount(c.mount)(s); return s }())
			if hasViolationAt(d, newMountField) != c.deny {
				t.Fatalf("want denied %v: %+v", c.deny, d.Violations)
			}
		})
	}
}

// dockerFixture reads a config Docker wrote, and the id of its container,
// which Docker names its container directory after.
func dockerFixture(t *testing.T, name string) ([]byte, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata/docker", name))
	if err != nil {
		t.Fatalf("Docker fixture (git checkout docker -- enforce/testdata/docker): %v", err)
	}
	m := regexp.MustCompile(`/var/lib/docker/containers/([0-9a-f]{64})/hostname`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s: no hostname bind to take the container id from", name)
	}
	return data, string(m[1])
}

func TestDockerConfigsHostNamespacesAndMounts(t *testing.T) {
	// What the host namespace and mount controls find in each config
	// Docker 20.10 wrote, under both policies; a config not listed must
	// give none of them anything to report.
	both := map[string][]string{
		"bind-docker-sock.json": {"hostPaths /mounts/10/source"},
		"bind-etc.json":         {"hostPaths /mounts/7/source"},
		"bind-rshared.json":     {"mountPropagation /linux/rootfsPropagation", "mountPropagation /mounts/7/options/1"},
		"ipc-host.json":         {"hostNamespaces /linux/namespaces", "hostPaths /mounts/9/source"},
		"network-host.json":     {"hostNamespaces /linux/namespaces/1/path"},
		"pid-host.json":         {"hostNamespaces /linux/namespaces"},
		// --privileged leaves /sys and /sys/fs/cgroup writable.
		"privileged.json": {"mountDestinations /mounts/3/options", "mountDestinations /mounts/4/options"},
		"uts-host.json":   {"hostNamespaces /linux/namespaces"},
	}
	restrictedOnly := map[string][]string{
		// /srv/shared is no sensitive path, but a host path all the same.
		"bind-rshared.json": {"hostPaths /mounts/7/source"},
	}
	files, err := filepath.Glob("testdata/docker/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Docker fixtures (git checkout docker -- enforce/testdata/docker): %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "exec-") || strings.HasPrefix(name, "update-") {
			continue
		}
		for _, policy := range []string{"baseline", "restricted"} {
			t.Run(policy+"/"+name, func(t *testing.T) {
				data, id := dockerFixture(t, name)
				d := judgeDocument(t, loadShipped(t, policy), data, Context{Operation: OpCreate, ContainerID: id})
				want := slices.Clone(both[name])
				if policy == "restricted" {
					want = append(want, restrictedOnly[name]...)
				}
				sort.Strings(want)
				got := hostMountViolations(d)
				if !slices.Equal(got, want) {
					t.Fatalf("got %q, want %q\n%+v", got, want, d.Violations)
				}
				if len(want) > 0 && d.Verdict != DenyVerdict {
					t.Fatalf("verdict %s", d.Verdict)
				}
			})
		}
	}
}

func TestDockerConfigMessages(t *testing.T) {
	cases := map[string][]string{
		"bind-docker-sock.json": {"bind mount of /var/run/docker.sock (", "Docker API socket) at /var/run/docker.sock", "policy baseline", "remove the -v"},
		"bind-etc.json":         {"bind mount of /etc (the host's configuration) at /host-etc", "policy baseline", "remove the -v"},
		"network-host.json":     {"/var/run/docker/netns/default cannot be told from the host's", "no such file", "policy baseline", "remove --network host"},
		"pid-host.json":         {"no pid entry", "policy baseline", "remove --pid host"},
		"bind-rshared.json":     {"rshared", "policy baseline", "remove bind-propagation=rshared"},
	}
	for name, wants := range cases {
		data, id := dockerFixture(t, name)
		d := judgeDocument(t, loadShipped(t, "baseline"), data, Context{Operation: OpCreate, ContainerID: id})
		reason := d.Reason()
		for _, want := range wants {
			if !strings.Contains(reason, want) {
				t.Errorf("%s: reason lacks %q: %s", name, want, reason)
			}
		}
	}
}

func TestDockerOwnFilesAreTheContainersOnly(t *testing.T) {
	data, _ := dockerFixture(t, "default.json")
	d := judgeDocument(t, loadShipped(t, "baseline"), data, Context{Operation: OpCreate, ContainerID: strings.Repeat("0", 64)})
	got := hostMountViolations(d)
	want := []string{"hostPaths /mounts/7/source", "hostPaths /mounts/8/source", "hostPaths /mounts/9/source"}
	if !slices.Equal(got, want) {
		t.Fatalf("another container's resolv.conf, hostname and hosts must be denied: %q", got)
	}
	if msg := violationAt(d, "/mounts/9/source").Message; !strings.Contains(msg, "another container or pod") || !strings.Contains(msg, "{dockerRoot}/containers/{id}/hosts") {
		t.Errorf("the message should say the file is another container's: %s", msg)
	}
}

// judgeCRI judges a captured CRI document, as the shim hands it over.
func judgeCRI(t *testing.T, policy *Policy, data []byte) *Decision {
	t.Helper()
	return judgeDocument(t, policy, data, criContext(t, data))
}

func TestKubernetesPodIsAdmitted(t *testing.T) {
	// The pause container runs in new namespaces; its app container joins
	// them by /proc/<pause>/ns/... and binds the kubelet's and the
	// sandbox's files, a service-account token among them.
	pause := startInNewNamespaces(t, "--net", "--ipc", "--uts")
	for _, policy := range []string{"baseline", "restricted", "k8s-baseline", "k8s-restricted"} {
		for _, name := range []string{"kubelet-sandbox.json", "kubelet-container.json"} {
			t.Run(policy+"/"+name, func(t *testing.T) {
				d := judgeCRI(t, loadShipped(t, policy), criFixture(t, name, pause))
				if got := hostMountViolations(d); len(got) != 0 {
					t.Fatalf("a Kubernetes pod's own files and namespaces were refused: %+v", d.Violations)
				}
				if (policy == "baseline" || policy == "k8s-baseline") && d.Verdict != Allow {
					t.Fatalf("%s verdict %s: %+v", policy, d.Verdict, d.Violations)
				}
			})
		}
	}
}

func TestKubernetesServiceAccountTokenIsAdmitted(t *testing.T) {
	pause := startInNewNamespaces(t, "--net", "--ipc", "--uts")
	data := criFixture(t, "kubelet-container.json", pause)
	const token = "/var/run/secrets/kubernetes.io/serviceaccount"
	if !strings.Contains(string(data), `"destination":"`+token+`"`) {
		t.Fatalf("kubelet-container.json no longer binds the projected token at %s", token)
	}
	for _, policy := range []string{"baseline", "k8s-baseline"} {
		if d := judgeCRI(t, loadShipped(t, policy), data); d.Verdict != Allow {
			t.Errorf("%s: a pod with a service-account token was not admitted: %s %+v", policy, d.Verdict, d.Violations)
		}
	}
}

func TestKubernetesBindsAreThePodsOwnOnly(t *testing.T) {
	pause := startInNewNamespaces(t, "--net", "--ipc", "--uts")
	data := criFixture(t, "kubelet-container.json", pause)
	// kubelet-container.json binds, from the kubelet: 6 an emptyDir, 7
	// etc-hosts, 8 the termination log, 12 the service-account token; from
	// the CRI plugin: 9 hostname, 10 resolv.conf, 11 /dev/shm.
	podFiles := []string{"hostPaths /mounts/12/source", "hostPaths /mounts/6/source", "hostPaths /mounts/7/source", "hostPaths /mounts/8/source"}
	for _, c := range []struct {
		annotation, value string
		want              []string
	}{
		// Another pod's uid: the kubelet's volumes, etc-hosts and termination log.
		{annotationSandboxUID, "00000000-0000-4000-8000-000000000099", podFiles},
		// Another sandbox: its hostname, resolv.conf and shm.
		{annotationSandboxID, strings.Repeat("e", 64), []string{"hostPaths /mounts/10/source", "hostPaths /mounts/11/source", "hostPaths /mounts/9/source"}},
		// Another container name: the termination log.
		{annotationContainerName, "sidecar", []string{"hostPaths /mounts/8/source"}},
		{annotationSandboxUID, "..", podFiles},
	} {
		for _, policy := range []string{"baseline", "k8s-baseline"} {
			t.Run(policy+"/"+c.annotation+"="+c.value, func(t *testing.T) {
				var s map[string]any
				if err := json.Unmarshal(data, &s); err != nil {
					t.Fatal(err)
				}
				s["annotations"].(map[string]any)[c.annotation] = c.value
				changed, _ := json.Marshal(s)
				d := judgeCRI(t, loadShipped(t, policy), changed)
				if got := hostMountViolations(d); !slices.Equal(got, c.want) {
					t.Fatalf("got %q, want %q", got, c.want)
				}
			})
		}
	}
}

func TestKubernetesHostPathOfEtcIsDenied(t *testing.T) {
	pause := startInNewNamespaces(t, "--net", "--ipc", "--uts")
	data := criFixture(t, "hostpath-etc-container.json", pause)
	for _, policy := range []string{"baseline", "restricted", "k8s-baseline", "k8s-restricted"} {
		d := judgeCRI(t, loadShipped(t, policy), data)
		field := "/mounts/6/source"
		if got := hostMountViolations(d); !slices.Equal(got, []string{"hostPaths " + field}) {
			t.Fatalf("%s: only the hostPath /etc must be denied: %q", policy, got)
		}
		if msg := violationAt(d, field).Message; !strings.Contains(msg, "/etc (the host's configuration)") || !strings.Contains(msg, "remove the hostPath volume") {
			t.Errorf("%s: %s", policy, msg)
		}
	}
}

// The Pod Security Standards' baseline forbids hostPath volumes of any
// kind, sensitive or not; Docker's baseline only the sensitive ones.
func TestKubernetesBaselineDeniesEveryHostPath(t *testing.T) {
	pause := startInNewNamespaces(t, "--net", "--ipc", "--uts")
	data := []byte(strings.Replace(string(criFixture(t, "hostpath-etc-container.json", pause)), `"source":"/etc"`, `"source":"/srv/data"`, 1))
	if d := judgeCRI(t, loadShipped(t, "baseline"), data); hasViolationAt(d, "/mounts/6/source") {
		t.Errorf("baseline denied a plain host directory: %+v", d.Violations)
	}
	d := judgeCRI(t, loadShipped(t, "k8s-baseline"), data)
	if msg := violationAt(d, "/mounts/6/source").Message; !strings.Contains(msg, "/srv/data") || !strings.Contains(msg, "only the engine's own mounts") {
		t.Errorf("k8s-baseline: want the hostPath /srv/data denied, got %q (%s)", msg, d.Verdict)
	}
}

func TestKubernetesHostNetworkAppIsDenied(t *testing.T) {
	// The pause container of a hostNetwork pod has its own ipc namespace
	// but the host's network and uts.
	pause := startInNewNamespaces(t, "--ipc")
	data := criFixture(t, "hostnet-container.json", pause)
	for _, policy := range []string{"baseline", "restricted", "k8s-baseline", "k8s-restricted"} {
		d := judgeCRI(t, loadShipped(t, policy), data)
		want := []string{"hostNamespaces /linux/namespaces/2/path", "hostNamespaces /linux/namespaces/4/path"}
		if got := hostMountViolations(d); !slices.Equal(got, want) || d.Verdict != DenyVerdict {
			t.Fatalf("%s: got %q (%s), want %q", policy, got, d.Verdict, want)
		}
		if msg := violationAt(d, "/linux/namespaces/4/path").Message; !strings.Contains(msg, fmt.Sprintf("/proc/%d/ns/net is the host's", pause)) || !strings.Contains(msg, "hostNetwork") {
			t.Errorf("%s: %s", policy, msg)
		}
	}
}

func TestKubernetesNodeWithOtherDirectories(t *testing.T) {
	// A node whose containerd and kubelet keep their files elsewhere: a
	// node policy moves the roots, nothing else.
	pause := startInNewNamespaces(t, "--net", "--ipc", "--uts")
	data := criFixture(t, "kubelet-container.json", pause)
	moved := strings.NewReplacer("/var/lib/containerd/", "/data/containerd/", "/run/containerd/", "/data/containerd-state/", "/var/lib/kubelet/", "/data/kubelet/").Replace(string(data))
	node := "extends: k8s-restricted\ncontrols:\n  hostPaths:\n    roots:\n      containerdRoot: /data/containerd\n      containerdState: /data/containerd-state\n      kubeletRoot: /data/kubelet\n"
	dir := policyDir(t, map[string]string{"node": node})
	if d := judgeCRI(t, loadFrom(t, dir, "node"), []byte(moved)); d.Verdict != Allow {
		t.Fatalf("the node policy refused its own engine's files: %s %+v", d.Verdict, d.Violations)
	}
	if got := hostMountViolations(judgeCRI(t, loadShipped(t, "k8s-restricted"), []byte(moved))); len(got) != 7 {
		t.Fatalf("shipped k8s-restricted must refuse the seven binds from unknown directories: %q", got)
	}
}

// runcMounts converts mounts as runc does, running in bundle as runc does.
func runcMounts(t *testing.T, bundle string, mounts []specs.Mount) []*configs.Mount {
	t.Helper()
	t.Chdir(bundle)
	s := specconv.Example()
	s.Mounts = mounts
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: "guard-runtime-test", Spec: s})
	if err != nil {
		t.Fatalf("runc's specconv refused the mounts: %v", err)
	}
	return cfg.Mounts
}

func TestBindClassificationAndSourceMatchRunc(t *testing.T) {
	bundle := t.TempDir()
	var mounts []specs.Mount
	for _, m := range []struct {
		typ, source string
		options     []string
	}{
		{"bind", "/srv/a", []string{"rbind", "rprivate"}},
		{"none", "/srv/a", []string{"bind"}},
		{"tmpfs", "/srv/a", []string{"ro", "bind"}},
		{"bind", "/srv/a", nil},
		{"bind", "/srv/a", []string{"BIND"}},
		{"bind", "/srv/a", []string{"rbind=1"}},
		{"bind", "data/../x//y", []string{"rbind"}},
		{"bind", "../../etc", []string{"bind"}},
		{"proc", "proc", []string{"nosuid"}},
	} {
		mounts = append(mounts, specs.Mount{Destination: "/m", Type: m.typ, Source: m.source, Options: m.options})
	}
	runc := runcMounts(t, bundle, mounts)
	for i, m := range mounts {
		if got, want := isBindMount(m.Options), runc[i].IsBind(); got != want {
			t.Errorf("%+v: bind %v, runc says %v", m, got, want)
		}
		if !runc[i].IsBind() {
			continue
		}
		src, err := resolveMountSource(bundle, m.Source, true)
		if err != nil {
			t.Fatal(err)
		}
		if src.literal != runc[i].Source {
			t.Errorf("%+v: source %s, runc mounts %s", m, src.literal, runc[i].Source)
		}
	}
}

func TestReadOnlyMatchesRunc(t *testing.T) {
	for _, options := range [][]string{{"ro"}, {"rw"}, {"ro", "rw"}, {"rw", "ro"}, {"bind", "ro"}, {}, {"rro"}, {"rro", "rrw"}} {
		runc := runcMounts(t, t.TempDir(), []specs.Mount{{Destination: "/m", Type: "bind", Source: "/srv", Options: append([]string{"bind"}, options...)}})[0]
		runcRO := runc.Flags&syscall.MS_RDONLY != 0 || (runc.RecAttr != nil && runc.RecAttr.Attr_set&0x1 != 0) // MOUNT_ATTR_RDONLY
		if got := isReadOnlyMount(options); got != runcRO {
			t.Errorf("%v: read-only %v, runc %v", options, got, runcRO)
		}
	}
}

func TestRootNames(t *testing.T) {
	for name, want := range map[string]bool{"dockerRoot": true, "k8s1": true, "": false, "1k": false, "a-b": false, "a/b": false} {
		if isRootName(name) != want {
			t.Errorf("root name %q: want %v", name, want)
		}
	}
}

// BenchmarkHostMountControls measures the host namespace and mount
// controls on Docker's default config, which binds three files.
func BenchmarkHostMountControls(b *testing.B) {
	p, err := LoadPolicy(shippedPolicies, "baseline")
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("testdata/docker/default.json")
	if err != nil {
		b.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		b.Fatal(err)
	}
	id := regexp.MustCompile(`containers/([0-9a-f]{64})/hostname`).FindStringSubmatch(string(data))[1]
	in := &Input{Operation: OpCreate, ContainerID: id, Spec: &s}
	controls := []Control{p.Controls.HostNamespaces, p.Controls.HostPaths, p.Controls.MountDestinations, p.Controls.MountPropagation}
	b.ResetTimer()
	for range b.N {
		r := &Report{}
		for _, c := range controls {
			c.Check(in, r)
		}
		if len(r.violations) != 0 {
			b.Fatal(r.violations)
		}
	}
}

// Host-path rules are compiled whenever a policy is loaded from its files,
// and from the cache as mounts need them: a rule costs its pattern, its
// array of tokens and its list of
// components, whatever the number of components (before, a slice per
// component and the split path besides: 288 allocations for restricted).
func TestHostPathRulesCompileAllocations(t *testing.T) {
	p, err := LoadPolicy(shippedPolicies, "restricted")
	if err != nil {
		t.Fatal(err)
	}
	h := p.Controls.HostPaths
	rules := len(h.EngineManaged) + len(h.Allowed)
	if rules < 10 {
		t.Fatalf("restricted has %d host-path rules: the test wants a policy with many", rules)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := h.compile(true); err != nil {
			t.Fatal(err)
		}
	})
	// Three per rule, at most one per path a root is expanded in, and the
	// result's lists.
	if limit := float64(3*rules + rules + len(h.Sensitive) + 4); allocs > limit {
		t.Errorf("compiling %d rules: %.0f allocations, want at most %.0f", rules, allocs, limit)
	}
}

// root.path is a host directory mounted at /: the engine's own in the
// bundle or its image store, judged as a bind source otherwise.
func TestHostPathsRootFilesystem(t *testing.T) {
	bundle := t.TempDir()
	mustMkdir(t, filepath.Join(bundle, "rootfs"))
	mustSymlink(t, "/etc", filepath.Join(bundle, "etc-link"))
	mustMkdir(t, filepath.Join(bundle, "deep", "dir"))
	mustSymlink(t, "/etc/ssl/certs", filepath.Join(bundle, "certs"))
	elsewhere := t.TempDir()
	mustSymlink(t, elsewhere, filepath.Join(bundle, "outside"))
	cases := []struct {
		name, path string
		readonly   bool
		want       verdicts
	}{
		{"a relative rootfs in the bundle", "rootfs", false, allowBoth},
		{"a rootfs in the bundle that does not exist yet", "not-yet", false, allowBoth},
		{"the bundle itself", ".", false, allowBoth},
		{"an absolute path into the bundle", bundle + "/deep/dir", false, allowBoth},
		{"/usr", "/usr", true, denyBoth},
		{"/ (the host's root)", "/", false, denyBoth},
		{"/etc", "/etc", false, denyBoth},
		{"/var holds /var/lib/docker", "/var", false, denyBoth},
		{"a rootfs symlink in the bundle to /etc", "etc-link", false, denyBoth},
		// runc joins a relative root to the bundle, which cleans it: the
		// bundle itself. An absolute one reaches the kernel as written,
		// and .. goes up from where certs leads: /etc/ssl.
		{"a symlink and .. relative", "certs/..", false, allowBoth},
		{"inside /etc through a symlink and ..", bundle + "/certs/..", false, denyBoth},
		{"out of the bundle by ..", upTo(bundle, "/etc"), false, denyBoth},
		{"a symlink in the bundle to a plain directory", "outside", false, allowBaseline},
		{"a plain host directory (--rootfs)", elsewhere, false, allowBaseline},
		{"Docker's overlay2 layer", "/var/lib/docker/overlay2/c66b0be6888d8220381885856996febb3078c3044e29f68ff842828071f2119f/merged", false, allowBoth},
		{"Docker's overlay2 layer's diff", "/var/lib/docker/overlay2/c66b0be6888d8220381885856996febb3078c3044e29f68ff842828071f2119f/diff", false, denyBoth},
		{"Docker's vfs layer", "/var/lib/docker/vfs/dir/c66b0be6888d", false, allowBoth},
		{"the containerd image store's root of this container", "/var/lib/docker/rootfs/overlayfs/fixture", false, allowBoth},
		{"the containerd image store's root of another container", "/var/lib/docker/rootfs/overlayfs/0123456789ab", false, denyBoth},
		{"Podman's overlay layer", "/var/lib/containers/storage/overlay/3f1c/merged", false, allowBoth},
		{"Podman's container metadata", "/var/lib/containers/storage/overlay-containers/3f1c/userdata", false, denyBoth},
	}
	for _, c := range cases {
		c.want.underBoth(t, c.name, func(t *testing.T, p *Policy, verdict Verdict) {
			s := compliantSpec()
			s.Root = &specs.Root{Path: c.path, Readonly: c.readonly}
			d := judgeSpecIn(t, p, s, Context{Operation: OpCreate, ContainerID: "fixture", Bundle: bundle})
			if denied := hasViolationAt(d, rootField); denied != (verdict == DenyVerdict) {
				t.Fatalf("root.path %s denied %v, want verdict %s: %+v", c.path, denied, verdict, d.Violations)
			}
			if verdict == Allow && d.Verdict == DenyVerdict {
				t.Fatalf("verdict %s: %+v", d.Verdict, d.Violations)
			}
		})
	}
}

func TestHostPathsRootMessageSaysWhatAndWhatToDo(t *testing.T) {
	s := compliantSpec()
	s.Root = &specs.Root{Path: "/usr", Readonly: true}
	d := judgeSpecIn(t, loadShipped(t, "baseline"), s, Context{Operation: OpCreate, ContainerID: "fixture", Bundle: t.TempDir()})
	msg := violationAt(d, "/root/path").Message
	for _, want := range []string{"root filesystem /usr (the host's programs and libraries)", "policy baseline", "run an image"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	s.Root = &specs.Root{Path: "/srv/rootfs"}
	d = judgeSpecIn(t, loadShipped(t, "restricted"), s, Context{Operation: OpCreate, ContainerID: "fixture", Bundle: t.TempDir()})
	if msg := violationAt(d, "/root/path").Message; !strings.Contains(msg, "/srv/rootfs") || !strings.Contains(msg, "destination: /") {
		t.Errorf("restricted should say how a root outside the bundle can be allowed: %s", msg)
	}
}

// Without the bundle, policy check --config takes a relative root as lying
// in it, and refuses one that leads out of it.
func TestHostPathsRootWithoutABundle(t *testing.T) {
	for path, denied := range map[string]bool{"rootfs": false, "": false, "a/../rootfs": false, "../rootfs": true, "rootfs/../../etc": true, "/etc": true} {
		s := compliantSpec()
		s.Root = &specs.Root{Path: path}
		d := judgeSpec(t, loadShipped(t, "baseline"), s)
		if hasViolationAt(d, rootField) != denied {
			t.Errorf("root.path %q without a bundle: denied %v, want %v: %+v", path, !denied, denied, d.Violations)
		}
	}
	s := compliantSpec()
	s.Root = &specs.Root{Path: "../x"}
	d := judgeSpec(t, loadShipped(t, "baseline"), s)
	if msg := violationAt(d, rootField).Message; !strings.Contains(msg, "--bundle") {
		t.Errorf("a root that leaves the unknown bundle should say to judge the bundle: %s", msg)
	}
}

// The engines' image stores move with their roots: a node whose Docker
// keeps its data elsewhere sets dockerRoot, and its containers' roots are
// admitted there, and no longer at the default place.
func TestHostPathsRootFollowsTheNodesDockerRoot(t *testing.T) {
	dir := policyDir(t, map[string]string{"node": "extends: restricted\ncontrols:\n  hostPaths:\n    roots:\n      dockerRoot: /data/docker\n"})
	p := loadFrom(t, dir, "node")
	for path, denied := range map[string]bool{"/data/docker/overlay2/abc/merged": false, "/var/lib/docker/overlay2/abc/merged": true} {
		s := compliantSpec()
		s.Root = &specs.Root{Path: path}
		if d := judgeSpecIn(t, p, s, Context{Operation: OpCreate, ContainerID: "fixture", Bundle: t.TempDir()}); hasViolationAt(d, rootField) != denied {
			t.Errorf("root.path %s: want denied %v: %+v", path, denied, d.Violations)
		}
	}
}

// TestIsCleanAbsIsPathClean compares isCleanAbs with its definition,
// path.Clean leaving an absolute path as it is, on every string of up to
// eight characters of "/", "." and "a".
func TestIsCleanAbsIsPathClean(t *testing.T) {
	var walk func(p string)
	walk = func(p string) {
		want := path.IsAbs(p) && path.Clean(p) == p
		if got := isCleanAbs(p); got != want {
			t.Errorf("isCleanAbs(%q) = %v, path.Clean says %v", p, got, want)
		}
		if len(p) < 8 {
			for _, c := range []string{"/", ".", "a"} {
				walk(p + c)
			}
		}
	}
	walk("")
}

// A policy from the cache compiles a rule's pattern only when a mount lies
// in its prefix, and judges every document as the policy compiled whole.
func TestCachedHostPathRulesJudgeAsCompiledOnes(t *testing.T) {
	for _, name := range []string{"baseline", "restricted"} {
		for _, c := range dockerCases {
			if strings.HasPrefix(c.file, "exec-") || strings.HasPrefix(c.file, "update-") {
				continue
			}
			eager, err := LoadPolicy(shippedPolicies, name)
			if err != nil {
				t.Fatal(err)
			}
			cached, err := LoadPolicy(shippedPolicies, name)
			if err != nil {
				t.Fatal(err)
			}
			cached.Controls.HostPaths.compiled = nil
			if err := cached.validateCached(); err != nil {
				t.Fatal(err)
			}
			rules := cached.Controls.HostPaths.compiled.engineManaged
			for _, r := range rules {
				if r.pattern != nil {
					t.Fatalf("%s: %s compiled before any mount needed it", name, r.Source)
				}
			}
			want, got := judgeDockerFixture(t, eager, c.file), judgeDockerFixture(t, cached, c.file)
			if got.Verdict != want.Verdict || got.Reason() != want.Reason() {
				t.Errorf("%s, %s: from the cache %s %q, compiled whole %s %q", name, c.file, got.Verdict, got.Reason(), want.Verdict, want.Reason())
			}
			compiled := 0
			for _, r := range rules {
				if r.pattern != nil {
					compiled++
				}
			}
			if compiled > len(rules)/2 {
				t.Errorf("%s, %s: %d of %d rules compiled", name, c.file, compiled, len(rules))
			}
		}
	}
}

// A rule of a cached policy that does not compile admits nothing.
func TestCachedHostPathRuleThatDoesNotCompileAdmitsNothing(t *testing.T) {
	c := &HostPaths{
		Roots:         map[string]string{"dockerRoot": "/var/lib/docker"},
		EngineManaged: []MountRule{{Source: "{dockerRoot}/containers/{nope}/hosts"}},
		Others:        othersDeny,
	}
	if err := c.Validate(); err == nil {
		t.Fatal("the rule compiles: the test wants one that does not")
	}
	if err := c.validateCached(); err != nil {
		t.Fatal(err)
	}
	src := mountSource{literal: "/var/lib/docker/containers/x/hosts", written: "/var/lib/docker/containers/x/hosts", resolved: "/var/lib/docker/containers/x/hosts"}
	if rule := matchingRule(c.compiled.engineManaged, src, "/etc/hosts", false, nil); rule != nil {
		t.Errorf("a rule that does not compile admitted %s", src.literal)
	}
}

// An overlay mount's directories are host paths: each lowerdir shows a
// host directory in the container, and upperdir and workdir are written
// through (Podman's -v SRC:DST:O). A policy that allows the overlay type
// still judges them.
func TestHostPathsOverlayDirectories(t *testing.T) {
	host := t.TempDir()
	for _, d := range []string{"lower", "upper", "work"} {
		mustMkdir(t, filepath.Join(host, d))
	}
	lower, upper, work := filepath.Join(host, "lower"), filepath.Join(host, "upper"), filepath.Join(host, "work")
	types := "    allowed: [proc, sysfs, cgroup, cgroup2, tmpfs, devpts, mqueue, overlay]\n"
	dir := policyDir(t, map[string]string{
		"with-overlay":        "extends: baseline\ncontrols:\n  mountTypes:\n" + types,
		"strict-with-overlay": "extends: restricted\ncontrols:\n  mountTypes:\n" + types,
	})
	node, strict := loadFrom(t, dir, "with-overlay"), loadFrom(t, dir, "strict-with-overlay")
	overlay := func(options ...string) specs.Mount {
		return specs.Mount{Destination: "/x", Type: "overlay", Source: "overlay", Options: options}
	}
	judge := func(t *testing.T, p *Policy, m specs.Mount) *Decision {
		t.Helper()
		s := compliantSpec()
		addMount(m)(s)
		return judgeSpec(t, p, s)
	}
	dirs := []string{"upperdir=" + upper, "workdir=" + work}
	field := fmt.Sprintf("/mounts/%d/", len(compliantSpec().Mounts))

	if d := judge(t, node, overlay(append([]string{"lowerdir=" + lower}, dirs...)...)); d.Verdict != Allow {
		t.Fatalf("plain directories under baseline with overlay: %+v", d.Violations)
	}
	for name, c := range map[string]struct {
		p       *Policy
		options []string
		want    string
	}{
		"a sensitive lowerdir":            {node, append([]string{"lowerdir=" + lower + ":/etc"}, dirs...), "overlay mount (lowerdir) of /etc (the host's configuration) at /x is not allowed"},
		"a sensitive upperdir":            {node, []string{"lowerdir=" + lower, "upperdir=/usr", "workdir=" + work}, "overlay mount (upperdir) of /usr"},
		"an upperdir hidden in an option": {node, []string{"lowerdir=" + lower + ",upperdir=/usr", "workdir=" + work}, "overlay mount (upperdir) of /usr"},
		"a relative lowerdir":             {node, append([]string{"lowerdir=lower"}, dirs...), "lowerdir=lower cannot be judged"},
		"an escaped lowerdir":             {node, append([]string{`lowerdir=` + lower + `\:/etc`}, dirs...), "cannot be judged"},
		"unlisted under restricted":       {strict, append([]string{"lowerdir=" + lower}, dirs...), "only the engine's own mounts and the hostPaths.allowed list may use host paths"},
	} {
		t.Run(name, func(t *testing.T) {
			d := judge(t, c.p, overlay(c.options...))
			var hostPaths []Violation
			for _, v := range d.Violations {
				if v.Control == "hostPaths" && strings.HasPrefix(v.Field, field) {
					hostPaths = append(hostPaths, v)
				}
			}
			if d.Verdict != DenyVerdict || len(hostPaths) != 1 || !strings.Contains(hostPaths[0].Message, c.want) {
				t.Fatalf("want one hostPaths denial saying %q: %+v", c.want, d.Violations)
			}
		})
	}
	// Podman's own upper and work directories, as Podman 4.3 writes an
	// overlay volume (-v SRC:DST:O), are the container's: restricted with
	// overlay admits the volume once SRC is allowed, and not another
	// container's directories.
	const id = "fixture" // judgeSpec's container id
	userdata := "/var/lib/containers/storage/overlay-containers/" + id + "/userdata/overlay/2956058532/"
	podmanOverlay := overlay("lowerdir="+lower, "upperdir="+userdata+"upper", "workdir="+userdata+"work", "private")
	allowed := loadFrom(t, policyDir(t, map[string]string{
		"strict-with-overlay": "extends: restricted\ncontrols:\n  mountTypes:\n" + types,
		"allowing":            "extends: strict-with-overlay\ncontrols:\n  hostPaths:\n    allowed:\n      - {source: " + lower + ", readOnly: true}\n",
	}), "allowing")
	if d := judge(t, allowed, podmanOverlay); d.Verdict != Allow {
		t.Errorf("Podman's overlay volume of an allowed directory: %+v", d.Violations)
	}
	other := overlay("lowerdir="+lower, "upperdir="+strings.Replace(userdata, id, "other", 1)+"upper", "workdir="+userdata+"work")
	if d := judge(t, allowed, other); d.Verdict != DenyVerdict {
		t.Errorf("another container's upper directory: %+v", d.Violations)
	}

	// The shipped baseline denies the overlay type, and its directories too.
	d := judge(t, loadShipped(t, "baseline"), overlay(append([]string{"lowerdir=/etc"}, dirs...)...))
	controls := map[string]bool{}
	for _, v := range d.Violations {
		controls[v.Control] = true
	}
	if !controls["mountTypes"] || !controls["hostPaths"] {
		t.Errorf("baseline: %+v", d.Violations)
	}
}
