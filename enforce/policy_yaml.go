//go:build !lean

package enforce

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/guard-runtime/guard-runtime/spec"
)

func (l *policyLoader) load(p *Policy, name string, chain []string) error {
	for _, seen := range chain {
		if seen == name {
			return fmt.Errorf("policy %q extends itself through %s", name, strings.Join(append(chain, name), " -> "))
		}
	}
	if len(chain) >= maxExtendsDepth {
		return fmt.Errorf("more than %d levels of extends (%s)", maxExtendsDepth, strings.Join(append(chain, name), " -> "))
	}
	file := policyFile(l.dir, name)
	data, err := readPolicyFile(file, name, l.dir)
	if err != nil {
		return err
	}
	doc, err := parsePolicyDocument(data, file)
	if err != nil {
		return err
	}
	parent, line := extendsOf(doc)
	if parent != "" {
		if !validPolicyName(parent) {
			return fmt.Errorf("%s: line %d: extends %q: not a policy name: use letters, digits, '.', '_' and '-'", file, line, parent)
		}
		if err := l.load(p, parent, append(chain, name)); err != nil {
			return fmt.Errorf("%s: line %d: extends %q: %w", file, line, parent, err)
		}
	}
	wasOn := controlsOn(p)
	p.Extends = ""
	if err := overlayYAML(doc, p); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := offOnlyWhatIsOn(doc, wasOn, file); err != nil {
		return err
	}
	// The decoder follows aliases and merge keys; the chain above was read
	// from the plain entry alone. A parent it did not load would leave all
	// of that policy's controls off.
	if p.Extends != parent {
		return fmt.Errorf("%s: extends %q is not written as a plain entry (an alias, a merge key or another form the chain of policies is not read from): write extends: %s", file, p.Extends, p.Extends)
	}
	l.recordOrigins(doc, file)
	return nil
}

// offOnlyWhatIsOn refuses a control section without a body where no
// policy this one extends turns the control on. An empty body reads as
// null, which turns a parent's control off; in a policy of its own
// (privileged: with nothing after it, meant to turn it on) it would leave
// the control off without a word.
func offOnlyWhatIsOn(doc ast.Node, on map[string]bool, file string) error {
	controls := entryOf(mappingEntries(doc), "controls")
	if controls == nil {
		return nil
	}
	for _, control := range mappingEntries(controls.Value) {
		name := control.Key.GetToken().Value
		if untagged(control.Value).Type() == ast.NullType && !on[name] {
			return fmt.Errorf("%s: line %d: controls.%s has no settings, which turns off a control a parent turns on, and no policy this one extends turns %s on: to turn it on, write %s: {}", file, control.Key.GetToken().Position.Line, name, name, name)
		}
	}
	return nil
}

// parsePolicyDocument reads a policy file's YAML as a node tree. The file
// must hold exactly one document, a mapping: an empty or truncated file
// would otherwise turn every control off and admit every container, and a
// second document after "---" would be silently ignored.
func parsePolicyDocument(data []byte, file string) (ast.Node, error) {
	body, err := parseYAML(data, `a policy file holds one; remove the "---" and what follows, or move it to a file of its own`)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if body == nil {
		return nil, fmt.Errorf("%s: the policy file is empty: a policy turns its controls on by name (see policy.d/restricted.yaml); an empty file would admit every container", file)
	}
	root := untagged(body)
	if root.Type() == ast.NullType {
		return nil, fmt.Errorf("%s: the policy file holds no settings: a policy turns its controls on by name (see policy.d/restricted.yaml); an empty policy would admit every container", file)
	}
	if t := root.Type(); t != ast.MappingType && t != ast.MappingValueType {
		return nil, fmt.Errorf("%s: line %d: a policy file is a mapping of description, extends, mode and controls, not %s", file, root.GetToken().Position.Line, kindOf(root))
	}
	return body, nil
}

// extendsOf returns the policy a document extends and the line that says
// so. A value that is not a single name is left to the strict decoding,
// which reports it with its line.
func extendsOf(doc ast.Node) (string, int) {
	entry := entryOf(mappingEntries(doc), "extends")
	if entry == nil || entry.Value.Type() == ast.NullType {
		return "", 0
	}
	parent, err := scalarText(entry.Value)
	if err != nil {
		return "", 0
	}
	return parent, entry.Key.GetToken().Position.Line
}

// recordOrigins notes where a file sets its mode and control sections;
// the file read last (the policy itself, after those it extends) wins.
func (l *policyLoader) recordOrigins(doc ast.Node, file string) {
	entries := mappingEntries(doc)
	if mode := entryOf(entries, "mode"); mode != nil {
		l.origins["mode"] = origin{file, mode.Key.GetToken().Position.Line}
	}
	controls := entryOf(entries, "controls")
	if controls == nil {
		return
	}
	for _, control := range mappingEntries(controls.Value) {
		key := control.Key.GetToken()
		l.origins["controls."+key.Value] = origin{file, key.Position.Line}
	}
}

// extendsNameOf reads the name a policy file extends, or "". LoadPolicy
// checks the files themselves.
func extendsNameOf(file string) string {
	data, err := spec.ReadFile(file, spec.MaxDocumentSize)
	if err != nil {
		return ""
	}
	doc, err := parsePolicyDocument(data, file)
	if err != nil {
		return ""
	}
	parent, _ := extendsOf(doc)
	return parent
}

// controlsOn names the controls p turns on.
func controlsOn(p *Policy) map[string]bool {
	on := map[string]bool{}
	for _, c := range p.Controls.List() {
		on[c.Name] = true
	}
	return on
}
