package enforce

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goodBase is a valid policy that broken ones extend.
const goodBase = "mode: enforce\ncontrols:\n  runAsNonRoot: {}\n  resources:\n    memory: {default: 512Mi, max: 2Gi}\n"

// brokenPolicy is a policy directory in which loading policy "p" fails.
type brokenPolicy struct {
	name  string
	files map[string]string // policy name -> content; "p" is loaded
	setup func(t *testing.T, dir string)
	// want are parts of the error besides the file at fault, which it must
	// name: p.yaml, unless blame names another file ("." the directory).
	want  []string
	blame string
}

func brokenPolicies() []brokenPolicy {
	return []brokenPolicy{
		{name: "file owned by another user", files: map[string]string{"p": goodBase},
			setup: func(t *testing.T, dir string) { chown(t, filepath.Join(dir, "p.yaml"), 1000) },
			want:  []string{"owned by uid 1000", "root"}},
		{name: "directory owned by another user", files: map[string]string{"p": goodBase},
			setup: func(t *testing.T, dir string) { chown(t, dir, 1000) },
			want:  []string{"owned by uid 1000", "root"}, blame: "."},
		{name: "group-writable file", files: map[string]string{"p": goodBase},
			setup: func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "p.yaml"), 0o664) },
			want:  []string{"writable by group or others", "0664"}},
		{name: "world-writable file", files: map[string]string{"p": goodBase},
			setup: func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "p.yaml"), 0o646) },
			want:  []string{"writable by group or others", "0646"}},
		{name: "world-writable directory", files: map[string]string{"p": goodBase},
			setup: func(t *testing.T, dir string) { chmod(t, dir, 0o757) },
			want:  []string{"writable by group or others", "0757"}, blame: "."},
		{name: "world-writable parent policy", files: map[string]string{"p": "extends: base\n", "base": goodBase},
			setup: func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "base.yaml"), 0o666) },
			want:  []string{"base.yaml", "writable by group or others"}},
		{name: "symlinked file", files: map[string]string{"base": goodBase},
			setup: func(t *testing.T, dir string) { symlink(t, "base.yaml", filepath.Join(dir, "p.yaml")) },
			want:  []string{"not a regular file"}},
		{name: "YAML syntax error", files: map[string]string{"p": "mode: enforce\ncontrols:\n  runAsNonRoot: {\n"},
			want: []string{"line 3"}},
		{name: "tab indentation", files: map[string]string{"p": "controls:\n\trunAsNonRoot: {}\n"},
			want: []string{"line 2"}},
		{name: "unknown top-level key", files: map[string]string{"p": "mode: enforce\ncontrol:\n  runAsNonRoot: {}\n"},
			want: []string{"line 2", "control"}},
		{name: "control without settings in a policy of its own", files: map[string]string{"p": "controls:\n  privileged:\n  runAsNonRoot: {}\n"},
			want: []string{"line 2", "controls.privileged has no settings", "write privileged: {}"}},
		{name: "control without settings that no parent turns on", files: map[string]string{"p": "extends: base\ncontrols:\n  seccomp:\n", "base": goodBase},
			want: []string{"line 3", "controls.seccomp has no settings", "no policy this one extends turns seccomp on"}},
		{name: "extends through an alias", files: map[string]string{"p": "description: &d base\nextends: *d\ncontrols: {runAsNonRoot: {}}\n", "base": goodBase},
			want: []string{`extends "base" is not written as a plain entry`}},
		{name: "extends through a merge key", files: map[string]string{"p": "<<: {extends: base}\ncontrols: {runAsNonRoot: {}}\n", "base": goodBase},
			want: []string{`extends "base" is not written as a plain entry`}},
		{name: "unknown control", files: map[string]string{"p": "controls:\n  runAsNonRoot: {}\n  runAsRoot: {}\n"},
			want: []string{"line 3", "runAsRoot"}},
		{name: "unknown key in a control", files: map[string]string{"p": "controls:\n  capabilities:\n    allowed: []\n    alowed: []\n    missing: deny\n"},
			want: []string{"line 4", "alowed"}},
		{name: "unknown key in a standard mount", files: map[string]string{"p": "controls:\n  mountDestinations:\n    standard:\n      - {destination: /sys, type: sysfs, source: sysfs, readonly: true}\n"},
			want: []string{"line 4", "readonly"}},
		{name: "bind among the mount types", files: map[string]string{"p": "description: x\ncontrols:\n  mountTypes:\n    allowed: [tmpfs, bind]\n"},
			want: []string{"line 3", `"bind"`, "hostPaths"}},
		{name: "duplicate key", files: map[string]string{"p": "mode: enforce\nmode: audit\n"},
			want: []string{"line 2", "mode"}},
		{name: "wrong type", files: map[string]string{"p": "controls:\n  resources:\n    pids: {max: many}\n"},
			want: []string{"line 3", "many"}},
		{name: "unknown capability", files: map[string]string{"p": "description: x\ncontrols:\n  capabilities:\n    allowed: [CAP_NET_BIND_SERVICE, CAP_FLY]\n    missing: deny\n"},
			want: []string{"line ", `"CAP_FLY"`}},
		{name: "capability in lower case", files: map[string]string{"p": "controls:\n  capabilities:\n    drop: [cap_chown]\n    missing: deny\n"},
			want: []string{"line ", `"cap_chown"`}},
		{name: "capability without CAP_", files: map[string]string{"p": "controls:\n  capabilities:\n    allowed: [SYS_ADMIN]\n    missing: deny\n"},
			want: []string{"line ", `"SYS_ADMIN"`}},
		{name: "invalid action", files: map[string]string{"p": "controls:\n  noNewPrivileges: {action: fix}\n"},
			want: []string{"line 2", `"fix"`}},
		{name: "invalid mode", files: map[string]string{"p": "extends: base\nmode: strict\n", "base": goodBase},
			want: []string{"line 2", `"strict"`}},
		{name: "invalid setting in the policy extended", files: map[string]string{"p": "extends: base\nmode: audit\n",
			"base": "controls:\n  runAsNonRoot: {}\n  resources:\n    memory: {default: 4Gi, max: 2Gi}\n"},
			want: []string{"line ", "4Gi", "2Gi"}, blame: "base.yaml"},
		{name: "policy that does not exist", files: map[string]string{"base": goodBase}, setup: func(t *testing.T, dir string) {},
			want: []string{`"p" does not exist`}},
		{name: "extends a policy that does not exist", files: map[string]string{"p": "description: x\nextends: nothing\n"},
			want: []string{"line 2", "nothing.yaml", "does not exist"}},
		{name: "extends a name that is not a policy name", files: map[string]string{"p": "extends: ../etc/x\n"},
			want: []string{"line 1", "../etc/x"}},
		{name: "extends itself", files: map[string]string{"p": "extends: q\n", "q": "extends: p\n"},
			want: []string{"line 1", "p -> q -> p"}},
		{name: "empty file", files: map[string]string{"p": ""},
			want: []string{"empty"}},
		{name: "only comments", files: map[string]string{"p": "# restricted, but truncated\n"},
			want: []string{"empty"}},
		{name: "null document", files: map[string]string{"p": "---\n~\n"},
			want: []string{"no settings"}},
		{name: "a list, not a mapping", files: map[string]string{"p": "- runAsNonRoot\n"},
			want: []string{"line 1", "mapping"}},
		{name: "a second document", files: map[string]string{"p": goodBase + "---\ncontrols: {}\n"},
			want: []string{"line 6", "document"}},
	}
}

