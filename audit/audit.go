// Package audit writes one record per guard-runtime decision to journald,
// in its native protocol, and to a JSON-lines file when journald is
// unreachable.
//
//   - audit.go: Record, Priority and Logger, the package's whole API.
//   - fields.go: how a Record becomes journal fields.
//   - journal.go: journald's native protocol and the send to its socket.
//   - sink.go: sends to journald or falls back to the file.
//   - file.go: the fallback file, one line per record in a single write(2).
//   - context.go: engine context (Kubernetes pod, namespace, …) from annotations.
//
// Logging never decides anything: Write returns nothing and never panics, so
// a broken journal can neither block a container the policy admits nor admit
// one it denies. Failures are said once on stderr; stdout is never written,
// because engines parse the runtime's stdout.
package audit

import (
	"fmt"
	"os"
)

// DefaultFile is the fallback file when config.yaml sets no audit.file.
const DefaultFile = "/var/log/guard-runtime/audit.log"

// Priority is a syslog priority as journald stores it in PRIORITY.
type Priority int

// The priorities of guard-runtime's records. Priority 0 (emerg) is never
// used: journald broadcasts it to every terminal.
const (
	// PriorityFailure (crit) marks a runtime binary that failed verification
	// or a policy or configuration that cannot be used: no container ran.
	PriorityFailure Priority = 2
	// PriorityDeny (warning) marks a container or process the policy denied.
	PriorityDeny Priority = 4
	// PriorityRewrite (notice) marks a document the policy changed, then admitted.
	PriorityRewrite Priority = 5
	// PriorityAllow (info) marks a document the policy admitted unchanged.
	PriorityAllow Priority = 6
)

// Decisions, as written to GUARD_DECISION.
const (
	DecisionAllow   = "allow"
	DecisionRewrite = "rewrite"
	DecisionDeny    = "deny"
)

// DecisionPriority is the priority that goes with a decision; anything that
// is not a decision (the error of a pass-through command) is a failure.
func DecisionPriority(decision string) Priority {
	switch decision {
	case DecisionAllow:
		return PriorityAllow
	case DecisionRewrite:
		return PriorityRewrite
	case DecisionDeny:
		return PriorityDeny
	}
	return PriorityFailure
}

// Record is one decision of guard-runtime.
type Record struct {
	// Message is one line for people.
	Message string
	// Priority of the record; zero (unset) or out of range takes the
	// decision's priority (see DecisionPriority).
	Priority Priority
	// Decision is allow, rewrite or deny; empty for the errors of
	// pass-through commands.
	Decision string
	// Mode is enforce or audit.
	Mode   string
	Policy string
	// Operation is create, run, restore, exec or update, or the pass-through
	// command whose error this is.
	Operation   string
	ContainerID string
	Bundle      string
	// Violations is a JSON array as `policy check --json` prints it; may be nil.
	Violations []byte
	// Patch is the rewrite as an RFC 6902 JSON patch; may be nil.
	Patch []byte
	// Runtime is the real runtime's path, RuntimeSHA256 its digest.
	Runtime       string
	RuntimeSHA256 string
	// Context is what the engine tells about the container, e.g.
	// {"K8S_NAMESPACE": "…", "K8S_POD": "…"}; each key K is written as GUARD_K.
	Context map[string]string
}

// priority is the record's own priority when it is a valid syslog priority
// other than emerg, else its decision's.
func (r Record) priority() Priority {
	if r.Priority >= 1 && r.Priority <= 7 {
		return r.Priority
	}
	return DecisionPriority(r.Decision)
}

// Logger writes audit records. Its zero value is not usable: call Open.
// A Logger is safe for concurrent use.
type Logger struct {
	sink *sink
}

// Open returns a Logger that falls back to fallbackFile (DefaultFile when
// empty) if journald is unreachable. It does no I/O: pass-through commands
// open a Logger on every runtime call and most never write a record, so the
// journal socket is only touched by the first Write.
func Open(fallbackFile string) *Logger {
	if fallbackFile == "" {
		fallbackFile = DefaultFile
	}
	return &Logger{sink: newSink(fallbackFile)}
}

// Write records rec. It never returns an error and never panics: a record
// that cannot be written anywhere is reported once on stderr and the caller
// goes on with its decision.
func (l *Logger) Write(rec Record) {
	if l == nil || l.sink == nil {
		fmt.Fprintf(os.Stderr, "guard-runtime: audit record lost, no audit logger was opened: %s\n", rec.Message)
		return
	}
	defer func() {
		if r := recover(); r != nil {
			l.sink.reportLoss(fmt.Errorf("panic: %v", r), rec.Message)
		}
	}()
	l.sink.deliver(rec.Message, rec.priority(), journalFields(rec))
}

// Close closes the fallback file, if it was opened. guard-runtime itself
// need not call it: the file is close-on-exec and runc replaces the process.
func (l *Logger) Close() error {
	if l == nil || l.sink == nil {
		return nil
	}
	return l.sink.close()
}
