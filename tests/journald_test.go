package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/guard-runtime/guard-runtime/audit"
	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// TestAuditRecordsReachJournald writes records through audit.Logger to a
// real systemd-journald and reads them back with journalctl, field by field.
func TestAuditRecordsReachJournald(t *testing.T) {
	harness.EnsureJournald(t)
	containerID := fmt.Sprintf("guard-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	fallback := filepath.Join(t.TempDir(), "audit.log")
	logger := audit.Open(fallback)
	defer logger.Close()

	rewrite := audit.Record{
		Message:     `guard-runtime: policy "restricted" rewrote container ` + containerID,
		Priority:    audit.PriorityRewrite,
		Decision:    audit.DecisionRewrite,
		Mode:        "enforce",
		Policy:      "restricted",
		Operation:   "create",
		ContainerID: containerID,
		Bundle:      "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + containerID,
		// Written by people and tools with newlines; journald gets one line.
		Violations:    json.RawMessage("[\n {\"control\": \"readOnlyRoot\", \"field\": \"/root/readonly\", \"action\": \"rewrite\", \"message\": \"root made read-only\"}\n]"),
		Patch:         json.RawMessage(`[{"op": "replace", "path": "/root/readonly", "value": true}]`),
		Runtime:       "/usr/sbin/runc",
		RuntimeSHA256: strings.Repeat("ab", 32),
		Context: audit.EngineContext(map[string]string{
			"io.kubernetes.cri.sandbox-namespace": "tenant-a",
			"io.kubernetes.cri.sandbox-name":      "web",
			"io.kubernetes.cri.container-name":    "app",
		}),
	}
	deny := rewrite
	deny.Message = `guard-runtime: policy "restricted" denied container ` + containerID + ": runs as root (uid 0)"
	deny.Priority, deny.Decision, deny.Operation = audit.PriorityDeny, audit.DecisionDeny, "exec"
	deny.Patch = nil
	failure := audit.Record{
		Message:     "guard-runtime: /usr/sbin/runc does not match its pinned sha256",
		Priority:    audit.PriorityFailure,
		Operation:   "state",
		ContainerID: containerID,
		Runtime:     "/usr/sbin/runc",
	}
	logger.Write(rewrite)
	logger.Write(deny)
	logger.Write(failure)

	entries := harness.WaitForJournalEntries(t, 3, "SYSLOG_IDENTIFIER=guard-runtime", "GUARD_CONTAINER_ID="+containerID)
	if len(entries) != 3 {
		t.Fatalf("%d entries for container %s, want 3: %v", len(entries), containerID, entries)
	}
	byOperation := map[string]map[string]string{}
	for _, entry := range entries {
		byOperation[entry["GUARD_OPERATION"]] = entry
	}

	got := byOperation["create"]
	want := map[string]string{
		"MESSAGE":              rewrite.Message,
		"PRIORITY":             "5",
		"SYSLOG_IDENTIFIER":    "guard-runtime",
		"GUARD_DECISION":       "rewrite",
		"GUARD_MODE":           "enforce",
		"GUARD_POLICY":         "restricted",
		"GUARD_OPERATION":      "create",
		"GUARD_CONTAINER_ID":   containerID,
		"GUARD_BUNDLE":         rewrite.Bundle,
		"GUARD_VIOLATIONS":     `[{"control":"readOnlyRoot","field":"/root/readonly","action":"rewrite","message":"root made read-only"}]`,
		"GUARD_PATCH":          `[{"op":"replace","path":"/root/readonly","value":true}]`,
		"GUARD_RUNTIME":        "/usr/sbin/runc",
		"GUARD_RUNTIME_SHA256": rewrite.RuntimeSHA256,
		"GUARD_K8S_NAMESPACE":  "tenant-a",
		"GUARD_K8S_POD":        "web",
		"GUARD_K8S_CONTAINER":  "app",
		// The native protocol, from this very process.
		"_TRANSPORT": "journal",
		"_PID":       strconv.Itoa(os.Getpid()),
	}
	for name, value := range want {
		if got[name] != value {
			t.Errorf("rewrite record: %s = %q, want %q", name, got[name], value)
		}
	}
	for name := range got {
		if strings.HasPrefix(name, "GUARD_") {
			if _, ok := want[name]; !ok {
				t.Errorf("rewrite record has unexpected field %s=%q", name, got[name])
			}
		}
	}

	if got := byOperation["exec"]; got["PRIORITY"] != "4" || got["GUARD_DECISION"] != "deny" || got["MESSAGE"] != deny.Message {
		t.Errorf("deny record: %v", got)
	} else if _, has := got["GUARD_PATCH"]; has {
		t.Errorf("deny record has a GUARD_PATCH: %v", got)
	}
	if got := byOperation["state"]; got["PRIORITY"] != "2" || got["GUARD_RUNTIME"] != "/usr/sbin/runc" {
		t.Errorf("failure record: %v", got)
	} else if _, has := got["GUARD_DECISION"]; has {
		t.Errorf("failure of a pass-through command has a GUARD_DECISION: %v", got)
	}

	// The queries docs/audit.md gives admins.
	denied := harness.JournalEntries(t, "-t", "guard-runtime", "GUARD_DECISION=deny", "GUARD_CONTAINER_ID="+containerID)
	if len(denied) != 1 || denied[0]["GUARD_OPERATION"] != "exec" {
		t.Errorf("journalctl -t guard-runtime GUARD_DECISION=deny found %v", denied)
	}

	if _, err := os.Stat(fallback); !os.IsNotExist(err) {
		t.Errorf("fallback file %s was touched although journald runs: %v", fallback, err)
	}
}

// TestAuditRecordsMatchGoSystemd sends the same record through audit.Logger
// and through go-systemd's journal package (the reference client of the
// native protocol) to a real journald: journald must store the same fields.
// The record has a multi-line value (sent with its length) and one too
// large for a datagram (sent as a memfd).
func TestAuditRecordsMatchGoSystemd(t *testing.T) {
	harness.EnsureJournald(t)
	containerID := fmt.Sprintf("guard-test-ref-%d-%d", os.Getpid(), time.Now().UnixNano())
	rec := audit.Record{
		Message:     "guard-runtime: denied\nsecond line of the message",
		Decision:    audit.DecisionDeny,
		Mode:        "enforce",
		Policy:      "restricted",
		Operation:   "create",
		ContainerID: containerID,
		Bundle:      "/run/containerd/io.containerd.runtime.v2.task/moby/" + containerID,
		Violations:  json.RawMessage(`["` + strings.Repeat("v", 300<<10) + `"]`),
		Runtime:     "/usr/sbin/runc",
	}
	vars := map[string]string{
		"SYSLOG_IDENTIFIER":  "guard-runtime",
		"GUARD_DECISION":     rec.Decision,
		"GUARD_MODE":         rec.Mode,
		"GUARD_POLICY":       rec.Policy,
		"GUARD_OPERATION":    rec.Operation,
		"GUARD_CONTAINER_ID": rec.ContainerID,
		"GUARD_BUNDLE":       rec.Bundle,
		"GUARD_VIOLATIONS":   string(rec.Violations),
		"GUARD_RUNTIME":      rec.Runtime,
	}
	logger := audit.Open(filepath.Join(t.TempDir(), "audit.log"))
	defer logger.Close()
	logger.Write(rec)
	harness.WaitForJournalEntries(t, 1, "GUARD_CONTAINER_ID="+containerID)
	if err := journal.Send(rec.Message, journal.PriWarning, vars); err != nil {
		t.Fatalf("go-systemd journal.Send: %v", err)
	}
	entries := harness.WaitForJournalEntries(t, 2, "GUARD_CONTAINER_ID="+containerID)
	if len(entries) != 2 {
		t.Fatalf("%d entries, want 2", len(entries))
	}
	ours, reference := clientFields(entries[0]), clientFields(entries[1])
	if len(ours["GUARD_VIOLATIONS"]) != len(rec.Violations) || ours["MESSAGE"] != rec.Message {
		t.Errorf("journald stored MESSAGE %q and %d bytes of GUARD_VIOLATIONS, want %q and %d", ours["MESSAGE"], len(ours["GUARD_VIOLATIONS"]), rec.Message, len(rec.Violations))
	}
	for name, value := range reference {
		if ours[name] != value {
			t.Errorf("%s: audit.Logger's record has %.80q, go-systemd's %.80q", name, ours[name], value)
		}
	}
	for name, value := range ours {
		if _, ok := reference[name]; !ok {
			t.Errorf("audit.Logger's record has %s=%.80q, go-systemd's has none", name, value)
		}
	}
}

// clientFields leaves out what journald adds itself: trusted fields (_PID,
// _TRANSPORT, …) and the entry's address (__CURSOR, timestamps).
func clientFields(entry map[string]string) map[string]string {
	fields := map[string]string{}
	for name, value := range entry {
		if !strings.HasPrefix(name, "_") {
			fields[name] = value
		}
	}
	return fields
}

// TestEnsureJournaldStartsOneJournald calls EnsureJournald from many
// goroutines at once, as parallel test packages do: exactly one journald
// must run afterwards.
func TestEnsureJournaldStartsOneJournald(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			harness.EnsureJournald(t)
		}()
	}
	wg.Wait()
	if n := countProcesses(t, harness.JournaldBinary); n != 1 {
		t.Errorf("%d processes run %s, want 1", n, harness.JournaldBinary)
	}
}

// countProcesses counts processes whose command line is exactly binary, with
// no arguments: a journald for a journal namespace has one.
func countProcesses(t *testing.T, binary string) int {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, dir := range dirs {
		if _, err := strconv.Atoi(dir.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", dir.Name(), "cmdline"))
		if err != nil {
			continue // the process ended
		}
		if strings.TrimRight(string(cmdline), "\x00") == binary {
			count++
		}
	}
	return count
}

// BenchmarkAuditWriteToJournald is the cost of one record to a real journald,
// the price of an audited create.
func BenchmarkAuditWriteToJournald(b *testing.B) {
	harness.EnsureJournald(b)
	logger := audit.Open(filepath.Join(b.TempDir(), "audit.log"))
	defer logger.Close()
	rec := audit.Record{
		Message:     "guard-runtime: benchmark record",
		Decision:    audit.DecisionAllow,
		Mode:        "enforce",
		Policy:      "restricted",
		Operation:   "create",
		ContainerID: fmt.Sprintf("guard-bench-%d", os.Getpid()),
	}
	for b.Loop() {
		logger.Write(rec)
	}
}
