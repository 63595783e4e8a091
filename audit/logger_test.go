package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"golang.org/x/sys/unix"
)

// syncBuffer is a stderr stand-in that goroutines may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// openWithoutJournal opens a Logger that finds no journald socket.
func openWithoutJournal(t testing.TB, fallback string) (*Logger, *syncBuffer) {
	t.Helper()
	l := Open(fallback)
	stderr := &syncBuffer{}
	l.sink.socketPath = filepath.Join(t.TempDir(), "no-journald", "socket")
	l.sink.stderr = stderr
	l.sink.send = func(string, journal.Priority, map[string]string) error {
		t.Error("sent to journald although its socket is missing")
		return nil
	}
	t.Cleanup(func() { l.Close() })
	return l, stderr
}

// openWithJournal opens a Logger whose journald socket exists and whose sends
// go to send.
func openWithJournal(t testing.TB, fallback string, send sendFunc) (*Logger, *syncBuffer) {
	t.Helper()
	l := Open(fallback)
	stderr := &syncBuffer{}
	socket := filepath.Join(t.TempDir(), "socket")
	if err := os.WriteFile(socket, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l.sink.socketPath = socket
	l.sink.stderr = stderr
	l.sink.send = send
	t.Cleanup(func() { l.Close() })
	return l, stderr
}

type sentRecord struct {
	message  string
	priority journal.Priority
	vars     map[string]string
}

func readLines(t testing.TB, path string) []map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fallback file: %v", err)
	}
	var records []map[string]string
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for n := 1; scanner.Scan(); n++ {
		var rec map[string]string
		if err := json.Unmarshal(scanner.Bytes(), &rec); err != nil {
			t.Fatalf("line %d of %s is not a whole JSON record: %v\n%.200q", n, path, err, scanner.Text())
		}
		records = append(records, rec)
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("%s does not end with a newline", path)
	}
	return records
}

func TestWriteSendsEveryFieldToJournald(t *testing.T) {
	var sent []sentRecord
	l, stderr := openWithJournal(t, filepath.Join(t.TempDir(), "audit.log"), func(message string, priority journal.Priority, vars map[string]string) error {
		sent = append(sent, sentRecord{message, priority, vars})
		return nil
	})
	l.Write(fullRecord())
	if len(sent) != 1 {
		t.Fatalf("sent %d records, want 1", len(sent))
	}
	got := sent[0]
	if got.message != fullRecord().Message {
		t.Errorf("MESSAGE = %q", got.message)
	}
	if got.priority != journal.PriNotice {
		t.Errorf("PRIORITY = %d, want 5", got.priority)
	}
	if _, dup := got.vars["PRIORITY"]; dup {
		t.Errorf("PRIORITY sent twice: journal.Send writes it itself")
	}
	if want := journalFields(fullRecord()); !mapsEqual(got.vars, want) {
		t.Errorf("vars:\n got %v\nwant %v", got.vars, want)
	}
	if stderr.String() != "" {
		t.Errorf("stderr: %q", stderr.String())
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestFallbackWithoutJournaldSocket(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "log", "guard-runtime")
	path := filepath.Join(dir, "audit.log")
	l, stderr := openWithoutJournal(t, path)

	deny := fullRecord()
	deny.Decision, deny.Priority, deny.Message = DecisionDeny, 0, "denied: runs as root"
	l.Write(deny)
	l.Write(fullRecord())

	records := readLines(t, path)
	if len(records) != 2 {
		t.Fatalf("%d records in the fallback file, want 2", len(records))
	}
	first := records[0]
	for name, want := range journalFields(deny) {
		if first[name] != want {
			t.Errorf("%s = %q, want %q", name, first[name], want)
		}
	}
	if first["MESSAGE"] != "denied: runs as root" || first["PRIORITY"] != "4" {
		t.Errorf("MESSAGE %q PRIORITY %q", first["MESSAGE"], first["PRIORITY"])
	}
	if first["_PID"] != strconv.Itoa(os.Getpid()) {
		t.Errorf("_PID = %q", first["_PID"])
	}
	micros, err := strconv.ParseInt(first["__REALTIME_TIMESTAMP"], 10, 64)
	if err != nil || time.Since(time.UnixMicro(micros)).Abs() > time.Hour {
		t.Errorf("__REALTIME_TIMESTAMP = %q", first["__REALTIME_TIMESTAMP"])
	}
	if records[1]["PRIORITY"] != "5" {
		t.Errorf("second record PRIORITY = %q", records[1]["PRIORITY"])
	}

	notices := strings.Count(stderr.String(), "journald is unreachable")
	if notices != 1 || !strings.Contains(stderr.String(), path) {
		t.Errorf("stderr should say once where the records go, got %q", stderr.String())
	}
	assertMode(t, dir, 0o700|os.ModeDir)
	assertMode(t, path, 0o600)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode() != want {
		t.Errorf("%s mode %v, want %v", path, info.Mode(), want)
	}
}

func TestFallbackAppendsToExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	old := "{\"MESSAGE\":\"an earlier record\"}\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	l, _ := openWithoutJournal(t, path)
	l.Write(fullRecord())
	records := readLines(t, path)
	if len(records) != 2 || records[0]["MESSAGE"] != "an earlier record" || records[1]["GUARD_CONTAINER_ID"] != "c1" {
		t.Errorf("records: %v", records)
	}
}

func TestFallbackWhenJournaldRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	calls := 0
	l, stderr := openWithJournal(t, path, func(string, journal.Priority, map[string]string) error {
		calls++
		return syscall.ECONNREFUSED // a stale socket left by a dead journald
	})
	l.Write(fullRecord())
	l.Write(fullRecord())
	if calls != 1 {
		t.Errorf("journald tried %d times, want once: after a failure the file is used", calls)
	}
	if n := len(readLines(t, path)); n != 2 {
		t.Errorf("%d records in the fallback file, want 2", n)
	}
	if !strings.Contains(stderr.String(), "connection refused") {
		t.Errorf("stderr should give journald's error, got %q", stderr.String())
	}
}

func TestFallbackWhenJournaldHangs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	release := make(chan struct{})
	defer close(release)
	l, stderr := openWithJournal(t, path, func(string, journal.Priority, map[string]string) error {
		<-release
		return nil
	})
	l.sink.sendTimeout = 20 * time.Millisecond
	l.Write(fullRecord())
	if n := len(readLines(t, path)); n != 1 {
		t.Errorf("%d records in the fallback file, want 1", n)
	}
	if !strings.Contains(stderr.String(), "did not take the record") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

func TestPanicInJournalSendIsContained(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, _ := openWithJournal(t, path, func(string, journal.Priority, map[string]string) error {
		panic("boom")
	})
	l.Write(fullRecord())
	if n := len(readLines(t, path)); n != 1 {
		t.Errorf("%d records in the fallback file, want 1", n)
	}
}

func TestUnwritableFallbackFileIsReportedOnce(t *testing.T) {
	// A directory under a regular file cannot be created, even by root.
	blocker := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, stderr := openWithoutJournal(t, filepath.Join(blocker, "audit.log"))
	l.Write(fullRecord())
	l.Write(fullRecord())
	out := stderr.String()
	if strings.Count(out, "audit record lost") != 1 {
		t.Errorf("want one report of the lost record, got %q", out)
	}
	if !strings.Contains(out, fullRecord().Message) || !strings.Contains(out, "not a directory") {
		t.Errorf("the report should carry the record's message and the cause: %q", out)
	}
}

func TestFallbackFileThatIsAFIFOIsRefusedWithoutBlocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	l, stderr := openWithoutJournal(t, path)
	l.Write(fullRecord()) // would hang in open(2) without O_NONBLOCK
	if !strings.Contains(stderr.String(), "audit record lost") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

func TestWriteOnNilLoggerDoesNotPanic(t *testing.T) {
	var l *Logger
	l.Write(fullRecord())
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}

func TestWriteOnceReportsShortWrite(t *testing.T) {
	// RLIMIT_FSIZE cannot be lowered for one test only; a full pipe gives a
	// real short write on a non-blocking descriptor instead.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := syscall.SetNonblock(int(w.Fd()), true); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 1<<20) // more than a pipe holds
	err = writeOnce(w, big)
	if err == nil || !strings.Contains(err.Error(), "short write") && !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("writeOnce of 1 MiB into a pipe: %v, want a short write reported", err)
	}
}

// A send journald has room for runs on the caller's goroutine, unguarded:
// it outlasts a timeout that would have sent it to the fallback file.
func TestSendWithRoomRunsDirectly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	sent := 0
	l, stderr := openWithJournal(t, path, func(string, journal.Priority, map[string]string) error {
		time.Sleep(30 * time.Millisecond)
		sent++
		return nil
	})
	l.sink.hasRoom = func(string) bool { return true }
	l.sink.sendTimeout = time.Millisecond
	l.Write(fullRecord())
	if sent != 1 || stderr.String() != "" {
		t.Fatalf("sent %d, stderr %q: want one record sent directly", sent, stderr.String())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the fallback file was written: %v", err)
	}
}

// A panic of the journal library on the direct path still leaves the
// record in the fallback file.
func TestPanicInDirectSendIsContained(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, _ := openWithJournal(t, path, func(string, journal.Priority, map[string]string) error {
		panic("boom")
	})
	l.sink.hasRoom = func(string) bool { return true }
	l.Write(fullRecord())
	if n := len(readLines(t, path)); n != 1 {
		t.Errorf("%d records in the fallback file, want 1", n)
	}
}

// journalHasRoom says yes for a datagram socket whose queue has room, no
// once its reader has stopped and the queue is full, and no for anything
// that is not a listening socket.
func TestJournalHasRoom(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "socket")
	reader, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if !journalHasRoom(path) {
		t.Fatal("no room on an empty queue")
	}
	// Fill the queue: nobody reads it.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if err := unix.Send(fd, []byte("MESSAGE=x\n"), 0); err == unix.EAGAIN {
			break
		} else if err != nil || i > 1<<20 {
			t.Fatalf("filling the queue: %v after %d datagrams", err, i)
		}
	}
	if journalHasRoom(path) {
		t.Fatal("room reported on a full queue")
	}
	regular := filepath.Join(dir, "regular")
	os.WriteFile(regular, nil, 0o600)
	for _, p := range []string{regular, filepath.Join(dir, "missing"), dir} {
		if journalHasRoom(p) {
			t.Errorf("room reported at %s", p)
		}
	}
	reader.Close() // a socket file whose reader is gone
	if journalHasRoom(path) {
		t.Error("room reported on a socket nobody listens on")
	}
}
