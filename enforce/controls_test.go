package enforce

import (
	"reflect"
	"strings"
	"testing"
)

// List is written out for speed; it must name every field of Controls, in
// order, by its section name, and list only the controls that are on.
func TestControlsListMatchesTheStruct(t *testing.T) {
	var all Controls
	v := reflect.ValueOf(&all).Elem()
	var want []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		v.Field(i).Set(reflect.New(f.Type.Elem()))
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		want = append(want, name)
	}
	var got []string
	for i, c := range all.List() {
		got = append(got, c.Name)
		if c.Control != v.Field(i).Interface() {
			t.Errorf("%s lists another field's control", c.Name)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List names %v\nthe struct has %v", got, want)
	}
	if list := (&Controls{}).List(); len(list) != 0 {
		t.Fatalf("a policy with no controls lists %d", len(list))
	}
	one := Controls{HostPaths: &HostPaths{}}
	if list := one.List(); len(list) != 1 || list[0].Name != "hostPaths" {
		t.Fatalf("one control on lists %v", list)
	}
}
