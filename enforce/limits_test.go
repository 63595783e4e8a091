package enforce

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/guard-runtime/guard-runtime/spec"
)

// A document as large as allowed, with as many values as allowed, that
// restricted rewrites: the most a single decision has to read, copy,
// rewrite and read back.
func largestRewrittenConfig(t *testing.T) []byte {
	t.Helper()
	s := compliantSpec()
	s.Root.Readonly = false // rewritten
	base, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	values := spec.MaxDocumentValues - 1000
	item := `"` + strings.Repeat("v", (spec.MaxDocumentSize-len(base))/values-3) + `"`
	var b bytes.Buffer
	b.Write(base[:len(base)-1])
	b.WriteString(`,"x-vendor":[`)
	for i := 0; i < values; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(item)
	}
	b.WriteString("]}")
	if b.Len() > spec.MaxDocumentSize {
		t.Fatalf("the document is %d bytes, over the limit", b.Len())
	}
	return b.Bytes()
}

// A decision costs memory in proportion to the document, which is bounded.
func TestDecisionMemoryIsBoundedBySize(t *testing.T) {
	data := largestRewrittenConfig(t)
	p := loadShipped(t, "restricted")
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	doc, err := spec.DecodeConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	d, err := EvaluateConfig(p, doc, Context{Operation: OpCreate, ContainerID: "large"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.Result.Encode()
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d-byte document, %s: %d MiB allocated, %d-byte result", len(data), d.Verdict, allocated>>20, len(out))
	if d.Verdict != RewriteDoc {
		t.Fatalf("verdict %s, want rewrite", d.Verdict)
	}
	if allocated > 16*uint64(len(data)) {
		t.Errorf("judging a %d-byte document allocated %d MiB, more than 16 times its size", len(data), allocated>>20)
	}
}

// policy check reads its documents under the same limit as the runtime
// calls, and refuses one over it without reading it.
func TestPolicyCheckRefusesOversizedDocuments(t *testing.T) {
	file := filepath.Join(t.TempDir(), "huge.json")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file, spec.MaxDocumentSize+1); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"--config", "--exec", "--update"} {
		var stdout, stderr bytes.Buffer
		status := PolicyCommand([]string{"check", "--policy-dir", shippedPolicies, "--policy", "restricted", kind, file}, &stdout, &stderr)
		if status != ExitUnusable || !strings.Contains(stderr.String(), "over the 16777216-byte limit") || stdout.Len() != 0 {
			t.Errorf("policy check %s of a document over the limit: exit %d, stdout %q, stderr %q", kind, status, stdout.String(), stderr.String())
		}
	}
}
