package enforce

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/guard-runtime/guard-runtime/spec"
)

// enforceConfig judges the bundle's config.json of a create, run or
// restore, and rewrites it in place when the policy says so.
func (g *Gate) enforceConfig() error {
	ctx := Context{Operation: g.Inv.Command, ContainerID: g.Inv.ContainerID()}
	if err := validContainerID(ctx.ContainerID); err != nil {
		return fmt.Errorf("guard-runtime: refusing container: %w", err)
	}
	bundle, err := resolveBundle(g.Inv.Bundle())
	if err != nil {
		return err
	}
	ctx.Bundle = bundle
	ctx.Call.Descriptors = passedDescriptors(g.Inv, os.Getenv)
	ctx.Call.SystemdCgroup = g.Inv.Global.SystemdCgroup
	noPivot, _ := g.Inv.Option("no-pivot")
	ctx.Call.NoPivot = noPivot == "true"
	noNewKeyring, _ := g.Inv.Option("no-new-keyring")
	ctx.Call.NoNewKeyring = noNewKeyring == "true"
	if ctx.Operation == OpRestore {
		ctx.Call.LSMProfile, _ = g.Inv.Option("lsm-profile")
		ctx.Call.LSMMountContext, _ = g.Inv.Option("lsm-mount-context")
	}
	// Everything runs on one goroutine: on two CPUs, loading the policy on
	// another one while the document is decoded cost more in thread
	// wake-ups and creation than it saved (hack/bench: 0.26 ms per create).
	file, err := configFile(bundle)
	if err != nil {
		return err
	}
	data, err := spec.ReadFile(file, spec.MaxDocumentSize)
	if err != nil {
		return fmt.Errorf("guard-runtime: cannot read the container's config: %w", err)
	}
	doc, err := spec.DecodeConfig(data)
	if err != nil {
		err = handOverOn(err)
		return fmt.Errorf("guard-runtime: refusing container %s: %s is not a config runc would read the same way: %w", ctx.ContainerID, file, err)
	}
	p, err := g.policyFor(doc.Value.Annotations)
	if err != nil {
		return err
	}
	ctx.Annotations = doc.Value.Annotations
	d, err := EvaluateConfig(p, doc, ctx)
	if err != nil {
		err = handOverOn(err)
		return fmt.Errorf("guard-runtime: policy %q could not judge container %s, refusing it: %w", p.Name, ctx.ContainerID, err)
	}
	g.record(d, ctx)
	if err := g.apply(d, ctx, file); err != nil {
		return err
	}
	// exec and update of this container are judged by the same policy.
	return g.rememberPolicy(p, ctx.ContainerID)
}

// policyFor loads the policy for a config with these annotations.
func (g *Gate) policyFor(annotations map[string]string) (*Policy, error) {
	return g.policy(g.cfg.Kubernetes.policyFor(annotations))
}

// apply carries out a decision on the document at file.
func (g *Gate) apply(d *Decision, ctx Context, file string) error {
	switch d.Verdict {
	case DenyVerdict:
		return denial(d, ctx)
	case RewriteDoc:
		data, err := d.Result.Encode()
		if err != nil {
			return fmt.Errorf("guard-runtime: encode the rewritten document: %w", err)
		}
		if err := spec.WriteFileAtomic(file, data); err != nil {
			return fmt.Errorf("guard-runtime: policy %q rewrites %s but it cannot be written, refusing the container: %w", d.Policy, file, err)
		}
	}
	return nil
}

// resolveBundle returns the bundle directory as runc will find it, with
// every symlink resolved; no --bundle means the current directory, as in
// runc. runc chdirs into the bundle and joins relative paths (mount
// sources, namespace paths, root.path) to os.Getwd(), which the kernel
// gives resolved: judged against the path as given, "../../etc" of a
// bundle reached through a symlink would be placed in another directory
// than the one runc uses. The path is resolved as the kernel walks it, ".."
// after a symlink going up from the symlink's target, so it is not cleaned
// first. A bundle that cannot be resolved is refused: nothing relative in
// its config could be placed.
func resolveBundle(bundle string) (string, error) {
	if bundle == "" {
		bundle = "."
	}
	p := bundle
	if !filepath.IsAbs(p) {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("guard-runtime: bundle %s: the current directory: %w", bundle, err)
		}
		p = wd + string(filepath.Separator) + p
	}
	resolved, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("guard-runtime: bundle %s cannot be resolved, so the paths its config gives relative to it cannot be judged: %w; give the path of an existing bundle directory", bundle, err)
	}
	return resolved, nil
}

// configFile returns the config.json of the bundle resolveBundle
// resolved, refusing one that is a symlink out of the bundle: runc would
// read a file the bundle's owner does not control, and a rewrite would
// land outside the bundle.
func configFile(bundle string) (string, error) {
	file := filepath.Join(bundle, "config.json")
	info, err := os.Lstat(file)
	if err != nil {
		return "", fmt.Errorf("guard-runtime: the container's config: %w", err)
	}
	if info.Mode()&os.ModeSymlink == 0 {
		return file, nil
	}
	target, err := filepath.EvalSymlinks(file)
	if err != nil {
		return "", fmt.Errorf("guard-runtime: %s is a dangling symlink: %w", file, err)
	}
	if !strings.HasPrefix(target, bundle+string(filepath.Separator)) {
		return "", fmt.Errorf("guard-runtime: %s is a symlink to %s, outside the bundle: copy the config into the bundle", file, target)
	}
	return target, nil
}
