package spec

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary argument lists (NUL-separated) and checks
// what must hold for every input: no panic; runc gets exactly argv minus
// the leading guard flags; the command is where CommandIndex says; and for
// the guarded commands every token after the command is accounted for, as
// an option, an option's value, a positional argument or the one "--".
func FuzzParse(f *testing.F) {
	for _, argv := range [][]string{
		{"--guard-policy=restricted", "--root", "/var/run/docker/runtime-runc/moby", "--log", "/b/log.json", "--log-format", "json",
			"create", "--bundle", "/b", "--pid-file", "/b/init.pid", "c1"},
		{"--guard-config", "/etc/g.yaml", "--guard-policy", "baseline", "state", "c1"},
		{"create", "c1", "--no-pivot", "x", "--bundle", "/b"},
		{"create", "--bundle", "--", "c1"},
		{"--debug", "--", "run", "-d=false", "c1", "--", "x"},
		{"exec", "--process", "/p", "--detach", "--pid-file", "/pid", "c1"},
		{"exec", "--user", "0:0", "--cap", "CAP_SYS_ADMIN", "-e", "A=B", "c1", "sh", "-c", "x"},
		{"update", "c1", "--resources", "-"},
		{"update", "--pids-limit", "-1", "-r=-", "c1"},
		{"restore", "--empty-ns", "network", "-b", "/b", "c1", "--lazy-pages"},
		{"-v", "create"},
		{"kill", "c1", "KILL"},
		{"policy", "check", "--bundle", "/b"},
		{"create", "c1", "---bundle", "x"},
	} {
		f.Add(strings.Join(argv, "\x00"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		argv := strings.Split(joined, "\x00")
		inv, err := Parse(argv)
		if err != nil {
			if inv != nil {
				t.Fatalf("Parse(%q) returned an Invocation with its error %v", argv, err)
			}
			return
		}
		again, _ := Parse(argv)
		if !reflect.DeepEqual(inv, again) {
			t.Fatalf("Parse(%q) is not deterministic", argv)
		}
		if want := withoutGuardFlags(argv); !slices.Equal(inv.RuntimeArgs, want) {
			t.Fatalf("Parse(%q).RuntimeArgs = %q, want %q", argv, inv.RuntimeArgs, want)
		}
		checkCommandPosition(t, inv)
		if inv.Guarded() {
			checkEveryTokenAccountedFor(t, inv)
		}
		// The accessors must not panic whatever was parsed.
		_, _ = inv.Option("bundle")
		_ = inv.Values("env")
		_, _, _ = inv.ContainerID(), inv.Bundle(), inv.RootDir()
	})
}

func checkCommandPosition(t *testing.T, inv *Invocation) {
	t.Helper()
	if inv.CommandIndex == -1 {
		if inv.Command != "" || inv.Options != nil || inv.Positional != nil {
			t.Fatalf("%q: no command index, yet command %q, options %v, positional %q", inv.RuntimeArgs, inv.Command, inv.Options, inv.Positional)
		}
		return
	}
	if inv.CommandIndex < 0 || inv.CommandIndex >= len(inv.RuntimeArgs) || inv.RuntimeArgs[inv.CommandIndex] != inv.Command {
		t.Fatalf("%q: CommandIndex %d does not point at command %q", inv.RuntimeArgs, inv.CommandIndex, inv.Command)
	}
}

func checkEveryTokenAccountedFor(t *testing.T, inv *Invocation) {
	t.Helper()
	cmd := lookupCommand(inv.Command)
	used := map[int]bool{}
	use := func(i int) {
		if i <= inv.CommandIndex || i >= len(inv.RuntimeArgs) || used[i] {
			t.Fatalf("%q: option token %d is outside the command's arguments or used twice (options %+v)", inv.RuntimeArgs, i, inv.Options)
		}
		used[i] = true
	}
	for _, o := range inv.Options {
		use(o.Index)
		tok := inv.RuntimeArgs[o.Index]
		name, value, inline := cutAfterFirst(strings.TrimPrefix(tok[1:], "-"), '=')
		def := lookupFlag(cmd.flags, name, true)
		if !strings.HasPrefix(tok, "-") || def == nil || def.names[0] != o.Name {
			t.Fatalf("%q: option %+v does not come from token %q", inv.RuntimeArgs, o, tok)
		}
		switch {
		case def.kind == boolValue:
			if !o.Inline || (o.Value != "true" && o.Value != "false") {
				t.Fatalf("%q: bool option %+v", inv.RuntimeArgs, o)
			}
		case o.Inline:
			if !inline || value != o.Value {
				t.Fatalf("%q: inline option %+v from token %q", inv.RuntimeArgs, o, tok)
			}
		default:
			use(o.Index + 1)
			if inv.RuntimeArgs[o.Index+1] != o.Value {
				t.Fatalf("%q: option %+v, but its value token is %q", inv.RuntimeArgs, o, inv.RuntimeArgs[o.Index+1])
			}
		}
	}
	var left []string
	for i := inv.CommandIndex + 1; i < len(inv.RuntimeArgs); i++ {
		if !used[i] {
			left = append(left, inv.RuntimeArgs[i])
		}
	}
	positional := slices.Clone(inv.Positional)
	if len(left) == len(positional)+1 {
		positional = append(positional, "--")
	}
	slices.Sort(left)
	slices.Sort(positional)
	if !slices.Equal(left, positional) {
		t.Fatalf("%q: tokens left after the options %q are not the positional arguments %q (plus at most one --)", inv.RuntimeArgs, left, inv.Positional)
	}
}
