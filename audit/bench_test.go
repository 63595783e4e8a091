package audit

import (
	"path/filepath"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
)

// Open runs on every runtime call, pass-through commands included.
func BenchmarkOpen(b *testing.B) {
	for b.Loop() {
		Open("")
	}
}

// BenchmarkWriteToJournal measures everything but the datagram itself.
func BenchmarkWriteToJournal(b *testing.B) {
	l, _ := openWithJournal(b, filepath.Join(b.TempDir(), "audit.log"), func(string, journal.Priority, map[string]string) error { return nil })
	rec := fullRecord()
	for b.Loop() {
		l.Write(rec)
	}
}

func BenchmarkWriteToFallbackFile(b *testing.B) {
	l, _ := openWithoutJournal(b, filepath.Join(b.TempDir(), "audit.log"))
	rec := fullRecord()
	for b.Loop() {
		l.Write(rec)
	}
}
