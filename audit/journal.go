package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// journald's native protocol, as sd_journal_sendv(3) speaks it: one
// datagram per record on journald's socket, one field per line, NAME=value,
// or for a value with a newline NAME, a newline, the value's length as a
// little-endian uint64, the value and a newline. A record too large for one
// datagram travels as a sealed memfd passed with SCM_RIGHTS.
//
// guard-runtime writes this itself rather than through go-systemd's journal
// package: that package sends through package net, whose start-up and
// poller set-up cost 0.2-0.3 ms of every create (hack/bench); the sender
// here is a socket, a connect and a send. tests/journald_test.go checks
// that journald stores the same fields for a record sent either way.

// journalDatagram encodes a record: PRIORITY, MESSAGE, then the other
// fields in name order (a fixed order keeps datagrams comparable).
func journalDatagram(message string, priority Priority, fields map[string]string) ([]byte, error) {
	names := make([]string, 0, len(fields))
	size := len(message) + 32
	for name, value := range fields {
		if err := validJournalFieldName(name); err != nil {
			return nil, err
		}
		if name == fieldPriority || name == fieldMessage {
			return nil, fmt.Errorf("journal field %s is written from the record itself", name)
		}
		names = append(names, name)
		size += len(name) + len(value) + 10
	}
	slices.Sort(names)
	b := make([]byte, 0, size)
	b = append(b, fieldPriority+"="...)
	b = strconv.AppendInt(b, int64(priority), 10)
	b = append(b, '\n')
	b = appendJournalField(b, fieldMessage, message)
	for _, name := range names {
		b = appendJournalField(b, name, fields[name])
	}
	return b, nil
}

func appendJournalField(b []byte, name, value string) []byte {
	b = append(b, name...)
	if strings.IndexByte(value, '\n') < 0 {
		b = append(b, '=')
	} else {
		b = append(b, '\n')
		b = binary.LittleEndian.AppendUint64(b, uint64(len(value)))
	}
	b = append(b, value...)
	return append(b, '\n')
}

// validJournalFieldName accepts what journald stores as a field the client
// sent: upper-case letters, digits and underscores, not starting with an
// underscore (journald's trusted fields) nor a digit, at most 64 bytes.
// journald silently drops a field with any other name.
func validJournalFieldName(name string) error {
	if name == "" || len(name) > maxFieldNameLength {
		return fmt.Errorf("journal field name %q: must be 1 to %d characters", name, maxFieldNameLength)
	}
	if name[0] == '_' || ('0' <= name[0] && name[0] <= '9') {
		return fmt.Errorf("journal field name %q: must not start with an underscore or a digit", name)
	}
	for _, c := range []byte(name) {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("journal field name %q: only A-Z, 0-9 and _ are allowed", name)
		}
	}
	return nil
}

// errJournalQueueFull is the error of a journald whose queue stayed full
// until the deadline: it is alive but not reading.
var errJournalQueueFull = errors.New("its queue stayed full")

// sendJournalDatagram sends datagram to the journald socket at path. The
// socket is non-blocking: a journald whose queue is full is waited for in
// poll(2), for at most timeout, on the calling thread, so that a hung
// journald cannot hold the runtime call. A record larger than a datagram
// goes as a memfd.
func sendJournalDatagram(path string, datagram []byte, timeout time.Duration) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("journal socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("connect to %s: %w", path, err)
	}
	deadline := time.Now().Add(timeout)
	err = sendWithin(fd, datagram, nil, deadline)
	if errors.Is(err, unix.EMSGSIZE) || errors.Is(err, unix.ENOBUFS) {
		err = sendJournalMemfd(fd, datagram, deadline)
	}
	if errors.Is(err, errJournalQueueFull) {
		return fmt.Errorf("journald did not take the record within %s: %w", timeout, err)
	}
	return err
}

// sendJournalMemfd passes datagram as a sealed memfd: journald reads a
// record of any size from it, and the seals promise it cannot change.
func sendJournalMemfd(fd int, datagram []byte, deadline time.Time) error {
	mfd, err := unix.MemfdCreate("guard-runtime-journal", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return fmt.Errorf("memfd for a %d-byte journal record: %w", len(datagram), err)
	}
	defer unix.Close(mfd)
	for rest := datagram; len(rest) > 0; {
		n, err := unix.Write(mfd, rest)
		if err != nil {
			return fmt.Errorf("write journal record to memfd: %w", err)
		}
		rest = rest[n:]
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(uintptr(mfd), unix.F_ADD_SEALS, seals); err != nil {
		return fmt.Errorf("seal journal memfd: %w", err)
	}
	return sendWithin(fd, nil, unix.UnixRights(mfd), deadline)
}

// sendWithin sends on the connected non-blocking socket fd, waiting while
// the peer's queue is full, until deadline.
func sendWithin(fd int, data, oob []byte, deadline time.Time) error {
	for {
		err := unix.Sendmsg(fd, data, oob, nil, 0)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case !errors.Is(err, unix.EAGAIN):
			return fmt.Errorf("send to journald: %w", err)
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return errJournalQueueFull
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		ms := int((wait + time.Millisecond - 1) / time.Millisecond)
		if _, err := unix.Poll(fds, ms); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait for journald: %w", err)
		}
	}
}
