package enforce

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/guard-runtime/guard-runtime/spec"
)

// A document admitted unchanged, the usual create, is judged from its
// value alone: its tree, hundreds of allocations for a config.json, is
// never built. That holds for a compliant document and for one that
// violates most controls under the audit policy.
func TestAdmittedDocumentBuildsNoTree(t *testing.T) {
	bench, err := os.ReadFile("../hack/bench/restricted-config.json")
	if err != nil {
		t.Fatal(err)
	}
	privileged, err := os.ReadFile(filepath.Join("testdata", "docker", "privileged.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		policy string
		data   []byte
	}{{"restricted", bench}, {"audit", privileged}, {"baseline", bench}} {
		doc, err := spec.DecodeConfig(c.data)
		if err != nil {
			t.Fatal(err)
		}
		d, err := EvaluateConfig(loadShipped(t, c.policy), doc, Context{Operation: OpCreate, ContainerID: "lazy"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Verdict != Allow || len(d.Patch) != 0 {
			t.Fatalf("%s: %s with patch %+v", c.policy, d.Verdict, d.Patch)
		}
		if doc.Parsed() || d.Result != doc.Source || d.Result.Parsed() {
			t.Errorf("%s: judging a document admitted unchanged built its tree", c.policy)
		}
	}
}

// A rewrite builds the tree it edits, leaves the judged document as it
// was, and gives the same bytes whether or not that document's tree had
// been built before.
func TestRewriteOfAnUnparsedDocument(t *testing.T) {
	s := compliantSpec()
	s.Process.OOMScoreAdj = nil
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	p := loadShipped(t, "restricted")
	var results [][]byte
	for _, buildFirst := range []bool{false, true} {
		doc, err := spec.DecodeConfig(data)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Parsed() {
			t.Fatal("the document took the reflective path")
		}
		var before []byte
		if buildFirst {
			if before, err = doc.Encode(); err != nil {
				t.Fatal(err)
			}
		}
		d, err := EvaluateConfig(p, doc, Context{Operation: OpCreate, ContainerID: "lazy"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Verdict != RewriteDoc || d.Result == doc.Source {
			t.Fatalf("restricted: %s, result is the original: %v", d.Verdict, d.Result == doc.Source)
		}
		out, err := d.Result.Encode()
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, out)
		if buildFirst {
			if after, err := doc.Encode(); err != nil || !bytes.Equal(before, after) {
				t.Fatalf("the rewrite changed the judged document (%v)", err)
			}
		}
	}
	if !bytes.Equal(results[0], results[1]) {
		t.Fatalf("the rewrite of an unparsed document differs:\n%s\n%s", results[0], results[1])
	}
}
