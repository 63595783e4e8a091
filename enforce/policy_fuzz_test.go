package enforce

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadPolicy loads arbitrary policy files, which may extend the shipped
// ones, and checks: no panic; an error or a policy, and an error names the
// file; a policy that loads prints (as `policy lint` does) rules that load
// again to the same policy.
func FuzzLoadPolicy(f *testing.F) {
	dir := f.TempDir()
	for _, name := range Available(shippedPolicies) {
		data, err := os.ReadFile(policyFile(shippedPolicies, name))
		if err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(policyFile(dir, name), data, 0o644); err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("extends: restricted\ncontrols:\n  capabilities: null\n  resources:\n    memory: {default: 1Gi}\n"))
	f.Add([]byte("mode: audit\ncontrols:\n  readOnlyRoot: {action: deny}\n  noNewPrivileges: {action: deny}\n"))
	file := policyFile(dir, "fuzz")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := LoadPolicy(dir, "fuzz")
		if err != nil {
			if p != nil {
				t.Fatalf("LoadPolicy returned a policy with its error %v", err)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("the error does not name the policy file: %v", err)
			}
			return
		}
		rules, err := p.rules()
		if err != nil {
			t.Fatalf("the effective rules of a loaded policy do not print: %v", err)
		}
		reloaded := &Policy{}
		doc, err := parseYAML(rules, "")
		if err == nil {
			err = decodeYAML(doc, reloaded)
		}
		if err != nil {
			t.Fatalf("the printed rules do not load again: %v\n%s", err, rules)
		}
		if err := reloaded.validate(); err != nil {
			t.Fatalf("the printed rules are not valid: %v\n%s", err, rules)
		}
		again, err := reloaded.rules()
		if err != nil || string(again) != string(rules) {
			t.Fatalf("the printed rules load to another policy (%v):\n%s\nthen\n%s", err, rules, again)
		}
	})
}

// FuzzParseConfig reads arbitrary config.yaml files: no panic, an error or
// a configuration with every default filled in.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("runtime:\n  path: /usr/sbin/runc\n  sha256: [ab, cd]\npolicy:\n  dir: /etc/guard-runtime/policy.d\n  default: restricted\naudit:\n  file: /var/log/a.log\nkubernetes:\n  namespaces: {kube-system: baseline}\n"))
	f.Add([]byte("runtime:\n  sha256: 0123\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			if cfg != nil {
				t.Fatalf("ParseConfig returned a configuration with its error %v", err)
			}
			return
		}
		if cfg.Runtime.Path == "" || cfg.Policy.Dir == "" || cfg.Policy.Default == "" || cfg.Audit.File == "" {
			t.Fatalf("a default is missing: %+v", cfg)
		}
		_ = filepath.Clean(cfg.Runtime.Path)
	})
}
