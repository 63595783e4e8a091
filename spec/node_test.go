package spec

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The values controls write are built without marshalling, and each comes
// out byte for byte as the marshaller writes it.
func TestSimpleNodeOfMatchesMarshal(t *testing.T) {
	values := []any{
		true, false,
		"", "CAP_NET_BIND_SERVICE", "quote \" backslash \\ control \x01 <html> & é \u2028",
		0, -1, math.MaxInt64, int64(math.MinInt64), uint64(math.MaxUint64),
		[]string(nil), []string{}, []string{"a", "b\n"},
		map[string][]string{}, map[string][]string{
			"permitted": {"CAP_CHOWN"}, "bounding": nil, "effective": {"CAP_CHOWN", "CAP_KILL"},
		},
		specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "size=64m", "mode=1777"}},
		specs.Mount{Destination: "/run"},
		specs.Mount{Destination: "/x", Source: "/host \"quoted\" é", Options: []string{}},
		specs.Mount{Destination: "", Type: "bind", Options: []string{""}},
	}
	for _, v := range values {
		node, ok := simpleNodeOf(v)
		if !ok {
			t.Errorf("%#v (%T): not built directly", v, v)
			continue
		}
		got, err := (&Tree{Root: node}).Encode()
		if err != nil {
			t.Fatalf("%#v: encode: %v", v, err)
		}
		want, err := json.Marshal(v, json.Deterministic(true))
		if err != nil {
			t.Fatalf("%#v: marshal: %v", v, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%#v (%T): built %s, the marshaller writes %s", v, v, got, want)
		}
	}
}

// A mount with ID mappings, and one with a string that is not UTF-8, are
// left to the marshaller; a field added to specs.Mount must be added to
// mountNode too.
func TestMountNodeLeavesTheRestToTheMarshaller(t *testing.T) {
	if n := reflect.TypeFor[specs.Mount]().NumField(); n != 6 {
		t.Fatalf("specs.Mount has %d fields, mountNode knows 6: teach it the new ones", n)
	}
	for _, m := range []specs.Mount{
		{Destination: "/x", UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}},
		{Destination: "/x", GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}},
		{Destination: "/x", Options: []string{"\xff"}},
	} {
		if _, ok := simpleNodeOf(m); ok {
			t.Errorf("%+v built directly", m)
		}
	}
}

// A string that is not valid UTF-8 is left to the marshaller, which
// refuses it.
func TestNodeOfInvalidUTF8(t *testing.T) {
	if _, ok := simpleNodeOf("\xff"); ok {
		t.Fatal("invalid UTF-8 built directly")
	}
	if _, err := NodeOf("\xff"); err == nil {
		t.Fatal("NodeOf accepted invalid UTF-8")
	}
}
