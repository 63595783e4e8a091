package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"encoding/binary"
	"errors"
	"golang.org/x/sys/unix"
	"io"
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
	return openAt(t, fallback, filepath.Join(t.TempDir(), "no-journald", "socket"))
}

// openAt opens a Logger that sends to the journald socket at socket.
func openAt(t testing.TB, fallback, socket string) (*Logger, *syncBuffer) {
	t.Helper()
	l := Open(fallback)
	stderr := &syncBuffer{}
	l.sink.socketPath = socket
	l.sink.stderr = stderr
	t.Cleanup(func() { l.Close() })
	return l, stderr
}

// fakeJournald is a datagram socket where journald's would be; it reads
// nothing until asked, so a test can also fill its queue.
type fakeJournald struct {
	path string
	fd   int
}

func newFakeJournald(t testing.TB) *fakeJournald {
	t.Helper()
	return newFakeJournaldAt(t, filepath.Join(t.TempDir(), "socket"))
}

// newFakeJournaldAt binds a fake journald at path, replacing a stale socket.
func newFakeJournaldAt(t testing.TB, path string) *fakeJournald {
	t.Helper()
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	// Waits on receive are bounded: a missing datagram fails the test.
	tv := unix.NsecToTimeval(int64(5 * time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return &fakeJournald{path: path, fd: fd}
}

// receive reads one record, from the datagram or from the memfd passed
// with it, and the number of bytes of the datagram itself.
func (j *fakeJournald) receive(t testing.TB) (record []byte, datagramSize int) {
	t.Helper()
	buf := make([]byte, 1<<20)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(j.fd, buf, oob, 0)
	if err != nil {
		t.Fatalf("fake journald received nothing: %v", err)
	}
	if oobn == 0 {
		return buf[:n], n
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control message: %v %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("passed fds: %v %v", fds, err)
	}
	f := os.NewFile(uintptr(fds[0]), "memfd")
	defer f.Close()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if want := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL; err != nil || seals&want != want {
		t.Errorf("memfd seals %#x (%v), want %#x: journald refuses an unsealed memfd", seals, err, want)
	}
	// The memfd's offset is where its writer stopped; journald maps it
	// from the start.
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	return data, n
}

// fill sends datagrams until the fake journald's queue is full.
func (j *fakeJournald) fill(t testing.TB) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: j.path}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if err := unix.Send(fd, []byte("MESSAGE=x\n"), 0); err == unix.EAGAIN {
			return
		} else if err != nil || i > 1<<20 {
			t.Fatalf("filling the queue: %v after %d datagrams", err, i)
		}
	}
}

// parseJournalRecord reads the native protocol as journald does.
func parseJournalRecord(t testing.TB, data []byte) map[string]string {
	t.Helper()
	fields := map[string]string{}
	for len(data) > 0 {
		line := bytes.IndexByte(data, '\n')
		if line < 0 {
			t.Fatalf("record does not end with a newline: %q", data)
		}
		if eq := bytes.IndexByte(data[:line], '='); eq >= 0 {
			fields[string(data[:eq])] = string(data[eq+1 : line])
			data = data[line+1:]
			continue
		}
		name := string(data[:line])
		data = data[line+1:]
		if len(data) < 8 {
			t.Fatalf("field %s: no length", name)
		}
		size := binary.LittleEndian.Uint64(data)
		data = data[8:]
		if uint64(len(data)) < size+1 || data[size] != '\n' {
			t.Fatalf("field %s: %d bytes announced, value not followed by a newline", name, size)
		}
		fields[name] = string(data[:size])
		data = data[size+1:]
	}
	return fields
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
	journald := newFakeJournald(t)
	fallback := filepath.Join(t.TempDir(), "audit.log")
	l, stderr := openAt(t, fallback, journald.path)
	l.Write(fullRecord())
	data, _ := journald.receive(t)
	got := parseJournalRecord(t, data)
	want := journalFields(fullRecord())
	want["MESSAGE"] = fullRecord().Message
	want["PRIORITY"] = "5"
	if !mapsEqual(got, want) {
		t.Errorf("fields:\n got %v\nwant %v", got, want)
	}
	if !bytes.HasPrefix(data, []byte("PRIORITY=5\nMESSAGE=")) {
		t.Errorf("record should start with PRIORITY and MESSAGE: %.60q", data)
	}
	if stderr.String() != "" {
		t.Errorf("stderr: %q", stderr.String())
	}
	if _, err := os.Stat(fallback); !os.IsNotExist(err) {
		t.Errorf("the fallback file was written: %v", err)
	}
}

// A value with a newline (a message quoting a document) goes in the
// protocol's length-prefixed form; as NAME=value it would end the field at
// the newline and journald would read the rest as another field.
func TestMultiLineValueIsSentWithItsLength(t *testing.T) {
	journald := newFakeJournald(t)
	l, _ := openAt(t, filepath.Join(t.TempDir(), "audit.log"), journald.path)
	rec := fullRecord()
	rec.Message = "denied:\nGUARD_DECISION=allow"
	l.Write(rec)
	data, _ := journald.receive(t)
	if !bytes.Contains(data, []byte("MESSAGE\n\x1c\x00\x00\x00\x00\x00\x00\x00denied:\nGUARD_DECISION=allow\n")) {
		t.Errorf("MESSAGE not length-prefixed: %q", data)
	}
	got := parseJournalRecord(t, data)
	if got["MESSAGE"] != rec.Message || got["GUARD_DECISION"] != rec.Decision {
		t.Errorf("MESSAGE %q GUARD_DECISION %q", got["MESSAGE"], got["GUARD_DECISION"])
	}
}

