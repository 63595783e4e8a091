package spec

// The runc command line, read exactly as runc 1.1.5 reads it.
//
// runc 1.1.5 parses its arguments with urfave/cli v1 on top of Go's flag
// package. What that means, and what this file reproduces:
//
//   - A flag is "-name" or "--name"; a value is "--name=value" or the next
//     token, whatever it looks like ("--bundle -x" sets the bundle to "-x").
//     A bool flag never takes the next token: "--detach" or "--detach=false".
//   - Flag parsing stops at the first token that is not a flag ("-" counts as
//     one) or after a "--", which is consumed.
//   - The global flags come before the subcommand and are parsed without any
//     reordering, so "--" before the subcommand is consumed and the subcommand
//     is the token after it. --help and --version make runc print and stop.
//   - Before parsing a subcommand's flags, urfave/cli moves flags written
//     after the positional arguments in front of them, unless the command
//     sets SkipArgReorder (runc's exec and ps do: everything after exec's
//     container id is the process's). The move assumes the token after a
//     flag without "=" is its value, even for bool flags, so
//     "create id --no-pivot x --bundle b" ends with no bundle and the
//     positional arguments [x --bundle b id]. How exactly it moves them
//     differs between runc builds; see reorderRule.
//   - Every command also takes --help/-h. Two spellings of one flag in the
//     same run ("-b x --bundle y", "-e A=1 --env B=2") are refused.
//
// For the commands guard-runtime evaluates, anything runc refuses (an
// unknown flag, a value flag without its value, a malformed bool or number)
// is an error, and so is anything runc builds read differently: guard-runtime
// must never evaluate a command line other than the one runc reads. Other
// commands pass through whatever their options are.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultRootDir is runc's state directory when --root is not given (and
// runc runs as root outside a user namespace, as guard-runtime does).
const DefaultRootDir = "/run/runc"

// GuardFlags are guard-runtime's own flags; they come first, before runc's.
// An absent flag is "": defaults are the caller's to apply.
type GuardFlags struct{ Config, Policy, PolicyDir string } // --guard-config, --guard-policy, --guard-policy-dir

// GlobalFlags are runc's global flags as given (last occurrence wins). A flag
// that is absent is the zero value, not runc's default; see RootDir.
type GlobalFlags struct {
	Root, Log, LogFormat, Criu, Rootless string
	Debug, SystemdCgroup, Help, Version  bool
}

// Option is one option of the subcommand, by its canonical long name ("bundle" for -b).
type Option struct {
	Name  string
	Value string // "true"/"false" for bool flags; otherwise the text as given
	Index int    // index in Invocation.RuntimeArgs of the token that names the option
	// Inline is true when the option is a single token: --name=value, or a
	// bool flag. Otherwise its value is the token at Index+1 (a command line
	// where runc's reordering would give a flag a value from elsewhere is
	// refused).
	Inline bool
}

// Invocation is one runtime command line, split the way runc splits it.
type Invocation struct {
	Guard       GuardFlags
	RuntimeArgs []string // argv[1:] minus the --guard-* flags: exactly what the runtime gets, in order
	Global      GlobalFlags
	// Command is the subcommand runc dispatches to, "" when there is none
	// (no arguments, or --help/--version, which make runc print and stop).
	Command      string
	CommandIndex int      // index of Command in RuntimeArgs, -1 when none
	Options      []Option // the subcommand's options, in the order given
	// Positional holds the subcommand's positional arguments (container id
	// first), in the order runc sees them after its reordering. For commands
	// runc does not know (including guard-runtime's own "policy" and "pin")
	// it is every token after the command, untouched. For a pass-through
	// runc command whose options runc would refuse, it is empty.
	Positional []string

	rootGiven bool // --root was given, possibly as ""
	criuGiven bool // --criu was given, possibly as ""
}

// guardedCommands are the commands whose documents guard-runtime evaluates.
var guardedCommands = [...]string{"create", "run", "restore", "exec", "update"}

// Parse splits a runtime command line (argv WITHOUT argv[0]).
func Parse(argv []string) (*Invocation, error) {
	return parse(argv, reorderRules[:])
}

