package enforce

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Mode says whether a policy's verdicts take effect.
type Mode string

const (
	// Enforce denies and rewrites as the controls say.
	Enforce Mode = "enforce"
	// AuditMode admits every document unchanged and only reports what
	// enforce mode would have done, for rolling a policy out safely.
	AuditMode Mode = "audit"
)

// Policy is one named policy file of policy.d.
type Policy struct {
	Name string `yaml:"-"`
	File string `yaml:"-"`

	Description string `yaml:"description"`
	// Extends names a policy whose settings this one starts from: a
	// control section given here replaces the parent's settings key by key
	// (lists are replaced whole, maps of names entry by entry); "null"
	// turns a parent's control off, or empties a list.
	Extends  string   `yaml:"extends,omitempty"`
	Mode     Mode     `yaml:"mode"`
	Controls Controls `yaml:"controls"`
}

// Control is one security control: the fields it reads and what the
// policy allows in them.
type Control interface {
	// Validate checks the control's settings when the policy is loaded.
	Validate() error
	// Check judges in and records violations and rewrites in r.
	Check(in *Input, r *Report)
}

// NamedControl is a control with the name of its section in a policy.
type NamedControl struct {
	Name string
	Control
}

// List returns the controls the policy turns on, in declaration order,
// under their section names. It is written out, not reflected: it runs on
// every call that judges a document, and TestControlsListMatchesTheStruct
// keeps it in step with Controls.
func (c *Controls) List() []NamedControl {
	all := [...]struct {
		name    string
		on      bool
		control Control
	}{
		{"privileged", c.Privileged != nil, c.Privileged},
		{"runAsNonRoot", c.RunAsNonRoot != nil, c.RunAsNonRoot},
		{"runAsNonRootGroup", c.RunAsNonRootGroup != nil, c.RunAsNonRootGroup},
		{"capabilities", c.Capabilities != nil, c.Capabilities},
		{"readOnlyRoot", c.ReadOnlyRoot != nil, c.ReadOnlyRoot},
		{"resources", c.Resources != nil, c.Resources},
		{"noNewPrivileges", c.NoNewPrivileges != nil, c.NoNewPrivileges},
		{"devices", c.Devices != nil, c.Devices},
		{"sysctls", c.Sysctls != nil, c.Sysctls},
		{"seccomp", c.Seccomp != nil, c.Seccomp},
		{"appArmor", c.AppArmor != nil, c.AppArmor},
		{"seLinux", c.SELinux != nil, c.SELinux},
		{"maskedPaths", c.MaskedPaths != nil, c.MaskedPaths},
		{"procFd", c.ProcFd != nil, c.ProcFd},
		{"passedDescriptors", c.PassedDescriptors != nil, c.PassedDescriptors},
		{"pivotRoot", c.PivotRoot != nil, c.PivotRoot},
		{"sessionKeyring", c.SessionKeyring != nil, c.SessionKeyring},
		{"hooks", c.Hooks != nil, c.Hooks},
		{"unified", c.Unified != nil, c.Unified},
		{"systemdProperties", c.SystemdProperties != nil, c.SystemdProperties},
		{"cgroupsPath", c.CgroupsPath != nil, c.CgroupsPath},
		{"oom", c.OOM != nil, c.OOM},
		{"rlimits", c.Rlimits != nil, c.Rlimits},
		{"hostNamespaces", c.HostNamespaces != nil, c.HostNamespaces},
		{"hostPaths", c.HostPaths != nil, c.HostPaths},
		{"mountDestinations", c.MountDestinations != nil, c.MountDestinations},
		{"mountTypes", c.MountTypes != nil, c.MountTypes},
		{"mountPropagation", c.MountPropagation != nil, c.MountPropagation},
	}
	list := make([]NamedControl, 0, len(all))
	for _, entry := range all {
		if entry.on {
			list = append(list, NamedControl{entry.name, entry.control})
		}
	}
	return list
}

