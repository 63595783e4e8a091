package enforce

import (
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/guard-runtime/guard-runtime/spec"
)

// The audit record's violations and patch, written by hand, hold what
// json.Marshal writes of them.
func TestAuditJSONMatchesMarshal(t *testing.T) {
	violations := []Violation{
		{Control: "capabilities", Field: "/process/capabilities/bounding", Action: Rewrite, Message: `removed "CAP_KILL" <by> policy & more`},
		{Control: "hostPaths", Field: "/mounts/0/source", Action: Deny, Message: "bind of /etc\ttab"},
	}
	patch := []spec.Operation{
		{Op: "replace", Path: "/process/capabilities/bounding", Value: jsontext.Value(`["CAP_CHOWN"]`)},
		{Op: "remove", Path: "/linux/sysctl/net.ipv4~1x"},
	}
	for _, c := range []struct {
		got  []byte
		want any
	}{{violationsJSON(violations), violations}, {patchJSON(patch), patch}} {
		want, err := json.Marshal(c.want)
		if err != nil {
			t.Fatal(err)
		}
		var gotValue, wantValue any
		if err := json.Unmarshal(c.got, &gotValue); err != nil {
			t.Fatalf("%s is not JSON: %v", c.got, err)
		}
		json.Unmarshal(want, &wantValue)
		if !reflect.DeepEqual(gotValue, wantValue) {
			t.Errorf("written %s\nmarshal %s", c.got, want)
		}
	}
}

// A message that is not UTF-8 keeps the record's violations, with
// replacement characters.
func TestAuditJSONKeepsInvalidUTF8(t *testing.T) {
	got := violationsJSON([]Violation{{Control: "c", Field: "/f", Action: Deny, Message: "odd \xff name"}})
	var v []map[string]string
	if err := json.Unmarshal(got, &v); err != nil || len(v) != 1 || v[0]["message"] != "odd \uFFFD name" {
		t.Fatalf("%s: %v %v", got, v, err)
	}
}
