package spec

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// parsedArgv is what a test expects of an Invocation: every exported field.
type parsedArgv struct {
	Guard        GuardFlags
	Global       GlobalFlags
	Command      string
	CommandIndex int
	Options      []Option
	Positional   []string
}

func parsedOf(inv *Invocation) parsedArgv {
	return parsedArgv{inv.Guard, inv.Global, inv.Command, inv.CommandIndex, inv.Options, inv.Positional}
}

const (
	dockerBundle = "/run/containerd/io.containerd.runtime.v2.task/moby/0123abcd"
	dockerID     = "0123abcd"
	dockerRoot   = "/var/run/docker/runtime-runc/moby"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want parsedArgv
	}{
		{
			name: "docker create with runtimeArgs in front",
			argv: []string{"--guard-policy=restricted", "--root", dockerRoot, "--log", dockerBundle + "/log.json", "--log-format", "json",
				"create", "--bundle", dockerBundle, "--pid-file", dockerBundle + "/init.pid", dockerID},
			want: parsedArgv{
				Guard:        GuardFlags{Policy: "restricted"},
				Global:       GlobalFlags{Root: dockerRoot, Log: dockerBundle + "/log.json", LogFormat: "json"},
				Command:      "create",
				CommandIndex: 6,
				Options: []Option{
					{Name: "bundle", Value: dockerBundle, Index: 7},
					{Name: "pid-file", Value: dockerBundle + "/init.pid", Index: 9},
				},
				Positional: []string{dockerID},
			},
		},
		{
			name: "all guard flags, space-separated",
			argv: []string{"--guard-config", "/etc/g.yaml", "--guard-policy", "baseline", "--guard-policy-dir", "/srv/policy.d", "state", "c1"},
			want: parsedArgv{
				Guard:   GuardFlags{Config: "/etc/g.yaml", Policy: "baseline", PolicyDir: "/srv/policy.d"},
				Command: "state", Positional: []string{"c1"},
			},
		},
		{
			name: "bundle with equals",
			argv: []string{"create", "--bundle=/b", "c1"},
			want: parsedArgv{Command: "create", Options: []Option{{Name: "bundle", Value: "/b", Index: 1, Inline: true}}, Positional: []string{"c1"}},
		},
		{
			name: "short bundle",
			argv: []string{"create", "-b", "/b", "c1"},
			want: parsedArgv{Command: "create", Options: []Option{{Name: "bundle", Value: "/b", Index: 1}}, Positional: []string{"c1"}},
		},
		{
			name: "one dash long name and two dash short name are both flags",
			argv: []string{"run", "-bundle", "/b", "--d", "c1"},
			want: parsedArgv{Command: "run", Options: []Option{
				{Name: "bundle", Value: "/b", Index: 1},
				{Name: "detach", Value: "true", Index: 3, Inline: true},
			}, Positional: []string{"c1"}},
		},
		{
			name: "flags after the id are moved in front of it",
			argv: []string{"create", "c1", "--bundle", "/b", "--pid-file=/p"},
			want: parsedArgv{Command: "create", Options: []Option{
				{Name: "bundle", Value: "/b", Index: 2},
				{Name: "pid-file", Value: "/p", Index: 4, Inline: true},
			}, Positional: []string{"c1"}},
		},
		{
			// urfave/cli moves "x" with --no-pivot as if it were its value;
			// the bool flag does not take it, so flag parsing stops there.
			name: "reordering after a bool flag leaves the rest positional",
			argv: []string{"create", "c1", "--no-pivot", "x", "--bundle", "/b"},
			want: parsedArgv{Command: "create", Options: []Option{
				{Name: "no-pivot", Value: "true", Index: 2, Inline: true},
			}, Positional: []string{"x", "--bundle", "/b", "c1"}},
		},
		{
			name: "bundle takes whatever follows, even --",
			argv: []string{"create", "--bundle", "--", "c1"},
			want: parsedArgv{Command: "create", Options: []Option{{Name: "bundle", Value: "--", Index: 1}}, Positional: []string{"c1"}},
		},
		{
			name: "-- before the options makes them positional",
			argv: []string{"create", "--", "--bundle", "/b", "c1"},
			want: parsedArgv{Command: "create", Positional: []string{"--bundle", "/b", "c1"}},
		},
		{
			name: "-- before the command is consumed by the global flags",
			argv: []string{"--debug", "--", "create", "c1"},
			want: parsedArgv{Global: GlobalFlags{Debug: true}, Command: "create", CommandIndex: 2, Positional: []string{"c1"}},
		},
		{
			name: "bool flags with values",
			argv: []string{"--debug=false", "--systemd-cgroup=1", "run", "--detach=false", "--no-pivot=T", "--keep=0", "c1"},
			want: parsedArgv{Global: GlobalFlags{SystemdCgroup: true}, Command: "run", CommandIndex: 2, Options: []Option{
				{Name: "detach", Value: "false", Index: 3, Inline: true},
				{Name: "no-pivot", Value: "true", Index: 4, Inline: true},
				{Name: "keep", Value: "false", Index: 5, Inline: true},
			}, Positional: []string{"c1"}},
		},
		{
			name: "rootless is a value flag",
			argv: []string{"--rootless", "true", "--criu=/usr/sbin/criu", "create", "c1"},
			want: parsedArgv{Global: GlobalFlags{Rootless: "true", Criu: "/usr/sbin/criu"}, Command: "create", CommandIndex: 3, Positional: []string{"c1"}},
		},
		{
			name: "containerd exec with a process file",
			argv: []string{"--root", "/run/containerd/runc/k8s.io", "--log", "/l.json", "--log-format", "json",
				"exec", "--process", "/tmp/runc-process123", "--detach", "--pid-file", "/p.pid", "c1"},
			want: parsedArgv{
				Global:  GlobalFlags{Root: "/run/containerd/runc/k8s.io", Log: "/l.json", LogFormat: "json"},
				Command: "exec", CommandIndex: 6,
				Options: []Option{
					{Name: "process", Value: "/tmp/runc-process123", Index: 7},
					{Name: "detach", Value: "true", Index: 9, Inline: true},
					{Name: "pid-file", Value: "/p.pid", Index: 10},
				},
				Positional: []string{"c1"},
			},
		},
		{
			name: "exec built from flags; arguments after the id are the process's",
			argv: []string{"exec", "--user", "0:0", "--cap", "CAP_SYS_ADMIN", "-e", "A=B", "c1", "sh", "-c", "x"},
			want: parsedArgv{Command: "exec", Options: []Option{
				{Name: "user", Value: "0:0", Index: 1},
				{Name: "cap", Value: "CAP_SYS_ADMIN", Index: 3},
				{Name: "env", Value: "A=B", Index: 5},
			}, Positional: []string{"c1", "sh", "-c", "x"}},
		},
		{
			name: "exec is not reordered: flags after the id are process arguments",
			argv: []string{"exec", "c1", "--user", "0", "--cap", "CAP_SYS_ADMIN", "sh"},
			want: parsedArgv{Command: "exec", Positional: []string{"c1", "--user", "0", "--cap", "CAP_SYS_ADMIN", "sh"}},
		},
		{
			name: "exec short aliases",
			argv: []string{"exec", "-t", "-u", "1000", "-g", "10", "-g", "20", "-c", "CAP_CHOWN", "-c", "CAP_KILL", "-p", "/proc.json", "c1"},
			want: parsedArgv{Command: "exec", Options: []Option{
				{Name: "tty", Value: "true", Index: 1, Inline: true},
				{Name: "user", Value: "1000", Index: 2},
				{Name: "additional-gids", Value: "10", Index: 4},
				{Name: "additional-gids", Value: "20", Index: 6},
				{Name: "cap", Value: "CAP_CHOWN", Index: 8},
				{Name: "cap", Value: "CAP_KILL", Index: 10},
				{Name: "process", Value: "/proc.json", Index: 12},
			}, Positional: []string{"c1"}},
		},
		{
			name: "update from stdin",
			argv: []string{"update", "--resources", "-", "c1"},
			want: parsedArgv{Command: "update", Options: []Option{{Name: "resources", Value: "-", Index: 1}}, Positional: []string{"c1"}},
		},
		{
			name: "update flag form with a negative value",
			argv: []string{"update", "-r=/res.json", "--pids-limit", "-1", "--memory=1g", "c1"},
			want: parsedArgv{Command: "update", Options: []Option{
				{Name: "resources", Value: "/res.json", Index: 1, Inline: true},
				{Name: "pids-limit", Value: "-1", Index: 2},
				{Name: "memory", Value: "1g", Index: 4, Inline: true},
			}, Positional: []string{"c1"}},
		},
		{
			name: "restore",
			argv: []string{"restore", "--image-path", "/img", "-d", "--empty-ns", "network", "-b", "/b", "c1"},
			want: parsedArgv{Command: "restore", Options: []Option{
				{Name: "image-path", Value: "/img", Index: 1},
				{Name: "detach", Value: "true", Index: 3, Inline: true},
				{Name: "empty-ns", Value: "network", Index: 4},
				{Name: "bundle", Value: "/b", Index: 6},
			}, Positional: []string{"c1"}},
		},
		{
			name: "command help is a flag of every command",
			argv: []string{"create", "-h", "c1"},
			want: parsedArgv{Command: "create", Options: []Option{{Name: "help", Value: "true", Index: 1, Inline: true}}, Positional: []string{"c1"}},
		},
		{
			name: "--version",
			argv: []string{"--version"},
			want: parsedArgv{Global: GlobalFlags{Version: true}, CommandIndex: -1},
		},
		{
			name: "-v before a command: runc prints its version and runs nothing",
			argv: []string{"--guard-policy=restricted", "-v", "create", "--bogus", "c1"},
			want: parsedArgv{Guard: GuardFlags{Policy: "restricted"}, Global: GlobalFlags{Version: true}, CommandIndex: -1},
		},
		{
			name: "--help",
			argv: []string{"-h"},
			want: parsedArgv{Global: GlobalFlags{Help: true}, CommandIndex: -1},
		},
		{
			name: "no arguments",
			argv: nil,
			want: parsedArgv{CommandIndex: -1},
		},
		{
			name: "features",
			argv: []string{"--root", dockerRoot, "features"},
			want: parsedArgv{Global: GlobalFlags{Root: dockerRoot}, Command: "features", CommandIndex: 2},
		},
		{
			name: "kill with a positional signal",
			argv: []string{"kill", "c1", "KILL"},
			want: parsedArgv{Command: "kill", Positional: []string{"c1", "KILL"}},
		},
		{
			name: "kill --all after the id",
			argv: []string{"kill", "c1", "9", "--all"},
			want: parsedArgv{Command: "kill", Options: []Option{{Name: "all", Value: "true", Index: 3, Inline: true}}, Positional: []string{"c1", "9"}},
		},
		{
			name: "delete --force",
			argv: []string{"delete", "--force", "c1"},
			want: parsedArgv{Command: "delete", Options: []Option{{Name: "force", Value: "true", Index: 1, Inline: true}}, Positional: []string{"c1"}},
		},
		{
			name: "pass-through command with options runc refuses: no error",
			argv: []string{"state", "--bogus", "c1"},
			want: parsedArgv{Command: "state"},
		},
		{
			name: "ps is not reordered",
			argv: []string{"ps", "c1", "-ef"},
			want: parsedArgv{Command: "ps", Positional: []string{"c1", "-ef"}},
		},
		{
			name: "unknown command passes through raw",
			argv: []string{"frobnicate", "--x", "c1"},
			want: parsedArgv{Command: "frobnicate", Positional: []string{"--x", "c1"}},
		},
		{
			name: "policy is guard-runtime's own command",
			argv: []string{"--guard-policy-dir=/p", "policy", "check", "--policy", "restricted", "--json", "--bundle", "/b"},
			want: parsedArgv{Guard: GuardFlags{PolicyDir: "/p"}, Command: "policy",
				Positional: []string{"check", "--policy", "restricted", "--json", "--bundle", "/b"}},
		},
		{
			name: "pin",
			argv: []string{"pin"},
			want: parsedArgv{Command: "pin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse(tt.argv)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.argv, err)
			}
			if got := parsedOf(inv); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.argv, got, tt.want)
			}
			wantRuntimeArgs := withoutGuardFlags(tt.argv)
			if !reflect.DeepEqual(inv.RuntimeArgs, wantRuntimeArgs) {
				t.Errorf("RuntimeArgs = %q, want %q", inv.RuntimeArgs, wantRuntimeArgs)
			}
		})
	}
}

