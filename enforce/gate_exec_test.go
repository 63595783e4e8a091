package enforce

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// testGate is the gate of one runtime call, set up as Run sets it up after
// reading a config.yaml whose policies are the shipped ones and whose
// default is restricted.
func testGate(t *testing.T, args ...string) *Gate {
	t.Helper()
	inv, err := spec.Parse(args)
	if err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	dir, err := filepath.Abs(shippedPolicies)
	if err != nil {
		t.Fatal(err)
	}
	return &Gate{Inv: inv, Stderr: io.Discard, cfg: &Config{Policy: PolicyConfig{Dir: dir, Default: DefaultPolicy}}}
}

// dockerCapture returns a document Docker 20.10 handed its runtime.
func dockerCapture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "docker", name))
	if err != nil {
		t.Fatalf("%v (get the captures with: git checkout docker -- enforce/testdata/docker)", err)
	}
	return data
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readProcess(t *testing.T, data []byte) *specs.Process {
	t.Helper()
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("process %s: %v", data, err)
	}
	return &p
}

func mustContain(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

func assertNoGuardTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".guard-") || strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

var netBindOnly = []string{"CAP_NET_BIND_SERVICE"}

func TestExecProcessFileOfDockerReachesRuncRewritten(t *testing.T) {
	dir := t.TempDir()
	original := dockerCapture(t, "exec-user-1000.json")
	file := writeFile(t, dir, "process.json", original)
	g := testGate(t, "--root", filepath.Join(dir, "state"), "exec", "--process", file, "--detach", "c1")
	if err := g.enforce(); err != nil {
		t.Fatalf("exec -u 1000 refused: %v", err)
	}
	p, fd := passedProcess(t, g)
	c := p.Capabilities
	if !slices.Equal(c.Bounding, netBindOnly) || !slices.Equal(c.Effective, netBindOnly) || !slices.Equal(c.Permitted, netBindOnly) {
		t.Errorf("capabilities not reduced to the allowed list: %+v", c)
	}
	if !p.NoNewPrivileges || p.User.UID != 1000 || !slices.Equal(p.Args, []string{"true"}) {
		t.Errorf("rewritten process: %+v", p)
	}
	want := []string{"--root", filepath.Join(dir, "state"), "exec", "--process", "/proc/self/fd/" + strconv.Itoa(fd), "--detach", "c1"}
	if !slices.Equal(g.Inv.RuntimeArgs, want) {
		t.Errorf("runtime arguments\n got %q\nwant %q", g.Inv.RuntimeArgs, want)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, original) {
		t.Errorf("the engine's process file was written:\n%s", after)
	}
	assertNoGuardTempFiles(t, dir)
}

// runc re-opened --process FILE by its path, after guard-runtime had read
// it: a rename over FILE in between ran a process that was never judged.
// runc now reads the judged bytes from a sealed memory file.
func TestExecProcessFileSwappedAfterItWasJudgedDoesNotReachRunc(t *testing.T) {
	admitted, _ := json.Marshal(compliantSpec().Process)
	unjudged := readProcess(t, dockerCapture(t, "exec-privileged.json"))
	unjudgedData, _ := json.Marshal(unjudged)
	for name, original := range map[string][]byte{
		"admitted unchanged": admitted,
		"rewritten":          dockerCapture(t, "exec-user-1000.json"),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := writeFile(t, dir, "process.json", original)
			g := testGate(t, "--root", dir, "exec", "-p", file, "c1")
			if err := g.enforce(); err != nil {
				t.Fatal(err)
			}
			swap := writeFile(t, dir, "swap.json", unjudgedData)
			if err := os.Rename(swap, file); err != nil {
				t.Fatal(err)
			}
			data, _ := passedDocument(t, g, "-p")
			if name == "admitted unchanged" && !bytes.Equal(data, original) {
				t.Errorf("runc reads\n%s\nnot the bytes judged\n%s", data, original)
			}
			if p := readProcess(t, data); p.User.UID == 0 || slices.Contains(p.Capabilities.Bounding, "CAP_SYS_ADMIN") {
				t.Errorf("runc reads the process swapped in after the judgement: %s", data)
			}
		})
	}
}