// validPolicyName accepts what a policy file may be called: letters,
// digits, '.', '_' and '-', not starting with '.', '_' or '-', so that a
// name can never leave the policy directory. (A hand-written check: a
// package-level regexp would be compiled on every runtime call.)
func validPolicyName(name string) bool {
	if name == "" || !isAlnum(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

const maxExtendsDepth = 8

// LoadPolicy reads policy name from dir. Every problem is an error that
// names the file, and the line where there is one: a policy that cannot be
// read must refuse containers, never admit them unchecked.
func LoadPolicy(dir, name string) (*Policy, error) {
	if !validPolicyName(name) {
		return nil, fmt.Errorf("policy name %q is not valid: use letters, digits, '.', '_' and '-' (the policies are the *.yaml files of %s)", name, dir)
	}
	l := &policyLoader{dir: dir, origins: map[string]origin{}}
	p := &Policy{}
	if err := l.load(p, name, nil); err != nil {
		return nil, err
	}
	p.Name = name
	p.File = policyFile(dir, name)
	p.Extends = ""
	if p.Mode == "" {
		p.Mode = Enforce
	}
	if err := p.validate(); err != nil {
		var se *settingError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("policy %q: %s: %w", name, l.origins[se.key].or(p.File), err)
		}
		return nil, fmt.Errorf("policy %q: %s: %w", name, p.File, err)
	}
	return p, nil
}

func policyFile(dir, name string) string {
	return filepath.Join(dir, name+".yaml")
}

// policyLoader reads a policy and the chain of policies it extends,
// remembering where each setting was last given, so that a setting that
// is not valid is reported at its file and line.
type policyLoader struct {
	dir string
	// origins maps "mode" and "controls.<name>" to where they were last set.
	origins map[string]origin
}

type origin struct {
	file string
	line int
}

// or describes where o is, or names file when o is unknown.
func (o origin) or(file string) string {
	if o.file == "" {
		return file
	}
	return fmt.Sprintf("%s: line %d", o.file, o.line)
}

func readPolicyFile(file, name, dir string) ([]byte, error) {
	if err := checkTrusted(dir); err != nil {
		return nil, err
	}
	info, err := os.Lstat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("policy %q does not exist: no %s (available: %s)", name, file, strings.Join(Available(dir), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("policy %q: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("policy file %s is not a regular file", file)
	}
	if err := checkTrusted(file); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("policy %q: %w", name, err)
	}
	return data, nil
}

// checkTrusted refuses a policy file or directory, or config.yaml, that
// someone other than root could have written, as sshd's StrictModes does
// for its keys.
func checkTrusted(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("policy path %s: %w", path, err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if ok && st.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not root: anyone who can write it controls every container; chown root %s", path, st.Uid, path)
	}
	if info.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o): chmod go-w %s", path, info.Mode().Perm(), path)
	}
	return nil
}

// settingError is a setting of a loaded policy that is not valid; key is
// "mode" or "controls.<name>".
type settingError struct {
	key string
	err error
}

func (e *settingError) Error() string { return e.key + ": " + e.err.Error() }
func (e *settingError) Unwrap() error { return e.err }

// validate checks the settings of a policy loaded from its files, and
// rebuilds what controls derive from them.
func (p *Policy) validate() error { return p.validateControls(false) }

// validateCached is validate for a policy read from the cache, which the
// full build validated whole when it wrote the entry: hostPaths compiles
// its rule patterns as mounts need them (HostPaths.validateCached).
func (p *Policy) validateCached() error { return p.validateControls(true) }

func (p *Policy) validateControls(cached bool) error {
	if p.Mode != Enforce && p.Mode != AuditMode {
		return &settingError{"mode", fmt.Errorf("%q is not valid: use enforce or audit", p.Mode)}
	}
	for _, c := range p.Controls.List() {
		validate := c.Validate
		// A concrete type, not an interface: asserting an interface costs
		// the first call of a process a method-table search per control.
		if h, ok := c.Control.(*HostPaths); ok && cached {
			validate = h.validateCached
		}
		if err := validate(); err != nil {
			return &settingError{"controls." + c.Name, err}
		}
	}
	return nil
}

// Available lists the policy names in dir.
func Available(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	names := make([]string, 0, len(matches))
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".yaml"))
	}
	sort.Strings(names)
	return names
}

func validateAction(a Action, allowed ...Action) error {
	for _, ok := range allowed {
		if a == ok {
			return nil
		}
	}
	names := make([]string, len(allowed))
	for i, ok := range allowed {
		names[i] = string(ok)
	}
	return fmt.Errorf("action %q is not valid here: use %s", a, strings.Join(names, " or "))
}