func TestLoadPolicyFailsClosedNamingTheFile(t *testing.T) {
	for _, tt := range brokenPolicies() {
		t.Run(tt.name, func(t *testing.T) {
			dir := policyDirWith(t, tt.files)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			p, err := LoadPolicy(dir, "p")
			if err == nil {
				t.Fatalf("LoadPolicy admitted the policy: %+v", p)
			}
			file := filepath.Join(dir, "p.yaml")
			switch tt.blame {
			case ".":
				file = dir
			case "":
			default:
				file = filepath.Join(dir, tt.blame)
			}
			if !strings.Contains(err.Error(), file) {
				t.Errorf("the error does not name %s: %v", file, err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error lacks %q: %v", want, err)
				}
			}
		})
	}
}

func TestLoadPolicyRefusesInvalidNames(t *testing.T) {
	dir := policyDirWith(t, map[string]string{"base": goodBase})
	for _, name := range []string{"", "../base", "base/", ".hidden", "a b"} {
		_, err := LoadPolicy(dir, name)
		if err == nil || !strings.Contains(err.Error(), "is not valid") || !strings.Contains(err.Error(), dir) {
			t.Errorf("policy name %q: %v", name, err)
		}
	}
}

// Every setting a file gives is still read: the checks above must not
// refuse what the shipped policies and their ordinary variants say.
func TestLoadPolicyAcceptsValidChains(t *testing.T) {
	dir := policyDirWith(t, map[string]string{
		"base":     goodBase,
		"child":    "# a comment first\nextends: base\ncontrols:\n  resources:\n    memory: {default: 1Gi}\n",
		"off":      "extends: child\ncontrols:\n  runAsNonRoot: null\n",
		"explicit": "{}\n",
	})
	p, err := LoadPolicy(dir, "off")
	if err != nil {
		t.Fatal(err)
	}
	if p.Controls.RunAsNonRoot != nil || p.Controls.Resources == nil || p.Controls.Resources.Memory.Default != 1<<30 || p.Controls.Resources.Memory.Max != 2<<30 {
		t.Errorf("the chain was not merged key by key: %+v", p.Controls)
	}
	if _, err := LoadPolicy(dir, "explicit"); err != nil {
		t.Errorf("an explicit empty mapping is a deliberate policy: %v", err)
	}
}