// A record larger than the socket takes as one datagram goes as a sealed
// memfd, whole.
func TestLargeRecordIsSentAsMemfd(t *testing.T) {
	journald := newFakeJournald(t)
	fallback := filepath.Join(t.TempDir(), "audit.log")
	l, stderr := openAt(t, fallback, journald.path)
	rec := fullRecord()
	rec.Violations = json.RawMessage(`["` + strings.Repeat("v", 4<<20) + `"]`)
	l.Write(rec)
	data, datagramSize := journald.receive(t)
	if datagramSize != 0 {
		t.Errorf("the datagram carried %d bytes besides the memfd", datagramSize)
	}
	if got := parseJournalRecord(t, data); got["GUARD_VIOLATIONS"] != string(rec.Violations) {
		t.Errorf("GUARD_VIOLATIONS has %d bytes, want %d", len(got["GUARD_VIOLATIONS"]), len(rec.Violations))
	}
	if stderr.String() != "" {
		t.Errorf("stderr: %q", stderr.String())
	}
	if _, err := os.Stat(fallback); !os.IsNotExist(err) {
		t.Errorf("the fallback file was written: %v", err)
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
	// The socket file of a journald that died: nobody listens on it.
	journald := newFakeJournald(t)
	unix.Close(journald.fd)
	path := filepath.Join(t.TempDir(), "audit.log")
	l, stderr := openAt(t, path, journald.path)
	l.Write(fullRecord())
	// A journald back on the same path does not get the second record: once
	// a process has fallen back, it stays with the file.
	revived := newFakeJournaldAt(t, journald.path)
	l.Write(fullRecord())
	if n := len(readLines(t, path)); n != 2 {
		t.Errorf("%d records in the fallback file, want 2", n)
	}
	if !strings.Contains(stderr.String(), "connection refused") {
		t.Errorf("stderr should give journald's error, got %q", stderr.String())
	}
	if n, _, err := unix.Recvfrom(revived.fd, make([]byte, 1), unix.MSG_DONTWAIT); err != unix.EAGAIN {
		t.Errorf("journald got a record after the fall-back (%d bytes, %v)", n, err)
	}
}

// A journald that is alive but not reading (its queue full) is given
// sendTimeout, then the record goes to the fallback file.
func TestFallbackWhenJournaldHangs(t *testing.T) {
	journald := newFakeJournald(t)
	journald.fill(t)
	path := filepath.Join(t.TempDir(), "audit.log")
	l, stderr := openAt(t, path, journald.path)
	l.sink.sendTimeout = 50 * time.Millisecond
	start := time.Now()
	l.Write(fullRecord())
	if waited := time.Since(start); waited < l.sink.sendTimeout {
		t.Errorf("gave up after %s, before the timeout", waited)
	}
	if n := len(readLines(t, path)); n != 1 {
		t.Errorf("%d records in the fallback file, want 1", n)
	}
	if !strings.Contains(stderr.String(), "did not take the record within 50ms") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

// A journald whose queue is full for a moment gets the record once it
// reads again, within the timeout.
func TestSendWaitsWhileJournaldQueueIsFull(t *testing.T) {
	journald := newFakeJournald(t)
	journald.fill(t)
	path := filepath.Join(t.TempDir(), "audit.log")
	l, stderr := openAt(t, path, journald.path)
	l.sink.sendTimeout = time.Minute
	drained := make(chan int)
	go func() {
		time.Sleep(100 * time.Millisecond)
		n := 0
		buf := make([]byte, 1<<16)
		for {
			size, _, err := unix.Recvfrom(journald.fd, buf, 0)
			if err != nil {
				break
			}
			n++
			if bytes.Contains(buf[:size], []byte("GUARD_CONTAINER_ID=c1")) {
				break
			}
		}
		drained <- n
	}()
	l.Write(fullRecord())
	if n := <-drained; n < 2 {
		t.Errorf("the record was not behind the queued datagrams (%d read)", n)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) || stderr.String() != "" {
		t.Errorf("fell back (%v, stderr %q): the record should have waited for room", err, stderr.String())
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

// The fallback line is written by hand: it must be one JSON object per
// line, members sorted as encoding/json sorts a map, whatever the values
// hold, and a value that is not UTF-8 must not lose the record.
func TestFallbackLineIsOneJSONObjectWhateverTheValues(t *testing.T) {
	fields := map[string]string{
		"GUARD_BUNDLE":     "/b \"quoted\" <html> & \\ é\t\n\u2028",
		"GUARD_VIOLATIONS": `[{"control":"x"}]`,
		"GUARD_POLICY":     "bad \xff utf-8",
	}
	line := fallbackLine("message\nwith a newline", PriorityRewrite, fields, time.UnixMicro(1700000000000000))
	if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
		t.Fatalf("not one line: %q", line)
	}
	var got map[string]string
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("not JSON: %v: %q", err, line)
	}
	want := map[string]string{
		"GUARD_BUNDLE": fields["GUARD_BUNDLE"], "GUARD_VIOLATIONS": fields["GUARD_VIOLATIONS"],
		"GUARD_POLICY": "bad \ufffd utf-8", "MESSAGE": "message\nwith a newline", "PRIORITY": "5",
		"__REALTIME_TIMESTAMP": "1700000000000000", "_PID": strconv.Itoa(os.Getpid()),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %v, want %v", got, want)
	}
	sorted, _ := json.Marshal(got)
	if !sameMemberOrder(line, sorted) {
		t.Errorf("members not sorted by name: %s", line)
	}
}

// sameMemberOrder compares the order of the member names of two objects.
func sameMemberOrder(a, b []byte) bool {
	names := func(data []byte) []string {
		var out []string
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.Token()
		for dec.More() {
			name, _ := dec.Token()
			out = append(out, name.(string))
			var skip any
			dec.Decode(&skip)
		}
		return out
	}
	return reflect.DeepEqual(names(a), names(b))
}
