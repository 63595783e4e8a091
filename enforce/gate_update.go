//go:build !lean

package enforce

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// enforceUpdate judges the resources of an update against the policy the
// container was created under.
//
// The resources come in one of three forms, and runc gets what was judged
// in each, as it is or as the policy rewrote it, in a sealed memory file:
//   - --resources - (containerd, and so Docker): guard-runtime reads stdin,
//     so runc's stdin becomes the memory file.
//   - --resources FILE: runc reads the memory file in place of FILE, as an
//     exec reads its process, so that a rename over FILE after
//     guard-runtime read it changes nothing.
//   - the flags (--memory, --pids-limit, …): guard-runtime builds the
//     document runc would build from them, and hands runc that document on
//     stdin with --resources - in place of the flags.
func (g *Gate) enforceUpdate() error {
	if helpRequested(g.Inv) {
		return nil // runc prints the command's help and runs nothing
	}
	if len(g.Inv.Positional) != 1 {
		return fmt.Errorf("guard-runtime: runc update takes exactly one container id, got %d arguments (runc refuses this too)", len(g.Inv.Positional))
	}
	id := g.Inv.ContainerID()
	p, err := g.containerPolicy(id)
	if err != nil {
		return err
	}
	ctx := Context{Operation: OpUpdate, ContainerID: id}
	switch source, _ := g.Inv.Option("resources"); source {
	case "-":
		return g.enforceUpdateStdin(p, ctx)
	case "":
		return g.enforceUpdateFlags(p, ctx)
	default:
		return g.enforceUpdateFile(p, ctx, source)
	}
}

func (g *Gate) enforceUpdateStdin(p *Policy, ctx Context) error {
	data, err := spec.ReadAllBounded(os.Stdin, "the resources on standard input", spec.MaxDocumentSize)
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing update of container %s: %w", ctx.ContainerID, err)
	}
	out, err := g.judgeResources(p, ctx, data, "the resources on standard input")
	if err != nil {
		return err
	}
	return g.feedResources(ctx, out)
}

func (g *Gate) enforceUpdateFile(p *Policy, ctx Context, file string) error {
	data, err := spec.ReadFile(file, spec.MaxDocumentSize)
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing update of container %s: cannot read its resources: %w", ctx.ContainerID, err)
	}
	out, err := g.judgeResources(p, ctx, data, file)
	if err != nil {
		return err
	}
	// update passes no descriptors to a process: any number will do.
	path, err := passDocument("guard-runtime-update-resources", out, 3)
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing update of container %s: %w", ctx.ContainerID, err)
	}
	g.Inv.RuntimeArgs = argsWithOptionValue(g.Inv, "resources", path)
	return nil
}

func (g *Gate) enforceUpdateFlags(p *Policy, ctx Context) error {
	res, err := resourcesFromFlags(g.Inv)
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing update of container %s: %w", ctx.ContainerID, err)
	}
	data, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("guard-runtime: encode the resources of the update of container %s: %w", ctx.ContainerID, err)
	}
	out, err := g.judgeResources(p, ctx, data, "the resources built from the flags")
	if err != nil {
		return err
	}
	if err := g.feedResources(ctx, out); err != nil {
		return err
	}
	g.Inv.RuntimeArgs = updateArgsWithStdin(g.Inv)
	return nil
}

// judgeResources evaluates an update's resources and returns the document
// runc is to get: data itself, or its rewrite.
func (g *Gate) judgeResources(p *Policy, ctx Context, data []byte, source string) ([]byte, error) {
	doc, err := spec.DecodeResources(data)
	if err != nil {
		return nil, fmt.Errorf("guard-runtime: refusing update of container %s: %s are not resources runc would read the same way: %w", ctx.ContainerID, source, err)
	}
	d, err := EvaluateResources(p, doc, ctx)
	if err != nil {
		return nil, fmt.Errorf("guard-runtime: policy %q could not judge the update of container %s, refusing it: %w", p.Name, ctx.ContainerID, err)
	}
	if err := g.admit(d, ctx); err != nil {
		return nil, err
	}
	if d.Verdict != RewriteDoc {
		return data, nil
	}
	out, err := d.Result.Encode()
	if err != nil {
		return nil, fmt.Errorf("guard-runtime: encode the rewritten resources: %w", err)
	}
	return out, nil
}

func (g *Gate) feedResources(ctx Context, data []byte) error {
	if err := feedStdin("guard-runtime-update-resources", data); err != nil {
		return fmt.Errorf("guard-runtime: refusing update of container %s: %w", ctx.ContainerID, err)
	}
	return nil
}

// updateArgsWithStdin is the update command line with the resource flags
// replaced by --resources -. The Intel RDT flags stay: runc reads them
// whatever the resources come with.
func updateArgsWithStdin(inv *spec.Invocation) []string {
	args := append([]string(nil), inv.RuntimeArgs[:inv.CommandIndex+1]...)
	for _, o := range inv.Options {
		if o.Name == "l3-cache-schema" || o.Name == "mem-bw-schema" {
			args = append(args, inv.RuntimeArgs[o.Index])
			if !o.Inline {
				args = append(args, inv.RuntimeArgs[o.Index+1])
			}
		}
	}
	args = append(args, "--resources", "-")
	id := inv.ContainerID()
	if strings.HasPrefix(id, "-") {
		args = append(args, "--")
	}
	return append(args, id)
}

