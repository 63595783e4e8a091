package enforce

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/guard-runtime/guard-runtime/spec"
)

// The evaluation fuzz targets judge arbitrary documents under every shipped
// policy and check what must hold for each of them:
//   - no panic; a decision or an error, never both, never neither;
//   - a document that decodes is always judged: an error is a control that
//     cannot handle what the decoder accepts, or a rewrite that does not
//     converge, and either would refuse a container the engine sent;
//   - the verdict follows the violations: deny exactly when one denies (in
//     enforce mode), audit mode admits everything unchanged;
//   - a rewrite's patch, applied to the original as RFC 6902 says, gives
//     the result, so the audit trail shows exactly what was changed;
//   - the rewritten result reads back and is judged again as allow.
//
// They are seeded with the documents Docker and the CRI plugin hand their
// runtime (testdata/docker, testdata/cri).

func FuzzEvaluateConfig(f *testing.F) {
	policies := shippedPolicyList(f)
	for _, doc := range capturedDocuments(f, "") {
		f.Add(doc)
	}
	compliant, err := json.Marshal(compliantSpec())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(compliant)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := spec.DecodeConfig(data)
		if err != nil {
			return
		}
		for _, p := range policies {
			ctx := Context{Operation: OpCreate, ContainerID: "fuzz", Bundle: "/fuzz/bundle"}
			d, err := EvaluateConfig(p, doc, ctx)
			checkDecision(t, p, doc.Source, d, err, func(data []byte) (*Decision, error) {
				again, err := spec.DecodeConfig(data)
				if err != nil {
					return nil, err
				}
				return EvaluateConfig(p, again, ctx)
			})
		}
	})
}

func FuzzEvaluateProcess(f *testing.F) {
	policies := shippedPolicyList(f)
	for _, doc := range capturedDocuments(f, "exec-") {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := spec.DecodeProcess(data)
		if err != nil {
			return
		}
		for _, p := range policies {
			ctx := Context{Operation: OpExec, ContainerID: "fuzz"}
			d, err := EvaluateProcess(p, doc, ctx)
			checkDecision(t, p, doc.Source, d, err, func(data []byte) (*Decision, error) {
				again, err := spec.DecodeProcess(data)
				if err != nil {
					return nil, err
				}
				return EvaluateProcess(p, again, ctx)
			})
		}
	})
}

func FuzzEvaluateResources(f *testing.F) {
	policies := shippedPolicyList(f)
	for _, doc := range capturedDocuments(f, "update-") {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := spec.DecodeResources(data)
		if err != nil {
			return
		}
		for _, p := range policies {
			ctx := Context{Operation: OpUpdate, ContainerID: "fuzz"}
			d, err := EvaluateResources(p, doc, ctx)
			checkDecision(t, p, doc.Source, d, err, func(data []byte) (*Decision, error) {
				again, err := spec.DecodeResources(data)
				if err != nil {
					return nil, err
				}
				return EvaluateResources(p, again, ctx)
			})
		}
	})
}

// checkDecision checks one decision on a document that decoded. judgeAgain
// decodes and judges a document of the same kind under the same policy.
func checkDecision(t *testing.T, p *Policy, original *spec.Source, d *Decision, err error, judgeAgain func([]byte) (*Decision, error)) {
	t.Helper()
	input, encErr := original.Encode()
	if encErr != nil {
		t.Fatalf("a decoded document does not encode: %v", encErr)
	}
	if err != nil {
		if d != nil {
			t.Fatalf("policy %s returned a decision with its error %v", p.Name, err)
		}
		t.Fatalf("policy %s cannot judge a document the decoder accepts: %v\ndocument %s", p.Name, err, input)
	}
	if d == nil || d.Result == nil {
		t.Fatalf("policy %s returned no decision and no error", p.Name)
	}
	if d.Policy != p.Name || d.Mode != p.Mode {
		t.Fatalf("decision names policy %s (%s), want %s (%s)", d.Policy, d.Mode, p.Name, p.Mode)
	}
	result, err := d.Result.Encode()
	if err != nil {
		t.Fatalf("policy %s: the result does not encode: %v", p.Name, err)
	}
	hasAction := func(a Action) bool {
		return slices.ContainsFunc(d.Violations, func(v Violation) bool { return v.Action == a })
	}
	for _, v := range d.Violations {
		if v.Control == "" || v.Message == "" {
			t.Fatalf("policy %s: violation without control or message: %+v", p.Name, v)
		}
	}
	switch {
	case p.Mode == AuditMode || d.Verdict == Allow || d.Verdict == DenyVerdict:
		if !bytes.Equal(result, input) || len(d.Patch) != 0 {
			t.Fatalf("policy %s (%s) %s changed the document: patch %+v", p.Name, p.Mode, d.Verdict, d.Patch)
		}
	}
	switch {
	case p.Mode == AuditMode:
		if d.Verdict != Allow {
			t.Fatalf("policy %s is in audit mode but says %s", p.Name, d.Verdict)
		}
	case d.Verdict == DenyVerdict:
		if !hasAction(Deny) || d.Reason() == "" {
			t.Fatalf("policy %s denies without a denying violation: %+v", p.Name, d.Violations)
		}
	case d.Verdict == Allow:
		if hasAction(Deny) || hasAction(Rewrite) {
			t.Fatalf("policy %s allows a document it would deny or rewrite: %+v", p.Name, d.Violations)
		}
	case d.Verdict == RewriteDoc:
		if hasAction(Deny) || !hasAction(Rewrite) || len(d.Patch) == 0 {
			t.Fatalf("policy %s rewrites with violations %+v and patch %+v", p.Name, d.Violations, d.Patch)
		}
		checkPatchGivesResult(t, original, d.Patch, result)
		again, err := judgeAgain(result)
		if err != nil {
			t.Fatalf("policy %s: the rewritten document cannot be judged again: %v\n%s", p.Name, err, result)
		}
		if again.Verdict != Allow {
			t.Fatalf("policy %s: the rewritten document is judged %s again: %+v\n%s", p.Name, again.Verdict, again.Violations, result)
		}
	default:
		t.Fatalf("policy %s: unknown verdict %q", p.Name, d.Verdict)
	}
}