// withoutGuardFlags is the test's own, simple statement of what runc gets.
func withoutGuardFlags(argv []string) []string {
	var out []string
	for i := 0; i < len(argv); i++ {
		if strings.HasPrefix(argv[i], "--guard-") && len(out) == 0 {
			if !strings.Contains(argv[i], "=") {
				i++
			}
			continue
		}
		out = append(out, argv[i])
	}
	return out
}

func TestInvocationAccessors(t *testing.T) {
	inv, err := Parse([]string{"--guard-policy=restricted", "--root", dockerRoot, "--log", dockerBundle + "/log.json", "--log-format", "json",
		"create", "--bundle", dockerBundle, "--pid-file", dockerBundle + "/init.pid", dockerID})
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.Bundle(); got != dockerBundle {
		t.Errorf("Bundle() = %q, want %q", got, dockerBundle)
	}
	if got := inv.ContainerID(); got != dockerID {
		t.Errorf("ContainerID() = %q, want %q", got, dockerID)
	}
	if got := inv.RootDir(); got != dockerRoot {
		t.Errorf("RootDir() = %q, want %q", got, dockerRoot)
	}
	if !inv.RootGiven() {
		t.Error("RootGiven() = false with --root")
	}
	if bare, _ := Parse([]string{"state", "c1"}); bare.RootGiven() {
		t.Error("RootGiven() = true without --root")
	}
	if empty, _ := Parse([]string{"--root=", "state", "c1"}); !empty.RootGiven() {
		t.Error(`RootGiven() = false with --root=""`)
	}
	if !inv.Guarded() {
		t.Error("create is not Guarded()")
	}
	if v, ok := inv.Option("pid-file"); !ok || v != dockerBundle+"/init.pid" {
		t.Errorf(`Option("pid-file") = %q, %v`, v, ok)
	}
	if v, ok := inv.Option("console-socket"); ok || v != "" {
		t.Errorf(`Option("console-socket") = %q, %v; want absent`, v, ok)
	}
}

