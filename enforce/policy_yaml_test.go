package enforce

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const parentPolicy = `description: parent
mode: audit
controls:
  capabilities:
    allowed: [CAP_CHOWN, CAP_KILL]
    drop: [CAP_NET_RAW]
    missing: deny
  privileged: {}
  resources:
    memory: {default: 256Mi, max: 1Gi}
    pids: {default: 100, max: 200}
  sysctls:
    allowed: [kernel.shm_rmid_forced]
  devices:
    cgroupRules:
      - {allow: false, access: rwm}
      - {allow: true, type: c, major: 1, minor: 3, access: rwm}
`

func TestExtendsReplacesTheParentsSettingsKeyByKey(t *testing.T) {
	t.Parallel()
	dir := policyDirWith(t, map[string]string{"parent": parentPolicy, "child": `extends: parent
controls:
  capabilities:
    allowed: [CAP_KILL]
  resources:
    memory: {max: 2Gi}
  privileged: null
  sysctls:
    allowed: null
  devices:
    cgroupRules:
      - {allow: false, access: rwm}
`})
	p, err := LoadPolicy(dir, "child")
	if err != nil {
		t.Fatal(err)
	}
	if p.Description != "parent" || p.Mode != AuditMode {
		t.Errorf("description %q, mode %q: want the parent's", p.Description, p.Mode)
	}
	c := p.Controls
	if want := (Capabilities{Allowed: []string{"CAP_KILL"}, Drop: []string{"CAP_NET_RAW"}, Missing: Deny}); c.Capabilities == nil || !reflect.DeepEqual(*c.Capabilities, want) {
		t.Errorf("capabilities %+v, want the child's list and the parent's other keys %+v", c.Capabilities, want)
	}
	if c.Privileged != nil {
		t.Error("privileged: null did not turn the parent's control off")
	}
	if r := c.Resources; r == nil || r.Memory == nil || *r.Memory != (MemoryLimit{Default: 256 << 20, Max: 2 << 30}) ||
		r.Pids == nil || *r.Pids != (PidsLimit{Default: 100, Max: 200}) {
		t.Errorf("resources %+v: want memory.max from the child, the rest from the parent", c.Resources)
	}
	if c.Sysctls == nil || len(c.Sysctls.Allowed) != 0 {
		t.Errorf("sysctls %+v: allowed: null must empty the parent's list, keeping the control on", c.Sysctls)
	}
	if c.Devices == nil || len(c.Devices.CgroupRules) != 1 {
		t.Errorf("devices %+v: a list is replaced whole", c.Devices)
	}
	parent, err := LoadPolicy(dir, "parent")
	if err != nil {
		t.Fatal(err)
	}
	if parent.Controls.Privileged == nil || len(parent.Controls.Capabilities.Allowed) != 2 {
		t.Errorf("loading the child changed the parent: %+v", parent.Controls)
	}
}

func TestPolicyErrorsNameTheFileTheLineAndTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"unknown control setting", "controls:\n  capabilities:\n    alowed: [CAP_KILL]\n", []string{"line 3", "alowed"}},
		{"unknown control", "controls:\n  privilegd: {}\n", []string{"line 2", "privilegd"}},
		{"unknown top-level key", "description: x\ndescripton: y\n", []string{"line 2", "descripton"}},
		{"duplicate key", "mode: enforce\ncontrols: {}\nmode: audit\n", []string{"line 3", `"mode" already defined at line 1`}},
		{"size not valid", "controls:\n  resources:\n    memory: {default: 1Gb, max: 2Gi}\n", []string{"line 3", "1Gb"}},
		{"number not valid", "controls:\n  resources:\n    pids:\n      default: many\n", []string{"line 4", "many"}},
		{"mapping expected", "controls:\n  capabilities: [CAP_KILL]\n", []string{"line 2"}},
		{"list expected", "controls:\n  capabilities:\n    allowed: CAP_KILL\n", []string{"line 3"}},
		{"not YAML", "description: x\ncontrols: [\n", []string{"line 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := policyDirWith(t, map[string]string{"bad": tc.text})
			_, err := LoadPolicy(dir, "bad")
			if err == nil {
				t.Fatal("loaded")
			}
			for _, want := range append(tc.want, filepath.Join(dir, "bad.yaml")) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines: audit records and runc's log take one", err)
			}
		})
	}
}

