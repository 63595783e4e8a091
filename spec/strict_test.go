package spec

import (
	"bytes"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDecodeRejectsWhatRuncWouldReadDifferently(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"duplicate key", `{"ociVersion":"1.0.2","process":{"cwd":"/"},"process":{"cwd":"/x"}}`, "duplicate key"},
		{"case-variant key", `{"ociVersion":"1.0.2","Process":{"cwd":"/"}}`, `"Process"`},
		{"long s folds to s", `{"ociVersion":"1.0.2","proceſſ":{"cwd":"/"}}`, "letter case"},
		{"kelvin sign folds to k", `{"process":{"user":{"uid":0},"cwd":"/"},"linux":{"maskedPaths":[],"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}},"hooKs":{}}`, "letter case"},
		{"nested case variant", `{"process":{"User":{"uid":0},"cwd":"/"}}`, `"User"`},
		{"trailing data", `{"ociVersion":"1.0.2"} {"ociVersion":"x"}`, "after the JSON document"},
		{"truncated", `{"ociVersion":"1.0.2"`, "truncated"},
		{"uid out of range", `{"process":{"user":{"uid":4294967296},"cwd":"/"}}`, "/process/user/uid"},
		{"negative uid", `{"process":{"user":{"uid":-1},"cwd":"/"}}`, "/process/user/uid"},
		{"capabilities as array (old Docker)", `{"process":{"user":{"uid":0},"cwd":"/","capabilities":["CAP_CHOWN"]}}`, "/process/capabilities"},
		{"invalid UTF-8", "{\"ociVersion\":\"\xff\"}", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeConfig([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Decode accepted %s", tt.doc)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func decodeConfig(data []byte) (*Config, error) { return DecodeConfig(data) }

// A document read back from its encoding encodes to those bytes without
// building its tree: a rewritten config is encoded once, not twice.
func TestReparsedDocumentEncodesWithoutItsTree(t *testing.T) {
	doc, err := DecodeConfig([]byte(`{"ociVersion":"1.0.2","process":{"cwd":"/","args":["sh"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	e := doc.Source.Editor()
	if err := e.Set("/hostname", "h"); err != nil {
		t.Fatal(err)
	}
	edited := &Document[specs.Spec]{Source: e.Result()}
	again, err := edited.Reparse()
	if err != nil {
		t.Fatal(err)
	}
	want, err := edited.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || again.Parsed() {
		t.Fatalf("encoded %s (tree built: %v), want %s without a tree", got, again.Parsed(), want)
	}
	if again.Value.Hostname != "h" {
		t.Fatalf("read back hostname %q", again.Value.Hostname)
	}
}
