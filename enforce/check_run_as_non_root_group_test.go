package enforce

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// groupPolicy is baseline with runAsNonRootGroup set as given, and
// without hooks, whose check of Docker's network hook wants dockerd.
func groupPolicy(t *testing.T, settings string) *Policy {
	t.Helper()
	return loadFrom(t, policyDir(t, map[string]string{"groups": "extends: baseline\ncontrols:\n  hooks: null\n  runAsNonRootGroup: " + settings + "\n"}), "groups")
}

func withUser(uid, gid uint32, additional ...uint32) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Process.User = specs.User{UID: uid, GID: gid, AdditionalGids: additional}
	}
}

func TestRunAsNonRootGroupFixtures(t *testing.T) {
	deny := groupPolicy(t, "{action: deny}")
	runPolicyFixtures(t, deny, compliantSpec, []fixture{
		{name: "uid and gid 1000", change: withUser(1000, 1000), verdict: Allow},
		{name: "supplementary groups without 0", change: withUser(1000, 1000, 27, 100), verdict: Allow},
		{name: "gid 0", change: withUser(1000, 0), verdict: DenyVerdict, field: "/process/user/gid"},
		{name: "0 among supplementary groups", change: withUser(1000, 1000, 27, 0), verdict: DenyVerdict, field: "/process/user/additionalGids"},
		// Root is runAsNonRoot's to judge; its group is this control's.
		{name: "uid 0 with gid 1000", change: withUser(0, 1000), verdict: Allow},
	})
}

// Docker's -u 1000 on an image without /etc/passwd: gid 0 and
// additionalGids [0], in the create and in an exec.
func TestRunAsNonRootGroupDockerUser1000(t *testing.T) {
	deny := groupPolicy(t, "{action: deny}")
	d := judgeDockerFixture(t, deny, "user-1000.json")
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/process/user/gid") || !hasViolationAt(d, "/process/user/additionalGids") {
		t.Fatalf("docker run -u 1000: %s %+v", d.Verdict, d.Violations)
	}
	msg := violationAt(d, "/process/user/gid").Message
	if !strings.Contains(msg, "runs in the root group (gid 0): pass --user UID:GID") {
		t.Errorf("message: %q", msg)
	}

	rewrite := groupPolicy(t, "{action: rewrite, gid: 65534}")
	d = judgeDockerFixture(t, rewrite, "user-1000.json")
	if d.Verdict != RewriteDoc {
		t.Fatalf("rewrite: %s %+v", d.Verdict, d.Violations)
	}
	var got specs.Spec
	if err := d.Result.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	if want := (specs.User{UID: 1000, GID: 65534, AdditionalGids: []uint32{}}); !reflect.DeepEqual(got.Process.User, want) {
		t.Errorf("rewritten user %+v, want %+v", got.Process.User, want)
	}

	if d := judgeDockerFixture(t, deny, "exec-user-1000.json"); d.Verdict != DenyVerdict || !hasViolationAt(d, "/user/gid") {
		t.Errorf("docker exec -u 1000: %s %+v", d.Verdict, d.Violations)
	}
}

func TestRunAsNonRootGroupSettings(t *testing.T) {
	for settings, want := range map[string]string{
		"{action: rewrite}":           "rewrite needs gid",
		"{action: allow}":             `action "allow" is not valid here`,
		"{action: deny, groups: [1]}": "groups",
		"{action: rewrite, gid: -1}":  "gid",
	} {
		dir := policyDir(t, map[string]string{"groups": "extends: baseline\ncontrols:\n  runAsNonRootGroup: " + settings + "\n"})
		if _, err := LoadPolicy(dir, "groups"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", settings, err, want)
		}
	}
}
