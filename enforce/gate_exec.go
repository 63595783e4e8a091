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
	if err := refuseCgroupEscape(g.Inv); err != nil {
		return err
	}
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

// refuseCgroupEscape refuses an exec --cgroup whose path could lead out
// of the container's cgroup. runc 1.1.5 joins the path to the container's
// cgroup in each hierarchy (path.Join, which applies "..") and accepts the
// result when it begins with the container's path as a string, so from a
// container in /c1, "../c10" puts the process into /c10, another
// container's cgroup, with none of /c1's memory or pids limits;
// "pids:../c10" does it for one hierarchy. --cgroup exists to name a
// sub-cgroup of the container, so a path with a ".." component is
// refused, and so is an absolute one: runc takes "/x" below the container
// too, but it reads as a cgroup of the host. This is runc's own rule made
// whole, not a policy choice: it holds under every policy, audit mode
// included, and for exec with or without --process.
func refuseCgroupEscape(inv *spec.Invocation) error {
	for _, v := range inv.Values("cgroup") {
		// runc splits each value as [controller[,controller]:]path.
		parts := strings.SplitN(v, ":", 3)
		sub := parts[len(parts)-1]
		switch {
		case len(parts) > 2:
			return fmt.Errorf("guard-runtime: refusing exec in container %s: --cgroup %q is not [controller[,controller]:]path (runc refuses it too): give one path, such as sub or pids:sub", inv.ContainerID(), v)
		case strings.HasPrefix(sub, "/"):
			return fmt.Errorf("guard-runtime: refusing exec in container %s: --cgroup %q gives an absolute path, but --cgroup names a sub-cgroup of the container, below its own cgroup: write it relative to that, without the leading /", inv.ContainerID(), v)
		case slices.Contains(strings.Split(sub, "/"), ".."):
			return fmt.Errorf("guard-runtime: refusing exec in container %s: --cgroup %q has a \"..\" component, which leads out of the container's cgroup: runc 1.1.5 would put the process into another cgroup (../c10 from /c1 is another container's /c10) and out of the container's limits; give a sub-cgroup of the container without \"..\", such as sub or pids:sub", inv.ContainerID(), v)
		}
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
