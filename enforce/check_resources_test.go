package enforce

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

func TestResourcesCreateSwapFixtures(t *testing.T) {
	runFixtures(t, "restricted", compliantSpec, []fixture{
		// runc leaves memsw unset for swap 0, so swap would be unlimited.
		{name: "swap 0", change: func(s *specs.Spec) { s.Linux.Resources.Memory.Swap = ptr(int64(0)) },
			verdict: RewriteDoc, field: "/linux/resources/memory/swap"},
		{name: "no swap", change: func(s *specs.Spec) { s.Linux.Resources.Memory.Swap = nil },
			verdict: RewriteDoc, field: "/linux/resources/memory/swap"},
		{name: "swap below the limit", change: func(s *specs.Spec) { s.Linux.Resources.Memory.Swap = ptr(int64(256 << 20)) },
			verdict: Allow},
	})
}

// compliantUpdate is an update that restricted admits unchanged: a new
// memory limit with swap equal to it, 2 CPUs and 200 pids, as docker
// update --memory 1g --memory-swap 1g --cpus 2 --pids-limit 200 writes.
func compliantUpdate() *specs.LinuxResources {
	gib, quota, period := int64(1<<30), int64(200000), uint64(100000)
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &gib, Swap: ptr(gib)},
		CPU:    &specs.LinuxCPU{Quota: &quota, Period: &period},
		Pids:   &specs.LinuxPids{Limit: 200},
	}
}

type updateFixture struct {
	name    string
	change  func(*specs.LinuxResources)
	verdict Verdict
	field   string
}

func judgeUpdate(t *testing.T, p *Policy, r *specs.LinuxResources) *Decision {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := spec.DecodeResources(data)
	if err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	d, err := EvaluateResources(p, doc, Context{Operation: OpUpdate, ContainerID: "fixture"})
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return d
}

func runUpdateFixtures(t *testing.T, policy string, fixtures []updateFixture) {
	t.Helper()
	p := loadShipped(t, policy)
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			r := compliantUpdate()
			if f.change != nil {
				f.change(r)
			}
			d := judgeUpdate(t, p, r)
			if d.Verdict != f.verdict {
				t.Fatalf("verdict %s, want %s; violations %+v", d.Verdict, f.verdict, d.Violations)
			}
			if f.field != "" && !hasViolationAt(d, f.field) {
				t.Fatalf("no violation at %s: %+v", f.field, d.Violations)
			}
		})
	}
}

