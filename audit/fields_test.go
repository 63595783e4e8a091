package audit

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fullRecord sets every field, so that a test can start from it and change one.
func fullRecord() Record {
	return Record{
		Message:       `policy "restricted" rewrote container c1: capabilities`,
		Priority:      PriorityRewrite,
		Decision:      DecisionRewrite,
		Mode:          "enforce",
		Policy:        "restricted",
		Operation:     "create",
		ContainerID:   "c1",
		Bundle:        "/run/containerd/io.containerd.runtime.v2.task/moby/c1",
		Violations:    json.RawMessage(`[ {"control": "capabilities", "field": "/process/capabilities/bounding/0", "action": "rewrite", "message": "CAP_CHOWN removed"} ]`),
		Patch:         json.RawMessage("[\n  {\"op\": \"remove\", \"path\": \"/process/capabilities/bounding/0\"}\n]"),
		Runtime:       "/usr/sbin/runc",
		RuntimeSHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Context:       map[string]string{"K8S_NAMESPACE": "tenant-a", "K8S_POD": "web"},
	}
}

func TestJournalFieldsOfAFullRecord(t *testing.T) {
	want := map[string]string{
		"SYSLOG_IDENTIFIER":    "guard-runtime",
		"GUARD_DECISION":       "rewrite",
		"GUARD_MODE":           "enforce",
		"GUARD_POLICY":         "restricted",
		"GUARD_OPERATION":      "create",
		"GUARD_CONTAINER_ID":   "c1",
		"GUARD_BUNDLE":         "/run/containerd/io.containerd.runtime.v2.task/moby/c1",
		"GUARD_VIOLATIONS":     `[{"control":"capabilities","field":"/process/capabilities/bounding/0","action":"rewrite","message":"CAP_CHOWN removed"}]`,
		"GUARD_PATCH":          `[{"op":"remove","path":"/process/capabilities/bounding/0"}]`,
		"GUARD_RUNTIME":        "/usr/sbin/runc",
		"GUARD_RUNTIME_SHA256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"GUARD_K8S_NAMESPACE":  "tenant-a",
		"GUARD_K8S_POD":        "web",
	}
	if got := journalFields(fullRecord()); !reflect.DeepEqual(got, want) {
		t.Errorf("journalFields:\n got %v\nwant %v", got, want)
	}
}

func TestJournalFieldsChangeOneThing(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Record)
		field  string
		want   string // "" means the field is absent
	}{
		{"empty decision of a pass-through error is left out", func(r *Record) { r.Decision = "" }, "GUARD_DECISION", ""},
		{"nil violations are left out", func(r *Record) { r.Violations = nil }, "GUARD_VIOLATIONS", ""},
		{"null violations are left out", func(r *Record) { r.Violations = json.RawMessage("null") }, "GUARD_VIOLATIONS", ""},
		{"nil patch is left out", func(r *Record) { r.Patch = nil }, "GUARD_PATCH", ""},
		{"text that is not JSON is kept as it is", func(r *Record) { r.Patch = json.RawMessage("not json") }, "GUARD_PATCH", "not json"},
		{"empty bundle is left out", func(r *Record) { r.Bundle = "" }, "GUARD_BUNDLE", ""},
		{"context key is made a valid field name", func(r *Record) { r.Context = map[string]string{"k8s.pod-uid": "u1"} }, "GUARD_K8S_POD_UID", "u1"},
		{"context cannot overwrite the decision", func(r *Record) { r.Context = map[string]string{"DECISION": "allow"} }, "GUARD_DECISION", "rewrite"},
		{"context cannot add a field the record leaves empty", func(r *Record) {
			r.Decision = ""
			r.Context = map[string]string{"DECISION": "allow"}
		}, "GUARD_DECISION", ""},
		{"empty context value is left out", func(r *Record) { r.Context = map[string]string{"K8S_POD": ""} }, "GUARD_K8S_POD", ""},
		{"context key too long for journald is left out", func(r *Record) {
			r.Context = map[string]string{"A123456789012345678901234567890123456789012345678901234567890": "x"}
		}, "GUARD_A123456789012345678901234567890123456789012345678901234567890", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fullRecord()
			tt.change(&rec)
			fields := journalFields(rec)
			got, present := fields[tt.field]
			if tt.want == "" && present {
				t.Errorf("%s = %q, want it absent", tt.field, got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
			if fields["SYSLOG_IDENTIFIER"] != "guard-runtime" {
				t.Errorf("SYSLOG_IDENTIFIER = %q", fields["SYSLOG_IDENTIFIER"])
			}
		})
	}
}

