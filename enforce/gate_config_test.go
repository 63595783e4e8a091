package enforce

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// linkedBundle writes a bundle whose config.json is s in a directory of
// its own, and returns it with a path to it that runs through a symlink
// five directories deep, as an engine may hand it over.
func linkedBundle(t *testing.T, s *specs.Spec) (real, linked string) {
	t.Helper()
	dir := t.TempDir()
	real = testBundleIn(t, filepath.Join(dir, "b2"), s)
	mustMkdir(t, filepath.Join(dir, "l", "x", "y", "z"))
	linked = filepath.Join(dir, "l", "x", "y", "z", "bundle")
	mustSymlink(t, real, linked)
	return real, linked
}

// testBundleIn writes s as the config.json of the bundle dir.
func testBundleIn(t *testing.T, dir string, s *specs.Spec) string {
	t.Helper()
	mustMkdir(t, dir)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "config.json", data)
	return dir
}

// upTo returns a relative path from dir up to the host's root and down to
// target: "../" once per component of dir.
func upTo(dir, target string) string {
	return strings.Repeat("../", strings.Count(dir, "/")) + strings.TrimPrefix(target, "/")
}

// runc joins a relative bind source to its working directory, the bundle
// with symlinks resolved: "../../etc" is judged from there, not from the
// path the bundle was given by.
func TestRelativeSourcesAreJudgedFromTheResolvedBundle(t *testing.T) {
	s := compliantSpec()
	real, linked := linkedBundle(t, s)
	source := upTo(real, "/etc")
	if lexical := filepath.Join(linked, source); lexical == "/etc" || strings.HasPrefix(lexical, "/etc/") {
		t.Fatalf("the fixture is wrong: %s from the symlink's path is %s", source, lexical)
	}
	addMount(dockerBind(source, "/host-etc"))(s)
	testBundleIn(t, real, s)

	err := testGate(t, "--guard-policy=baseline", "--root", t.TempDir(), "create", "--bundle", linked, "c1").enforce()
	mustContain(t, err, "bind mount of /etc (the host's configuration)")

	var out, errOut bytes.Buffer
	status := PolicyCommand([]string{"check", "--policy-dir", shippedPolicies, "--policy", "baseline", "--bundle", linked}, &out, &errOut)
	if status != ExitDenied || !strings.Contains(out.String(), "bind mount of /etc") {
		t.Errorf("policy check --bundle %s: exit %d, want %d (denied) as at create: %s%s", linked, status, ExitDenied, out.String(), errOut.String())
	}
}

// A rewrite lands in the bundle's own config.json: the symlink the bundle
// was reached by stays a symlink, and no second config appears.
func TestRewriteOfALinkedBundleWritesItsConfig(t *testing.T) {
	s := compliantSpec()
	s.Root.Readonly = false
	real, linked := linkedBundle(t, s)
	before, _ := os.ReadFile(filepath.Join(real, "config.json"))
	if err := testGate(t, "--guard-policy=restricted", "--root", t.TempDir(), "create", "--bundle", linked, "c1").enforce(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(real, "config.json"))
	if bytes.Equal(before, after) || !bytes.Contains(after, []byte(`"readonly":true`)) {
		t.Fatalf("config.json was not rewritten: %s", after)
	}
	if info, err := os.Lstat(linked); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the bundle's symlink was replaced: %v %v", info, err)
	}
	entries, _ := os.ReadDir(real)
	if len(entries) != 1 {
		t.Errorf("the bundle holds %d entries, want config.json only", len(entries))
	}
}

func TestBundleIsResolvedAsTheKernelWalksIt(t *testing.T) {
	dir := t.TempDir()
	mustMkdir(t, filepath.Join(dir, "a", "b", "c"))
	mustMkdir(t, filepath.Join(dir, "x"))
	mustSymlink(t, filepath.Join(dir, "a", "b", "c"), filepath.Join(dir, "x", "l"))
	t.Chdir(dir)
	for given, want := range map[string]string{
		filepath.Join(dir, "x", "l"): filepath.Join(dir, "a", "b", "c"),
		// ".." goes up from where the symlink leads, not lexically.
		filepath.Join(dir, "x", "l") + "/..": filepath.Join(dir, "a", "b"),
		"x/l":                                filepath.Join(dir, "a", "b", "c"),
		"":                                   dir,
	} {
		got, err := resolveBundle(given)
		if err != nil || got != want {
			t.Errorf("resolveBundle(%q) = %q, %v; want %q", given, got, err, want)
		}
	}
}

// Without its bundle, nothing relative in a config can be placed: the call
// is refused, saying so.
func TestMissingBundleIsRefused(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	err := testGate(t, "--guard-policy=baseline", "--root", t.TempDir(), "create", "--bundle", missing, "c1").enforce()
	mustContain(t, err, "bundle "+missing+" cannot be resolved")
	mustContain(t, err, "give the path of an existing bundle directory")
}
