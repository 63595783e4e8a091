package enforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// testBundle writes a bundle whose config.json is s.
func testBundle(t *testing.T, s *specs.Spec) string {
	t.Helper()
	return testBundleIn(t, t.TempDir(), s)
}

func rootSpec() *specs.Spec {
	s := compliantSpec()
	s.Process.User.UID = 0
	return s
}

func TestAdmittedCreateRemembersItsPolicy(t *testing.T) {
	for _, cmd := range []string{"create", "run", "restore"} {
		t.Run(cmd, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "runc")
			bundle := testBundle(t, compliantSpec())
			g := testGate(t, "--guard-policy=restricted", "--root", root, cmd, "--bundle", bundle, "c1")
			if err := g.enforce(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, "c1@guard-runtime.policy")
			info, err := os.Stat(path)
			if err != nil {
				t.Fatalf("no policy record: %v", err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("record mode %04o, want 0600", info.Mode().Perm())
			}
			dir, _ := filepath.Abs(shippedPolicies)
			data, _ := os.ReadFile(path)
			var rec policyRecord
			if err := json.Unmarshal(data, &rec); err != nil || rec != (policyRecord{Policy: "restricted", Dir: dir}) {
				t.Errorf("record %s (%v)", data, err)
			}
			assertNoGuardTempFiles(t, root)
		})
	}
}

// restore creates a container from a bundle: a denied one never gets to
// runc (enforce fails, so Run does not hand off) and leaves no record.
func TestDeniedRestoreIsRefusedAndNotRemembered(t *testing.T) {
	root := filepath.Join(t.TempDir(), "runc")
	bundle := testBundle(t, rootSpec())
	before, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	g := testGate(t, "--root", root, "restore", "--image-path", "/checkpoint", "-b", bundle, "--detach", "c1")
	mustContain(t, g.enforce(), `policy "restricted" denied container c1: runs as root`)
	if after, _ := os.ReadFile(filepath.Join(bundle, "config.json")); !bytes.Equal(before, after) {
		t.Error("config.json of a denied restore changed")
	}
	if _, err := os.Stat(filepath.Join(root, "c1@guard-runtime.policy")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a denied restore left a policy record: %v", err)
	}
}

func TestRestoreReadsTheBundleFlag(t *testing.T) {
	bundle := testBundle(t, compliantSpec())
	s := compliantSpec()
	s.Root.Readonly = false
	writable := testBundle(t, s)
	g := testGate(t, "--root", t.TempDir(), "restore", "--bundle="+writable, "c1")
	t.Chdir(bundle) // a restore without --bundle would read this one
	if err := g.enforce(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(writable, "config.json"))
	var got specs.Spec
	if err := json.Unmarshal(data, &got); err != nil || !got.Root.Readonly {
		t.Fatalf("the --bundle config was not rewritten: %s", data)
	}
}

// runningUnderRestricted creates container id under restricted, and the
// directory runc keeps for it while it exists.
func runningUnderRestricted(t *testing.T, root, id string) {
	t.Helper()
	if err := testGate(t, "--guard-policy=restricted", "--root", root, "create", "--bundle", testBundle(t, compliantSpec()), id).enforce(); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, id), 0o711); err != nil {
		t.Fatal(err)
	}
}

func TestCreateOfAnExistingIdKeepsThatContainersRecord(t *testing.T) {
	root := t.TempDir()
	runningUnderRestricted(t, root, "c1")
	// runc will refuse this create; it must not change c1's policy first.
	if err := testGate(t, "--guard-policy=baseline", "--root", root, "create", "--bundle", testBundle(t, rootSpec()), "c1").enforce(); err != nil {
		t.Fatal(err)
	}
	p, err := testGate(t, "--root", root, "exec", "c1").containerPolicy("c1")
	if err != nil || p.Name != "restricted" {
		t.Fatalf("c1's policy is now %v (%v), want restricted", p, err)
	}
}

// Only a missing container directory means a new container: a root that
// cannot be looked into is not taken for an empty one.
func TestCreateIsRefusedWhenItsStateCannotBeLookedUp(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	writeFile(t, filepath.Dir(notADir), "file", []byte("not a directory"))
	err := testGate(t, "--guard-policy=restricted", "--root", notADir, "create", "--bundle", testBundle(t, compliantSpec()), "c1").enforce()
	if err == nil || !strings.Contains(err.Error(), "refusing container c1") || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("create under a root that is a file: %v, want a refusal naming the lstat error", err)
	}
}