func TestInvocationLastOptionWins(t *testing.T) {
	inv, err := Parse([]string{"exec", "-e", "A=1", "-e", "B=2", "-u", "0", "-u", "1000", "-p", "/a", "-p", "/b", "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := inv.Option("user"); v != "1000" {
		t.Errorf(`Option("user") = %q, want the last one, "1000"`, v)
	}
	if v, _ := inv.Option("process"); v != "/b" {
		t.Errorf(`Option("process") = %q, want the last one, "/b"`, v)
	}
	if got, want := inv.Values("env"), []string{"A=1", "B=2"}; !reflect.DeepEqual(got, want) {
		t.Errorf(`Values("env") = %q, want %q`, got, want)
	}
	if got := inv.Values("cap"); got != nil {
		t.Errorf(`Values("cap") = %q, want none`, got)
	}
}

func TestInvocationDefaults(t *testing.T) {
	tests := []struct {
		argv             []string
		bundle, root, id string
		guarded, criu    bool
	}{
		{argv: []string{"create", "c1"}, root: DefaultRootDir, id: "c1", guarded: true},
		// --criu in any spelling, even empty, on any command: runc uses
		// it in place of the criu on its PATH.
		{argv: []string{"--criu", "/tmp/x", "checkpoint", "c1"}, root: DefaultRootDir, id: "c1", criu: true},
		{argv: []string{"-criu=/tmp/x", "state", "c1"}, root: DefaultRootDir, id: "c1", criu: true},
		{argv: []string{"--criu=", "restore", "c1"}, root: DefaultRootDir, id: "c1", guarded: true, criu: true},
		{argv: []string{"--criu", "criu", "--version"}, root: DefaultRootDir, criu: true},
		// After the command it is the command's own, which runc refuses:
		// the call passes through without options.
		{argv: []string{"state", "--criu", "x", "c1"}, root: DefaultRootDir},
		{argv: []string{"--root=", "create", "--bundle=", "c1"}, root: "", id: "c1", guarded: true},
		{argv: []string{"--root", "rel", "run", "-b", "b", "c1"}, bundle: "b", root: "rel", id: "c1", guarded: true},
		{argv: []string{"update", "-r", "-", "c1"}, root: DefaultRootDir, id: "c1", guarded: true},
		{argv: []string{"exec", "-p", "/p", "c1"}, root: DefaultRootDir, id: "c1", guarded: true},
		{argv: []string{"restore", "c1"}, root: DefaultRootDir, id: "c1", guarded: true},
		{argv: []string{"state", "c1"}, root: DefaultRootDir, id: "c1"},
		{argv: []string{"spec", "--bundle", "b"}, bundle: "b", root: DefaultRootDir},
		{argv: []string{"--version", "create", "c1"}, root: DefaultRootDir},
		{argv: []string{"help", "create"}, root: DefaultRootDir, id: "create"},
		{argv: nil, root: DefaultRootDir},
	}
	for _, tt := range tests {
		inv, err := Parse(tt.argv)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.argv, err)
			continue
		}
		if got := inv.Bundle(); got != tt.bundle {
			t.Errorf("Parse(%q).Bundle() = %q, want %q", tt.argv, got, tt.bundle)
		}
		if got := inv.RootDir(); got != tt.root {
			t.Errorf("Parse(%q).RootDir() = %q, want %q", tt.argv, got, tt.root)
		}
		if got := inv.ContainerID(); got != tt.id {
			t.Errorf("Parse(%q).ContainerID() = %q, want %q", tt.argv, got, tt.id)
		}
		if got := inv.Guarded(); got != tt.guarded {
			t.Errorf("Parse(%q).Guarded() = %v, want %v", tt.argv, got, tt.guarded)
		}
		if got := inv.CriuGiven(); got != tt.criu {
			t.Errorf("Parse(%q).CriuGiven() = %v, want %v", tt.argv, got, tt.criu)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		wantErr string
	}{
		{"unknown guard flag", []string{"--guard-polcy=restricted", "create", "c1"}, "unknown guard-runtime flag --guard-polcy"},
		{"guard flag without value at the end", []string{"--guard-policy"}, "--guard-policy needs a value"},
		{"guard flag followed by a flag", []string{"--guard-policy", "--root", "/r", "create", "c1"}, "--guard-policy needs a value"},
		{"guard flag with empty value", []string{"--guard-config=", "create", "c1"}, "--guard-config has an empty value"},
		{"guard flag twice", []string{"--guard-policy=a", "--guard-policy", "b", "create", "c1"}, "--guard-policy is given twice"},
		{"guard flag with one dash", []string{"-guard-policy=a", "create", "c1"}, "spell it with two dashes"},
		{"guard flag after a global flag", []string{"--root", "/r", "--guard-policy=a", "create", "c1"}, "comes after runc's arguments"},
		{"guard flag after the command", []string{"create", "--guard-policy=a", "c1"}, "comes after runc's arguments"},
		{"guard flag among exec arguments", []string{"exec", "c1", "echo", "-guard-policy"}, "comes after runc's arguments"},
		{"unknown global flag", []string{"--bogus", "state", "c1"}, `unknown flag "--bogus"`},
		{"global value flag without value", []string{"--root"}, "flag --root needs a value"},
		{"bad global flag syntax", []string{"---root", "x", "create", "c1"}, `bad flag syntax "---root"`},
		{"global bool with a bad value", []string{"--debug=yes", "create", "c1"}, `invalid boolean value "yes"`},
		{"two spellings of --version", []string{"-v", "--version"}, "-v and -version are two spellings"},
		{"unknown create flag", []string{"create", "--bogus", "c1"}, `runc create: unknown flag "--bogus"`},
		{"unknown flag after the id is reordered and refused", []string{"create", "c1", "--bogus"}, `unknown flag "--bogus"`},
		{"create flag that belongs to run", []string{"create", "--detach", "c1"}, `unknown flag "--detach"`},
		{"bundle without value", []string{"create", "--bundle"}, "flag --bundle needs a value"},
		{"short bundle without value", []string{"run", "-b"}, "flag -b needs a value"},
		{"two spellings of bundle", []string{"create", "-b", "/x", "--bundle", "/y", "c1"}, "-b and -bundle are two spellings of the same flag"},
		{"two spellings of env", []string{"exec", "-e", "A=1", "--env", "B=2", "-p", "/p", "c1"}, "-e and -env are two spellings"},
		{"bool with a bad value", []string{"run", "--detach=maybe", "c1"}, `invalid boolean value "maybe" for --detach`},
		{"bool with an empty value", []string{"run", "-d=", "c1"}, `invalid boolean value "" for -d=`},
		{"int with a bad value", []string{"create", "--preserve-fds=abc", "c1"}, `invalid value "abc" for flag -preserve-fds`},
		{"additional gid in hex", []string{"exec", "-g", "0x10", "-p", "/p", "c1"}, `invalid value "0x10" for flag -g`},
		{"pids limit not a number", []string{"update", "--pids-limit", "lots", "c1"}, `invalid value "lots" for flag -pids-limit`},
		{"combined short flags", []string{"exec", "-dt", "-p", "/p", "c1"}, `unknown flag "-dt"`},
		{"exec without a value for process", []string{"exec", "--process"}, "flag --process needs a value"},
		{"update resources without value", []string{"update", "--resources"}, "flag --resources needs a value"},
		// runc reads the bundle "c1" and no id; the value is not after its flag.
		{"value flag last takes the id moved after it", []string{"run", "c1", "-b"}, `flag -b has no value after it, and runc would take "c1" from argument 2`},
		{"value flag takes a word from before it", []string{"create", "c1", "x", "--pid-file"}, `flag --pid-file has no value after it, and runc would take "c1"`},
		{"bad flag syntax in create", []string{"create", "-=x", "c1"}, `bad flag syntax "-=x"`},
		{"restore unknown flag", []string{"restore", "--leave-running", "c1"}, `unknown flag "--leave-running"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse(tt.argv)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error containing %q", tt.argv, parsedOf(inv), tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.argv, err, tt.wantErr)
			}
		})
	}
}

// TestReorderRules pins down how the two urfave/cli versions runc 1.1.5 is
// built with move flags written after the container id, and that Parse
// refuses what they read differently.
func TestReorderRules(t *testing.T) {
	upstream, debian := reorderRules[:1], reorderRules[1:]
	tests := []struct {
		name                   string
		argv                   []string
		upstream, debian       parsedArgv
		upstreamErr, debianErr string
	}{
		{
			// "-" looks like a flag to 1.22.1, so it is not moved with
			// --resources, which then takes the id as its value: runc
			// would read the resources from a file "c1" for container "-".
			name:        "update with --resources - after the id",
			argv:        []string{"update", "c1", "--resources", "-"},
			upstreamErr: `flag --resources has no value after it, and runc would take "c1" from argument 2 as its value`,
			debian:      parsedArgv{Command: "update", Options: []Option{{Name: "resources", Value: "-", Index: 2}}, Positional: []string{"c1"}},
		},
		{
			name:     "-- after the id",
			argv:     []string{"create", "c1", "--", "x"},
			upstream: parsedArgv{Command: "create", Positional: []string{"c1", "--", "x"}},
			debian:   parsedArgv{Command: "create", Positional: []string{"c1", "x"}},
		},
		{
			name:     "-- as the value of a bool flag",
			argv:     []string{"create", "c1", "--no-pivot", "--", "x"},
			upstream: parsedArgv{Command: "create", Options: []Option{{Name: "no-pivot", Value: "true", Index: 2, Inline: true}}, Positional: []string{"c1", "--", "x"}},
			debian:   parsedArgv{Command: "create", Options: []Option{{Name: "no-pivot", Value: "true", Index: 2, Inline: true}}, Positional: []string{"c1", "x"}},
		},
		{
			name:        "unknown flag after the id",
			argv:        []string{"create", "c1", "--bogus"},
			upstreamErr: `unknown flag "--bogus"`,
			debian:      parsedArgv{Command: "create", Positional: []string{"c1", "--bogus"}},
		},
		{
			name:        "a flag of another command after the id",
			argv:        []string{"run", "c1", "--user", "0"},
			upstreamErr: `unknown flag "--user"`,
			debian:      parsedArgv{Command: "run", Positional: []string{"c1", "--user", "0"}},
		},
		{
			name:     "negative value after the id, then another argument",
			argv:     []string{"update", "c1", "--memory", "-1", "x"},
			upstream: parsedArgv{Command: "update", Options: []Option{{Name: "memory", Value: "-1", Index: 2}}, Positional: []string{"x", "c1"}},
			debian:   parsedArgv{Command: "update", Options: []Option{{Name: "memory", Value: "-1", Index: 2}}, Positional: []string{"c1", "x"}},
		},
		{
			name:        "three dashes name a flag for 1.22.9's reordering only",
			argv:        []string{"create", "c1", "---bundle", "x"},
			upstreamErr: `bad flag syntax "---bundle"`,
			debianErr:   `bad flag syntax "---bundle"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []struct {
				rules   []reorderRule
				want    parsedArgv
				wantErr string
			}{{upstream, tt.upstream, tt.upstreamErr}, {debian, tt.debian, tt.debianErr}} {
				inv, err := parse(tt.argv, r.rules)
				switch {
				case r.wantErr != "" && (err == nil || !strings.Contains(err.Error(), r.wantErr)):
					t.Errorf("%s: parse(%q) error = %v, want one containing %q", r.rules[0].name, tt.argv, err, r.wantErr)
				case r.wantErr == "" && err != nil:
					t.Errorf("%s: parse(%q): %v", r.rules[0].name, tt.argv, err)
				case r.wantErr == "" && !reflect.DeepEqual(parsedOf(inv), r.want):
					t.Errorf("%s: parse(%q)\n got %+v\nwant %+v", r.rules[0].name, tt.argv, parsedOf(inv), r.want)
				}
			}
			_, err := Parse(tt.argv)
			if err == nil {
				t.Fatalf("Parse(%q) accepted a command line runc builds read differently", tt.argv)
			}
			if tt.upstreamErr == "" || tt.debianErr == "" {
				if !strings.Contains(err.Error(), "runc builds read these arguments differently") || !strings.Contains(err.Error(), "Put every flag before the container id") {
					t.Errorf("Parse(%q) error = %q, want it to say the builds disagree and what to do", tt.argv, err)
				}
			}
		})
	}
}

