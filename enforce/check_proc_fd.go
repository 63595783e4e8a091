package enforce

import (
	"fmt"
	"strings"
)

// ProcFd denies a working directory or program reached through a file
// descriptor directory of /proc (CVE-2024-21626): runc's own descriptors
// can point at host directories, and a process that starts there walks out
// of its root.
//
// Fields: process.cwd, process.args[0], and the PATH entry of process.env
// that runc searches when args[0] has no slash (config.json and the exec
// process file).
// Allowed: paths that never pass through /proc/self/fd,
// /proc/thread-self/fd, /proc/<pid>/fd or their /task/<tid>/fd forms, nor
// /dev/fd, which runc itself creates in the container's /dev as a link to
// /proc/self/fd. /proc/<pid>/root is followed as the link it is, back to
// the container's root (/proc/self/root/proc/self/fd/7 is /proc/self/fd/7),
// and a path through /proc/<pid>/cwd, which leads wherever that process
// is, is denied. The
// path is walked component by component, with "." and "//" dropped and
// ".." applied as it comes, and judged at every step, so that
// /proc/self/fd/7/../../../bin/sh, which cleans to /proc/bin/sh, is still
// caught. A relative args[0] or PATH entry is taken relative to the cwd, as
// runc resolves it. Symbolic links inside the image cannot be seen from
// the document; runc itself refuses those since 1.1.12.
//
// Policy settings: none; `procFd: {}` turns the control on.
type ProcFd struct{}

// Validate implements Control.
func (c *ProcFd) Validate() error { return nil }

// isFdDirectory reports whether the components name a /proc file
// descriptor directory: proc, self|thread-self|<pid>, [task, <tid>,] fd;
// or dev, fd.
// (Matched by hand: a package-level regexp costs its compile time on every
// runtime call, including the ones guard-runtime only passes through.)
func isFdDirectory(parts []string) bool {
	if len(parts) == 2 && parts[0] == "dev" && parts[1] == "fd" {
		return true
	}
	if len(parts) < 3 || parts[0] != "proc" || parts[len(parts)-1] != "fd" {
		return false
	}
	owner := parts[1]
	if owner != "self" && owner != "thread-self" && !isDecimal(owner) {
		return false
	}
	switch len(parts) {
	case 3:
		return true
	case 5:
		return parts[2] == "task" && isDecimal(parts[3])
	}
	return false
}

func isDecimal(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// Check implements Control.
func (c *ProcFd) Check(in *Input, r *Report) {
	if in.Process == nil {
		return
	}
	p := in.Process
	cwd := p.Cwd
	if throughFdDirectory("/", cwd) {
		r.Deny(in.ProcessPath+"/cwd", "working directory %s goes through a /proc file descriptor directory (CVE-2024-21626), which policy %s does not allow: pass a real directory to -w", cwd, r.Policy())
	}
	if len(p.Args) == 0 {
		return
	}
	program := p.Args[0]
	if strings.Contains(program, "/") {
		if throughFdDirectory(cwd, program) {
			r.Deny(in.ProcessPath+"/args/0", "program %s goes through a /proc file descriptor directory (CVE-2024-21626), which policy %s does not allow: run a program of the image", program, r.Policy())
		}
		return
	}
	c.checkSearchPath(in, cwd, r)
}

// checkSearchPath judges the PATH that runc searches for a bare program
// name: runc takes the last PATH of the environment.
func (c *ProcFd) checkSearchPath(in *Input, cwd string, r *Report) {
	env := in.Process.Env
	for i := len(env) - 1; i >= 0; i-- {
		value, ok := strings.CutPrefix(env[i], "PATH=")
		if !ok {
			continue
		}
		for _, dir := range strings.Split(value, ":") {
			if throughFdDirectory(cwd, dir) {
				r.Deny(fmt.Sprintf("%s/env/%d", in.ProcessPath, i), "PATH entry %s goes through a /proc file descriptor directory (CVE-2024-21626), which policy %s does not allow: remove it from the environment", dir, r.Policy())
				return
			}
		}
		return
	}
}

// throughFdDirectory walks p (relative to base when not absolute) and
// reports whether any step lands in a /proc file descriptor directory.
func throughFdDirectory(base, p string) bool {
	if !strings.HasPrefix(p, "/") {
		p = base + "/" + p
	}
	var stack []string
	for _, part := range strings.Split(p, "/") {
		switch part {
		case "", ".":
			continue
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		default:
			stack = append(stack, part)
		}
		if isFdDirectory(stack) {
			return true
		}
		switch procLink(stack) {
		case "root":
			// /proc/<pid>/root is a link to that process's root, the
			// container's: the walk starts again there.
			stack = stack[:0]
		case "cwd":
			// /proc/<pid>/cwd leads wherever that process is, which the
			// document cannot tell: a descriptor directory, for all it says.
			return true
		}
	}
	return false
}

// procLink names the /proc link the components end in, root or cwd of a
// process or thread (proc, self|thread-self|<pid>, [task, <tid>,]
// root|cwd), or "".
func procLink(parts []string) string {
	n := len(parts)
	if n < 3 || parts[0] != "proc" || (parts[n-1] != "root" && parts[n-1] != "cwd") {
		return ""
	}
	owner := parts[1]
	if owner != "self" && owner != "thread-self" && !isDecimal(owner) {
		return ""
	}
	if n == 3 || (n == 5 && parts[2] == "task" && isDecimal(parts[3])) {
		return parts[n-1]
	}
	return ""
}
