//go:build !lean

package enforce

import "github.com/goccy/go-yaml/ast"

// UnmarshalYAML parses "512Mi", "2Gi" or 536870912, as written.
func (b *Bytes) UnmarshalYAML(node ast.Node) error {
	v, err := parseScalar(node, parseBytes)
	*b = Bytes(v)
	return err
}

// UnmarshalYAML parses 1048576 or unlimited, as written.
func (v *RlimitValue) UnmarshalYAML(node ast.Node) error {
	parsed, err := parseScalar(node, parseRlimit)
	*v = parsed
	return err
}

// parseScalar reads a single value as it is written with parse, and
// reports what parse refuses at the value's place in the file.
func parseScalar[T any](node ast.Node, parse func(string) (T, error)) (T, error) {
	var zero T
	text, err := scalarText(node)
	if err != nil {
		return zero, err
	}
	v, err := parse(text)
	if err != nil {
		return zero, valueError(node, err.Error())
	}
	return v, nil
}
