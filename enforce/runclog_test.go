package enforce

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReportErrorAppendsARuncLogLine(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log.json")
	os.WriteFile(log, []byte(`{"level":"info","msg":"earlier"}`+"\n"), 0o644)
	var stderr bytes.Buffer
	reportError(&stderr, log, "json", `guard-runtime: policy "restricted" denied container c1: runs as root`)
	data, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "earlier") {
		t.Fatalf("the log was not appended to: %q", data)
	}
	var entry map[string]string
	if err := json.Unmarshal([]byte(lines[1]), &entry); err != nil || entry["level"] != "error" || !strings.Contains(entry["msg"], "runs as root") || entry["time"] == "" {
		t.Fatalf("not a runc error line: %q (%v)", lines[1], err)
	}
	if !strings.Contains(stderr.String(), "runs as root") {
		t.Fatalf("stderr lacks the message: %q", stderr.String())
	}
}

func TestReportErrorDoesNotHangOnAFIFOLog(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "log.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() {
		var stderr bytes.Buffer
		reportError(&stderr, fifo, "json", "denied")
		done <- stderr.String()
	}()
	select {
	case out := <-done:
		if !strings.Contains(out, "denied") || !strings.Contains(out, "cannot write the runtime log") {
			t.Fatalf("stderr: %q", out)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reportError blocked on a FIFO with no reader")
	}
}

// The JSON line is written by hand; whatever the message holds, runc's
// reader (and containerd's) must get it back as it was.
func TestRuncLogLineReadsBackAnyMessage(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, msg := range []string{"plain", "quotes \" and \\ and <html> & é", "line\nbreak\ttab \u2028", "bad \xff byte"} {
		line := runcLogLine("json", msg, now)
		var entry map[string]string
		if err := json.Unmarshal(line, &entry); err != nil || line[len(line)-1] != '\n' {
			t.Fatalf("%q: not a JSON line: %q (%v)", msg, line, err)
		}
		want := strings.ToValidUTF8(msg, "\ufffd")
		if entry["level"] != "error" || entry["msg"] != want || entry["time"] != now.Format(time.RFC3339Nano) || len(entry) != 3 {
			t.Errorf("%q: read back %v", msg, entry)
		}
	}
}
