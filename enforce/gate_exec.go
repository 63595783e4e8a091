package enforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// enforceExec judges the process of an exec against the policy the
// container was created under.
//
// With --process FILE (what containerd, and so Docker, always pass) the
// file is read strictly, like config.json, and rewritten in place or
// denied. Without it, runc builds the process from the container's own
// config.json and the flags (--user, --cap, --env, …); guard-runtime builds
// the same process, judges it, and hands runc that process as a sealed
// file instead of the flags, so runc runs exactly what was judged.
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
		return fmt.Errorf("guard-runtime: refusing exec in container %s: %s is not a process runc would read the same way: %w", ctx.ContainerID, file, err)
	}
	d, err := g.judgeProcess(p, doc, ctx)
	if err != nil || d.Verdict != RewriteDoc {
		return err
	}
	out, err := d.Result.Encode()
	if err != nil {
		return fmt.Errorf("guard-runtime: encode the rewritten process: %w", err)
	}
	if err := spec.WriteFileAtomic(file, out); err != nil {
		return fmt.Errorf("guard-runtime: policy %q rewrites %s but it cannot be written, refusing the exec: %w", d.Policy, file, err)
	}
	return nil
}

func (g *Gate) enforceExecFlags(p *Policy, ctx Context) error {
	base, bundle, err := containerProcess(g.Inv.RootDir(), ctx.ContainerID)
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing exec in container %s without --process: %w", ctx.ContainerID, err)
	}
	ctx.Bundle = bundle
	proc, err := processFromFlags(g.Inv, base)
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing exec in container %s: %w", ctx.ContainerID, err)
	}
	data, err := json.Marshal(proc)
	if err != nil {
		return fmt.Errorf("guard-runtime: encode the process of exec in container %s: %w", ctx.ContainerID, err)
	}
	doc, err := spec.DecodeProcess(data)
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing exec in container %s: the process built from its config and the flags does not read back: %w", ctx.ContainerID, err)
	}
	d, err := g.judgeProcess(p, doc, ctx)
	if err != nil {
		return err
	}
	out, err := d.Result.Encode()
	if err != nil {
		return fmt.Errorf("guard-runtime: encode the process of exec in container %s: %w", ctx.ContainerID, err)
	}
	minFD, err := firstUnpassedFD(g.Inv)
	if err != nil {
		return err
	}
	path, err := passDocument("guard-runtime-exec-process", out, minFD)
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing exec in container %s: %w", ctx.ContainerID, err)
	}
	g.Inv.RuntimeArgs = execArgsWithProcess(g.Inv, path)
	return nil
}

