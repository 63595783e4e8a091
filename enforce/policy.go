package enforce

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"
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
	// (lists are replaced whole); "null" turns a parent's control off.
	Extends  string   `yaml:"extends"`
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

// List returns the controls the policy turns on, in declaration order.
func (c *Controls) List() []NamedControl {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	var list []NamedControl
	for i := 0; i < t.NumField(); i++ {
		f := v.Field(i)
		if f.IsNil() {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		list = append(list, NamedControl{Name: name, Control: f.Interface().(Control)})
	}
	return list
}

var policyName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

const maxExtendsDepth = 8

// LoadPolicy reads policy name from dir. Every problem is an error that
// names the file, and the line where the decoder gives one: a policy that
// cannot be read must refuse containers, never admit them unchecked.
func LoadPolicy(dir, name string) (*Policy, error) {
	p := &Policy{}
	if err := loadInto(p, dir, name, nil); err != nil {
		return nil, err
	}
	p.Name = name
	p.File = policyFile(dir, name)
	p.Extends = ""
	if p.Mode == "" {
		p.Mode = Enforce
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("policy %q (%s): %w", name, p.File, err)
	}
	return p, nil
}

func policyFile(dir, name string) string {
	return filepath.Join(dir, name+".yaml")
}

func loadInto(p *Policy, dir, name string, chain []string) error {
	if !policyName.MatchString(name) {
		return fmt.Errorf("policy name %q is not valid: use letters, digits, '.', '_' and '-'", name)
	}
	for _, seen := range chain {
		if seen == name {
			return fmt.Errorf("policy %q extends itself through %s", name, strings.Join(append(chain, name), " -> "))
		}
	}
	if len(chain) >= maxExtendsDepth {
		return fmt.Errorf("policy %q: more than %d levels of extends", name, maxExtendsDepth)
	}
	file := policyFile(dir, name)
	data, err := readPolicyFile(file, name, dir)
	if err != nil {
		return err
	}
	parent, err := peekExtends(data, file)
	if err != nil {
		return err
	}
	if parent != "" {
		if err := loadInto(p, dir, parent, append(chain, name)); err != nil {
			return fmt.Errorf("policy %q extends %q: %w", name, parent, err)
		}
	}
	return decodePolicy(data, file, p)
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

// checkTrusted refuses a policy file or directory that someone other than
// root could have written, as sshd's StrictModes does for its keys.
func checkTrusted(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("policy path %s: %w", path, err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if ok && st.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not root: anyone who can write a policy controls every container; chown root %s", path, st.Uid, path)
	}
	if info.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o): chmod go-w %s", path, info.Mode().Perm(), path)
	}
	return nil
}

func peekExtends(data []byte, file string) (string, error) {
	var head struct {
		Extends string `yaml:"extends"`
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return "", fmt.Errorf("%s: %s", file, cleanYAMLError(err))
	}
	if err := node.Decode(&head); err != nil {
		return "", nil // reported with its line by the strict decode
	}
	return head.Extends, nil
}

func decodePolicy(data []byte, file string, p *Policy) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %s", file, cleanYAMLError(err))
	}
	return nil
}

func cleanYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	return strings.ReplaceAll(msg, "in type enforce.", "in section ")
}

func (p *Policy) validate() error {
	if p.Mode != Enforce && p.Mode != AuditMode {
		return fmt.Errorf("mode %q is not valid: use enforce or audit", p.Mode)
	}
	for _, c := range p.Controls.List() {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("controls.%s: %w", c.Name, err)
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