func TestExecAndUpdateAreJudgedByTheCreatorsPolicy(t *testing.T) {
	root := t.TempDir()
	if err := testGate(t, "--guard-policy=restricted", "--root", root, "run", "--bundle", testBundle(t, compliantSpec()), "c1").enforce(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	process := writeFile(t, dir, "process.json", dockerCapture(t, "exec-user-0.json"))
	exec := func(id string) error {
		return testGate(t, "--guard-policy=baseline", "--root", root, "exec", "--process", process, id).enforce()
	}
	mustContain(t, exec("c1"), `policy "restricted" denied exec in container c1: runs as root`)
	// Without a record the configured policy applies: baseline admits root.
	if err := exec("c2"); err != nil {
		t.Fatalf("exec in a container without a record: %v", err)
	}
	resources := writeFile(t, dir, "resources.json", []byte(`{"pids":{"limit":-1}}`))
	err := testGate(t, "--guard-policy=baseline", "--root", root, "update", "--resources", resources, "c1").enforce()
	mustContain(t, err, `policy "restricted" denied update of container c1`)
}

func TestPolicyRecordOnlyRootCanHaveWritten(t *testing.T) {
	dir, _ := filepath.Abs(shippedPolicies)
	good := `{"policy":"restricted","policyDir":"` + dir + `"}`
	tests := []struct {
		name   string
		record string
		setup  func(t *testing.T, path string)
		want   string
	}{
		{name: "writable by others", record: good, setup: func(t *testing.T, path string) { os.Chmod(path, 0o666) }, want: "writable by group or others"},
		{name: "owned by a user", record: good, setup: func(t *testing.T, path string) {
			if err := os.Chown(path, 1000, 1000); err != nil {
				t.Fatal(err)
			}
		}, want: "owned by uid 1000"},
		{name: "a symlink", record: good, setup: func(t *testing.T, path string) {
			os.Rename(path, path+".real")
			os.Symlink(path+".real", path)
		}, want: "is a symlink"},
		{name: "not JSON", record: "restricted", want: "is not a policy record"},
		{name: "unknown key", record: `{"policy":"restricted","policyDir":"` + dir + `","mode":"audit"}`, want: "is not a policy record"},
		{name: "relative directory", record: `{"policy":"restricted","policyDir":"policy.d"}`, want: "no absolute policy directory"},
		{name: "policy gone", record: `{"policy":"retired","policyDir":"` + dir + `"}`, want: `created under policy "retired", which cannot be used now`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			path := writeFile(t, root, "c1@guard-runtime.policy", []byte(tt.record))
			if tt.setup != nil {
				tt.setup(t, path)
			}
			_, err := testGate(t, "--root", root, "exec", "c1").containerPolicy("c1")
			mustContain(t, err, tt.want)
		})
	}
}

func TestContainerIDIsCheckedBeforeItNamesAFile(t *testing.T) {
	for _, id := range []string{"", ".", "..", "../c1", "a/b", "c1\x00", "c 1", "c@1"} {
		if validContainerID(id) == nil {
			t.Errorf("id %q accepted", id)
		}
	}
	for _, id := range []string{"c1", "-odd", "a.b_c+d,e-f", "...", "d918ce055f27093aaad30d6f5eb40999d0a21ba046a56728b8832ff5a8c04493"} {
		if err := validContainerID(id); err != nil {
			t.Errorf("id %q refused: %v", id, err)
		}
	}
	s := compliantSpec()
	s.Root.Readonly = false
	bundle := testBundle(t, s)
	before, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	g := testGate(t, "--root", t.TempDir(), "create", "--bundle", bundle, "a@b")
	mustContain(t, g.enforce(), `container id "a@b" is not valid`)
	if after, _ := os.ReadFile(filepath.Join(bundle, "config.json")); !bytes.Equal(before, after) {
		t.Error("the config of a container runc will refuse was rewritten")
	}
}

func TestDeleteForgetsThePolicy(t *testing.T) {
	root := t.TempDir()
	path := writeFile(t, root, "c1@guard-runtime.policy", []byte("{}"))
	outside := writeFile(t, root, "x@guard-runtime.policy", []byte("{}"))
	testGate(t, "--root", root, "delete", "--force", "c1").forgetPolicy()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("record of a container runc does not know kept after delete: %v", err)
	}
	testGate(t, "--root", filepath.Join(root, "sub"), "delete", "../x").forgetPolicy()
	testGate(t, "--root", root, "delete", "never-created").forgetPolicy()
	testGate(t, "--root", root, "delete").forgetPolicy()
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("a delete of an invalid id removed another record: %v", err)
	}
}

