package enforce

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkOutput is `policy check --json` as its users read it.
type checkOutput struct {
	Decision   Verdict         `json:"decision"`
	Policy     string          `json:"policy"`
	Violations []Violation     `json:"violations"`
	Result     json.RawMessage `json:"result"`
}

func policyCheckJSON(t *testing.T, policy, kind, file string) (*checkOutput, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	status := PolicyCommand([]string{"check", "--policy-dir", shippedPolicies, "--policy", policy, "--json", kind, file}, &out, &errOut)
	var got checkOutput
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("policy check %s %s: %v\nstdout: %s\nstderr: %s", kind, file, err, out.String(), errOut.String())
	}
	return &got, status
}

func TestPolicyCheckOfDockerExecProcesses(t *testing.T) {
	tests := []struct {
		policy, capture string
		verdict         Verdict
		status          int
		field           string
	}{
		{"restricted", "exec-default.json", DenyVerdict, ExitDenied, "/user/uid"},
		{"restricted", "exec-user-0.json", DenyVerdict, ExitDenied, "/user/uid"},
		{"restricted", "exec-user-1000.json", RewriteDoc, ExitAdmitted, "/capabilities/bounding"},
		{"restricted", "exec-privileged.json", DenyVerdict, ExitDenied, "/capabilities/effective"},
		{"baseline", "exec-default.json", Allow, ExitAdmitted, ""},
		{"baseline", "exec-user-1000.json", Allow, ExitAdmitted, ""},
		{"baseline", "exec-privileged.json", DenyVerdict, ExitDenied, "/capabilities/bounding"},
		{"audit", "exec-privileged.json", Allow, ExitAdmitted, "/user/uid"},
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+tt.capture, func(t *testing.T) {
			got, status := policyCheckJSON(t, tt.policy, "--exec", filepath.Join("testdata", "docker", tt.capture))
			if got.Decision != tt.verdict || status != tt.status || got.Policy != tt.policy {
				t.Fatalf("decision %s (exit %d) by %s, want %s (exit %d); violations %+v", got.Decision, status, got.Policy, tt.verdict, tt.status, got.Violations)
			}
			if tt.field != "" && !slices.ContainsFunc(got.Violations, func(v Violation) bool { return v.Field == tt.field }) {
				t.Errorf("no violation at %s: %+v", tt.field, got.Violations)
			}
			if tt.verdict == DenyVerdict && string(got.Result) != "null" {
				t.Errorf("a denied exec has a result: %s", got.Result)
			}
		})
	}
}

// The result of a rewrite is the process exactly as runc gets it.
func TestPolicyCheckExecResultIsTheRewrittenProcess(t *testing.T) {
	got, _ := policyCheckJSON(t, "restricted", "--exec", filepath.Join("testdata", "docker", "exec-user-1000.json"))
	var p specs.Process
	if err := json.Unmarshal(got.Result, &p); err != nil {
		t.Fatalf("result %s: %v", got.Result, err)
	}
	for _, set := range [][]string{p.Capabilities.Bounding, p.Capabilities.Effective, p.Capabilities.Permitted} {
		if !slices.Equal(set, netBindOnly) {
			t.Errorf("capabilities %+v", p.Capabilities)
		}
	}
	if !p.NoNewPrivileges || p.User.UID != 1000 || !strings.Contains(string(got.Result), `"HOSTNAME=d918ce055f27"`) {
		t.Errorf("result %s", got.Result)
	}
}

func TestPolicyCheckOfDockerUpdates(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		policy, file string
		verdict      Verdict
		status       int
		field        string
	}{
		{"restricted", filepath.Join("testdata", "docker", "update-memory-1g.json"), Allow, ExitAdmitted, ""},
		{"restricted", filepath.Join("testdata", "docker", "update-pids-limit-200.json"), Allow, ExitAdmitted, ""},
		{"restricted", filepath.Join("testdata", "docker", "update-cpus-2.json"), Allow, ExitAdmitted, ""},
		// The same documents beyond restricted's maxima, as docker update writes them.
		{"restricted", writeFile(t, dir, "update-memory-8g.json", []byte(`{"memory":{"limit":8589934592,"reservation":0,"swap":8589934592,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0},"blockIO":{"weight":0}}`)),
			DenyVerdict, ExitDenied, "/memory/limit"},
		{"restricted", writeFile(t, dir, "update-pids-limit-unlimited.json", []byte(`{"memory":{"limit":0,"reservation":0,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0},"pids":{"limit":-1},"blockIO":{"weight":0}}`)),
			DenyVerdict, ExitDenied, "/pids/limit"},
		{"restricted", writeFile(t, dir, "update-cpus-3.json", []byte(`{"memory":{"limit":0,"reservation":0,"kernel":0},"cpu":{"shares":0,"quota":300000,"period":100000},"blockIO":{"weight":0}}`)),
			DenyVerdict, ExitDenied, "/cpu/quota"},
		{"restricted", writeFile(t, dir, "update-memory-1g-no-swap.json", []byte(`{"memory":{"limit":1073741824,"reservation":0,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0},"blockIO":{"weight":0}}`)),
			RewriteDoc, ExitAdmitted, "/memory/swap"},
		{"baseline", filepath.Join(dir, "update-pids-limit-unlimited.json"), Allow, ExitAdmitted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+filepath.Base(tt.file), func(t *testing.T) {
			got, status := policyCheckJSON(t, tt.policy, "--update", tt.file)
			if got.Decision != tt.verdict || status != tt.status {
				t.Fatalf("decision %s (exit %d), want %s (exit %d); violations %+v", got.Decision, status, tt.verdict, tt.status, got.Violations)
			}
			if tt.field != "" && !slices.ContainsFunc(got.Violations, func(v Violation) bool { return v.Field == tt.field }) {
				t.Errorf("no violation at %s: %+v", tt.field, got.Violations)
			}
		})
	}
	got, _ := policyCheckJSON(t, "restricted", "--update", filepath.Join(dir, "update-memory-1g-no-swap.json"))
	var r specs.LinuxResources
	if err := json.Unmarshal(got.Result, &r); err != nil || r.Memory.Swap == nil || *r.Memory.Swap != 1<<30 || *r.Memory.Limit != 1<<30 {
		t.Errorf("swap not set to the new limit in the result: %s", got.Result)
	}
}

func TestPolicyCheckOfAnUnreadableExecProcessIsUnusable(t *testing.T) {
	file := writeFile(t, t.TempDir(), "process.json", []byte(`{"capabilities":["CAP_CHOWN"],"args":["true"],"cwd":"/"}`))
	var out, errOut bytes.Buffer
	if status := PolicyCommand([]string{"check", "--policy-dir", shippedPolicies, "--exec", file}, &out, &errOut); status != ExitUnusable {
		t.Fatalf("exit %d, want %d: %s", status, ExitUnusable, errOut.String())
	}
	if !strings.Contains(errOut.String(), "/capabilities") {
		t.Errorf("the error does not name the field: %s", errOut.String())
	}
}