func TestResourcesUpdateFixtures(t *testing.T) {
	runUpdateFixtures(t, "restricted", []updateFixture{
		{name: "compliant", verdict: Allow},
		{name: "nothing changes", change: func(r *specs.LinuxResources) { *r = specs.LinuxResources{} }, verdict: Allow},
		// memory
		{name: "memory 0 is unchanged", change: func(r *specs.LinuxResources) { r.Memory = &specs.LinuxMemory{Limit: ptr(int64(0))} }, verdict: Allow},
		{name: "memory at max", change: func(r *specs.LinuxResources) { r.Memory.Limit, r.Memory.Swap = ptr(int64(2<<30)), ptr(int64(2<<30)) }, verdict: Allow},
		{name: "memory 8Gi", change: func(r *specs.LinuxResources) { r.Memory.Limit, r.Memory.Swap = ptr(int64(8<<30)), ptr(int64(8<<30)) },
			verdict: DenyVerdict, field: "/memory/limit"},
		{name: "memory unlimited", change: func(r *specs.LinuxResources) { r.Memory.Limit = ptr(int64(-1)) },
			verdict: DenyVerdict, field: "/memory/limit"},
		{name: "memory below -1", change: func(r *specs.LinuxResources) { r.Memory.Limit = ptr(int64(-2)) },
			verdict: DenyVerdict, field: "/memory/limit"},
		// swap follows a new limit
		{name: "limit without swap", change: func(r *specs.LinuxResources) { r.Memory.Swap = nil },
			verdict: RewriteDoc, field: "/memory/swap"},
		{name: "limit with swap 0", change: func(r *specs.LinuxResources) { r.Memory.Swap = ptr(int64(0)) },
			verdict: RewriteDoc, field: "/memory/swap"},
		{name: "limit with unlimited swap", change: func(r *specs.LinuxResources) { r.Memory.Swap = ptr(int64(-1)) },
			verdict: RewriteDoc, field: "/memory/swap"},
		{name: "swap above the new limit", change: func(r *specs.LinuxResources) { r.Memory.Swap = ptr(int64(4 << 30)) },
			verdict: RewriteDoc, field: "/memory/swap"},
		{name: "swap alone", change: func(r *specs.LinuxResources) { r.Memory = &specs.LinuxMemory{Swap: ptr(int64(4 << 30))} },
			verdict: DenyVerdict, field: "/memory/swap"},
		{name: "unlimited swap alone", change: func(r *specs.LinuxResources) { r.Memory = &specs.LinuxMemory{Swap: ptr(int64(-1))} },
			verdict: DenyVerdict, field: "/memory/swap"},
		{name: "swap 0 alone is unchanged", change: func(r *specs.LinuxResources) { r.Memory = &specs.LinuxMemory{Swap: ptr(int64(0))} },
			verdict: Allow},
		// cpu
		{name: "cpu unchanged", change: func(r *specs.LinuxResources) { r.CPU = &specs.LinuxCPU{Quota: ptr(int64(0)), Period: ptr(uint64(0))} }, verdict: Allow},
		{name: "cpu over max", change: func(r *specs.LinuxResources) { r.CPU.Quota = ptr(int64(300000)) },
			verdict: DenyVerdict, field: "/cpu/quota"},
		{name: "cpu over max by short period", change: func(r *specs.LinuxResources) { r.CPU.Period = ptr(uint64(50000)) },
			verdict: DenyVerdict, field: "/cpu/quota"},
		{name: "cpu unlimited", change: func(r *specs.LinuxResources) { r.CPU.Quota = ptr(int64(-1)) },
			verdict: DenyVerdict, field: "/cpu/quota"},
		{name: "quota alone", change: func(r *specs.LinuxResources) { r.CPU.Period = nil },
			verdict: DenyVerdict, field: "/cpu/quota"},
		{name: "period alone", change: func(r *specs.LinuxResources) { r.CPU.Quota = ptr(int64(0)); r.CPU.Period = ptr(uint64(1000)) },
			verdict: DenyVerdict, field: "/cpu/period"},
		// pids
		{name: "pids at max", change: func(r *specs.LinuxResources) { r.Pids.Limit = 4096 }, verdict: Allow},
		{name: "pids 0 is unchanged", change: func(r *specs.LinuxResources) { r.Pids.Limit = 0 }, verdict: Allow},
		{name: "pids over max", change: func(r *specs.LinuxResources) { r.Pids.Limit = 5000 },
			verdict: DenyVerdict, field: "/pids/limit"},
		{name: "pids unlimited", change: func(r *specs.LinuxResources) { r.Pids.Limit = -1 },
			verdict: DenyVerdict, field: "/pids/limit"},
	})
}

func TestResourcesUpdateSwapFollowsTheNewLimit(t *testing.T) {
	r := compliantUpdate()
	r.Memory.Swap = nil
	d := judgeUpdate(t, loadShipped(t, "restricted"), r)
	out, _ := d.Result.Encode()
	if !strings.Contains(string(out), `"memory":{"limit":1073741824,"swap":1073741824}`) {
		t.Fatalf("swap not set to the new limit: %s", out)
	}
}

func TestBaselineSetsNoResourceLimits(t *testing.T) {
	r := compliantUpdate()
	r.Pids.Limit, r.Memory.Limit, r.CPU.Quota = -1, ptr(int64(-1)), ptr(int64(-1))
	if d := judgeUpdate(t, loadShipped(t, "baseline"), r); d.Verdict != Allow {
		t.Fatalf("baseline judged resources: %+v", d.Violations)
	}
}
