package enforce

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/guard-runtime/guard-runtime/spec"
)

// enforceExec judges the process of an exec against the policy the
// container was created under, and the descriptors runc would pass it.
//
// With --process FILE (what containerd, and so Docker, always pass) the
// file is read strictly, like config.json. Without it, runc builds the
// process from the container's own config.json and the flags (--user,
// --cap, --env, …); guard-runtime builds the same process and judges it.
// Either way runc gets the judged process, as it is or as the policy
// rewrote it, in a sealed memory file in place of the file or the flags:
// runc reads exactly what was judged, and a rename over FILE after
// guard-runtime read it changes nothing.
func (g *Gate) enforceExec() error {
	if helpRequested(g.Inv) {
		return nil // runc prints the command's help and runs nothing
	}
	id := g.Inv.ContainerID()
	p, err := g.containerPolicy(id)
	if err != nil {
		return err
	}
	ctx := Context{Operation: OpExec, ContainerID: id}
	ctx.Call.Descriptors = passedDescriptors(g.Inv, os.Getenv)
	if file, _ := g.Inv.Option("process"); file != "" {
		return g.enforceProcessFile(p, ctx, file)
	}
	return g.enforceExecFlags(p, ctx)
}

func (g *Gate) enforceProcessFile(p *Policy, ctx Context, file string) error {
	data, err := spec.ReadFile(file, spec.MaxDocumentSize)
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing exec in container %s: cannot read its process: %w", ctx.ContainerID, err)
	}
	doc, err := spec.DecodeProcess(data)
	if err != nil {
		err = handOverOn(err)
		return fmt.Errorf("guard-runtime: refusing exec in container %s: %s is not a process runc would read the same way: %w", ctx.ContainerID, file, err)
	}
	d, err := g.judgeProcess(p, doc, ctx)
	if err != nil {
		return err
	}
	if d.Verdict == RewriteDoc {
		if data, err = d.Result.Encode(); err != nil {
			return fmt.Errorf("guard-runtime: encode the rewritten process: %w", err)
		}
	}
	path, err := g.passProcess(ctx, data)
	if err != nil {
		return err
	}
	g.Inv.RuntimeArgs = argsWithOptionValue(g.Inv, "process", path)
	return nil
}

// passProcess hands runc the judged process of an exec in a sealed
// memory file, above the descriptors runc passes to the process, and
// returns the path runc reads it from.
func (g *Gate) passProcess(ctx Context, data []byte) (string, error) {
	minFD, err := firstUnpassedFD(g.Inv)
	if err != nil {
		return "", err
	}
	path, err := passDocument("guard-runtime-exec-process", data, minFD)
	if err != nil {
		return "", fmt.Errorf("guard-runtime: refusing exec in container %s: %w", ctx.ContainerID, err)
	}
	return path, nil
}

// argsWithOptionValue is the command line with every value of the option
// replaced by value, each in the token it was given in, so that runc reads
// the same command line but for that value.
func argsWithOptionValue(inv *spec.Invocation, name, value string) []string {
	args := slices.Clone(inv.RuntimeArgs)
	for _, o := range inv.Options {
		if o.Name != name {
			continue
		}
		if o.Inline {
			flag, _, _ := strings.Cut(args[o.Index], "=")
			args[o.Index] = flag + "=" + value
		} else {
			args[o.Index+1] = value
		}
	}
	return args
}

// judgeProcess evaluates an exec process and reports a deny as an error.
func (g *Gate) judgeProcess(p *Policy, doc *spec.Process, ctx Context) (*Decision, error) {
	d, err := EvaluateProcess(p, doc, ctx)
	if err != nil {
		err = handOverOn(err)
		return nil, fmt.Errorf("guard-runtime: policy %q could not judge exec in container %s, refusing it: %w", p.Name, ctx.ContainerID, err)
	}
	return d, g.admit(d, ctx)
}

// admit records a decision and turns a deny into the error the engine
// shows, as create does.
func (g *Gate) admit(d *Decision, ctx Context) error {
	g.record(d, ctx)
	if d.Verdict == DenyVerdict {
		return denial(d, ctx)
	}
	return nil
}

// helpRequested reports --help on the subcommand: runc then prints help
// and does nothing else, so there is nothing to judge.
func helpRequested(inv *spec.Invocation) bool {
	v, _ := inv.Option("help")
	return v == "true"
}

// firstUnpassedFD is the lowest descriptor runc exec does not hand to the
// container: 0-2, then --preserve-fds more. runc's loop passes none for a
// negative count, or one that overflows it.
func firstUnpassedFD(inv *spec.Invocation) (int, error) {
	v, ok := inv.Option("preserve-fds")
	if !ok {
		return 3, nil
	}
	n, err := strconv.ParseInt(v, 0, strconv.IntSize)
	if err != nil {
		return 0, fmt.Errorf("guard-runtime: --preserve-fds %q is not a number (runc refuses it too)", v)
	}
	return max(3+int(n), 3), nil
}

// execArgsWithProcess is the exec command line with the process-building
// flags and the command replaced by --process path; the flags that are
// about running the process (--detach, --pid-file, --console-socket,
// --preserve-fds, --cgroup, --ignore-paused) stay as given.
func execArgsWithProcess(inv *spec.Invocation, path string) []string {
	args := append([]string(nil), inv.RuntimeArgs[:inv.CommandIndex+1]...)
	for _, o := range inv.Options {
		switch o.Name {
		case "console-socket", "detach", "pid-file", "preserve-fds", "cgroup", "ignore-paused":
			args = append(args, inv.RuntimeArgs[o.Index])
			if !o.Inline {
				args = append(args, inv.RuntimeArgs[o.Index+1])
			}
		}
	}
	args = append(args, "--process", path)
	id := inv.ContainerID()
	if strings.HasPrefix(id, "-") {
		args = append(args, "--")
	}
	return append(args, id)
}