func TestExecProcessFileDenials(t *testing.T) {
	noCaps := readProcess(t, dockerCapture(t, "exec-user-1000.json"))
	noCaps.Capabilities = nil
	noCapsData, _ := json.Marshal(noCaps)
	tests := []struct {
		name, policy string
		process      []byte
		want         string
	}{
		{"docker exec -u 0", "restricted", dockerCapture(t, "exec-user-0.json"), `policy "restricted" denied exec in container c1: runs as root (uid 0)`},
		{"docker exec --privileged", "restricted", dockerCapture(t, "exec-privileged.json"), "CAP_SYS_ADMIN, CAP_SYS_BOOT"},
		{"docker exec --privileged under baseline", "baseline", dockerCapture(t, "exec-privileged.json"), "are not allowed by policy baseline: remove --privileged"},
		{"no capabilities under baseline", "baseline", noCapsData, "process.capabilities is missing"},
		{"ambiguous key", "restricted", []byte(`{"user":{"uid":1000},"User":{"uid":0},"args":["true"],"cwd":"/"}`), "is not a process runc would read the same way"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := writeFile(t, dir, "process.json", tt.process)
			g := testGate(t, "--guard-policy="+tt.policy, "--root", filepath.Join(dir, "state"), "exec", "--process", file, "c1")
			mustContain(t, g.enforce(), tt.want)
			if after, _ := os.ReadFile(file); !bytes.Equal(after, tt.process) {
				t.Errorf("the process file of a refused exec changed:\n%s", after)
			}
			assertNoGuardTempFiles(t, dir)
		})
	}
}

// runc gives an exec process without capabilities the container's; the
// allowed list is written out instead, so that it cannot get more.
func TestExecProcessWithoutCapabilitiesGetsTheAllowedListWrittenOut(t *testing.T) {
	p := readProcess(t, dockerCapture(t, "exec-user-1000.json"))
	p.Capabilities = nil
	data, _ := json.Marshal(p)
	dir := t.TempDir()
	file := writeFile(t, dir, "process.json", data)
	g := testGate(t, "--root", dir, "exec", "--process", file, "c1")
	if err := g.enforce(); err != nil {
		t.Fatal(err)
	}
	out, _ := passedDocument(t, g, "--process")
	want := `"capabilities":{"ambient":[],"bounding":["CAP_NET_BIND_SERVICE"],"effective":["CAP_NET_BIND_SERVICE"],"inheritable":[],"permitted":["CAP_NET_BIND_SERVICE"]}`
	if !strings.Contains(string(out), want) {
		t.Fatalf("capabilities not written out: %s", out)
	}
}

func TestExecHelpIsNotJudged(t *testing.T) {
	if err := testGate(t, "exec", "--help").enforce(); err != nil {
		t.Fatalf("exec --help refused: %v", err)
	}
}