// parse reads the subcommand's arguments under every given reorder rule
// and refuses a command line they read differently.
func parse(argv []string, rules []reorderRule) (*Invocation, error) {
	guard, runtimeArgs, err := splitGuardFlags(argv)
	if err != nil {
		return nil, err
	}
	inv := &Invocation{Guard: guard, RuntimeArgs: runtimeArgs, CommandIndex: -1}

	globals, rest, err := parseFlagRun(indexTokens(runtimeArgs), globalFlagDefs)
	if err != nil {
		return nil, fmt.Errorf("runc global flags: %w; runc refuses this command line too", err)
	}
	inv.setGlobals(globals)
	if inv.Global.Help || inv.Global.Version || len(rest) == 0 {
		// runc prints its help or version and runs no command.
		return inv, nil
	}
	inv.Command, inv.CommandIndex = rest[0].text, rest[0].index
	cmd := lookupCommand(inv.Command)
	if cmd == nil {
		// Not runc's: guard-runtime's own commands and anything runc
		// would refuse keep their arguments raw.
		inv.Positional = tokenTexts(rest[1:])
		return inv, nil
	}
	opts, positional, err := parseCommandArgs(cmd, rest[1:], rules)
	if err != nil {
		if inv.Guarded() {
			return nil, fmt.Errorf("runc %s: %w", inv.Command, err)
		}
		// runc refuses it, or its builds read it differently: it
		// passes through untouched, without options or arguments.
		return inv, nil
	}
	inv.Options, inv.Positional = opts, positional
	return inv, nil
}

// parseCommandArgs reads the tokens after a runc subcommand under each
// reorder rule (one is enough for commands that are not reordered) and
// returns what they agree on.
func parseCommandArgs(cmd *commandDef, args []token, rules []reorderRule) ([]Option, []string, error) {
	if cmd.keepOrder {
		rules = rules[:1]
	}
	type reading struct {
		opts       []Option
		positional []string
		err        error
	}
	readings := make([]reading, len(rules))
	for i, rule := range rules {
		ordered := args
		if !cmd.keepOrder {
			ordered = rule.reorder(cmd, args)
		}
		opts, rest, err := parseFlagRun(ordered, cmd.flags)
		readings[i] = reading{opts, tokenTexts(rest), err}
	}
	first := readings[0]
	for i, r := range readings[1:] {
		if (r.err == nil) == (first.err == nil) && slices.Equal(r.opts, first.opts) && slices.Equal(r.positional, first.positional) {
			continue
		}
		describe := func(rule reorderRule, r reading) string {
			if r.err != nil {
				return fmt.Sprintf("%s refuses them (%v)", rule.name, r.err)
			}
			return fmt.Sprintf("%s reads options %s, arguments %q", rule.name, describeOptions(r.opts), r.positional)
		}
		return nil, nil, fmt.Errorf("runc builds read these arguments differently: %s; %s. Put every flag before the container id",
			describe(rules[0], first), describe(rules[i+1], r))
	}
	if first.err != nil {
		return nil, nil, fmt.Errorf("%w; runc refuses this command line too, fix it before guard-runtime can evaluate it", first.err)
	}
	return first.opts, first.positional, nil
}

