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
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("journal send panicked: %v", r)
			}
		}()
		done <- s.send(message, journal.Priority(priority), vars)
	}()
	timer := time.NewTimer(s.sendTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("send to journald: %w", err)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("journald did not take the record within %s", s.sendTimeout)
	}
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