func TestAnErrorInTheParentNamesTheChainAndTheParentsFile(t *testing.T) {
	t.Parallel()
	dir := policyDirWith(t, map[string]string{
		"parent": "controls:\n  seccomp:\n    missing: deny\n    mising: deny\n",
		"child":  "extends: parent\n",
	})
	_, err := LoadPolicy(dir, "child")
	for _, want := range []string{filepath.Join(dir, "child.yaml") + `: line 1: extends "parent"`, filepath.Join(dir, "parent.yaml"), "line 4", "mising"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

func TestPolicySizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want Bytes
	}{
		{"512Mi", 512 << 20},
		{`"2Gi"`, 2 << 30},
		{"536870912", 536870912},
		{"1Ti", 1 << 40},
		{"0", 0},
		{"!!str 64Ki", 64 << 10},
		{"&size 1Gi", 1 << 30},
	} {
		dir := policyDirWith(t, map[string]string{"p": "controls:\n  resources:\n    memory:\n      max: " + tc.text + "\n"})
		p, err := LoadPolicy(dir, "p")
		if err != nil {
			t.Errorf("max: %s: %v", tc.text, err)
			continue
		}
		if got := p.Controls.Resources.Memory.Max; got != tc.want {
			t.Errorf("max: %s read as %d, want %d", tc.text, got, tc.want)
		}
	}
	for _, text := range []string{"1e9", "0x100", "-1", "1.5Gi", "2GB", "9999999Ti", "[1]"} {
		dir := policyDirWith(t, map[string]string{"p": "controls:\n  resources:\n    memory:\n      max: " + text + "\n"})
		if _, err := LoadPolicy(dir, "p"); err == nil || !strings.Contains(err.Error(), "line 4") {
			t.Errorf("max: %s: error %v, want one naming line 4", text, err)
		}
	}
}

// policy lint prints the effective rules of a policy, its parents merged in:
// saved as a policy of its own, they load as the same policy.
func TestLintPrintsRulesThatLoadAsTheSamePolicy(t *testing.T) {
	t.Parallel()
	for _, name := range Available(shippedPolicies) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := loadShipped(t, name)
			var out bytes.Buffer
			if err := lintOne(&out, shippedPolicies, name); err != nil {
				t.Fatal(err)
			}
			header, rules, _ := strings.Cut(out.String(), "\n")
			if !strings.HasPrefix(header, "# policy "+name+" ") {
				t.Errorf("lint header %q", header)
			}
			rules = strings.ReplaceAll("\n"+rules, "\n  ", "\n")
			dir := policyDirWith(t, map[string]string{"copy": rules})
			got, err := LoadPolicy(dir, "copy")
			if err != nil {
				t.Fatalf("lint output does not load: %v\n%s", err, rules)
			}
			got.Name, got.File = want.Name, want.File
			if !reflect.DeepEqual(got, want) {
				t.Errorf("lint output loads as\n%+v\nwant\n%+v\n%s", got.Controls, want.Controls, rules)
			}
		})
	}
}

// A map of names, such as hostPaths' roots, is overlaid entry by entry: a
// node policy moves one root and keeps the others.
func TestExtendsOverlaysAMapEntryByEntry(t *testing.T) {
	t.Parallel()
	baseline, err := os.ReadFile(policyFile(shippedPolicies, "baseline"))
	if err != nil {
		t.Fatal(err)
	}
	dir := policyDirWith(t, map[string]string{
		"baseline": string(baseline),
		"node":     "extends: baseline\ncontrols:\n  hostPaths:\n    roots:\n      kubeletRoot: /srv/kubelet\n",
	})
	p, err := LoadPolicy(dir, "node")
	if err != nil {
		t.Fatal(err)
	}
	roots := p.Controls.HostPaths.Roots
	if roots["kubeletRoot"] != "/srv/kubelet" || roots["dockerRoot"] != "/var/lib/docker" || roots["containerdRoot"] != "/var/lib/containerd" {
		t.Errorf("roots %v: want kubeletRoot moved and the other roots kept", roots)
	}
}

// A file holds one YAML document, counted as YAML writes them: the parser
// alone would drop what follows two "---" in a row.
func TestPolicyDocumentsAreCountedAsWritten(t *testing.T) {
	t.Parallel()
	const settings = "controls:\n  runAsNonRoot: {}\n"
	for text, line := range map[string]string{
		"---\n---\n" + settings:                 "line 2",
		settings + "---\n---\n" + settings:      "line 3",
		settings + "...\n" + settings:           "line 4",
		settings + "---\n":                      "line 3",
		"%YAML 1.2\n---\n" + settings + "---\n": "line 5",
	} {
		dir := policyDirWith(t, map[string]string{"p": text})
		_, err := LoadPolicy(dir, "p")
		if err == nil || !strings.Contains(err.Error(), line+": a second YAML document") {
			t.Errorf("%q: error %v, want the second document at %s", text, err, line)
		}
	}
	for _, text := range []string{
		"%YAML 1.2\n---\n" + settings,
		"--- # restricted\n" + settings,
		settings + "...\n# end\n",
		"description: |\n  ---\n  ...\n" + settings,
	} {
		dir := policyDirWith(t, map[string]string{"p": text})
		if p, err := LoadPolicy(dir, "p"); err != nil || p.Controls.RunAsNonRoot == nil {
			t.Errorf("%q: %v, want runAsNonRoot on", text, err)
		}
	}
}

// The YAML library panics on some input (a tag on a value decoded into a
// list); a policy it cannot read refuses like any other, and names itself.
func TestPolicyTheDecoderFailsOnIsRefused(t *testing.T) {
	t.Parallel()
	dir := policyDirWith(t, map[string]string{"p": "controls:\n  capabilities:\n    allowed: !!str CAP_KILL\n"})
	_, err := LoadPolicy(dir, "p")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "p.yaml")) || !strings.Contains(err.Error(), "not valid YAML") {
		t.Fatalf("error %v, want one naming p.yaml", err)
	}
}