func TestParseDoesNotAliasArgv(t *testing.T) {
	argv := []string{"--guard-policy=restricted", "update", "-r", "-", "c1"}
	inv, err := Parse(argv)
	if err != nil {
		t.Fatal(err)
	}
	inv.RuntimeArgs[2] = "/tmp/resources.json"
	if argv[3] != "-" {
		t.Errorf("editing RuntimeArgs changed the caller's argv: %q", argv)
	}
}

// runcVerdict is what the real runc did with a command line, read from its
// output: the parts of its parse that runc makes visible.
type runcVerdict struct {
	usageError  bool   // refused the flags ("Incorrect Usage: …", "Cannot use two forms …")
	appHelpOrV  bool   // printed its help or version and ran nothing
	commandHelp bool   // printed the subcommand's help and ran nothing
	argCount    bool   // refused the number of positional arguments
	chdir       string // the bundle it tried to enter, when it got that far
	noConfig    bool   // looked for config.json in its working directory (no --bundle)
	// beforeFailed: an invalid --log-format stopped runc after the
	// global flags, before it read the command's.
	beforeFailed bool
	output       string
}

func runRunc(t *testing.T, runc, dir string, args []string) runcVerdict {
	t.Helper()
	cmd := exec.Command(runc, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running %s %q: %v", runc, args, err)
	}
	out, errOut := stdout.String(), stderr.String()
	v := runcVerdict{output: "stdout: " + out + "\nstderr: " + errOut}
	switch {
	case strings.HasPrefix(out, "Incorrect Usage: "), strings.HasPrefix(out, "Incorrect Usage. "),
		strings.HasPrefix(out, "Cannot use two forms"):
		v.usageError = true
	case strings.HasPrefix(out, "Incorrect Usage.\n"):
		v.argCount = true
	case err == nil && (strings.HasPrefix(out, "runc version") || strings.Contains(out, "runc - Open Container Initiative runtime")):
		v.appHelpOrV = true
	case err == nil && strings.HasPrefix(out, "NAME:"):
		v.commandHelp = true
	}
	if m := regexp.MustCompile(`chdir (.*): no such file or directory`).FindStringSubmatch(errOut); m != nil {
		v.chdir = m[1]
	}
	v.noConfig = strings.Contains(errOut, "config.json not found")
	v.beforeFailed = strings.Contains(errOut, "invalid log-format")
	return v
}