// policy lint reports the same problems, with exit status 2, and still
// prints the policies that are fine.
func TestPolicyLintReportsBrokenPolicies(t *testing.T) {
	for _, tt := range brokenPolicies() {
		if tt.blame == "." || tt.files["p"] == "" && tt.setup != nil {
			continue // an untrusted directory, or no p.yaml, lints as no policy at all
		}
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"zgood": goodBase}
			for k, v := range tt.files {
				files[k] = v
			}
			dir := policyDirWith(t, files)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			var stdout, stderr bytes.Buffer
			status := PolicyCommand([]string{"lint", "--policy-dir", dir}, &stdout, &stderr)
			if status != ExitUnusable {
				t.Errorf("lint exited %d, want %d; stderr %s", status, ExitUnusable, stderr.String())
			}
			file := "p.yaml"
			if tt.blame != "" {
				file = tt.blame
			}
			if !strings.Contains(stderr.String(), filepath.Join(dir, file)) {
				t.Errorf("lint does not name the file:\n%s", stderr.String())
			}
			if !strings.Contains(stdout.String(), "# policy zgood") {
				t.Errorf("lint does not print the good policy:\n%s", stdout.String())
			}
		})
	}
	var stdout, stderr bytes.Buffer
	dir := policyDirWith(t, map[string]string{"base": goodBase})
	if status := PolicyCommand([]string{"lint", "--policy-dir", dir, "missing"}, &stdout, &stderr); status != ExitUnusable ||
		!strings.Contains(stderr.String(), filepath.Join(dir, "missing.yaml")) {
		t.Errorf("lint of a policy that does not exist: %d %s", status, stderr.String())
	}
}

func policyDirWith(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "policy.d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func chown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Lchown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyNamesCannotLeaveTheDirectory(t *testing.T) {
	for name, ok := range map[string]bool{
		"restricted": true, "k8s-baseline": true, "team_a.v2": true, "A1": true,
		"": false, "../etc": false, ".hidden": false, "-x": false, "_x": false, "a/b": false, "a b": false, "a\x00": false,
	} {
		if validPolicyName(name) != ok {
			t.Errorf("validPolicyName(%q) = %v, want %v", name, !ok, ok)
		}
	}
}