// guard-runtime does not see the outcome of the delete it hands to the
// runtime, and runc refuses to delete a running container without
// --force: the record goes into the container's directory, which runc
// removes with the container, and a refused delete leaves the container
// judged by the policy it was created under.
func TestDeleteLeavesTheRecordToTheRuntimesDelete(t *testing.T) {
	root := t.TempDir()
	runningUnderRestricted(t, root, "c1")
	testGate(t, "--guard-policy=audit", "--root", root, "delete", "c1").forgetPolicy()
	if _, err := os.Stat(filepath.Join(root, "c1", "guard-runtime.policy")); err != nil {
		t.Fatalf("the record is not in the container's directory after a delete: %v", err)
	}
	p, err := testGate(t, "--guard-policy=audit", "--root", root, "exec", "c1").containerPolicy("c1")
	if err != nil || p.Name != "restricted" {
		t.Fatalf("after a delete runc refused, exec is judged by %v (%v), want restricted", p, err)
	}
	// A second delete leaves it there; runc's delete of the container
	// takes it with the directory.
	testGate(t, "--root", root, "delete", "c1").forgetPolicy()
	if _, err := os.Stat(filepath.Join(root, "c1", "guard-runtime.policy")); err != nil {
		t.Fatalf("a second delete lost the record: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(root, "c1")); err != nil {
		t.Fatal(err)
	}
	p, err = testGate(t, "--guard-policy=audit", "--root", root, "exec", "c1").containerPolicy("c1")
	if err != nil || p.Name != "audit" {
		t.Fatalf("once the container is gone, exec is judged by %v (%v), want the configured audit", p, err)
	}
}

// Every delete goes through forgetPolicy: it must stay a few system calls.
func BenchmarkForgetPolicyWithoutRecord(b *testing.B) {
	root := b.TempDir()
	g := &Gate{Inv: mustParse(b, "--root", root, "delete", "--force", "d918ce055f27093aaad30d6f5eb40999d0a21ba046a56728b8832ff5a8c04493")}
	for b.Loop() {
		g.forgetPolicy()
	}
}

// Every exec and update reads the record of its container.
func BenchmarkContainerPolicyFromRecord(b *testing.B) {
	root := b.TempDir()
	dir, _ := filepath.Abs(shippedPolicies)
	id := "d918ce055f27093aaad30d6f5eb40999d0a21ba046a56728b8832ff5a8c04493"
	os.WriteFile(filepath.Join(root, id+policyRecordSuffix), []byte(`{"policy":"restricted","policyDir":"`+dir+`"}`), 0o600)
	g := &Gate{Inv: mustParse(b, "--root", root, "exec", "--process", "p.json", id)}
	for b.Loop() {
		if _, err := g.containerPolicy(id); err != nil {
			b.Fatal(err)
		}
	}
}

func mustParse(tb testing.TB, args ...string) *spec.Invocation {
	tb.Helper()
	inv, err := spec.Parse(args)
	if err != nil {
		tb.Fatal(err)
	}
	return inv
}

// The record written by hand is what encoding/json writes, and reads back.
func TestPolicyRecordEncoding(t *testing.T) {
	for _, rec := range []policyRecord{
		{Policy: "restricted", Dir: "/etc/guard-runtime/policy.d"},
		{Policy: "p", Dir: "/dir with \"quotes\", \\, <html> & é\t"},
	} {
		got, err := rec.encode()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(rec)
		var gotValue, wantValue any
		if json.Unmarshal(got, &gotValue) != nil || json.Unmarshal(want, &wantValue) != nil || !reflect.DeepEqual(gotValue, wantValue) {
			t.Errorf("encode: %s, encoding/json: %s", got, want)
		}
		back, err := decodePolicyRecord("record", got)
		if err != nil || *back != rec {
			t.Errorf("read back %+v, %v; want %+v", back, err, rec)
		}
	}
	if _, err := (policyRecord{Policy: "p", Dir: "/\xff"}).encode(); err == nil {
		t.Error("a directory that is not UTF-8 was encoded")
	}
}

// A policy record says which policy judges a container's execs: a record
// that could be read two ways, or holds anything but what encode writes,
// is refused.
func TestPolicyRecordDecodeIsStrict(t *testing.T) {
	for _, data := range []string{
		`{"policy":"a","policyDir":"/d","policy":"b"}`,
		`{"policy":"a","policyDir":"/d","extra":"x"}`,
		`{"Policy":"a","policyDir":"/d"}`,
		`{"policy":"a","policyDir":"/d"} {}`,
		`{"policy":"a","policyDir":"/d"`,
		`{"policy":1,"policyDir":"/d"}`,
		`["policy","a"]`,
		`{"policy":"a","policyDir":"relative"}`,
		`{"policyDir":"/d"}`,
		``,
	} {
		if rec, err := decodePolicyRecord("record", []byte(data)); err == nil {
			t.Errorf("%s read as %+v", data, rec)
		}
	}
	rec, err := decodePolicyRecord("record", []byte(` {"policyDir":"/d", "policy":"a"}`+"\n"))
	if err != nil || *rec != (policyRecord{Policy: "a", Dir: "/d"}) {
		t.Errorf("read %+v, %v", rec, err)
	}
}

// restore's --lsm-profile and --lsm-mount-context have CRIU label the
// restored processes and mounts itself, past the labels the AppArmor and
// SELinux controls judged.
func TestRestoreWithLSMFlagsIsRefusedWhereLabelsAreJudged(t *testing.T) {
	bundle := testBundle(t, compliantSpec())
	restore := func(policy string, flags ...string) (*Gate, string) {
		root := filepath.Join(t.TempDir(), "runc")
		args := append(append([]string{"--guard-policy=" + policy, "--root", root, "restore"}, flags...), "--bundle", bundle, "c1")
		g := testGate(t, args...)
		g.cfg.Policy.Dir = policyDir(t, map[string]string{
			"apparmor-only": "extends: restricted\ncontrols:\n  seLinux: null\n",
			"selinux-only":  "extends: restricted\ncontrols:\n  appArmor: null\n",
			"no-labels":     "extends: restricted\ncontrols:\n  appArmor: null\n  seLinux: null\n",
		})
		return g, root
	}
	for _, policy := range []string{"restricted", "apparmor-only", "selinux-only"} {
		for _, tt := range []struct{ flags []string }{
			{[]string{"--lsm-profile", "apparmor:unconfined"}},
			{[]string{"--lsm-mount-context=system_u:object_r:spc_t:s0"}},
		} {
			t.Run(policy+" "+strings.Join(tt.flags, " "), func(t *testing.T) {
				g, root := restore(policy, tt.flags...)
				err := g.enforce()
				flag, value, _ := strings.Cut(strings.Join(tt.flags, "="), "=")
				mustContain(t, err, fmt.Sprintf(`policy %q denied container c1: restore %s %q has CRIU`, policy, flag, value))
				mustContain(t, err, "cannot judge what CRIU applies: restore without "+flag)
				if strings.Count(err.Error(), "has CRIU") != 1 {
					t.Errorf("the reason is given more than once: %v", err)
				}
				if _, err := os.Stat(filepath.Join(root, "c1@guard-runtime.policy")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a denied restore left a policy record: %v", err)
				}
			})
		}
	}
	t.Run("empty values, which runc does not pass", func(t *testing.T) {
		g, _ := restore("restricted", "--lsm-profile=", "--lsm-mount-context", "")
		if err := g.enforce(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a policy that judges no label", func(t *testing.T) {
		g, _ := restore("no-labels", "--lsm-profile", "apparmor:unconfined")
		if err := g.enforce(); err != nil {
			t.Fatal(err)
		}
	})
}

// Without --root, a runtime keeps its containers in a directory of its
// own, and the policy records must sit beside them there: in runc's
// directory, a create of crun could not see that its id exists already.
func TestPolicyRecordsFollowTheRuntimesStateDir(t *testing.T) {
	noXDG := func(string) string { return "" }
	xdg := func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return "/run/user/0"
		}
		return ""
	}
	tests := []struct {
		runtime string
		getenv  func(string) string
		want    string
	}{
		{"/usr/sbin/runc", xdg, "/run/runc"},
		{"/usr/bin/crun", xdg, "/run/crun"},
		{"/usr/local/bin/youki", noXDG, "/run/youki"},
		{"/usr/local/bin/runsc", noXDG, "/var/run/runsc"},
		{"/usr/local/bin/runsc", xdg, "/run/user/0/runsc"},
		{"/opt/other-runtime", noXDG, spec.DefaultRootDir},
		{"", noXDG, spec.DefaultRootDir},
	}
	for _, tt := range tests {
		if got := defaultStateDir(tt.runtime, tt.getenv); got != tt.want {
			t.Errorf("defaultStateDir(%q) = %q, want %q", tt.runtime, got, tt.want)
		}
	}

	g := testGate(t, "exec", "--process", "/p.json", "c1")
	g.cfg.Runtime.Path = "/usr/bin/crun"
	if got := g.stateDir(); got != "/run/crun" {
		t.Errorf("crun without --root: records in %q, want /run/crun", got)
	}
	root := filepath.Join(t.TempDir(), "crun")
	g = testGate(t, "--root", root, "exec", "--process", "/p.json", "c1")
	g.cfg.Runtime.Path = "/usr/bin/crun"
	if got := g.stateDir(); got != root {
		t.Errorf("crun with --root %s: records in %q", root, got)
	}
}
