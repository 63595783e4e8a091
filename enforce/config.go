package enforce

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/guard-runtime/guard-runtime/spec"
)

// DefaultConfigPath is where guard-runtime looks for its configuration when
// --guard-config is not given.
const DefaultConfigPath = "/etc/guard-runtime/config.yaml"

// Config is guard-runtime's own configuration file, config.yaml.
type Config struct {
	Runtime    RuntimeConfig    `yaml:"runtime"`
	Policy     PolicyConfig     `yaml:"policy"`
	Audit      AuditConfig      `yaml:"audit"`
	Kubernetes KubernetesConfig `yaml:"kubernetes"`

	// File is the path the configuration was read from.
	File string `yaml:"-"`
}

// RuntimeConfig names the real OCI runtime and pins its content.
type RuntimeConfig struct {
	// Path is the real runtime binary, e.g. /usr/sbin/runc.
	Path string `yaml:"path"`
	// SHA256 holds the accepted digests of the binary: one, or a list
	// during an upgrade.
	SHA256 Digests `yaml:"sha256"`
	// CacheDir keeps verified (device, inode, size, mtime, ctime) keys so
	// that the binary is not hashed again on every call.
	CacheDir string `yaml:"cacheDir"`
}

// PolicyConfig says where policies live and which one applies by default.
type PolicyConfig struct {
	Dir     string `yaml:"dir"`
	Default string `yaml:"default"`
}

// AuditConfig configures the audit trail's fallback when journald is unreachable.
type AuditConfig struct {
	File string `yaml:"file"`
}

// KubernetesConfig maps Kubernetes namespaces to policies, read from the
// io.kubernetes.cri.sandbox-namespace annotation that only the CRI plugin writes.
type KubernetesConfig struct {
	Namespaces map[string]string `yaml:"namespaces"`
}

// SandboxNamespaceAnnotation is where containerd's CRI plugin writes the
// pod's Kubernetes namespace. Only the CRI plugin writes it: the pod's own
// annotations are not copied into config.json.
const SandboxNamespaceAnnotation = "io.kubernetes.cri.sandbox-namespace"

// policyFor returns the policy mapped to the pod's namespace, or "" when
// the config has no mapping for it (the runtime's --guard-policy or the
// default policy then applies).
func (k KubernetesConfig) policyFor(annotations map[string]string) string {
	ns, ok := annotations[SandboxNamespaceAnnotation]
	if !ok || len(k.Namespaces) == 0 {
		return ""
	}
	return k.Namespaces[ns]
}

// Digests is one sha256 digest or a list of them.
type Digests []string

// Defaults for what config.yaml leaves out.
const (
	DefaultRuntimePath = "/usr/sbin/runc"
	DefaultPolicyDir   = "/etc/guard-runtime/policy.d"
	DefaultPolicy      = "restricted"
	DefaultAuditFile   = "/var/log/guard-runtime/audit.log"
	DefaultCacheDir    = "/var/lib/guard-runtime/verified"
)

// maxConfigSize bounds config.yaml, a few hundred bytes in practice.
const maxConfigSize = 1 << 20

// LoadConfig reads config.yaml strictly: an unknown key is an error naming it.
// A missing file is an error too, because without it there is no runtime pin.
// config.yaml names the binary guard-runtime executes as root, so, like a
// policy, it must be a regular file only root can have written; reading it
// never blocks (a FIFO) and is bounded (a symlink to /dev/zero).
func LoadConfig(path string) (*Config, error) {
	return loadConfigCached(path)
}

// loadConfigFile is LoadConfig without the config cache.
func loadConfigFile(path string) (*Config, error) {
	data, err := spec.ReadFile(path, maxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("config %s does not exist: install guard-runtime with hack/install.sh or pass --guard-config FILE", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if err := checkTrusted(path); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.File = path
	return cfg, nil
}

func (c *Config) fillDefaults(cacheDirSet bool) {
	if c.Runtime.Path == "" {
		c.Runtime.Path = DefaultRuntimePath
	}
	if c.Runtime.CacheDir == "" && !cacheDirSet {
		c.Runtime.CacheDir = DefaultCacheDir
	}
	if c.Policy.Dir == "" {
		c.Policy.Dir = DefaultPolicyDir
	}
	if c.Policy.Default == "" {
		c.Policy.Default = DefaultPolicy
	}
	if c.Audit.File == "" {
		c.Audit.File = DefaultAuditFile
	}
}