func TestRecordPriority(t *testing.T) {
	tests := []struct {
		decision string
		set      Priority
		want     Priority
	}{
		{DecisionAllow, 0, 6},
		{DecisionRewrite, 0, 5},
		{DecisionDeny, 0, 4},
		{"", 0, 2},
		{DecisionDeny, PriorityFailure, 2},
		// emerg would be broadcast to every terminal; never written.
		{DecisionAllow, -1, 6},
		{DecisionAllow, 9, 6},
	}
	for _, tt := range tests {
		rec := Record{Decision: tt.decision, Priority: tt.set}
		if got := rec.priority(); got != tt.want {
			t.Errorf("decision %q priority %d: got %d, want %d", tt.decision, tt.set, got, tt.want)
		}
	}
}

func TestEngineContext(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        map[string]string
	}{
		{"plain Docker container has none", map[string]string{"org.opencontainers.image.ref.name": "busybox"}, nil},
		{"nil annotations", nil, nil},
		{"containerd CRI app container", map[string]string{
			"io.kubernetes.cri.container-type":    "container",
			"io.kubernetes.cri.container-name":    "web",
			"io.kubernetes.cri.image-name":        "docker.io/library/busybox:latest",
			"io.kubernetes.cri.sandbox-id":        "4f1c",
			"io.kubernetes.cri.sandbox-name":      "web-pod",
			"io.kubernetes.cri.sandbox-namespace": "tenant-a",
			"io.kubernetes.cri.sandbox-uid":       "00000000-0000-4000-8000-000000000010",
		}, map[string]string{
			"K8S_CONTAINER_TYPE": "container",
			"K8S_CONTAINER":      "web",
			"K8S_IMAGE":          "docker.io/library/busybox:latest",
			"K8S_SANDBOX_ID":     "4f1c",
			"K8S_POD":            "web-pod",
			"K8S_NAMESPACE":      "tenant-a",
			"K8S_POD_UID":        "00000000-0000-4000-8000-000000000010",
		}},
		{"kubelet and CRI-O names", map[string]string{
			"io.kubernetes.pod.namespace":       "tenant-b",
			"io.kubernetes.pod.name":            "db",
			"io.kubernetes.pod.uid":             "u2",
			"io.kubernetes.container.name":      "postgres",
			"io.kubernetes.cri-o.ContainerType": "sandbox",
			"io.kubernetes.cri-o.SandboxID":     "9a0b",
		}, map[string]string{
			"K8S_NAMESPACE":      "tenant-b",
			"K8S_POD":            "db",
			"K8S_POD_UID":        "u2",
			"K8S_CONTAINER":      "postgres",
			"K8S_CONTAINER_TYPE": "sandbox",
			"K8S_SANDBOX_ID":     "9a0b",
		}},
		{"the CRI plugin's own annotation wins", map[string]string{
			"io.kubernetes.cri.sandbox-namespace": "tenant-a",
			"io.kubernetes.pod.namespace":         "kube-system",
		}, map[string]string{"K8S_NAMESPACE": "tenant-a"}},
		{"an empty annotation is passed over", map[string]string{
			"io.kubernetes.cri.sandbox-namespace": "",
			"io.kubernetes.pod.namespace":         "tenant-c",
		}, map[string]string{"K8S_NAMESPACE": "tenant-c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EngineContext(tt.annotations); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// A record's fields are gathered into one map made at its size: the
// decision's own are listed in an array, not built into a second map only
// to be read once, on every runtime call.
func TestJournalFieldsBuildsOneMap(t *testing.T) {
	rec := Record{Message: "allowed create", Decision: "allow", Mode: "enforce", Policy: "restricted", Operation: "create", ContainerID: "c1", Bundle: "/b", Runtime: "/usr/sbin/runc", RuntimeSHA256: "ab"}
	allocs := testing.AllocsPerRun(20, func() { journalFields(rec) })
	if allocs > 4 {
		t.Errorf("journalFields: %.0f allocations, want at most 4 (one map made at its size)", allocs)
	}
}
