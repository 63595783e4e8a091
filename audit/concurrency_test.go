package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// bigViolations makes each line tens of KiB, far past the sizes at which
// writes split, so that interleaving writers would show.
func bigViolations(writer string) json.RawMessage {
	items := make([]string, 200)
	for i := range items {
		items[i] = fmt.Sprintf(`{"control":"capabilities","field":"/process/capabilities/bounding/%d","action":"deny","message":"%s %s"}`,
			i, writer, strings.Repeat("x", 100))
	}
	return json.RawMessage("[" + strings.Join(items, ",") + "]")
}

func checkWholeLines(t *testing.T, path string, writers, perWriter int) {
	t.Helper()
	records := readLines(t, path)
	if len(records) != writers*perWriter {
		t.Fatalf("%d records, want %d", len(records), writers*perWriter)
	}
	seen := map[string]int{}
	wantViolations := map[string]string{}
	for _, rec := range records {
		writer := rec["GUARD_CONTAINER_ID"]
		want, ok := wantViolations[writer]
		if !ok {
			want = compactJSON(bigViolations(writer))
			wantViolations[writer] = want
		}
		if rec["GUARD_VIOLATIONS"] != want {
			t.Fatalf("record of %s has a damaged GUARD_VIOLATIONS", writer)
		}
		seen[writer]++
	}
	if len(seen) != writers {
		t.Errorf("records from %d writers, want %d", len(seen), writers)
	}
	for writer, n := range seen {
		if n != perWriter {
			t.Errorf("%s wrote %d records, want %d", writer, n, perWriter)
		}
	}
}

func TestFallbackFileUnderConcurrentGoroutines(t *testing.T) {
	const goroutines, perGoroutine = 32, 25
	path := filepath.Join(t.TempDir(), "audit.log")
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One Logger per goroutine, as separate runtime calls would have.
			l, _ := openWithoutJournal(t, path)
			writer := fmt.Sprintf("goroutine-%d", g)
			for range perGoroutine {
				rec := fullRecord()
				rec.ContainerID = writer
				rec.Violations = bigViolations(writer)
				l.Write(rec)
			}
		}()
	}
	wg.Wait()
	checkWholeLines(t, path, goroutines, perGoroutine)
}

const (
	helperEnvFile  = "GUARD_AUDIT_TEST_FALLBACK_FILE"
	helperEnvName  = "GUARD_AUDIT_TEST_WRITER"
	helperEnvCount = "GUARD_AUDIT_TEST_RECORDS"
)

// TestHelperWriteRecords is not a test: it is the body of the processes that
// TestFallbackFileUnderConcurrentProcesses starts.
func TestHelperWriteRecords(t *testing.T) {
	path := os.Getenv(helperEnvFile)
	if path == "" {
		t.Skip("runs only as a child of TestFallbackFileUnderConcurrentProcesses")
	}
	count, err := strconv.Atoi(os.Getenv(helperEnvCount))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	writer := os.Getenv(helperEnvName)
	l := Open(path)
	l.sink.socketPath = filepath.Join(filepath.Dir(path), "no-journald-socket")
	for range count {
		rec := fullRecord()
		rec.ContainerID = writer
		rec.Violations = bigViolations(writer)
		l.Write(rec)
	}
	// Exit before the test framework prints PASS, so that the parent sees
	// exactly what the Logger wrote to stdout: nothing.
	os.Exit(0)
}

func TestFallbackFileUnderConcurrentProcesses(t *testing.T) {
	const processes, perProcess = 8, 100
	path := filepath.Join(t.TempDir(), "audit.log")
	type result struct {
		stdout, stderr bytes.Buffer
		err            error
	}
	results := make([]*result, processes)
	var wg sync.WaitGroup
	for p := range processes {
		res := &result{}
		results[p] = res
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriteRecords$")
		cmd.Env = append(os.Environ(),
			helperEnvFile+"="+path,
			helperEnvName+"=process-"+strconv.Itoa(p),
			helperEnvCount+"="+strconv.Itoa(perProcess))
		cmd.Stdout, cmd.Stderr = &res.stdout, &res.stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.err = cmd.Wait()
		}()
	}
	wg.Wait()
	for p, res := range results {
		if res.err != nil {
			t.Fatalf("process %d: %v\n%s", p, res.err, res.stderr.String())
		}
		if res.stdout.Len() != 0 {
			t.Errorf("process %d wrote to stdout, which engines parse: %q", p, res.stdout.String())
		}
		if n := strings.Count(res.stderr.String(), "journald is unreachable"); n != 1 {
			t.Errorf("process %d said %d times that journald is unreachable, want once: %q", p, n, res.stderr.String())
		}
	}
	checkWholeLines(t, path, processes, perProcess)
}