// runc 1.1.5 accepted any --cgroup whose joined path string-prefixes the
// container's cgroup: from /c1, ../c10 joined another container's /c10.
func TestExecCgroupOutsideTheContainerIsRefused(t *testing.T) {
	// The --cgroup flags of an exec, and the error they get ("" when admitted).
	flags := map[string]string{
		"--cgroup ../c10":                                  `--cgroup "../c10" has a ".." component`,
		"--cgroup pids:../c10":                             `--cgroup "pids:../c10" has a ".." component`,
		"--cgroup=memory,pids:sub/../../c10":               `--cgroup "memory,pids:sub/../../c10" has a ".." component`,
		"--cgroup ..":                                      `--cgroup ".." has a ".." component`,
		"--cgroup memory:sub --cgroup cpu:../c10":          `--cgroup "cpu:../c10" has a ".." component`,
		"--cgroup /c10":                                    `--cgroup "/c10" gives an absolute path`,
		"--cgroup pids:/c10":                               `--cgroup "pids:/c10" gives an absolute path`,
		"--cgroup pids:sub:x":                              "runc refuses it too",
		"--cgroup sub/leaf":                                "",
		"--cgroup memory,pids:sub --cgroup cpu:sub..x/./y": "",
	}
	admitted, _ := json.Marshal(compliantSpec().Process)
	root := t.TempDir()
	fakeContainer(t, root, "c1", compliantSpec())
	file := writeFile(t, t.TempDir(), "process.json", admitted)
	for line, want := range flags {
		t.Run(line, func(t *testing.T) {
			for _, args := range [][]string{
				append(append([]string{"--root", root, "exec", "--process", file}, strings.Fields(line)...), "c1"),
				append(append([]string{"--root", root, "exec"}, strings.Fields(line)...), "c1", "true"),
			} {
				err := testGate(t, args...).enforce()
				if want == "" && err != nil {
					t.Fatalf("%q refused: %v", args, err)
				}
				if want != "" {
					mustContain(t, err, want)
				}
			}
		})
	}
	// A policy in audit mode admits every document, not this.
	mustContain(t, testGate(t, "--guard-policy=audit", "--root", root, "exec", "--process", file, "--cgroup", "../c10", "c1").enforce(), `has a ".." component`)
}

// fakeContainer makes runc's state of a container created from a bundle
// whose config is s, as the flag form of exec finds it.
func fakeContainer(t *testing.T, root, id string, s *specs.Spec) string {
	t.Helper()
	bundle := t.TempDir()
	data, _ := json.Marshal(s)
	writeFile(t, bundle, "config.json", data)
	if err := os.MkdirAll(filepath.Join(root, id), 0o711); err != nil {
		t.Fatal(err)
	}
	state := `{"id":"` + id + `","init_process_pid":1,"config":{"rootfs":"/x","labels":["bundle=` + bundle + `","other=1"]}}`
	writeFile(t, filepath.Join(root, id), "state.json", []byte(state))
	return bundle
}

