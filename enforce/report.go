package enforce

import (
	"fmt"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Action is what a control does about a violation.
type Action string

const (
	// Deny refuses the document.
	Deny Action = "deny"
	// Rewrite changes the document so that it complies, then admits it.
	Rewrite Action = "rewrite"
	// Audit reports the violation and admits the document unchanged.
	Audit Action = "audit"
)

// Violation is one way a document breaks a policy.
type Violation struct {
	Control string `json:"control"`
	// Field is the JSON pointer of the offending field in the document.
	Field   string `json:"field"`
	Action  Action `json:"action"`
	Message string `json:"message"`
}

// Report collects the violations that controls find, and applies their
// rewrites to a working copy of the document.
type Report struct {
	policy     string
	control    string
	violations []Violation
	editor     *spec.Editor
	err        error
}

// newReport starts the report on doc; its rewrites edit a copy, made (and
// the document's tree built) only at the first.
func newReport(policy string, doc *spec.Source) *Report {
	return &Report{policy: policy, editor: doc.Editor()}
}

// Policy names the policy being applied, for messages.
func (r *Report) Policy() string { return r.policy }

// Deny records a violation that refuses the document.
func (r *Report) Deny(field, format string, args ...any) {
	r.add(field, Deny, fmt.Sprintf(format, args...))
}

// Audit records a violation that is only reported.
func (r *Report) Audit(field, format string, args ...any) {
	r.add(field, Audit, fmt.Sprintf(format, args...))
}

// Rewrite records a violation and fixes it with edit.
func (r *Report) Rewrite(field, message string, edit func(*spec.Editor) error) {
	r.add(field, Rewrite, message)
	if err := edit(r.editor); err != nil && r.err == nil {
		r.err = fmt.Errorf("control %s: rewrite %s: %w", r.control, field, err)
	}
}

// Act records a violation with the given action: Rewrite applies edit,
// Deny and Audit ignore it.
func (r *Report) Act(action Action, field, message string, edit func(*spec.Editor) error) {
	if action == Rewrite {
		r.Rewrite(field, message, edit)
		return
	}
	r.add(field, action, message)
}

func (r *Report) add(field string, action Action, message string) {
	r.violations = append(r.violations, Violation{Control: r.control, Field: field, Action: action, Message: message})
}

// Exit statuses of `guard-runtime policy check`.
const (
	ExitAdmitted = 0
	ExitDenied   = 1
	ExitUnusable = 2
)