// TestParseAgreesWithRunc runs a real runc 1.1.5 on the same command lines
// as Parse, hand-written ones and random ones built from flags, values and
// separators, and checks that both read them alike wherever runc shows what
// it read: whether the flags are refused, the help and version short cuts,
// the number of positional arguments, and the bundle directory. The runc on
// PATH is compared with the reorder rule of its build; an upstream build
// (urfave/cli 1.22.1) can be given as well.
func TestParseAgreesWithRunc(t *testing.T) {
	t.Run("installed", func(t *testing.T) {
		runc, err := exec.LookPath("runc")
		if err != nil {
			runc = "/usr/sbin/runc"
		}
		version, err := exec.Command(runc, "--version").Output()
		rules := reorderRules[:1]
		switch {
		case err != nil:
			t.Fatalf("this test compares Parse with runc 1.1.5 (Debian 12: apt-get install -y runc): %s --version: %v", runc, err)
		case strings.HasPrefix(string(version), "runc version 1.1.5+ds"):
			rules = reorderRules[1:]
		case !strings.HasPrefix(string(version), "runc version 1.1.5\n"):
			t.Fatalf("this test compares Parse with runc 1.1.5 (Debian 12: apt-get install -y runc); %s --version gave %q", runc, version)
		}
		compareWithRunc(t, runc, rules)
	})
	t.Run("upstream", func(t *testing.T) {
		runc := os.Getenv("GUARD_TEST_UPSTREAM_RUNC")
		if runc == "" {
			t.Skip("set GUARD_TEST_UPSTREAM_RUNC to a runc built from the v1.1.5 tag with its vendored urfave/cli 1.22.1 " +
				"(go build -mod=vendor .) to compare with that build's reordering too; the installed runc is compared above")
		}
		compareWithRunc(t, runc, reorderRules[:1])
	})
}

