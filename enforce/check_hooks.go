package enforce

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Hooks denies OCI hooks: runc runs them as root on the host, outside the
// container, with whatever path and arguments the document names.
//
// Fields: hooks.{prestart,createRuntime,createContainer,startContainer,
// poststart,poststop} (config.json).
// Allowed:
//   - a hook whose path is on the policy's list, exactly as written; it
//     runs with whatever args and env the document gives, so list only
//     binaries that are safe with any;
//   - with dockerNetworkHook set, Docker's own network hook, which every
//     Docker container but those on the host network gets: a prestart (or
//     createRuntime) hook with path /proc/<pid>/exe, args
//     [libnetwork-setkey, -exec-root=<absolute dir>, <64-hex container id>,
//     <hex controller id>], no environment (an LD_PRELOAD would run its
//     code inside dockerd's binary). With dockerDaemons listed, /proc/<pid>/exe
//     must also be one of those files, compared by device and inode: so
//     that a document cannot name some other process's binary, or the
//     dockerd of a docker-in-docker container, and run it as root. A daemon
//     whose binary was replaced by an upgrade no longer matches until it
//     restarts (package upgrades restart it).
//
// Policy settings:
//
//	hooks:
//	  allowed: [/usr/bin/nvidia-container-runtime-hook]  # exact paths
//	  dockerNetworkHook: true
//	  dockerDaemons: [/usr/bin/dockerd, /usr/sbin/dockerd]  # optional check of <pid>
type Hooks struct {
	Allowed           []string `yaml:"allowed"`
	DockerNetworkHook bool     `yaml:"dockerNetworkHook"`
	DockerDaemons     []string `yaml:"dockerDaemons"`
}

// Validate implements Control.
func (c *Hooks) Validate() error {
	for _, p := range append(slices.Clone(c.Allowed), c.DockerDaemons...) {
		if !path.IsAbs(p) || path.Clean(p) != p {
			return fmt.Errorf("hook path %q must be a clean absolute path", p)
		}
	}
	if len(c.DockerDaemons) > 0 && !c.DockerNetworkHook {
		return fmt.Errorf("dockerDaemons is set but dockerNetworkHook is not: the daemons are only checked for Docker's network hook")
	}
	return nil
}

// Check implements Control.
func (c *Hooks) Check(in *Input, r *Report) {
	if in.Spec == nil || in.Spec.Hooks == nil {
		return
	}
	h := in.Spec.Hooks
	// Prestart is deprecated in the spec, but Docker writes it and runc runs it.
	kinds := []struct {
		name  string
		hooks []specs.Hook
	}{{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop}}
	for _, kind := range kinds {
		for i, hook := range kind.hooks {
			c.checkHook(r, kind.name, i, hook)
		}
	}
}

func (c *Hooks) checkHook(r *Report, kind string, i int, hook specs.Hook) {
	if slices.Contains(c.Allowed, hook.Path) {
		return
	}
	field := fmt.Sprintf("/hooks/%s/%d", kind, i)
	if c.DockerNetworkHook && (kind == "prestart" || kind == "createRuntime") && isDockerNetworkHook(hook) {
		if err := c.verifyDaemon(hook.Path); err != nil {
			r.Deny(field+"/path", "%s hook %s looks like Docker's network hook, but %v, so policy %s does not run it: if dockerd is installed elsewhere, add its path to hooks.dockerDaemons", kind, hook.Path, err, r.Policy())
		}
		return
	}
	r.Deny(field, "%s hook %s %s is not allowed by policy %s: hooks run as root on the host; remove it, or allowlist its path in the policy's hooks.allowed", kind, hook.Path, strings.Join(hook.Args, " "), r.Policy())
}

// isDockerNetworkHook recognises the hook Docker 20.10 writes, by shape.
func isDockerNetworkHook(hook specs.Hook) bool {
	if !isProcExe(hook.Path) || len(hook.Env) != 0 || len(hook.Args) != 4 {
		return false
	}
	execRoot, ok := strings.CutPrefix(hook.Args[1], "-exec-root=")
	return hook.Args[0] == "libnetwork-setkey" && ok && path.IsAbs(execRoot) &&
		isLowerHex(hook.Args[2], 64, 64) && isLowerHex(hook.Args[3], 12, 64)
}

// isProcExe matches /proc/<pid>/exe, pid a decimal without leading zero.
func isProcExe(p string) bool {
	rest, hasPrefix := strings.CutPrefix(p, "/proc/")
	pid, hasSuffix := strings.CutSuffix(rest, "/exe")
	return hasPrefix && hasSuffix && isDecimal(pid) && pid[0] != '0'
}

func isLowerHex(s string, minLen, maxLen int) bool {
	return len(s) >= minLen && len(s) <= maxLen && strings.Trim(s, "0123456789abcdef") == ""
}

// verifyDaemon checks that /proc/<pid>/exe is one of the daemon binaries,
// when the policy lists them.
func (c *Hooks) verifyDaemon(exe string) error {
	if len(c.DockerDaemons) == 0 {
		return nil
	}
	running, err := os.Stat(exe)
	if err != nil {
		return fmt.Errorf("its process is not running (%v)", err)
	}
	for _, daemon := range c.DockerDaemons {
		if installed, err := os.Stat(daemon); err == nil && os.SameFile(running, installed) {
			return nil
		}
	}
	target, _ := os.Readlink(exe)
	return fmt.Errorf("%s runs %s, which is none of %s", exe, target, strings.Join(c.DockerDaemons, ", "))
}
