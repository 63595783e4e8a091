package audit

import (
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// Journal field names. MESSAGE and PRIORITY are journald's own;
// SYSLOG_IDENTIFIER makes `journalctl -t guard-runtime` find the records.
const (
	fieldMessage       = "MESSAGE"
	fieldPriority      = "PRIORITY"
	fieldIdentifier    = "SYSLOG_IDENTIFIER"
	fieldDecision      = "GUARD_DECISION"
	fieldMode          = "GUARD_MODE"
	fieldPolicy        = "GUARD_POLICY"
	fieldOperation     = "GUARD_OPERATION"
	fieldContainerID   = "GUARD_CONTAINER_ID"
	fieldBundle        = "GUARD_BUNDLE"
	fieldViolations    = "GUARD_VIOLATIONS"
	fieldPatch         = "GUARD_PATCH"
	fieldRuntime       = "GUARD_RUNTIME"
	fieldRuntimeSHA256 = "GUARD_RUNTIME_SHA256"

	// Identifier is the SYSLOG_IDENTIFIER of every record.
	Identifier = "guard-runtime"

	contextPrefix = "GUARD_"
	// journald drops fields whose names are longer than this.
	maxFieldNameLength = 64
)

// journalFields turns a record into journal fields, leaving out MESSAGE and
// PRIORITY, which the journal protocol sends on their own. Empty values are
// left out so that a query such as GUARD_DECISION=deny matches only records
// that have one.
func journalFields(r Record) map[string]string {
	fields := make(map[string]string, 12+len(r.Context)) // grown once, not step by step
	fields[fieldIdentifier] = Identifier
	// Context first, so that it can never overwrite a field of the decision.
	for key, value := range r.Context {
		name, ok := contextFieldName(key)
		if ok && value != "" {
			fields[name] = value
		}
	}
	// An array, not a map literal: a record is written on every call, and
	// a map of ten would be built only to be read once.
	for _, f := range [...]struct{ name, value string }{
		{fieldDecision, r.Decision},
		{fieldMode, r.Mode},
		{fieldPolicy, r.Policy},
		{fieldOperation, r.Operation},
		{fieldContainerID, r.ContainerID},
		{fieldBundle, r.Bundle},
		{fieldViolations, compactJSON(r.Violations)},
		{fieldPatch, compactJSON(r.Patch)},
		{fieldRuntime, r.Runtime},
		{fieldRuntimeSHA256, r.RuntimeSHA256},
	} {
		if f.value != "" {
			fields[f.name] = f.value
		} else {
			delete(fields, f.name)
		}
	}
	return fields
}

// contextFieldName makes GUARD_<KEY> a valid journal field name: upper case
// letters, digits and underscores. The prefix keeps context apart from
// journald's own fields; a key whose name would be too long is refused.
func contextFieldName(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(contextPrefix) + len(key))
	b.WriteString(contextPrefix)
	for _, c := range strings.ToUpper(key) {
		if ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > maxFieldNameLength {
		return "", false
	}
	return name, true
}

// compactJSON writes violations and patches on one line, so that they read
// well in `journalctl` and in the fallback file. Text that is not JSON is
// kept as it is: an audit record is never dropped for its content.
func compactJSON(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	v := jsontext.Value(append([]byte(nil), raw...))
	if err := v.Compact(); err != nil {
		return string(raw)
	}
	if string(v) == "null" {
		return ""
	}
	return string(v)
}
