package enforce

import (
	"fmt"
	"slices"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestMountPropagationFixtures(t *testing.T) {
	newMount := len(compliantSpec().Mounts)
	optionField := func(j int) string { return fmt.Sprintf("/mounts/%d/options/%d", newMount, j) }
	bind := func(options ...string) func(*specs.Spec) {
		return addMount(specs.Mount{Destination: "/mnt", Type: "bind", Source: "/var/lib/docker/volumes/v/_data", Options: options})
	}
	rootfs := func(p string) func(*specs.Spec) { return func(s *specs.Spec) { s.Linux.RootfsPropagation = p } }
	fixtures := []fixture{
		{name: "rprivate", change: bind("rbind", "rprivate"), verdict: Allow},
		{name: "rslave", change: bind("rbind", "rslave"), verdict: Allow},
		{name: "no propagation option", change: bind("rbind"), verdict: Allow},
		{name: "rshared", change: bind("rbind", "rshared"), verdict: DenyVerdict, field: optionField(1)},
		{name: "shared", change: bind("rbind", "shared"), verdict: DenyVerdict, field: optionField(1)},
		// runc applies both: the tree is made shared, then only its top private.
		{name: "rshared then private", change: bind("rbind", "rshared", "private"), verdict: DenyVerdict, field: optionField(1)},
		{name: "private then shared", change: bind("rbind", "private", "shared"), verdict: DenyVerdict, field: optionField(2)},
		{name: "shared on a tmpfs", change: addMount(specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"shared"}}),
			verdict: DenyVerdict, field: optionField(0)},
		// Not a propagation flag to runc, which compares exactly.
		{name: "Shared in capitals", change: bind("rbind", "Shared"), verdict: Allow},
		{name: "rootfsPropagation shared", change: rootfs("shared"), verdict: DenyVerdict, field: "/linux/rootfsPropagation"},
		{name: "rootfsPropagation rshared", change: rootfs("rshared"), verdict: DenyVerdict, field: "/linux/rootfsPropagation"},
		{name: "rootfsPropagation rslave", change: rootfs("rslave"), verdict: Allow},
		{name: "rootfsPropagation private", change: rootfs("private"), verdict: Allow},
	}
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) { runFixtures(t, policy, compliantSpec, fixtures) })
	}
}

func TestMountPropagationValidation(t *testing.T) {
	if err := (&MountPropagation{Denied: []string{"bidirectional"}}).Validate(); err == nil {
		t.Fatal("an unknown propagation was accepted")
	}
}

func TestSharedPropagationMatchesRunc(t *testing.T) {
	p := &MountPropagation{Denied: []string{"shared", "rshared"}}
	for _, options := range [][]string{{"rshared"}, {"shared"}, {"rshared", "private"}, {"rprivate"}, {"Shared"}, {"rslave", "shared"}, {}} {
		runc := runcMounts(t, t.TempDir(), []specs.Mount{{Destination: "/m", Type: "bind", Source: "/srv", Options: append([]string{"rbind"}, options...)}})[0]
		runcShared := slices.ContainsFunc(runc.PropagationFlags, func(f int) bool { return f&syscall.MS_SHARED != 0 })
		s := compliantSpec()
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/m", Type: "bind", Source: "/srv", Options: append([]string{"rbind"}, options...)})
		r := &Report{}
		p.Check(&Input{Spec: s}, r)
		if denied := len(r.violations) > 0; denied != runcShared {
			t.Errorf("%v: denied %v, runc makes it shared at some point: %v", options, denied, runcShared)
		}
	}
}