func compareWithRunc(t *testing.T, runc string, rules []reorderRule) {
	dir := t.TempDir()
	for _, args := range runcComparisonCases() {
		args = append([]string{"--root", "state"}, args...)
		v := runRunc(t, runc, dir, args)
		one, oneErr := parse(args, rules)
		if msg := disagreement(one, oneErr, v); msg != "" {
			t.Errorf("%q: %s\nparse with %s: %+v, err %v\nrunc %s", args, msg, rules[0].name, invSummary(one), oneErr, v.output)
			continue
		}
		inv, err := Parse(args)
		switch {
		case err == nil && oneErr != nil:
			t.Errorf("%q: Parse accepted what %s refuses: %v", args, rules[0].name, oneErr)
		case err == nil && !inv.Guarded() && inv.Options == nil && inv.Positional == nil:
			// A pass-through command the runc builds read differently
			// keeps its arguments to itself.
		case err == nil && !reflect.DeepEqual(parsedOf(inv), parsedOf(one)):
			t.Errorf("%q: Parse read %+v, %s reads %+v", args, parsedOf(inv), rules[0].name, parsedOf(one))
		case err != nil && oneErr == nil && !strings.Contains(err.Error(), "runc builds read these arguments differently"):
			t.Errorf("%q: Parse refused what %s accepts: %v", args, rules[0].name, err)
		}
	}
}

