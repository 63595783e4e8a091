package audit

import (
	"strings"
	"testing"
)

// FuzzJournalDatagram encodes a record and reads it back as journald
// would: every field comes back whole, whatever bytes its value holds (a
// newline must not end a value early and smuggle in another field), and a
// name journald would drop is refused rather than sent.
func FuzzJournalDatagram(f *testing.F) {
	f.Add("allowed create of c1", "GUARD_POLICY", "restricted", "GUARD_VIOLATIONS", "[]")
	f.Add("denied:\nGUARD_DECISION=allow", "GUARD_DECISION", "deny", "GUARD_PATCH", "a\nb\n")
	f.Add("", "_PID", "1", "guard_x", "\x00\xff")
	f.Fuzz(func(t *testing.T, message, name1, value1, name2, value2 string) {
		fields := map[string]string{name1: value1, name2: value2}
		datagram, err := journalDatagram(message, PriorityDeny, fields)
		for name := range fields {
			if validJournalFieldName(name) != nil || name == fieldPriority || name == fieldMessage {
				if err == nil {
					t.Fatalf("field name %q was accepted", name)
				}
				return
			}
		}
		if err != nil {
			t.Fatalf("valid fields refused: %v", err)
		}
		got := parseJournalRecord(t, datagram)
		want := map[string]string{fieldPriority: "4", fieldMessage: message}
		for name, value := range fields {
			want[name] = value
		}
		if !mapsEqual(got, want) {
			t.Fatalf("read back %q, want %q", got, want)
		}
		if !strings.HasPrefix(string(datagram), "PRIORITY=4\n") {
			t.Fatalf("datagram does not start with PRIORITY: %.40q", datagram)
		}
	})
}
