package enforce

import "fmt"

// enforceExec judges the process of an exec.
func (g *Gate) enforceExec() error {
	return fmt.Errorf("guard-runtime: exec is not enforced yet, refusing it")
}

// enforceUpdate judges the resources of an update.
func (g *Gate) enforceUpdate() error {
	return fmt.Errorf("guard-runtime: update is not enforced yet, refusing it")
}
