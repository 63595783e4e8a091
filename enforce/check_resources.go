package enforce

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Resources puts every container under memory, CPU and pids limits.
//
// Fields: linux.resources.memory.{limit,swap}, linux.resources.cpu.{quota,period},
// linux.resources.pids.limit (config.json, and the resources of update).
// Allowed: a limit at or below the maximum.
//
// At create, an unset limit (or one of 0 or below) is rewritten to the
// default. Swap (OCI's memory+swap) that is unset, 0, -1 or above the
// memory limit is rewritten to the limit, so that swap cannot extend it.
//
// At update, 0 or an absent field means unchanged, as in runc. -1 (any
// negative value) means unlimited and is denied where there is a maximum.
// A new memory limit brings swap with it: swap that is absent, 0, -1 or
// above the new limit is rewritten to it (runc would otherwise keep the old
// swap, which on cgroup v1 even makes a raised limit fail). Swap changed
// without the memory limit, and a CPU quota or period changed without the
// other, are denied: their effect depends on the container's current
// values, which the update does not carry.
//
// Policy settings (each part optional):
//
//	resources:
//	  memory: {default: 512Mi, max: 2Gi}
//	  cpu: {default: 1.0, max: 2.0}     # CPUs: quota/period
//	  pids: {default: 1024, max: 4096}
type Resources struct {
	Memory *MemoryLimit `yaml:"memory"`
	CPU    *CPULimit    `yaml:"cpu"`
	Pids   *PidsLimit   `yaml:"pids"`
}

// MemoryLimit bounds linux.resources.memory.limit.
type MemoryLimit struct {
	Default Bytes `yaml:"default"`
	Max     Bytes `yaml:"max"`
}

// CPULimit bounds the CPU bandwidth, in CPUs.
type CPULimit struct {
	Default float64 `yaml:"default"`
	Max     float64 `yaml:"max"`
}

// PidsLimit bounds linux.resources.pids.limit.
type PidsLimit struct {
	Default int64 `yaml:"default"`
	Max     int64 `yaml:"max"`
}

// cpuPeriod is the CFS period runc uses when none is given, in µs.
const cpuPeriod = 100000

// Validate implements Control.
func (c *Resources) Validate() error {
	if m := c.Memory; m != nil && m.Max > 0 && m.Default > m.Max {
		return fmt.Errorf("memory default %s is above the maximum %s", m.Default, m.Max)
	}
	if p := c.CPU; p != nil && (p.Default < 0 || p.Max < 0 || (p.Max > 0 && p.Default > p.Max)) {
		return fmt.Errorf("cpu default %g and maximum %g must be positive, default at most the maximum", p.Default, p.Max)
	}
	if p := c.Pids; p != nil && (p.Default < 0 || p.Max < 0 || (p.Max > 0 && p.Default > p.Max)) {
		return fmt.Errorf("pids default %d and maximum %d must be positive, default at most the maximum", p.Default, p.Max)
	}
	return nil
}

// Check implements Control.
func (c *Resources) Check(in *Input, r *Report) {
	if in.Process != nil && in.Spec == nil {
		return // an exec process has no resources of its own
	}
	res := in.Resources
	if res == nil {
		res = &specs.LinuxResources{}
	}
	update := in.Operation == OpUpdate
	base := in.ResourcesPath
	if c.Memory != nil {
		c.checkMemory(r, base, res.Memory, update)
	}
	if c.CPU != nil {
		c.checkCPU(r, base, res.CPU, update)
	}
	if c.Pids != nil {
		c.checkPids(r, base, res.Pids, update)
	}
}

func (c *Resources) checkMemory(r *Report, base string, mem *specs.LinuxMemory, update bool) {
	if mem == nil {
		mem = &specs.LinuxMemory{}
	}
	field := base + "/memory/limit"
	limit, ok := c.limitValue(r, field, "memory", mem.Limit, int64(c.Memory.Default), int64(c.Memory.Max), update)
	if !ok {
		return
	}
	swapField := base + "/memory/swap"
	if update && limit == 0 {
		c.checkSwapAlone(r, swapField, mem.Swap)
		return
	}
	if limit > 0 {
		c.checkSwap(r, swapField, mem.Swap, limit)
	}
}

