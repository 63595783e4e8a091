//go:build !lean

package enforce

import "github.com/goccy/go-yaml/ast"

// UnmarshalYAML parses "512Mi", "2Gi" or 536870912, as written.
func (b *Bytes) UnmarshalYAML(node ast.Node) error {
	text, err := scalarText(node)
	if err != nil {
		return err
	}
	v, err := parseBytes(text)
	if err != nil {
		return valueError(node, err.Error())
	}
	*b = Bytes(v)
	return nil
}
