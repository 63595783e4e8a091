package enforce

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Verdict is the outcome of a decision.
type Verdict string

const (
	Allow       Verdict = "allow"
	RewriteDoc  Verdict = "rewrite"
	DenyVerdict Verdict = "deny"
)

// Context says which runtime call a document came with.
type Context struct {
	Operation   string
	ContainerID string
	Bundle      string
	// Annotations of the config, for the audit trail's engine context.
	Annotations map[string]string
	// Call is what the command line and the caller hand runc besides the
	// document.
	Call Call
}

// Decision is the policy's verdict on one document.
type Decision struct {
	Verdict    Verdict
	Policy     string
	Mode       Mode
	Violations []Violation
	// Patch is the rewrite as RFC 6902 operations; empty unless Verdict is rewrite.
	Patch []spec.Operation
	// Result is the document as runc gets it: the rewritten one on
	// rewrite, the original otherwise, whose tree is built only if
	// something reads it.
	Result *spec.Source
}

// Denials returns the messages of the violations that deny, each once: a
// control that finds the same fault in several fields says it once.
func (d *Decision) Denials() []string {
	var msgs []string
	for _, v := range d.Violations {
		if v.Action == Deny && !slices.Contains(msgs, v.Message) {
			msgs = append(msgs, v.Message)
		}
	}
	return msgs
}

// Reason is one line that says why a document was denied.
func (d *Decision) Reason() string {
	return strings.Join(d.Denials(), "; ")
}

// EvaluateConfig judges a bundle's config.json.
func EvaluateConfig(p *Policy, doc *spec.Config, ctx Context) (*Decision, error) {
	return evaluate(p, doc, func(s *specs.Spec) *Input { return configInput(s, ctx) })
}

// EvaluateProcess judges the process file of an exec.
func EvaluateProcess(p *Policy, doc *spec.Process, ctx Context) (*Decision, error) {
	return evaluate(p, doc, func(proc *specs.Process) *Input { return processInput(proc, ctx) })
}

// EvaluateResources judges the resources of an update.
func EvaluateResources(p *Policy, doc *spec.Resources, ctx Context) (*Decision, error) {
	return evaluate(p, doc, func(r *specs.LinuxResources) *Input { return resourcesInput(r, ctx) })
}

func evaluate[T any](p *Policy, doc *spec.Document[T], input func(*T) *Input) (*Decision, error) {
	report := check(p, input(doc.Value), doc.Source)
	if report.err != nil {
		return nil, report.err
	}
	d := &Decision{Policy: p.Name, Mode: p.Mode, Violations: report.violations, Result: doc.Source, Verdict: Allow}
	if p.Mode == AuditMode {
		return d, nil
	}
	for _, v := range d.Violations {
		if v.Action == Deny {
			d.Verdict = DenyVerdict
			return d, nil
		}
	}
	if !report.editor.Changed() {
		return d, nil
	}
	d.Verdict, d.Patch = RewriteDoc, report.editor.Patch()
	again, err := confirmRewrite(p, &spec.Document[T]{Source: report.editor.Result()}, input)
	if err != nil {
		return nil, err
	}
	// The document read back is the one written: its bytes are the
	// encoding that was judged.
	d.Result = again.Source
	return d, nil
}

// confirmRewrite reads the rewritten document back as runc will, and
// judges it again: it must now pass unchanged. A rewrite that does not
// converge is a bug in a control, and must refuse rather than admit.
func confirmRewrite[T any](p *Policy, rewritten *spec.Document[T], input func(*T) *Input) (*spec.Document[T], error) {
	again, err := rewritten.Reparse()
	if err != nil {
		return nil, fmt.Errorf("the rewritten document does not read back: %w", err)
	}
	report := check(p, input(again.Value), again.Source)
	for _, v := range report.violations {
		if v.Action != Audit {
			return nil, fmt.Errorf("the rewritten document still violates control %s at %s: %s", v.Control, v.Field, v.Message)
		}
	}
	if report.err != nil {
		return nil, report.err
	}
	return again, nil
}

func check(p *Policy, in *Input, doc *spec.Source) *Report {
	r := newReport(p.Name, doc)
	for _, c := range p.Controls.List() {
		r.control = c.Name
		c.Check(in, r)
	}
	return r
}