// judgeProcess evaluates an exec process and reports a deny as an error.
func (g *Gate) judgeProcess(p *Policy, doc *spec.Process, ctx Context) (*Decision, error) {
	d, err := EvaluateProcess(p, doc, ctx)
	if err != nil {
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

// containerProcess is the process runc starts a flag-built exec from: the
// process of config.json in the container's bundle, which runc finds
// through the "bundle" label in its state.json. It returns the process and
// the bundle.
func containerProcess(root, id string) (*specs.Process, string, error) {
	stateFile := filepath.Join(root, id, "state.json")
	data, err := spec.ReadFile(stateFile, spec.MaxDocumentSize)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read runc's state of the container: %w", err)
	}
	var state struct {
		Config struct {
			Labels []string `json:"labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, "", fmt.Errorf("%s: %w", stateFile, err)
	}
	bundle := searchLabel(state.Config.Labels, "bundle")
	if bundle == "" {
		return nil, "", fmt.Errorf("%s names no bundle, so the container's process is unknown: pass --process FILE", stateFile)
	}
	file := filepath.Join(bundle, "config.json")
	data, err = spec.ReadFile(file, spec.MaxDocumentSize)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read the container's config: %w", err)
	}
	doc, err := spec.DecodeConfig(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s is not a config runc would read the same way: %w", file, err)
	}
	if doc.Value.Process == nil {
		return nil, "", fmt.Errorf("%s has no process for runc to start an exec from: pass --process FILE", file)
	}
	return doc.Value.Process, bundle, nil
}

// searchLabel returns the value of the first "key=value" label with this
// key, as runc looks labels up.
func searchLabel(labels []string, key string) string {
	for _, l := range labels {
		if k, v, ok := strings.Cut(l, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// processFromFlags builds the process runc 1.1.5 builds for an exec
// without --process: the container's process, with the arguments after
// the id, and each flag applied in runc's order and with runc's
// conversions (a uid is parsed as an int and cut to 32 bits, so
// --user 4294967296 is uid 0).
func processFromFlags(inv *spec.Invocation, p *specs.Process) (*specs.Process, error) {
	if len(inv.Positional) < 2 {
		return nil, errors.New("no command to run: give it after the container id, or pass --process FILE (runc refuses this too)")
	}
	p.Args = inv.Positional[1:]
	if cwd, _ := inv.Option("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if profile, _ := inv.Option("apparmor"); profile != "" {
		p.ApparmorProfile = profile
	}
	if label, _ := inv.Option("process-label"); label != "" {
		p.SelinuxLabel = label
	}
	if err := addCapabilities(p, inv.Values("cap")); err != nil {
		return nil, err
	}
	p.Env = append(p.Env, inv.Values("env")...)
	p.Terminal = false
	if tty, ok := inv.Option("tty"); ok {
		p.Terminal = tty == "true"
	}
	if nnp, ok := inv.Option("no-new-privs"); ok {
		p.NoNewPrivileges = nnp == "true"
	}
	if user, _ := inv.Option("user"); user != "" {
		if err := setUser(p, user); err != nil {
			return nil, err
		}
	}
	for _, v := range inv.Values("additional-gids") {
		gid, err := strconv.ParseInt(v, 10, 64)
		if err != nil || gid < 0 {
			return nil, fmt.Errorf("--additional-gids %q is not a group id (runc refuses it too)", v)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(gid))
	}
	return p, nil
}

// addCapabilities adds each --cap to the sets runc adds it to: bounding,
// effective, permitted and ambient, not inheritable.
func addCapabilities(p *specs.Process, caps []string) error {
	if len(caps) == 0 {
		return nil
	}
	if p.Capabilities == nil {
		return errors.New("the container's process has no capabilities object, which runc exec --cap cannot add to (runc 1.1.5 crashes): pass --process FILE")
	}
	c := p.Capabilities
	c.Bounding = append(c.Bounding, caps...)
	c.Effective = append(c.Effective, caps...)
	c.Permitted = append(c.Permitted, caps...)
	c.Ambient = append(c.Ambient, caps...)
	return nil
}

// setUser applies --user UID[:GID] as runc does.
func setUser(p *specs.Process, user string) error {
	uidText, gidText, hasGID := strings.Cut(user, ":")
	if hasGID {
		gid, err := strconv.Atoi(gidText)
		if err != nil {
			return fmt.Errorf("--user %q: the group %q is not a number (runc refuses it too)", user, gidText)
		}
		p.User.GID = uint32(gid)
	}
	uid, err := strconv.Atoi(uidText)
	if err != nil {
		return fmt.Errorf("--user %q: the user %q is not a number (runc refuses it too)", user, uidText)
	}
	p.User.UID = uint32(uid)
	return nil
}

// firstUnpassedFD is the lowest descriptor runc exec does not hand to the
// container: 0-2, then --preserve-fds more.
func firstUnpassedFD(inv *spec.Invocation) (int, error) {
	v, ok := inv.Option("preserve-fds")
	if !ok {
		return 3, nil
	}
	n, err := strconv.ParseInt(v, 0, strconv.IntSize)
	if err != nil {
		return 0, fmt.Errorf("guard-runtime: --preserve-fds %q is not a number (runc refuses it too)", v)
	}
	return 3 + int(max(n, 0)), nil
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
