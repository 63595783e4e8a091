package enforce

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runc runs --criu's program as root for checkpoint and restore, and
// every command takes the flag: none may reach runc with it.
func TestCriuIsRefusedOnEveryCommand(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--criu", "/tmp/criu", "checkpoint", "--image-path", dir, "c1"},
		{"--criu=/tmp/criu", "restore", "--bundle", dir, "c1"},
		{"--criu", "/tmp/criu", "state", "c1"},
		{"--criu", "/tmp/criu", "--version"},
		{"--criu=", "exec", "-p", "/p.json", "c1"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "log.json")
			// No config.yaml: a call that got past the refusal fails on
			// that, and never reaches a runtime.
			full := append([]string{"--guard-config", filepath.Join(dir, "missing.yaml"), "--log", log, "--log-format", "json"}, args...)
			var stderr bytes.Buffer
			g := &Gate{Inv: mustParse(t, full...), Stderr: &stderr}
			if code := g.Run(); code != 1 {
				t.Fatalf("exit status %d, want 1", code)
			}
			criu := g.Inv.Global.Criu
			want := `guard-runtime: refusing --criu "` + criu + `": runc would run that program as root to checkpoint or restore, and guard-runtime verifies the runtime it runs but cannot verify a CRIU binary`
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr %q, want %q", stderr.String(), want)
			}
			if data, _ := os.ReadFile(log); !strings.Contains(string(data), `"level":"error"`) || !strings.Contains(string(data), "refusing --criu") {
				t.Errorf("runc's log does not say why: %s", data)
			}
		})
	}
}
