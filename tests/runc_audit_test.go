package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// Every decision of a real runtime call is a journald record with the
// fields admins query by.
func TestRuntimeDecisionsAreAuditedInJournald(t *testing.T) {
	harness.EnsureJournald(t)
	e := newRuncEnv(t)
	// The journal outlives the test: ids are unique to this run.
	rewriteID, denyID := uniqueID("audit-rewrite"), uniqueID("audit-deny")
	rewritten := e.bundle(t, []string{"true"}, nonRootWithSeccomp(t))
	if _, errOut, err := e.guardRun(t, "restricted", rewritten, rewriteID); err != nil {
		t.Fatalf("restricted run failed: %v: %s", err, errOut)
	}
	denied := e.bundle(t, []string{"true"}, nil)
	if _, _, err := e.guardRun(t, "restricted", denied, denyID); err == nil {
		t.Fatal("root container ran under restricted")
	}

	rec := harness.WaitForJournalEntries(t, 1, "SYSLOG_IDENTIFIER=guard-runtime", "GUARD_CONTAINER_ID="+rewriteID)[0]
	expectFields(t, rec, map[string]string{
		"PRIORITY": "5", "GUARD_DECISION": "rewrite", "GUARD_MODE": "enforce", "GUARD_POLICY": "restricted",
		"GUARD_OPERATION": "run", "GUARD_BUNDLE": rewritten, "GUARD_RUNTIME": e.runc,
		"GUARD_RUNTIME_SHA256": fileDigest(t, e.runc),
	})
	var patch []map[string]any
	if err := json.Unmarshal([]byte(rec["GUARD_PATCH"]), &patch); err != nil || len(patch) == 0 {
		t.Errorf("GUARD_PATCH is not a JSON patch: %q (%v)", rec["GUARD_PATCH"], err)
	}

	rec = harness.WaitForJournalEntries(t, 1, "SYSLOG_IDENTIFIER=guard-runtime", "GUARD_CONTAINER_ID="+denyID)[0]
	expectFields(t, rec, map[string]string{"PRIORITY": "4", "GUARD_DECISION": "deny", "GUARD_POLICY": "restricted"})
	var violations []map[string]string
	if err := json.Unmarshal([]byte(rec["GUARD_VIOLATIONS"]), &violations); err != nil || len(violations) == 0 {
		t.Fatalf("GUARD_VIOLATIONS is not a JSON array: %q (%v)", rec["GUARD_VIOLATIONS"], err)
	}
	if violations[0]["control"] != "runAsNonRoot" || violations[0]["field"] != "/process/user/uid" {
		t.Errorf("violation does not name the control and field: %v", violations[0])
	}
	if !strings.Contains(rec["MESSAGE"], "runs as root") {
		t.Errorf("MESSAGE does not say why: %q", rec["MESSAGE"])
	}
}

func expectFields(t *testing.T, rec map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %q, want %q", k, rec[k], v)
		}
	}
}

func uniqueID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano())
}