// checkPatchGivesResult applies patch to a copy of original, strictly as
// RFC 6902 defines add, replace and remove, and compares with result.
func checkPatchGivesResult(t *testing.T, original *spec.Source, patch []spec.Operation, result []byte) {
	t.Helper()
	originalTree, err := original.Tree()
	if err != nil {
		t.Fatal(err)
	}
	tree := originalTree.Clone()
	for i, op := range patch {
		if err := applyOperation(tree, op); err != nil {
			t.Fatalf("patch operation %d %+v does not apply: %v\npatch %+v", i, op, err, patch)
		}
	}
	patched, err := tree.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(patched, result) {
		t.Fatalf("the patch does not give the result:\npatched %s\nresult  %s\npatch %+v", patched, result, patch)
	}
}

func applyOperation(tree *spec.Tree, op spec.Operation) error {
	var value any
	if op.Op != "remove" {
		v, err := spec.ParseTree(op.Value)
		if err != nil {
			return fmt.Errorf("value: %w", err)
		}
		value = v.Root
	}
	if op.Path == "" {
		if op.Op == "remove" {
			return fmt.Errorf("cannot remove the document")
		}
		tree.Root = value
		return nil
	}
	cut := strings.LastIndex(op.Path, "/")
	parent, ok := tree.Get(op.Path[:cut])
	if !ok {
		return fmt.Errorf("no parent %q", op.Path[:cut])
	}
	last := strings.NewReplacer("~1", "/", "~0", "~").Replace(op.Path[cut+1:])
	switch p := parent.(type) {
	case *spec.Object:
		_, exists := p.Get(last)
		switch {
		case op.Op == "add":
		case !exists:
			return fmt.Errorf("%s of a missing member", op.Op)
		}
		for i := range p.Members {
			if p.Members[i].Name == last {
				if op.Op == "remove" {
					p.Members = slices.Delete(p.Members, i, i+1)
				} else {
					p.Members[i].Value = value
				}
				return nil
			}
		}
		p.Members = append(p.Members, spec.Member{Name: last, Value: value})
		return nil
	case *spec.Array:
		if last == "-" && op.Op == "add" {
			p.Items = append(p.Items, value)
			return nil
		}
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i > len(p.Items) || (i == len(p.Items) && op.Op != "add") {
			return fmt.Errorf("bad array index %q", last)
		}
		switch op.Op {
		case "add":
			p.Items = slices.Insert(p.Items, i, value)
		case "replace":
			p.Items[i] = value
		case "remove":
			p.Items = slices.Delete(p.Items, i, i+1)
		}
		return nil
	}
	return fmt.Errorf("parent of %s is a scalar", op.Path)
}

// shippedPolicyList loads every policy in ../policy.d.
func shippedPolicyList(tb testing.TB) []*Policy {
	tb.Helper()
	names := Available(shippedPolicies)
	if len(names) == 0 {
		tb.Fatalf("no policies in %s", shippedPolicies)
	}
	policies := make([]*Policy, len(names))
	for i, name := range names {
		p, err := LoadPolicy(shippedPolicies, name)
		if err != nil {
			tb.Fatalf("load shipped policy %s: %v", name, err)
		}
		policies[i] = p
	}
	return policies
}

// capturedDocuments returns the engine documents under testdata/docker and
// testdata/cri: those whose name starts with prefix, or with prefix "" the
// configs (every file that is not an exec- or update- document).
func capturedDocuments(tb testing.TB, prefix string) [][]byte {
	tb.Helper()
	var docs [][]byte
	for _, dir := range []string{"testdata/docker", "testdata/cri"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, file := range files {
			name := filepath.Base(file)
			isConfig := !strings.HasPrefix(name, "exec-") && !strings.HasPrefix(name, "update-")
			if (prefix == "" && !isConfig) || (prefix != "" && !strings.HasPrefix(name, prefix)) {
				continue
			}
			data, err := os.ReadFile(file)
			if err != nil {
				tb.Fatal(err)
			}
			docs = append(docs, data)
		}
	}
	if len(docs) == 0 {
		tb.Fatalf("no captured %q documents in testdata: the fuzz targets need them as seeds", prefix)
	}
	return docs
}
