//go:build !lean

package spec

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/go-json-experiment/json"
)

func reflectUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func reflectMarshal(v any) ([]byte, error) { return json.Marshal(v, json.Deterministic(true)) }

func describeTypeError(err error) error {
	var se *json.SemanticError
	if errors.As(err, &se) {
		what := "a value of the wrong type or out of range"
		if se.JSONKind != 0 && se.GoType != nil {
			what = fmt.Sprintf("a JSON %s where %s is expected", se.JSONKind, describeGoType(se.GoType))
		}
		return fmt.Errorf("field %s holds %s; runc cannot read it as the spec defines: %w", pointerOrRoot(string(se.JSONPointer)), what, err)
	}
	return fmt.Errorf("decode document: %w", err)
}

func describeGoType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer of " + t.Kind().String()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an unsigned integer of " + t.Kind().String()
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a " + t.Kind().String()
}