// limitValue applies the shared rules of one limit and returns the limit
// the container ends up with: 0 when an update leaves it unchanged, or
// when there is none and the policy asks for none.
func (c *Resources) limitValue(r *Report, field, what string, value *int64, def, max int64, update bool) (int64, bool) {
	v := int64(0)
	if value != nil {
		v = *value
	}
	switch {
	case update && v == 0:
		return 0, true
	case update && v < 0 && max > 0:
		r.Deny(field, "%s %d means no %s limit, which policy %s does not allow: give a limit of at most %d", field, v, what, r.Policy(), max)
		return 0, false
	case v <= 0 && !update && def > 0:
		r.Rewrite(field, fmt.Sprintf("no %s limit: set to the default %d by policy %s", what, def, r.Policy()), func(e *spec.Editor) error {
			return e.Set(field, def)
		})
		return def, true
	case v <= 0 && !update && max > 0:
		r.Deny(field, "no %s limit, and policy %s requires one of at most %d", what, r.Policy(), max)
		return 0, false
	case max > 0 && v > max:
		r.Deny(field, "%s %d is above the maximum %d of policy %s: ask for less", field, v, max, r.Policy())
		return 0, false
	}
	return v, true
}

// checkSwap keeps swap from extending the memory limit: OCI's swap is
// memory+swap, so anything but a value up to the limit is set to it.
func (c *Resources) checkSwap(r *Report, field string, swap *int64, limit int64) {
	if swap != nil && *swap > 0 && *swap <= limit {
		return
	}
	msg := fmt.Sprintf("swap may not extend the memory limit: %s set to %d by policy %s", field, limit, r.Policy())
	r.Rewrite(field, msg, func(e *spec.Editor) error { return e.Set(field, limit) })
}

// checkSwapAlone judges an update that leaves the memory limit as it is.
// Any new swap value could exceed that limit, which the update does not
// say, so only "unchanged" passes.
func (c *Resources) checkSwapAlone(r *Report, field string, swap *int64) {
	if swap == nil || *swap == 0 {
		return
	}
	r.Deny(field, "%s %d changes swap without the memory limit; policy %s keeps swap at the memory limit and cannot see the container's current one: give both (docker update --memory M --memory-swap M)", field, *swap, r.Policy())
}

func (c *Resources) checkCPU(r *Report, base string, cpu *specs.LinuxCPU, update bool) {
	var quota int64
	var period uint64
	if cpu != nil && cpu.Quota != nil {
		quota = *cpu.Quota
	}
	if cpu != nil && cpu.Period != nil {
		period = *cpu.Period
	}
	if update {
		c.checkCPUUpdate(r, base, quota, period)
		return
	}
	if period == 0 {
		period = cpuPeriod
	}
	field := base + "/cpu/quota"
	switch {
	case quota <= 0 && c.CPU.Default > 0:
		q := int64(c.CPU.Default * cpuPeriod)
		msg := fmt.Sprintf("no CPU limit: set to the default %g CPUs by policy %s", c.CPU.Default, r.Policy())
		r.Rewrite(field, msg, func(e *spec.Editor) error {
			if err := e.Set(base+"/cpu/period", cpuPeriod); err != nil {
				return err
			}
			return e.Set(field, q)
		})
	case quota <= 0 && c.CPU.Max > 0:
		r.Deny(field, "no CPU limit, and policy %s requires one of at most %g CPUs", r.Policy(), c.CPU.Max)
	default:
		c.checkCPUs(r, field, quota, period)
	}
}

// checkCPUUpdate judges an update's quota and period. runc changes only
// the one of them that is not 0, so one alone is measured against the
// other's current value, which the update does not carry.
func (c *Resources) checkCPUUpdate(r *Report, base string, quota int64, period uint64) {
	if c.CPU.Max <= 0 || (quota == 0 && period == 0) {
		return
	}
	field := base + "/cpu/quota"
	switch {
	case quota < 0:
		r.Deny(field, "%s %d means unlimited CPU, which policy %s does not allow: give at most %g CPUs (docker update --cpus)", field, quota, r.Policy(), c.CPU.Max)
	case quota == 0:
		r.Deny(base+"/cpu/period", "%s/cpu/period %d without a quota rescales the container's current quota, which policy %s cannot see: give both (docker update --cpus N)", base, period, r.Policy())
	case period == 0:
		r.Deny(field, "%s %d without a period is measured against the container's current period, which policy %s cannot see: give both (docker update --cpus N)", field, quota, r.Policy())
	default:
		c.checkCPUs(r, field, quota, period)
	}
}

func (c *Resources) checkCPUs(r *Report, field string, quota int64, period uint64) {
	if cpus := float64(quota) / float64(period); c.CPU.Max > 0 && cpus > c.CPU.Max {
		r.Deny(field, "a CPU quota of %d per %d µs is %.2f CPUs, above the maximum %g of policy %s: ask for fewer --cpus", quota, period, cpus, c.CPU.Max, r.Policy())
	}
}

func (c *Resources) checkPids(r *Report, base string, pids *specs.LinuxPids, update bool) {
	var limit *int64
	if pids != nil {
		limit = &pids.Limit
	}
	c.limitValue(r, base+"/pids/limit", "pids", limit, c.Pids.Default, c.Pids.Max, update)
}
