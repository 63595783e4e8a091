package enforce

import (
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/guard-runtime/guard-runtime/audit"
	"github.com/guard-runtime/guard-runtime/spec"
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
		rec.Violations = violationsJSON(d.Violations)
	}
	if len(d.Patch) > 0 {
		rec.Patch = patchJSON(d.Patch)
	}
	g.audit.Write(g.withRuntime(rec))
}

// violationsJSON writes violations as `policy check --json` does. This and
// patchJSON are written by hand: a fresh process's first reflective
// marshal of a type costs 0.1-0.2 ms, and a rewrite or an audit-mode
// create writes both on every call.
func violationsJSON(violations []Violation) []byte {
	return jsonArray(violations, func(b []byte, v Violation) []byte {
		b = appendMember(b, '{', "control", v.Control)
		b = appendMember(b, ',', "field", v.Field)
		b = appendMember(b, ',', "action", string(v.Action))
		return append(appendMember(b, ',', "message", v.Message), '}')
	})
}

// patchJSON writes an RFC 6902 patch; each value is already JSON.
func patchJSON(ops []spec.Operation) []byte {
	return jsonArray(ops, func(b []byte, op spec.Operation) []byte {
		b = appendMember(b, '{', "op", op.Op)
		b = appendMember(b, ',', "path", op.Path)
		if len(op.Value) > 0 {
			b = append(append(b, `,"value":`...), op.Value...)
		}
		return append(b, '}')
	})
}

// jsonArray writes items as a JSON array, each with write.
func jsonArray[T any](items []T, write func([]byte, T) []byte) []byte {
	b := []byte{'['}
	for i, item := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = write(b, item)
	}
	return append(b, ']')
}

// appendMember appends sep and "name":"value". Text that is not UTF-8 (a
// message quoting a document's odd string) is kept with replacement
// characters rather than dropping the record's violations.
func appendMember(b []byte, sep byte, name, value string) []byte {
	b, _ = jsontext.AppendQuote(append(b, sep), name)
	b, _ = jsontext.AppendQuote(append(b, ':'), strings.ToValidUTF8(value, "\uFFFD"))
	return b
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
	// Concatenation, not fmt: an admitted create builds no other message.
	subject := ctx.Operation + " of container " + ctx.ContainerID + " under policy " + d.Policy
	switch {
	case d.Verdict == DenyVerdict:
		return "denied " + subject + ": " + d.Reason()
	case d.Verdict == RewriteDoc:
		return "rewrote " + subject + ": " + strconv.Itoa(len(d.Patch)) + " change(s)"
	case d.Mode == AuditMode && len(d.Violations) > 0:
		return "allowed " + subject + " in audit mode with " + strconv.Itoa(len(d.Violations)) + " violation(s)"
	}
	return "allowed " + subject
}