func invSummary(inv *Invocation) any {
	if inv == nil {
		return nil
	}
	return parsedOf(inv)
}

func disagreement(inv *Invocation, parseErr error, v runcVerdict) string {
	if v.beforeFailed {
		// runc read its global flags, then stopped before the command.
		if parseErr != nil && strings.HasPrefix(parseErr.Error(), "runc global flags") {
			return "Parse refused global flags runc accepted"
		}
		return ""
	}
	if parseErr != nil {
		if !v.usageError && !strings.Contains(parseErr.Error(), "has no value after it") {
			return "Parse refused a command line runc accepted"
		}
		return ""
	}
	if v.usageError && (inv.Command == "" || inv.Guarded()) {
		return "runc refused a command line Parse accepted"
	}
	if v.appHelpOrV != (inv.Command == "") {
		return "Parse and runc disagree on whether a command runs"
	}
	if !inv.Guarded() {
		return ""
	}
	help, _ := inv.Option("help")
	if v.commandHelp != (help == "true") {
		return "Parse and runc disagree on --help"
	}
	if v.commandHelp {
		return ""
	}
	wantCount := 1
	if inv.Command == "exec" && len(inv.Positional) > 1 {
		wantCount = len(inv.Positional)
	}
	if v.argCount != (len(inv.Positional) != wantCount) {
		return "Parse and runc disagree on the number of positional arguments"
	}
	if v.chdir != "" && v.chdir != inv.Bundle() {
		return "runc entered another bundle"
	}
	if v.noConfig && inv.Bundle() != "" {
		return "runc used its working directory as the bundle"
	}
	return ""
}

