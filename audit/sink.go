package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// defaultJournalSocket is where journald takes native-protocol records.
// go-systemd's journal package always sends there; the sink looks at its own
// socketPath only to tell whether journald is there at all, which lets tests
// force the fallback.
const defaultJournalSocket = "/run/systemd/journal/socket"

// journalSendTimeout bounds a send to a journald that is alive but stuck
// (its socket queue full): the container must not wait on the audit trail.
// The record then goes to the fallback file.
const journalSendTimeout = time.Second

type sendFunc func(message string, priority journal.Priority, vars map[string]string) error

// sink is the logrus hook that delivers each entry to journald, or to the
// fallback file once journald has failed.
type sink struct {
	socketPath  string
	send        sendFunc
	hasRoom     func(path string) bool
	sendTimeout time.Duration
	stderr      io.Writer

	mu   sync.Mutex
	file fallbackFile
	// journalErr says why journald is not used; nil until a send failed.
	journalErr       error
	fallbackReported bool
	lossReported     bool
}

func newSink(fallbackPath string) *sink {
	return &sink{
		socketPath:  defaultJournalSocket,
		send:        journal.Send,
		hasRoom:     journalHasRoom,
		sendTimeout: journalSendTimeout,
		stderr:      os.Stderr,
		file:        fallbackFile{path: fallbackPath},
	}
}

// Levels makes the sink see every entry: the priority, not logrus's level,
// says how important a record is.
func (s *sink) Levels() []logrus.Level { return logrus.AllLevels }

// Fire always returns nil: logrus would print a hook's error on stderr for
// every record, while the sink reports its failures once.
func (s *sink) Fire(e *logrus.Entry) error {
	fields := make(map[string]string, len(e.Data))
	for name, value := range e.Data {
		if text, ok := value.(string); ok {
			fields[name] = text
		}
	}
	s.deliver(e.Message, fields, e.Time)
	return nil
}

func (s *sink) deliver(message string, fields map[string]string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journalErr == nil {
		err := s.sendJournal(message, fields)
		if err == nil {
			return
		}
		s.journalErr = err
	}
	line, err := fallbackLine(message, fields, at)
	if err == nil {
		err = s.file.append(line)
	}
	if err != nil {
		s.reportLossLocked(fmt.Errorf("journald is unreachable (%v) and the fallback file cannot be written: %w", s.journalErr, err), message)
		return
	}
	if !s.fallbackReported {
		s.fallbackReported = true
		fmt.Fprintf(s.stderr, "guard-runtime: journald is unreachable (%v): audit records go to %s\n", s.journalErr, s.file.path)
	}
}

func (s *sink) sendJournal(message string, fields map[string]string) error {
	if _, err := os.Stat(s.socketPath); err != nil {
		return fmt.Errorf("no journald socket: %w", err)
	}
	priority, err := strconv.Atoi(fields[fieldPriority])
	if err != nil {
		priority = int(PriorityFailure)
	}
	vars := make(map[string]string, len(fields))
	for name, value := range fields {
		// journal.Send writes PRIORITY itself; a second one would be a
		// duplicate field.
		if name != fieldPriority {
			vars[name] = value
		}
	}
	if s.hasRoom(s.socketPath) {
		// journald takes the datagram without blocking: no guard needed.
		return sendResult(s.sendNow(message, journal.Priority(priority), vars))
	}
	done := make(chan error, 1)
	go func() { done <- s.sendNow(message, journal.Priority(priority), vars) }()
	timer := time.NewTimer(s.sendTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return sendResult(err)
	case <-timer.C:
		return fmt.Errorf("journald did not take the record within %s", s.sendTimeout)
	}
}

// sendNow sends, turning a panic of the journal library into an error, so
// that the record still reaches the fallback file.
func (s *sink) sendNow(message string, priority journal.Priority, vars map[string]string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("journal send panicked: %v", r)
		}
	}()
	return s.send(message, priority, vars)
}

func sendResult(err error) error {
	if err != nil {
		return fmt.Errorf("send to journald: %w", err)
	}
	return nil
}

// journalHasRoom reports whether journald's socket at path takes a
// datagram now without blocking. A datagram socket connected to it polls
// writable only while journald's receive queue is not full, so a send
// right after a yes cannot block unless journald stops reading within
// those microseconds (and another sender fills its queue). A send after a
// no runs on a goroutine, bounded by sendTimeout, since a journald that
// stopped reading would hold it for ever; handing a send to another
// thread and waiting for it costs 0.1-0.2 ms of a runtime call.
func journalHasRoom(path string) bool {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return false
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n == 1 && fds[0].Revents == unix.POLLOUT
}

// fallbackLine is one record as a JSON object on one line, with the field
// names and string values that `journalctl -o json` prints, so that the same
// jq filter reads both.
func fallbackLine(message string, fields map[string]string, at time.Time) ([]byte, error) {
	if at.IsZero() {
		at = time.Now()
	}
	record := make(map[string]string, len(fields)+3)
	for name, value := range fields {
		record[name] = value
	}
	record[fieldMessage] = message
	record["__REALTIME_TIMESTAMP"] = strconv.FormatInt(at.UnixMicro(), 10)
	record["_PID"] = strconv.Itoa(os.Getpid())
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(record); err != nil { // Encode ends the line with '\n'
		return nil, fmt.Errorf("encode audit record: %w", err)
	}
	return buf.Bytes(), nil
}

func (s *sink) reportLoss(err error, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reportLossLocked(err, message)
}

func (s *sink) reportLossLocked(err error, message string) {
	if s.lossReported {
		return
	}
	s.lossReported = true
	fmt.Fprintf(s.stderr, "guard-runtime: audit record lost: %v; record: %s\n", err, message)
}

func (s *sink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.close()
}