// passedDocument reads the document the gate hands runc with flag
// (--process, -r, …, given as "flag path" or "flag=path"), checks that it
// cannot be changed, and closes the descriptor it was passed in.
func passedDocument(t *testing.T, g *Gate, flag string) ([]byte, int) {
	t.Helper()
	path := ""
	for i, arg := range g.Inv.RuntimeArgs {
		if arg == flag && i+1 < len(g.Inv.RuntimeArgs) {
			path = g.Inv.RuntimeArgs[i+1]
		} else if v, ok := strings.CutPrefix(arg, flag+"="); ok {
			path = v
		}
	}
	fd, err := strconv.Atoi(strings.TrimPrefix(path, "/proc/self/fd/"))
	if err != nil {
		t.Fatalf("%s is not a passed descriptor in %q", flag, g.Inv.RuntimeArgs)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.Write(fd, []byte("x")); err == nil {
		t.Error("the passed document can be written to after it was judged")
	}
	if err := syscall.Ftruncate(fd, 0); err == nil {
		t.Error("the passed document can be truncated after it was judged")
	}
	return data, fd
}

// passedProcess reads the process the gate hands runc with --process.
func passedProcess(t *testing.T, g *Gate) (*specs.Process, int) {
	t.Helper()
	data, fd := passedDocument(t, g, "--process")
	return readProcess(t, data), fd
}

func TestExecWithoutProcessFileIsJudgedAsRuncBuildsIt(t *testing.T) {
	root := t.TempDir()
	fakeContainer(t, root, "c1", compliantSpec())
	tests := []struct {
		name  string
		flags []string
		want  string // error; "" when admitted
		check func(*testing.T, *specs.Process)
	}{
		{name: "the container's own process", flags: []string{"c1", "sh", "-c", "id"}, check: func(t *testing.T, p *specs.Process) {
			if p.User.UID != 1000 || !slices.Equal(p.Args, []string{"sh", "-c", "id"}) || !slices.Equal(p.Capabilities.Bounding, netBindOnly) {
				t.Errorf("process %+v", p)
			}
		}},
		{name: "--user 0", flags: []string{"--user", "0", "c1", "true"}, want: "runs as root"},
		{name: "uid cut to 32 bits is root", flags: []string{"--user=4294967296", "c1", "true"}, want: "runs as root"},
		{name: "--cap CAP_SYS_ADMIN", flags: []string{"--cap", "CAP_SYS_ADMIN", "c1", "true"}, want: "CAP_SYS_ADMIN"},
		{name: "--cap of Docker's default set is removed", flags: []string{"-c", "CAP_CHOWN", "c1", "true"}, check: func(t *testing.T, p *specs.Process) {
			c := p.Capabilities
			if !slices.Equal(c.Bounding, netBindOnly) || !slices.Equal(c.Effective, netBindOnly) || len(c.Ambient) != 0 {
				t.Errorf("capabilities %+v", c)
			}
		}},
		{name: "--no-new-privs=false is rewritten", flags: []string{"--no-new-privs=false", "c1", "true"}, check: func(t *testing.T, p *specs.Process) {
			if !p.NoNewPrivileges {
				t.Error("noNewPrivileges not set")
			}
		}},
		{name: "no command", flags: []string{"c1"}, want: "no command to run"},
		{name: "unknown container", flags: []string{"c2", "true"}, want: "cannot read runc's state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGate(t, append([]string{"--root", root, "exec"}, tt.flags...)...)
			err := g.enforce()
			if tt.want != "" {
				mustContain(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			p, _ := passedProcess(t, g)
			tt.check(t, p)
		})
	}
}

func TestExecWithoutProcessFileNeedsAConfigItCanRead(t *testing.T) {
	root := t.TempDir()
	bundle := fakeContainer(t, root, "c1", compliantSpec())
	writeFile(t, bundle, "config.json", []byte(`{"process":{"user":{"uid":1000},"User":{"uid":0},"args":["sh"],"cwd":"/"}}`))
	mustContain(t, testGate(t, "--root", root, "exec", "c1", "true").enforce(), "is not a config runc would read the same way")

	writeFile(t, filepath.Join(root, "c1"), "state.json", []byte(`{"config":{"labels":["bundle"]}}`))
	mustContain(t, testGate(t, "--root", root, "exec", "c1", "true").enforce(), "names no bundle")
}

// withoutDescriptorChecks is restricted without passedDescriptors, for
// tests of command lines that pass descriptors this test process has not
// got.
func withoutDescriptorChecks(t *testing.T, g *Gate) *Gate {
	t.Helper()
	g.cfg.Policy.Dir = policyDir(t, map[string]string{"nodescriptors": "extends: restricted\ncontrols:\n  passedDescriptors: null\n"})
	g.cfg.Policy.Default = "nodescriptors"
	return g
}

func TestExecWithoutProcessFileHandsRuncTheJudgedProcess(t *testing.T) {
	root := t.TempDir()
	fakeContainer(t, root, "c1", compliantSpec())
	g := withoutDescriptorChecks(t, testGate(t, "--root", root, "--log", "l.json", "exec", "--detach", "--pid-file", "p.pid", "--preserve-fds=2",
		"-e", "A=1", "--tty", "--console-socket", "s.sock", "--cwd", "/tmp", "--cgroup", "pids:x", "--ignore-paused", "c1", "sleep", "1"))
	if err := g.enforce(); err != nil {
		t.Fatal(err)
	}
	p, fd := passedProcess(t, g)
	if fd < 5 {
		t.Errorf("process passed in descriptor %d, which --preserve-fds=2 hands to the container", fd)
	}
	if !p.Terminal || p.Cwd != "/tmp" || !slices.Contains(p.Env, "A=1") || !slices.Equal(p.Args, []string{"sleep", "1"}) {
		t.Errorf("flags not applied: %+v", p)
	}
	want := []string{"--root", root, "--log", "l.json", "exec", "--detach", "--pid-file", "p.pid", "--preserve-fds=2",
		"--console-socket", "s.sock", "--cgroup", "pids:x", "--ignore-paused", "--process", "/proc/self/fd/" + strconv.Itoa(fd), "c1"}
	if !slices.Equal(g.Inv.RuntimeArgs, want) {
		t.Errorf("runtime arguments\n got %q\nwant %q", g.Inv.RuntimeArgs, want)
	}
	again, err := spec.Parse(g.Inv.RuntimeArgs)
	if err != nil || again.ContainerID() != "c1" || len(again.Positional) != 1 {
		t.Errorf("runc reads the new command line differently: %+v, %v", again, err)
	}
}

func TestProcessFromFlagsFollowsRunc(t *testing.T) {
	base := func() *specs.Process {
		p := compliantSpec().Process
		p.User.AdditionalGids = []uint32{5}
		return p
	}
	tests := []struct {
		name  string
		flags []string
		want  func(*specs.Process) bool
		err   string
	}{
		{name: "uid and gid", flags: []string{"-u", "1000:2000"}, want: func(p *specs.Process) bool { return p.User.UID == 1000 && p.User.GID == 2000 }},
		{name: "uid alone keeps the gid", flags: []string{"-u", "1001"}, want: func(p *specs.Process) bool { return p.User.UID == 1001 && p.User.GID == 1000 }},
		{name: "negative uid wraps", flags: []string{"-u", "-1"}, want: func(p *specs.Process) bool { return p.User.UID == 4294967295 }},
		{name: "uid not a number", flags: []string{"-u", "nobody"}, err: "not a number"},
		{name: "gid not a number", flags: []string{"-u", "1000:x"}, err: "not a number"},
		{name: "additional gids append and wrap", flags: []string{"-g", "7", "-g", "4294967296"},
			want: func(p *specs.Process) bool { return slices.Equal(p.User.AdditionalGids, []uint32{5, 7, 0}) }},
		{name: "negative additional gid", flags: []string{"-g", "-1"}, err: "not a group id"},
		{name: "cap goes to four sets", flags: []string{"--cap", "CAP_KILL"}, want: func(p *specs.Process) bool {
			c := p.Capabilities
			return slices.Contains(c.Bounding, "CAP_KILL") && slices.Contains(c.Effective, "CAP_KILL") &&
				slices.Contains(c.Permitted, "CAP_KILL") && slices.Contains(c.Ambient, "CAP_KILL") && !slices.Contains(c.Inheritable, "CAP_KILL")
		}},
		{name: "terminal is off unless --tty", flags: nil, want: func(p *specs.Process) bool { return !p.Terminal }},
		{name: "apparmor and label", flags: []string{"--apparmor", "unconfined", "--process-label", "l"},
			want: func(p *specs.Process) bool { return p.ApparmorProfile == "unconfined" && p.SelinuxLabel == "l" }},
		{name: "env appends", flags: []string{"-e", "X=1", "-e", "Y=2"}, want: func(p *specs.Process) bool {
			return slices.Equal(p.Env[len(p.Env)-2:], []string{"X=1", "Y=2"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := spec.Parse(append(append([]string{"exec"}, tt.flags...), "c1", "true"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := processFromFlags(inv, base())
			if tt.err != "" {
				mustContain(t, err, tt.err)
				return
			}
			if err != nil || !tt.want(p) {
				t.Fatalf("process %+v, error %v", p, err)
			}
		})
	}
	inv, _ := spec.Parse([]string{"exec", "--cap", "CAP_KILL", "c1", "true"})
	noCaps := base()
	noCaps.Capabilities = nil
	if _, err := processFromFlags(inv, noCaps); err == nil {
		t.Error("--cap on a process without capabilities, which crashes runc, was admitted")
	}
}

func TestExecArgsKeepAnIdThatLooksLikeAFlag(t *testing.T) {
	inv, err := spec.Parse([]string{"exec", "--user", "1000", "--", "-odd", "true"})
	if err != nil {
		t.Fatal(err)
	}
	got := execArgsWithProcess(inv, "/proc/self/fd/9")
	want := []string{"exec", "--process", "/proc/self/fd/9", "--", "-odd"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	again, err := spec.Parse(got)
	if err != nil || again.ContainerID() != "-odd" {
		t.Fatalf("runc reads %q as container %q: %v", got, again.ContainerID(), err)
	}
}

func TestTheProcessIsPassedAboveThePreservedDescriptors(t *testing.T) {
	for count, want := range map[string]int{"": 3, "0": 3, "2": 5, "0x10": 19, "-5": 3, strconv.Itoa(math.MaxInt): 3} {
		args := []string{"exec", "--preserve-fds", count, "c1", "true"}
		if count == "" {
			args = []string{"exec", "c1", "true"}
		}
		if got, err := firstUnpassedFD(mustParse(t, args...)); err != nil || got != want {
			t.Errorf("--preserve-fds %q: first descriptor runc does not pass %d (%v), want %d", count, got, err, want)
		}
	}
}

func TestArgsWithOptionValueKeepsEachSpelling(t *testing.T) {
	tests := []struct {
		args, want []string
	}{
		{[]string{"--root", "/r", "exec", "--process", "/p.json", "--detach", "c1"},
			[]string{"--root", "/r", "exec", "--process", "/proc/self/fd/9", "--detach", "c1"}},
		{[]string{"exec", "-p=/p.json", "c1", "ignored", "-p", "x"},
			[]string{"exec", "-p=/proc/self/fd/9", "c1", "ignored", "-p", "x"}},
		{[]string{"exec", "--process=/a", "-process", "/b", "--", "-odd"},
			[]string{"exec", "--process=/proc/self/fd/9", "-process", "/proc/self/fd/9", "--", "-odd"}},
		{[]string{"update", "c1", "-r", "/res.json"},
			[]string{"update", "c1", "-r", "/proc/self/fd/9"}},
	}
	for _, tt := range tests {
		inv := mustParse(t, tt.args...)
		name := "process"
		if inv.Command == "update" {
			name = "resources"
		}
		got := argsWithOptionValue(inv, name, "/proc/self/fd/9")
		if !slices.Equal(got, tt.want) {
			t.Errorf("argsWithOptionValue(%q)\n got %q\nwant %q", tt.args, got, tt.want)
			continue
		}
		again := mustParse(t, got...)
		if v, _ := again.Option(name); v != "/proc/self/fd/9" || !slices.Equal(again.Positional, inv.Positional) || len(again.Options) != len(inv.Options) {
			t.Errorf("runc reads %q differently from %q: %+v", got, tt.args, again)
		}
	}
	inv := mustParse(t, "exec", "-p", "/p", "c1")
	argsWithOptionValue(inv, "process", "/x")
	if inv.RuntimeArgs[2] != "/p" {
		t.Errorf("the parsed command line was changed: %q", inv.RuntimeArgs)
	}
}

// Every exec hands runc its judged process through a sealed memfd: what
// that adds to an exec the policy admits unchanged, and what replaced the
// atomic write of a rewritten process file.
func BenchmarkPassExecProcess(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "docker", "exec-user-1000.json"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		path, err := passDocument("guard-runtime-exec-process", data, 3)
		if err != nil {
			b.Fatal(err)
		}
		fd, _ := strconv.Atoi(strings.TrimPrefix(path, "/proc/self/fd/"))
		syscall.Close(fd)
	}
}

// An exec without --preserve-fds, as engines make them: nothing to inspect.
func BenchmarkPassedDescriptorsOfAnEngineExec(b *testing.B) {
	inv := mustParse(b, "--root", "/run/containerd/runc/k8s.io", "exec", "--process", "/tmp/runc-process1", "--detach", "c1")
	for b.Loop() {
		if passedDescriptors(inv, os.Getenv) != nil {
			b.Fatal("descriptors passed")
		}
	}
}