// resourcesFromFlags builds the resources runc 1.1.5 builds from update's
// flags. runc starts from zeros, which mean "unchanged"; a flag left out
// is left out of the document, which runc reads the same way.
func resourcesFromFlags(inv *spec.Invocation) (*specs.LinuxResources, error) {
	b := &resourceFlags{inv: inv}
	r := &specs.LinuxResources{}
	mem := &specs.LinuxMemory{
		Limit:       b.memory("memory"),
		Swap:        b.memory("memory-swap"),
		Kernel:      b.memory("kernel-memory"),
		KernelTCP:   b.memory("kernel-memory-tcp"),
		Reservation: b.memory("memory-reservation"),
	}
	cpu := &specs.LinuxCPU{
		Period:          b.unsigned("cpu-period"),
		RealtimePeriod:  b.unsigned("cpu-rt-period"),
		Shares:          b.unsigned("cpu-share"),
		Quota:           b.signed("cpu-quota"),
		RealtimeRuntime: b.signed("cpu-rt-runtime"),
	}
	cpu.Cpus, _ = inv.Option("cpuset-cpus")
	cpu.Mems, _ = inv.Option("cpuset-mems")
	if weight := b.integer("blkio-weight"); weight != 0 {
		w := uint16(weight) // runc's conversion: 65536 is 0
		r.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	if limit := b.integer("pids-limit"); limit != 0 {
		r.Pids = &specs.LinuxPids{Limit: limit}
	}
	if b.err != nil {
		return nil, b.err
	}
	if *mem != (specs.LinuxMemory{}) {
		r.Memory = mem
	}
	if cpu.Period != nil || cpu.RealtimePeriod != nil || cpu.Shares != nil || cpu.Quota != nil ||
		cpu.RealtimeRuntime != nil || cpu.Cpus != "" || cpu.Mems != "" {
		r.CPU = cpu
	}
	return r, nil
}

// resourceFlags reads update's flags with runc's parsers, keeping the
// first error.
type resourceFlags struct {
	inv *spec.Invocation
	err error
}

func (b *resourceFlags) value(name string) string {
	v, _ := b.inv.Option(name)
	return v
}

func (b *resourceFlags) fail(name, v string, err error) {
	if b.err == nil {
		b.err = fmt.Errorf("invalid value %q for --%s: %v (runc refuses it too)", v, name, err)
	}
}

// memory reads a size as runc does: "-1", or docker/go-units' RAMInBytes.
func (b *resourceFlags) memory(name string) *int64 {
	v := b.value(name)
	if v == "" {
		return nil
	}
	if v == "-1" {
		n := int64(-1)
		return &n
	}
	n, err := ramInBytes(v)
	if err != nil {
		b.fail(name, v, err)
		return nil
	}
	return &n
}

func (b *resourceFlags) unsigned(name string) *uint64 {
	v := b.value(name)
	if v == "" {
		return nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		b.fail(name, v, err)
		return nil
	}
	return &n
}

func (b *resourceFlags) signed(name string) *int64 {
	v := b.value(name)
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		b.fail(name, v, err)
		return nil
	}
	return &n
}

// integer reads a Go flag int, as --blkio-weight and --pids-limit are.
func (b *resourceFlags) integer(name string) int64 {
	v := b.value(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 0, strconv.IntSize)
	if err != nil {
		b.fail(name, v, err)
	}
	return n
}

// ramInBytes reads a size as docker/go-units 0.4's RAMInBytes, which runc
// 1.1.5 uses for its memory flags: a decimal number (digits, optionally
// followed by groups of "." and digits, which must then parse as one
// float), an optional space, an optional unit k, m, g, t or p in either
// case (powers of 1024), an optional "i" and an optional "b"; the product
// is truncated to an integer. go-units turns a product beyond int64 into a
// platform-dependent value; here it is an error.
func ramInBytes(s string) (int64, error) {
	i := 0
	for i < len(s) && (isDigit(s[i]) || (s[i] == '.' && i > 0 && i+1 < len(s) && isDigit(s[i+1]))) {
		i++
	}
	number, rest := s[:i], s[i:]
	if number == "" {
		return 0, fmt.Errorf("not a size such as 512m or 2g")
	}
	rest = strings.TrimPrefix(rest, " ")
	factor := 1.0
	if rest != "" {
		if f, ok := unitFactor(rest[0]); ok {
			factor, rest = f, rest[1:]
		}
	}
	if rest != "" && (rest[0] == 'i' || rest[0] == 'I') {
		rest = rest[1:]
	}
	if rest != "" && (rest[0] == 'b' || rest[0] == 'B') {
		rest = rest[1:]
	}
	if rest != "" {
		return 0, fmt.Errorf("not a size such as 512m or 2g")
	}
	size, err := strconv.ParseFloat(number, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size such as 512m or 2g")
	}
	size *= factor
	if size >= math.MaxInt64 {
		return 0, fmt.Errorf("more bytes than runc can represent")
	}
	return int64(size), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func unitFactor(c byte) (float64, bool) {
	switch c {
	case 'k', 'K':
		return 1 << 10, true
	case 'm', 'M':
		return 1 << 20, true
	case 'g', 'G':
		return 1 << 30, true
	case 't', 'T':
		return 1 << 40, true
	case 'p', 'P':
		return 1 << 50, true
	}
	return 0, false
}
