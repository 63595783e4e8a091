//go:build lean

package spec

import (
	"errors"
	"fmt"
)

// ErrNotInLeanBuild is what the lean build of guard-runtime returns where
// a document needs the reflective decoder or encoder: one the generated
// decoders leave to it (malformed or unusual documents), or a value
// without a hand-written node builder. The caller hands the call to the
// full build, which reads or writes it.
var ErrNotInLeanBuild = errors.New("the document needs reflective JSON, which the lean build leaves out")

func reflectUnmarshal(data []byte, v any) error { return ErrNotInLeanBuild }

func reflectMarshal(v any) ([]byte, error) { return nil, ErrNotInLeanBuild }

func describeTypeError(err error) error { return fmt.Errorf("decode document: %w", err) }
