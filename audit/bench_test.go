package audit

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Open runs on every runtime call, pass-through commands included.
func BenchmarkOpen(b *testing.B) {
	for b.Loop() {
		Open("")
	}
}

// BenchmarkWriteToJournal sends to a socket that a goroutine drains, as
// journald would: encoding, socket, connect and send.
func BenchmarkWriteToJournal(b *testing.B) {
	journald := newFakeJournald(b)
	go func() {
		buf := make([]byte, 1<<16)
		for {
			if _, _, err := unix.Recvfrom(journald.fd, buf, 0); err != nil && err != unix.EAGAIN && err != unix.EINTR {
				return
			}
		}
	}()
	l, stderr := openAt(b, filepath.Join(b.TempDir(), "audit.log"), journald.path)
	rec := fullRecord()
	for b.Loop() {
		l.Write(rec)
	}
	if stderr.String() != "" {
		b.Fatalf("fell back: %s", stderr)
	}
}

func BenchmarkWriteToFallbackFile(b *testing.B) {
	l, _ := openWithoutJournal(b, filepath.Join(b.TempDir(), "audit.log"))
	rec := fullRecord()
	for b.Loop() {
		l.Write(rec)
	}
}
