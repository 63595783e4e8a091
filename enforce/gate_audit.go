package enforce

import (
	"fmt"

	"github.com/go-json-experiment/json"

	"github.com/guard-runtime/guard-runtime/audit"
)

// record writes a decision to the audit trail.
func (g *Gate) record(d *Decision, ctx Context) {
	rec := audit.Record{
		Message:     decisionMessage(d, ctx),
		Decision:    string(d.Verdict),
		Mode:        string(d.Mode),
		Policy:      d.Policy,
		Operation:   ctx.Operation,
		ContainerID: ctx.ContainerID,
		Bundle:      ctx.Bundle,
		Context:     audit.EngineContext(ctx.Annotations),
	}
	rec.Priority = audit.DecisionPriority(rec.Decision)
	if len(d.Violations) > 0 {
		rec.Violations, _ = json.Marshal(d.Violations)
	}
	if len(d.Patch) > 0 {
		rec.Patch, _ = json.Marshal(d.Patch)
	}
	g.audit.Write(g.withRuntime(rec))
}

// recordAsync writes the decision's audit record on another goroutine and
// returns a function that waits until it is written.
func (g *Gate) recordAsync(d *Decision, ctx Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.record(d, ctx)
	}()
	return func() { <-done }
}

// recordFailure writes a call that could not be judged or handed off:
// an unusable configuration or policy, or a runtime that failed verification.
func (g *Gate) recordFailure(err error) {
	rec := audit.Record{
		Message:     err.Error(),
		Priority:    audit.PriorityFailure,
		Operation:   g.Inv.Command,
		ContainerID: g.Inv.ContainerID(),
	}
	if g.audit != nil {
		g.audit.Write(g.withRuntime(rec))
	}
}

func (g *Gate) withRuntime(rec audit.Record) audit.Record {
	if g.cfg != nil {
		rec.Runtime = g.cfg.Runtime.Path
	}
	if g.runtime != nil {
		rec.Runtime, rec.RuntimeSHA256 = g.runtime.Path, g.runtime.Digest
	}
	return rec
}

func decisionMessage(d *Decision, ctx Context) string {
	subject := fmt.Sprintf("%s of container %s under policy %s", ctx.Operation, ctx.ContainerID, d.Policy)
	switch {
	case d.Verdict == DenyVerdict:
		return "denied " + subject + ": " + d.Reason()
	case d.Verdict == RewriteDoc:
		return fmt.Sprintf("rewrote %s: %d change(s)", subject, len(d.Patch))
	case d.Mode == AuditMode && len(d.Violations) > 0:
		return fmt.Sprintf("allowed %s in audit mode with %d violation(s)", subject, len(d.Violations))
	}
	return "allowed " + subject
}
