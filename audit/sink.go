package audit

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// defaultJournalSocket is where journald takes native-protocol records.
const defaultJournalSocket = "/run/systemd/journal/socket"

// journalSendTimeout bounds the wait for a journald that is alive but stuck
// (its socket queue full): the container must not wait on the audit trail.
// The record then goes to the fallback file.
const journalSendTimeout = time.Second

// sink delivers each record to journald, or to the fallback file once
// journald has failed.
type sink struct {
	socketPath  string
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
		sendTimeout: journalSendTimeout,
		stderr:      os.Stderr,
		file:        fallbackFile{path: fallbackPath},
	}
}

func (s *sink) deliver(message string, priority Priority, fields map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journalErr == nil {
		err := s.sendJournal(message, priority, fields)
		if err == nil {
			return
		}
		s.journalErr = err
	}
	if err := s.file.append(fallbackLine(message, priority, fields, time.Now())); err != nil {
		s.reportLossLocked(fmt.Errorf("journald is unreachable (%v) and the fallback file cannot be written: %w", s.journalErr, err), message)
		return
	}
	if !s.fallbackReported {
		s.fallbackReported = true
		fmt.Fprintf(s.stderr, "guard-runtime: journald is unreachable (%v): audit records go to %s\n", s.journalErr, s.file.path)
	}
}

func (s *sink) sendJournal(message string, priority Priority, fields map[string]string) error {
	datagram, err := journalDatagram(message, priority, fields)
	if err != nil {
		return fmt.Errorf("encode the journal record: %w", err)
	}
	return sendJournalDatagram(s.socketPath, datagram, s.sendTimeout)
}

// fallbackLine is one record as a JSON object on one line, with the field
// names and string values that `journalctl -o json` prints, so that the same
// jq filter reads both. Members are sorted by name; invalid UTF-8 in a
// value is replaced, as journalctl does, rather than losing the record.
func fallbackLine(message string, priority Priority, fields map[string]string, at time.Time) []byte {
	record := make(map[string]string, len(fields)+4)
	for name, value := range fields {
		record[name] = value
	}
	record[fieldMessage] = message
	record[fieldPriority] = strconv.Itoa(int(priority))
	record["__REALTIME_TIMESTAMP"] = strconv.FormatInt(at.UnixMicro(), 10)
	record["_PID"] = strconv.Itoa(os.Getpid())
	line := []byte{'{'}
	for i, name := range slices.Sorted(maps.Keys(record)) {
		if i > 0 {
			line = append(line, ',')
		}
		line, _ = jsontext.AppendQuote(line, name)
		line, _ = jsontext.AppendQuote(append(line, ':'), record[name])
	}
	return append(line, "}\n"...)
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
