package enforce

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func withCwd(cwd string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Process.Cwd = cwd }
}

func withProgram(program string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Process.Args = []string{program, "-c", "true"} }
}

func TestProcFdFixtures(t *testing.T) {
	const cwd, arg0 = "/process/cwd", "/process/args/0"
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) {
			runFixtures(t, policy, compliantSpec, []fixture{
				{name: "cwd /proc/self/fd/7", change: withCwd("/proc/self/fd/7"), verdict: DenyVerdict, field: cwd},
				{name: "cwd /proc/thread-self/fd/3", change: withCwd("/proc/thread-self/fd/3"), verdict: DenyVerdict, field: cwd},
				{name: "cwd /proc/1/fd/9", change: withCwd("/proc/1/fd/9"), verdict: DenyVerdict, field: cwd},
				{name: "cwd /proc/self/task/1/fd/4", change: withCwd("/proc/self/task/1/fd/4"), verdict: DenyVerdict, field: cwd},
				{name: "cwd through the fd directory and back out", change: withCwd("/proc/self/fd/7/../../../.."), verdict: DenyVerdict, field: cwd},
				{name: "cwd with dots and double slashes", change: withCwd("//proc/./x/../self//fd/"), verdict: DenyVerdict, field: cwd},
				{name: "cwd /dev/fd/7 (runc links /dev/fd to /proc/self/fd)", change: withCwd("/dev/fd/7"), verdict: DenyVerdict, field: cwd},
				{name: "bare program found through PATH=/dev/fd/7", change: func(s *specs.Spec) {
					s.Process.Env = []string{"PATH=/dev/fd/7"}
				}, verdict: DenyVerdict, field: "/process/env/0"},
				{name: "cwd /dev/fdx", change: withCwd("/dev/fdx"), verdict: Allow},
				// /proc/<pid>/root leads back to the container's root; cwd anywhere.
				{name: "cwd through /proc/self/root", change: withCwd("/proc/self/root/proc/self/fd/7"), verdict: DenyVerdict, field: cwd},
				{name: "cwd through /proc/1/root", change: withCwd("/proc/1/root/proc/thread-self/fd/8"), verdict: DenyVerdict, field: cwd},
				{name: "cwd through /proc/self/cwd", change: withCwd("/proc/self/cwd/x"), verdict: DenyVerdict, field: cwd},
				{name: "program through /proc/self/root", change: withProgram("/proc/self/root/proc/self/fd/7/../../../bin/sh"), verdict: DenyVerdict, field: arg0},
				{name: "cwd /proc/self/root/srv", change: withCwd("/proc/self/root/srv"), verdict: Allow},
				{name: "cwd /proc/self/fdinfo", change: withCwd("/proc/self/fdinfo"), verdict: Allow},
				{name: "cwd /proc/selfish/fd", change: withCwd("/proc/selfish/fd"), verdict: Allow},
				{name: "cwd /srv/proc/self/fd", change: withCwd("/srv/proc/self/fd"), verdict: Allow},
				{name: "program through the fd directory", change: withProgram("/proc/self/fd/7/../../../bin/sh"), verdict: DenyVerdict, field: arg0},
				{name: "relative program from cwd /proc/self", change: func(s *specs.Spec) {
					s.Process.Cwd = "/proc/self"
					s.Process.Args = []string{"fd/7/sh"}
				}, verdict: DenyVerdict, field: arg0},
				{name: "relative program elsewhere", change: withProgram("bin/sh"), verdict: Allow},
				{name: "bare program found through PATH", change: func(s *specs.Spec) {
					s.Process.Env = []string{"PATH=/usr/bin", "PATH=/bin:/proc/self/fd/5"}
				}, verdict: DenyVerdict, field: "/process/env/1"},
				{name: "an earlier PATH is not searched", change: func(s *specs.Spec) {
					s.Process.Env = []string{"PATH=/proc/self/fd/5", "PATH=/bin"}
				}, verdict: Allow},
			})
		})
	}
}

func TestProcFdExec(t *testing.T) {
	proc := compliantSpec().Process
	proc.Cwd = "/proc/self/fd/7"
	d := judgeExecProcess(t, loadShipped(t, "baseline"), proc)
	if d.Verdict != DenyVerdict || !hasViolationAt(d, "/cwd") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}