// runcComparisonCases are the command lines of TestParse and TestParseErrors
// for the guarded commands, plus random ones. Bundles never exist, so runc
// stops at the bundle, at the (absent) container, or earlier.
func runcComparisonCases() [][]string {
	cases := [][]string{
		{"create", "--bundle", "/nonexist/a", "--pid-file", "/nonexist/a/init.pid", "c1"},
		{"--log", "log.json", "--log-format", "json", "create", "--bundle", "/nonexist/a", "c1"},
		{"create", "--bundle=/nonexist/a", "c1"},
		{"create", "-b", "/nonexist/a", "c1"},
		{"run", "-bundle", "/nonexist/a", "--d", "c1"},
		{"create", "c1", "--bundle", "/nonexist/a", "--pid-file=/p"},
		{"create", "c1", "--no-pivot", "x", "--bundle", "/nonexist/a"},
		{"create", "--bundle", "--", "c1"},
		{"create", "--", "--bundle", "/nonexist/a", "c1"},
		{"--debug", "--", "create", "-b", "/nonexist/a", "c1"},
		{"--debug=false", "--systemd-cgroup=1", "run", "--detach=false", "--no-pivot=T", "--keep=0", "-b", "/nonexist/a", "c1"},
		{"--rootless", "true", "create", "-b", "/nonexist/a", "c1"},
		{"run", "c1", "-b"},
		{"run", "-b"},
		{"create", "-h", "c1"},
		{"-v", "create", "--bogus", "c1"},
		{"-h"},
		{"create", "-b", "/x", "--bundle", "/y", "c1"},
		{"create", "--preserve-fds=abc", "c1"},
		{"create", "--preserve-fds=0x1_0", "-b", "/nonexist/a", "c1"},
		{"exec", "-e", "A=1", "--env", "B=2", "-p", "/p", "c1"},
		{"exec", "-g", "0x10", "-p", "/p", "c1"},
		{"exec", "-dt", "-p", "/p", "c1"},
		{"exec", "c1", "--user", "0", "sh"},
		{"exec", "--user", "0:0", "--cap", "CAP_SYS_ADMIN", "-e", "A=B", "c1", "sh", "-c", "x"},
		{"update", "c1", "--resources", "-"},
		{"update", "--resources", "-", "c1"},
		{"update", "--pids-limit", "lots", "c1"},
		{"update", "--pids-limit", "-1", "c1"},
		{"restore", "--leave-running", "c1"},
		{"restore", "-d", "-b", "/nonexist/a", "c1"},
		{"---root", "x", "create", "c1"},
		{"-v", "--version"},
		{"--debug=yes", "create", "c1"},
		{"create", "-=x", "c1"},
	}
	globals := []string{"--debug", "--debug=false", "--debug=maybe", "-v", "--version=false", "-h", "--help=0",
		"--log-format", "json", "--systemd-cgroup", "--rootless", "false", "--criu", "--bogus", "--", "-", "---x", "--root", "state2"}
	commands := []string{"create", "run", "restore", "exec", "update", "state"}
	words := []string{"--bundle", "-b", "--bundle=/nonexist/b1", "-b=/nonexist/b2", "/nonexist/b3", "--bundle=",
		"c1", "c2", "--no-pivot", "--no-pivot=false", "-d", "--detach", "--detach=no", "--pid-file", "--preserve-fds",
		"0x3", "abc", "--", "-", "--bogus", "-h", "--help=false", "--keep", "-p", "--process", "--user", "-u", "0:0",
		"-e", "--env", "A=B", "-g", "7", "--cap", "-t", "--tty=true", "--resources", "-r", "--pids-limit", "-1",
		"--memory=1g", "--image-path", "--console-socket", "-dt", "sh", "-c", "---y", "-="}
	rng := rand.New(rand.NewPCG(1, 5))
	pick := func(from []string) string { return from[rng.IntN(len(from))] }
	for range 500 {
		var args []string
		for range rng.IntN(3) {
			args = append(args, pick(globals))
		}
		args = append(args, pick(commands))
		for range rng.IntN(7) {
			args = append(args, pick(words))
		}
		cases = append(cases, args)
	}
	// Mostly well-formed lines: valid flags in any order around the id,
	// with the occasional stray word, to exercise the reordering.
	pairs := [][]string{{"--bundle", "/nonexist/p1"}, {"-b", "/nonexist/p2"}, {"--bundle=/nonexist/p3"}, {"-b=-"},
		{"--pid-file", "/nonexist/pid"}, {"--no-pivot"}, {"--no-pivot=false"}, {"--detach"}, {"-d"}, {"--preserve-fds", "1"},
		{"--console-socket", "/nonexist/s"}, {"--keep"}, {"--pid-file=-"}, {"--bundle", "-"}, {"-b", "--"}}
	for range 300 {
		args := []string{pick([]string{"create", "run", "restore"})}
		var rest []string
		for range rng.IntN(4) {
			rest = append(rest, pairs[rng.IntN(len(pairs))]...)
		}
		at := rng.IntN(len(rest) + 1)
		rest = slices.Insert(rest, at, "c1")
		if rng.IntN(4) == 0 {
			rest = slices.Insert(rest, rng.IntN(len(rest)+1), pick(words))
		}
		cases = append(cases, append(args, rest...))
	}
	return cases
}

// BenchmarkParse measures Parse on Docker's create line, which guard-runtime
// reads on every container start.
func BenchmarkParse(b *testing.B) {
	argv := []string{"--guard-policy=restricted", "--root", dockerRoot, "--log", dockerBundle + "/log.json", "--log-format", "json",
		"create", "--bundle", dockerBundle, "--pid-file", dockerBundle + "/init.pid", dockerID}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(argv); err != nil {
			b.Fatal(err)
		}
	}
}
