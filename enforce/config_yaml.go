//go:build !lean

package enforce

import "github.com/goccy/go-yaml/ast"

// UnmarshalYAML accepts a single digest as well as a list, each as written.
func (d *Digests) UnmarshalYAML(node ast.Node) error {
	switch n := node.(type) {
	case *ast.NullNode:
		*d = nil
	case *ast.SequenceNode:
		list := make(Digests, 0, len(n.Values))
		for _, item := range n.Values {
			digest, err := scalarText(item)
			if err != nil {
				return err
			}
			list = append(list, digest)
		}
		*d = list
	default:
		digest, err := scalarText(node)
		if err != nil {
			return err
		}
		*d = Digests{digest}
	}
	return nil
}

// configHoldsOneDocument is what a second YAML document in config.yaml is
// told.
const configHoldsOneDocument = `config.yaml holds one; remove the "---" and what follows`

// ParseConfig decodes config.yaml and fills in defaults. It holds one YAML
// document: a second one after "---" would otherwise be silently ignored.
func ParseConfig(data []byte) (*Config, error) {
	cfg := &Config{}
	body, err := parseYAML(data, configHoldsOneDocument)
	if err != nil {
		return nil, err
	}
	if err := decodeYAML(body, cfg); err != nil {
		return nil, err
	}
	// runtime.cacheDir: "" turns the cache off; left out, it is the default.
	cfg.fillDefaults(setsKey(body, "runtime", "cacheDir"))
	return cfg, nil
}