func describeOptions(opts []Option) string {
	parts := make([]string, len(opts))
	for i, o := range opts {
		parts[i] = fmt.Sprintf("--%s=%q", o.Name, o.Value)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (inv *Invocation) setGlobals(opts []Option) {
	g := &inv.Global
	for _, o := range opts {
		switch o.Name {
		case "root":
			g.Root, inv.rootGiven = o.Value, true
		case "log":
			g.Log = o.Value
		case "log-format":
			g.LogFormat = o.Value
		case "criu":
			g.Criu, inv.criuGiven = o.Value, true
		case "rootless":
			g.Rootless = o.Value
		case "debug":
			g.Debug = o.Value == "true"
		case "systemd-cgroup":
			g.SystemdCgroup = o.Value == "true"
		case "help":
			g.Help = o.Value == "true"
		case "version":
			g.Version = o.Value == "true"
		}
	}
}

// Option returns the value of the subcommand option with this canonical long
// name; the last occurrence wins, as in runc.
func (inv *Invocation) Option(name string) (value string, ok bool) {
	for i := len(inv.Options) - 1; i >= 0; i-- {
		if inv.Options[i].Name == name {
			return inv.Options[i].Value, true
		}
	}
	return "", false
}

// Values returns every value given for the option, in order (--env, --cap,
// --additional-gids accumulate in runc). Debian's runc build drops the first
// empty value of --env or --cap when there are others, the upstream build
// keeps it: an empty value is the caller's to refuse, not to rely on.
func (inv *Invocation) Values(name string) []string {
	var values []string
	for _, o := range inv.Options {
		if o.Name == name {
			values = append(values, o.Value)
		}
	}
	return values
}

// ContainerID is the first positional argument, "" if there is none.
func (inv *Invocation) ContainerID() string {
	if len(inv.Positional) == 0 {
		return ""
	}
	return inv.Positional[0]
}

// Bundle is the --bundle value, or "" when absent or empty: runc then uses
// its working directory, and so must the caller.
func (inv *Invocation) Bundle() string {
	bundle, _ := inv.Option("bundle")
	return bundle
}

// RootDir is runc's state directory: --root as given, or DefaultRootDir. An
// explicit empty --root is returned as ""; runc, like a relative --root,
// resolves it against its working directory.
func (inv *Invocation) RootDir() string {
	if inv.rootGiven {
		return inv.Global.Root
	}
	return DefaultRootDir
}

// RootGiven reports whether the global --root was given, even as "": the
// runtime then keeps its state there, and not in its own default.
func (inv *Invocation) RootGiven() bool {
	return inv.rootGiven
}

// CriuGiven reports whether the global --criu was given, even as "": runc
// then uses that path, not the criu on its PATH, for checkpoint and
// restore.
func (inv *Invocation) CriuGiven() bool {
	return inv.criuGiven
}

// Guarded reports whether the command is one guard-runtime evaluates:
// create, run, restore, exec or update.
func (inv *Invocation) Guarded() bool {
	for _, c := range guardedCommands {
		if inv.Command == c {
			return true
		}
	}
	return false
}

// ---- guard-runtime's own flags ----

const guardPrefix = "--guard-"

// splitGuardFlags takes the leading --guard-* flags off argv. Docker's
// generated wrapper script puts a runtime's runtimeArgs before the engine's
// arguments, so they are only ever at the front; one anywhere else is a
// mistake that must not silently reach runc or be silently ignored.
func splitGuardFlags(argv []string) (GuardFlags, []string, error) {
	var guard GuardFlags
	i := 0
	for i < len(argv) && looksLikeGuardFlag(argv[i]) {
		tok := argv[i]
		if !strings.HasPrefix(tok, guardPrefix) {
			return guard, nil, fmt.Errorf("guard-runtime flag %q: spell it with two dashes, --%s", tok, strings.TrimLeft(tok, "-"))
		}
		name, value, inline := strings.Cut(tok[2:], "=")
		field := guardField(&guard, name)
		if field == nil {
			return guard, nil, fmt.Errorf("unknown guard-runtime flag --%s: the flags are --guard-config FILE, --guard-policy NAME and --guard-policy-dir DIR", name)
		}
		if *field != "" { // empty values are refused below, so this one was seen
			return guard, nil, fmt.Errorf("guard-runtime flag --%s is given twice: give it once", name)
		}
		i++
		if !inline {
			if i == len(argv) || strings.HasPrefix(argv[i], "-") {
				return guard, nil, fmt.Errorf("guard-runtime flag --%s needs a value: give --%s=VALUE or --%s VALUE", name, name, name)
			}
			value = argv[i]
			i++
		}
		if value == "" {
			return guard, nil, fmt.Errorf("guard-runtime flag --%s has an empty value: give --%s=VALUE", name, name)
		}
		*field = value
	}
	rest := argv[i:]
	for j, tok := range rest {
		if looksLikeGuardFlag(tok) {
			return guard, nil, fmt.Errorf("guard-runtime flag %q at argument %d comes after runc's arguments: guard-runtime flags go first, before runc's (put them in the runtime's runtimeArgs)", tok, i+j+1)
		}
	}
	return guard, append([]string(nil), rest...), nil
}

// looksLikeGuardFlag catches both spellings Go's flag package would accept.
func looksLikeGuardFlag(tok string) bool {
	return strings.HasPrefix(tok, guardPrefix) || strings.HasPrefix(tok, guardPrefix[1:])
}

func guardField(g *GuardFlags, name string) *string {
	switch name {
	case "guard-config":
		return &g.Config
	case "guard-policy":
		return &g.Policy
	case "guard-policy-dir":
		return &g.PolicyDir
	}
	return nil
}

// ---- runc's flag tables ----

type valueKind uint8

const (
	boolValue       valueKind = iota // Go flag bool: bare, or =strconv.ParseBool
	stringValue                      // any text
	stringListValue                  // any text, repeatable, accumulates
	intValue                         // Go flag int: strconv.ParseInt(s, 0, strconv.IntSize)
	int64ListValue                   // urfave Int64Slice: strconv.ParseInt(s, 10, 64), accumulates
	durationValue                    // time.ParseDuration
)

// flagDef is one runc flag: names[0] is the canonical long name, the rest
// are its aliases (urfave/cli's "bundle, b").
type flagDef struct {
	names []string
	kind  valueKind
}

type commandDef struct {
	name  string
	flags []flagDef
	// keepOrder is urfave/cli's SkipArgReorder: flags are not moved in
	// front of the positional arguments, so everything after the first
	// positional argument is positional (exec's process arguments).
	keepOrder bool
}

var helpFlagDef = flagDef{[]string{"help", "h"}, boolValue}

// globalFlagDefs are runc's app flags (main.go) plus urfave/cli's --help
// and --version.
var globalFlagDefs = []flagDef{
	{[]string{"debug"}, boolValue},
	{[]string{"log"}, stringValue},
	{[]string{"log-format"}, stringValue},
	{[]string{"root"}, stringValue},
	{[]string{"criu"}, stringValue},
	{[]string{"systemd-cgroup"}, boolValue},
	{[]string{"rootless"}, stringValue}, // "true", "false" or "auto": a value flag, not a bool
	helpFlagDef,
	{[]string{"version", "v"}, boolValue},
}

// runcCommands are runc 1.1.5's subcommands with their flags. Each one also
// takes --help/-h, added by lookupFlag.
var runcCommands = []commandDef{
	{name: "checkpoint", flags: []flagDef{
		{[]string{"image-path"}, stringValue},
		{[]string{"work-path"}, stringValue},
		{[]string{"parent-path"}, stringValue},
		{[]string{"leave-running"}, boolValue},
		{[]string{"tcp-established"}, boolValue},
		{[]string{"ext-unix-sk"}, boolValue},
		{[]string{"shell-job"}, boolValue},
		{[]string{"lazy-pages"}, boolValue},
		{[]string{"status-fd"}, intValue},
		{[]string{"page-server"}, stringValue},
		{[]string{"file-locks"}, boolValue},
		{[]string{"pre-dump"}, boolValue},
		{[]string{"manage-cgroups-mode"}, stringValue},
		{[]string{"empty-ns"}, stringListValue},
		{[]string{"auto-dedup"}, boolValue},
	}},
	{name: "create", flags: []flagDef{
		{[]string{"bundle", "b"}, stringValue},
		{[]string{"console-socket"}, stringValue},
		{[]string{"pid-file"}, stringValue},
		{[]string{"no-pivot"}, boolValue},
		{[]string{"no-new-keyring"}, boolValue},
		{[]string{"preserve-fds"}, intValue},
	}},
	{name: "delete", flags: []flagDef{
		{[]string{"force", "f"}, boolValue},
	}},
	{name: "events", flags: []flagDef{
		{[]string{"interval"}, durationValue},
		{[]string{"stats"}, boolValue},
	}},
	{name: "exec", keepOrder: true, flags: []flagDef{
		{[]string{"console-socket"}, stringValue},
		{[]string{"cwd"}, stringValue},
		{[]string{"env", "e"}, stringListValue},
		{[]string{"tty", "t"}, boolValue},
		{[]string{"user", "u"}, stringValue},
		{[]string{"additional-gids", "g"}, int64ListValue},
		{[]string{"process", "p"}, stringValue},
		{[]string{"detach", "d"}, boolValue},
		{[]string{"pid-file"}, stringValue},
		{[]string{"process-label"}, stringValue},
		{[]string{"apparmor"}, stringValue},
		{[]string{"no-new-privs"}, boolValue},
		{[]string{"cap", "c"}, stringListValue},
		{[]string{"preserve-fds"}, intValue},
		{[]string{"cgroup"}, stringListValue},
		{[]string{"ignore-paused"}, boolValue},
	}},
	{name: "features"},
	{name: "kill", flags: []flagDef{
		{[]string{"all", "a"}, boolValue},
	}},
	{name: "list", flags: []flagDef{
		{[]string{"format", "f"}, stringValue},
		{[]string{"quiet", "q"}, boolValue},
	}},
	{name: "pause"},
	{name: "ps", keepOrder: true, flags: []flagDef{
		{[]string{"format", "f"}, stringValue},
	}},
	{name: "restore", flags: []flagDef{
		{[]string{"console-socket"}, stringValue},
		{[]string{"image-path"}, stringValue},
		{[]string{"work-path"}, stringValue},
		{[]string{"tcp-established"}, boolValue},
		{[]string{"ext-unix-sk"}, boolValue},
		{[]string{"shell-job"}, boolValue},
		{[]string{"file-locks"}, boolValue},
		{[]string{"manage-cgroups-mode"}, stringValue},
		{[]string{"bundle", "b"}, stringValue},
		{[]string{"detach", "d"}, boolValue},
		{[]string{"pid-file"}, stringValue},
		{[]string{"no-subreaper"}, boolValue},
		{[]string{"no-pivot"}, boolValue},
		{[]string{"empty-ns"}, stringListValue},
		{[]string{"auto-dedup"}, boolValue},
		{[]string{"lazy-pages"}, boolValue},
		{[]string{"lsm-profile"}, stringValue},
		{[]string{"lsm-mount-context"}, stringValue},
	}},
	{name: "resume"},
	{name: "run", flags: []flagDef{
		{[]string{"bundle", "b"}, stringValue},
		{[]string{"console-socket"}, stringValue},
		{[]string{"detach", "d"}, boolValue},
		{[]string{"keep"}, boolValue},
		{[]string{"pid-file"}, stringValue},
		{[]string{"no-subreaper"}, boolValue},
		{[]string{"no-pivot"}, boolValue},
		{[]string{"no-new-keyring"}, boolValue},
		{[]string{"preserve-fds"}, intValue},
	}},
	{name: "spec", flags: []flagDef{
		{[]string{"bundle", "b"}, stringValue},
		{[]string{"rootless"}, boolValue},
	}},
	{name: "start"},
	{name: "state"},
	{name: "update", flags: []flagDef{
		{[]string{"resources", "r"}, stringValue},
		{[]string{"blkio-weight"}, intValue},
		{[]string{"cpu-period"}, stringValue},
		{[]string{"cpu-quota"}, stringValue},
		{[]string{"cpu-share"}, stringValue},
		{[]string{"cpu-rt-period"}, stringValue},
		{[]string{"cpu-rt-runtime"}, stringValue},
		{[]string{"cpuset-cpus"}, stringValue},
		{[]string{"cpuset-mems"}, stringValue},
		{[]string{"kernel-memory"}, stringValue},
		{[]string{"kernel-memory-tcp"}, stringValue},
		{[]string{"memory"}, stringValue},
		{[]string{"memory-reservation"}, stringValue},
		{[]string{"memory-swap"}, stringValue},
		{[]string{"pids-limit"}, intValue},
		{[]string{"l3-cache-schema"}, stringValue},
		{[]string{"mem-bw-schema"}, stringValue},
	}},
}

// lookupCommand finds a runc subcommand by name; urfave/cli's own "help"
// command (alias "h") is left to pass through raw.
func lookupCommand(name string) *commandDef {
	for i := range runcCommands {
		if runcCommands[i].name == name {
			return &runcCommands[i]
		}
	}
	return nil
}

// lookupFlag finds the flag a spelling (without dashes) names. Tables are
// small; a linear scan costs less than building maps at every start.
func lookupFlag(defs []flagDef, spelling string, withHelp bool) *flagDef {
	for i := range defs {
		for _, n := range defs[i].names {
			if n == spelling {
				return &defs[i]
			}
		}
	}
	if withHelp {
		for _, n := range helpFlagDef.names {
			if n == spelling {
				return &helpFlagDef
			}
		}
	}
	return nil
}

// ---- the parser ----

// token is one argument with its position in RuntimeArgs, kept through
// urfave/cli's reordering so options can point back at what was given.
type token struct {
	text  string
	index int
}

func indexTokens(args []string) []token {
	tokens := make([]token, len(args))
	for i, a := range args {
		tokens[i] = token{a, i}
	}
	return tokens
}

func tokenTexts(tokens []token) []string {
	if len(tokens) == 0 {
		return nil
	}
	texts := make([]string, len(tokens))
	for i, t := range tokens {
		texts[i] = t.text
	}
	return texts
}

// reorderRule is one version of urfave/cli v1's argument reordering, which
// moves flags in front of the positional arguments before Go's flag
// package reads them. runc 1.1.5 ships with two:
//   - upstream (static builds, Docker's and containerd's packages) vendors
//     urfave/cli v1.22.1;
//   - Debian 12's runc 1.1.5+ds1 is built with Debian's urfave/cli 1.22.9,
//     which only moves the command's own flags and moves "--" differently.
//
// They agree on every command line engines write (flags before the id);
// guard-runtime refuses the rest where they disagree, so that whichever
// runc it hands off to, it evaluated what that runc reads.
type reorderRule struct {
	name    string
	reorder func(cmd *commandDef, args []token) []token
}

var reorderRules = [...]reorderRule{
	{"runc 1.1.5 with urfave/cli 1.22.1", moveFlagLikeFirst},
	{"Debian's runc 1.1.5 with urfave/cli 1.22.9", moveKnownFlagsFirst},
}

// moveFlagLikeFirst is urfave/cli 1.22.1's rule: tokens that start with "-"
// (but are not "-" itself), each with the next token when the flag has no
// "=" and the next token does not start with "-", go in front of the other
// tokens, both groups keeping their order. A "--" and everything after it
// stay at the end, untouched. It does not know which flags are bools, nor
// which exist.
func moveFlagLikeFirst(_ *commandDef, args []token) []token {
	flags := make([]token, 0, len(args))
	var others []token
	valueMayFollow := false
	for i, t := range args {
		if t.text == "--" {
			others = append(others, args[i:]...)
			break
		}
		switch {
		case valueMayFollow && !strings.HasPrefix(t.text, "-"):
			flags = append(flags, t)
			valueMayFollow = false
		case t.text != "-" && strings.HasPrefix(t.text, "-"):
			flags = append(flags, t)
			valueMayFollow = !strings.Contains(t.text, "=")
		default:
			others = append(others, t)
			valueMayFollow = false
		}
	}
	return append(flags, others...)
}

// moveKnownFlagsFirst is urfave/cli 1.22.9's rule: only tokens that name one
// of the command's flags move, each with the next token when the flag has
// no "=" and the next token does not name a flag ("-", "--" and "-1" are
// values then). A "--" that is not such a value ends the reordering: it
// goes in front of the tokens that did not move, followed by everything
// after it.
func moveKnownFlagsFirst(cmd *commandDef, args []token) []token {
	flags := make([]token, 0, len(args))
	var others []token
	valueMayFollow := false
	for i, t := range args {
		isFlag := namesCommandFlag(cmd, t.text)
		switch {
		case valueMayFollow && !isFlag:
			flags = append(flags, t)
			valueMayFollow = false
		case t.text == "--":
			rest := make([]token, 0, 1+len(others)+len(args)-i-1)
			rest = append(append(append(rest, t), others...), args[i+1:]...)
			return append(flags, rest...)
		case isFlag:
			flags = append(flags, t)
			valueMayFollow = !strings.Contains(t.text, "=")
		default:
			others = append(others, t)
		}
	}
	return append(flags, others...)
}

// namesCommandFlag is urfave/cli 1.22.9's test for a flag while reordering:
// up to two leading dashes, then one more, come off, and the name ends at
// the first "=".
func namesCommandFlag(cmd *commandDef, arg string) bool {
	if arg == "-" || arg == "--" || !strings.HasPrefix(arg, "-") {
		return false
	}
	name := strings.TrimPrefix(arg, "--")
	name = strings.TrimPrefix(name, "-")
	name, _, _ = strings.Cut(name, "=")
	return lookupFlag(cmd.flags, name, true) != nil
}

// parseFlagRun reads flags from the front of args as Go's flag package
// does, then applies urfave/cli's rule against two spellings of one flag.
// It returns the options in order and the tokens after the flags (a "--"
// that ended them is consumed). The help flag is known everywhere.
func parseFlagRun(args []token, defs []flagDef) ([]Option, []token, error) {
	var opts []Option
	var spellings []flagSpelling // how each flag was first spelled
	for len(args) > 0 {
		t := args[0]
		if len(t.text) < 2 || t.text[0] != '-' {
			break
		}
		if t.text == "--" {
			args = args[1:]
			break
		}
		args = args[1:]
		name := strings.TrimPrefix(t.text[1:], "-")
		if name == "" || name[0] == '-' || name[0] == '=' {
			return nil, nil, fmt.Errorf("bad flag syntax %q", t.text)
		}
		name, value, hasValue := cutAfterFirst(name, '=')
		def := lookupFlag(defs, name, true)
		if def == nil {
			return nil, nil, fmt.Errorf("unknown flag %q: runc 1.1.5 has no flag -%s here", t.text, name)
		}
		if other := spelledAs(spellings, def); other == "" {
			spellings = append(spellings, flagSpelling{def, name})
		} else if other != name {
			return nil, nil, fmt.Errorf("-%s and -%s are two spellings of the same flag; runc refuses both together: use one", other, name)
		}
		opt := Option{Name: def.names[0], Index: t.index, Inline: hasValue || def.kind == boolValue}
		if def.kind == boolValue {
			opt.Value = "true"
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return nil, nil, fmt.Errorf("invalid boolean value %q for %s: use true or false", value, t.text)
				}
				opt.Value = strconv.FormatBool(b)
			}
		} else {
			if !hasValue {
				if len(args) == 0 {
					return nil, nil, fmt.Errorf("flag %s needs a value: give %s=VALUE or %s VALUE", t.text, t.text, t.text)
				}
				if args[0].index != t.index+1 {
					// Reordering put a token from elsewhere after the
					// flag; runc takes it as the value. Refused, so that a
					// value is always the token after its flag.
					return nil, nil, fmt.Errorf("flag %s has no value after it, and runc would take %q from argument %d as its value: give %s=VALUE or %s VALUE",
						t.text, args[0].text, args[0].index+1, t.text, t.text)
				}
				value, args = args[0].text, args[1:]
			}
			if err := checkValue(def.kind, value); err != nil {
				return nil, nil, fmt.Errorf("invalid value %q for flag -%s: %w", value, name, err)
			}
			opt.Value = value
		}
		opts = append(opts, opt)
	}
	return opts, args, nil
}

type flagSpelling struct {
	def  *flagDef
	name string
}

func spelledAs(spellings []flagSpelling, def *flagDef) string {
	for _, sp := range spellings {
		if sp.def == def {
			return sp.name
		}
	}
	return ""
}

// cutAfterFirst splits s at the first sep that is not its first byte, as
// Go's flag package does ("=x" is never a name followed by a value).
func cutAfterFirst(s string, sep byte) (before, after string, found bool) {
	if i := strings.IndexByte(s[1:], sep); i >= 0 {
		return s[:i+1], s[i+2:], true
	}
	return s, "", false
}

var errNotANumber = errors.New("not a number runc accepts")

// checkValue refuses the values runc's flag types refuse.
func checkValue(kind valueKind, value string) error {
	switch kind {
	case intValue:
		if _, err := strconv.ParseInt(value, 0, strconv.IntSize); err != nil {
			return errNotANumber
		}
	case int64ListValue:
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return fmt.Errorf("%w (a decimal integer)", errNotANumber)
		}
	case durationValue:
		if _, err := time.ParseDuration(value); err != nil {
			return fmt.Errorf("not a duration such as 5s: %w", err)
		}
	}
	return nil
}
