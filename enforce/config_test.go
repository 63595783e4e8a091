package enforce

import (
	"reflect"
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

func TestConfigDigestsAreOneOrAList(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Digests
	}{
		{"sha256: abc", Digests{"abc"}},
		{"sha256: [a, b]", Digests{"a", "b"}},
		{"sha256:\n    - a\n    - b", Digests{"a", "b"}},
		{"sha256:", nil},
		{"sha256: ~", nil},
		{`sha256: "abc"`, Digests{"abc"}},
		// Written as it stands, never read as a number.
		{"sha256: 0123", Digests{"0123"}},
		{"sha256: [1e5, 0x1F]", Digests{"1e5", "0x1F"}},
	} {
		cfg, err := ParseConfig([]byte("runtime:\n  " + tc.text + "\n"))
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if !reflect.DeepEqual(cfg.Runtime.SHA256, tc.want) {
			t.Errorf("%q read as %#v, want %#v", tc.text, cfg.Runtime.SHA256, tc.want)
		}
	}
	for _, text := range []string{"sha256: {a: b}", "sha256: [a, [b]]"} {
		if _, err := ParseConfig([]byte("runtime:\n  " + text + "\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: error %v, want one naming line 2", text, err)
		}
	}
}

func TestConfigErrorsNameTheLineAndTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"duplicate key", "runtime:\n  path: /usr/sbin/runc\n  path: /usr/bin/crun\n", []string{"line 3", `"path" already defined at line 2`}},
		{"unknown section", "policy:\n  default: baseline\nrutime:\n  path: x\n", []string{"line 3", "rutime"}},
		{"not a mapping", "policy: baseline\n", []string{"line 1"}},
		{"not YAML", "runtime:\n  path: [\n", []string{"line 2"}},
	} {
		_, err := ParseConfig([]byte(tc.text))
		for _, want := range tc.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %v does not say %q", tc.name, err, want)
			}
		}
	}
}

// goccy's parser drops what follows two "---" in a row: config.yaml would
// silently fall back to the default runtime and policy.
func TestConfigSecondDocumentAfterAnEmptyOne(t *testing.T) {
	_, err := ParseConfig([]byte("---\n---\nruntime:\n  path: /tmp/runc\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2: a second YAML document") {
		t.Fatalf("error %v, want the second document at line 2", err)
	}
}

// runtime.cacheDir: "" turns the verification, policy and config caches
// off (every call hashes the runtime, as on a filesystem whose ctimes
// cannot be trusted); left out, the cache is in its default place.
func TestConfigCacheDirEmptyTurnsTheCacheOff(t *testing.T) {
	for text, want := range map[string]string{
		"runtime:\n  path: /usr/sbin/runc\n":                     DefaultCacheDir,
		"runtime:\n  path: /usr/sbin/runc\n  cacheDir: \"\"\n":   "",
		"runtime:\n  path: /usr/sbin/runc\n  cacheDir:\n":        "",
		"runtime:\n  path: /usr/sbin/runc\n  cacheDir: /var/c\n": "/var/c",
		"policy:\n  default: baseline\n":                         DefaultCacheDir,
	} {
		cfg, err := ParseConfig([]byte(text))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if cfg.Runtime.CacheDir != want {
			t.Errorf("%q: cacheDir %q, want %q", text, cfg.Runtime.CacheDir, want)
		}
	}
}
