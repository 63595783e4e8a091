// Package harness starts and reads the real system parts that guard-runtime's
// end-to-end tests need.
package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// JournaldBinary is Debian's systemd-journald.
	JournaldBinary = "/lib/systemd/systemd-journald"
	// JournalSocket is where journald takes native-protocol records, and
	// where go-systemd's journal package sends them.
	JournalSocket = "/run/systemd/journal/socket"

	// journaldLock serialises test processes that would otherwise start
	// two journalds at once (go test runs packages in parallel).
	journaldLock = "/run/guard-runtime-test-journald.lock"
	// journaldLog keeps what a journald started here printed, to explain
	// a journald that would not start.
	journaldLog = "/run/guard-runtime-test-journald.log"

	journaldStartTimeout = 10 * time.Second
	journalWaitTimeout   = 10 * time.Second
)

// EnsureJournald makes sure that a systemd-journald takes records on
// JournalSocket, starting /lib/systemd/systemd-journald when none does. It
// works where systemd is not PID 1: journald then creates its own sockets
// under /run/systemd/journal and keeps its journal in /run/log/journal, which
// journalctl reads. The journald it starts is left running, as the shared
// system service it is; later calls, from this process or others at the same
// time, find it and start no second one.
func EnsureJournald(t testing.TB) {
	t.Helper()
	if err := ensureJournald(); err != nil {
		t.Fatalf("journald: %v", err)
	}
}

func ensureJournald() error {
	if journaldAnswers() == nil {
		return nil
	}
	if _, err := os.Stat(JournaldBinary); err != nil {
		return fmt.Errorf("%s is missing (apt-get install systemd): %w", JournaldBinary, err)
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		return fmt.Errorf("journalctl is missing (apt-get install systemd): %w", err)
	}
	unlock, err := lockFile(journaldLock)
	if err != nil {
		return err
	}
	defer unlock()
	// Another test process may have started it while this one waited.
	if journaldAnswers() == nil {
		return nil
	}
	return startJournald()
}

// journaldAnswers connects to the journal socket: a socket file left by a
// journald that died refuses the connection.
func journaldAnswers() error {
	conn, err := net.Dial("unixgram", JournalSocket)
	if err != nil {
		return err
	}
	return conn.Close()
}

func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func startJournald() error {
	if err := os.MkdirAll("/run/systemd/journal", 0o755); err != nil {
		return fmt.Errorf("create /run/systemd/journal: %w", err)
	}
	logFile, err := os.OpenFile(journaldLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", journaldLog, err)
	}
	defer logFile.Close()
	cmd := exec.Command(JournaldBinary)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own session: journald must outlive the test process and not get
	// the terminal's signals.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", JournaldBinary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(journaldStartTimeout)
	for {
		answerErr := journaldAnswers()
		if answerErr == nil {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("%s exited at start (%v); its output, from %s:\n%s", JournaldBinary, err, journaldLog, tail(journaldLog))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) started but %s still does not answer after %s: %v; its output, from %s:\n%s",
				JournaldBinary, cmd.Process.Pid, JournalSocket, journaldStartTimeout, answerErr, journaldLog, tail(journaldLog))
		}
	}
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 4096 {
		data = data[len(data)-4096:]
	}
	return string(data)
}

// JournalEntries returns the journal entries that match every FIELD=value
// given, oldest first, each as `journalctl -o json` prints it: field name to
// value. A value journalctl prints as something other than a string (binary
// data, a repeated field) is kept as its JSON text.
func JournalEntries(t testing.TB, matches ...string) []map[string]string {
	t.Helper()
	entries, err := journalEntries(matches)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// WaitForJournalEntries waits until at least n entries match and returns
// them. journald takes datagrams asynchronously, so a record just sent may
// not be readable yet.
func WaitForJournalEntries(t testing.TB, n int, matches ...string) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(journalWaitTimeout)
	for {
		entries, err := journalEntries(matches)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) >= n {
			return entries
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal has %d entries matching %v after %s, want %d", len(entries), matches, journalWaitTimeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func journalEntries(matches []string) ([]map[string]string, error) {
	// --sync makes journald write out what it has received before the read.
	if out, err := exec.Command("journalctl", "--sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("journalctl --sync: %v: %s", err, out)
	}
	args := append([]string{"--no-pager", "--quiet", "--all", "--output=json"}, matches...)
	var stderr bytes.Buffer
	cmd := exec.Command("journalctl", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("journalctl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	var entries []map[string]string
	scanner := bufio.NewScanner(bytes.NewReader(out))
	scanner.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for scanner.Scan() {
		entry, err := decodeJournalEntry(scanner.Bytes())
		if err != nil {
			return nil, fmt.Errorf("journalctl %s printed %.200q: %w", strings.Join(args, " "), scanner.Text(), err)
		}
		entries = append(entries, entry)
	}
	return entries, scanner.Err()
}

func decodeJournalEntry(line []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, err
	}
	entry := make(map[string]string, len(raw))
	for name, value := range raw {
		var text string
		if err := json.Unmarshal(value, &text); err == nil {
			entry[name] = text
		} else if errors.As(err, new(*json.UnmarshalTypeError)) {
			entry[name] = string(value)
		} else {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
	}
	return entry, nil
}
