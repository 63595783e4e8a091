package spec

import (
	"strings"
	"testing"
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
