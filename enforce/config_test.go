package enforce

import (
	"strings"
	"testing"
)

func TestParseConfigIsStrictAndFillsDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte("runtime:\n  sha256: abc\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runtime.Path != DefaultRuntimePath || cfg.Policy.Dir != DefaultPolicyDir || cfg.Policy.Default != DefaultPolicy ||
		cfg.Audit.File != DefaultAuditFile || len(cfg.Runtime.SHA256) != 1 {
		t.Fatalf("defaults not filled: %+v", cfg)
	}
	cfg, err = ParseConfig([]byte("runtime:\n  sha256: [a, b]\n"))
	if err != nil || len(cfg.Runtime.SHA256) != 2 {
		t.Fatalf("a list of pins: %+v %v", cfg, err)
	}
	_, err = ParseConfig([]byte("runtime:\n  pth: /usr/sbin/runc\n"))
	if err == nil || !strings.Contains(err.Error(), "pth") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("unknown key not named with its line: %v", err)
	}
}

func TestNamespacePolicyComesOnlyFromTheSandboxNamespaceAnnotation(t *testing.T) {
	k := KubernetesConfig{Namespaces: map[string]string{"team-a": "restricted", "kube-system": "baseline"}}
	cases := []struct {
		annotations map[string]string
		want        string
	}{
		{map[string]string{SandboxNamespaceAnnotation: "team-a"}, "restricted"},
		{map[string]string{SandboxNamespaceAnnotation: "kube-system"}, "baseline"},
		{map[string]string{SandboxNamespaceAnnotation: "unmapped"}, ""},
		{map[string]string{"io.kubernetes.pod.namespace": "kube-system"}, ""},
		{nil, ""},
	}
	for _, c := range cases {
		if got := k.policyFor(c.annotations); got != c.want {
			t.Errorf("policyFor(%v) = %q, want %q", c.annotations, got, c.want)
		}
	}
}
