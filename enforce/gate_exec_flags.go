//go:build !lean

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

// An exec without --process (runc's flags instead of a process file) is
// built and judged by the complete build only: engines always pass
// --process, and building the process needs reflective JSON.

func (g *Gate) enforceExecFlags(p *Policy, ctx Context) error {
	base, bundle, err := containerProcess(g.stateDir(), ctx.ContainerID)
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
	path, err := g.passProcess(ctx, out)
	if err != nil {
		return err
	}
	g.Inv.RuntimeArgs = execArgsWithProcess(g.Inv, path)
	return nil
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
