package enforce

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Rlimits bounds the resource limits a process may ask for (CIS Docker
// Benchmark 5.19).
//
// Fields: process.rlimits (config.json and the exec process file), each
// {type, hard, soft}, as docker run --ulimit nofile=1024:2048 writes
// {"type":"RLIMIT_NOFILE","soft":1024,"hard":2048}. runc 1.1.5 sets each
// entry, in order, with prlimit(2) on the new process from runc itself,
// outside the container and with the host's CAP_SYS_RESOURCE, before the
// process runs code of its own: a container can raise its hard limits
// above those the engine runs with. RLIMIT_RTPRIO lets an unprivileged
// process take real-time scheduling (SCHED_FIFO, SCHED_RR), with which it
// starves the host's CPUs past its cgroup's CPU quota where the kernel has
// no real-time group scheduling (cgroup v1 without CONFIG_RT_GROUP_SCHED);
// RLIMIT_NICE above 20 lets it put itself ahead of the host's processes
// (the nice value it may take is 20 minus the limit; 20 is the default's
// nice 0, and with less a process only cannot undo a nice it took); NOFILE,
// MEMLOCK, MSGQUEUE and SIGPENDING let it hold more kernel memory. A
// document without rlimits leaves the process the limits of runc, that
// is, of the engine: there is nothing to judge.
//
// Allowed: for each type the policy limits, a hard limit (and so a soft
// one) at or below the policy's maximum; types it does not list are not
// limited. Values are uint64, as runc reads them: Docker writes
// unlimited (-1) as RLIM_INFINITY, 2^64-1, which is above every maximum
// but unlimited.
//
// A type given twice is judged by its last entry: each prlimit sets both
// limits, so the process starts with the last entry's values, and the
// earlier ones are replaced before it runs. A soft limit above its hard
// limit is denied in every entry, the replaced ones too: the kernel
// refuses it (EINVAL), and runc fails the create or exec with "error
// setting rlimit type N". A type runc 1.1.5 does not know (rlimitNames)
// is denied: runc would refuse the document itself ("wrong rlimit value")
// before creating anything, but the denial names the entry in the audit
// trail, and a later runc that learns a name this control does not know
// cannot have it applied unjudged.
//
// At exec the same rules apply to the process file, or to the process
// runc builds from the flags, which keeps the config's rlimits. runc 1.1.5
// gives an exec process file without rlimits none of the container's: the
// process keeps the limits of runc exec, the engine's. Docker copies the
// container's rlimits into each exec's process file, which is judged as
// the config was.
//
// rewrite lowers the hard limit of an entry above the maximum to the
// maximum, and its soft limit to the lower of itself and the maximum; an
// unknown type and a soft limit above the hard one are denied whatever
// the action, since no value keeps what the document asked for.
//
// Policy settings:
//
//	rlimits:
//	  max:                      # the highest hard limit per type: a number, or unlimited
//	    RLIMIT_RTPRIO: 0
//	    RLIMIT_NICE: 20
//	    RLIMIT_NOFILE: 1048576
//	  action: deny              # deny, or rewrite: lower hard and soft to the maximum
type Rlimits struct {
	Max    map[string]RlimitValue `yaml:"max"`
	Action Action                 `yaml:"action"`
}

// rlimitNames are the types runc 1.1.5 sets (rlimitMap in its
// rlimit_linux.go), sorted; it refuses a document with any other.
var rlimitNames = []string{"RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE",
	"RLIMIT_LOCKS", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
	"RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"}

func knownRlimit(name string) bool {
	_, found := slices.BinarySearch(rlimitNames, name)
	return found
}

// Validate implements Control.
func (c *Rlimits) Validate() error {
	var unknown []string
	for name := range c.Max {
		if !knownRlimit(name) {
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("max: unknown rlimit %s %s: use runc's names: %s", plural(len(unknown), "type", "types"), strings.Join(unknown, ", "), strings.Join(rlimitNames, ", "))
	}
	return validateAction(c.Action, Deny, Rewrite)
}

// Check implements Control.
func (c *Rlimits) Check(in *Input, r *Report) {
	if in.Process == nil {
		return // an update's resources carry no rlimits
	}
	list := in.Process.Rlimits
	for i, rl := range list {
		field := in.ProcessPath + "/rlimits/" + strconv.Itoa(i)
		switch {
		case !knownRlimit(rl.Type):
			r.Deny(field+"/type", "rlimit type %q is not one runc sets, and runc would refuse the document; policy %s does not pass on what it cannot judge: use one of %s", rl.Type, r.Policy(), strings.Join(rlimitNames, ", "))
		case rl.Soft > rl.Hard:
			r.Deny(field+"/soft", "%s soft limit %s is above its hard limit %s: the kernel refuses that, and runc would fail to start the process; give a soft limit at most the hard one (--ulimit %s=SOFT:HARD)", rl.Type, formatRlimit(rl.Soft), formatRlimit(rl.Hard), ulimitName(rl.Type))
		case slices.ContainsFunc(list[i+1:], func(later specs.POSIXRlimit) bool { return later.Type == rl.Type }):
			// runc sets it, and then the later entry, before the process
			// starts: the later one is what the process gets.
		default:
			c.checkMax(r, field, rl)
		}
	}
}

func (c *Rlimits) checkMax(r *Report, field string, rl specs.POSIXRlimit) {
	limit, limited := c.Max[rl.Type]
	if !limited || rl.Hard <= uint64(limit) {
		return
	}
	msg := fmt.Sprintf("%s hard limit %s is above the maximum %s of policy %s, and runc sets it with the host's privileges: leave out --ulimit %s or give it a hard limit of at most %s", rl.Type, formatRlimit(rl.Hard), limit, r.Policy(), ulimitName(rl.Type), limit)
	if c.Action == Rewrite {
		msg = fmt.Sprintf("%s hard limit %s lowered to the maximum %s by policy %s", rl.Type, formatRlimit(rl.Hard), limit, r.Policy())
	}
	r.Act(c.Action, field+"/hard", msg, func(e *spec.Editor) error {
		if rl.Soft > uint64(limit) {
			if err := e.Set(field+"/soft", uint64(limit)); err != nil {
				return err
			}
		}
		return e.Set(field+"/hard", uint64(limit))
	})
}

// ulimitName is the name docker run --ulimit gives a type: nofile for
// RLIMIT_NOFILE.
func ulimitName(rlimit string) string {
	return strings.ToLower(strings.TrimPrefix(rlimit, "RLIMIT_"))
}
