package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// withoutJournald runs a command in a private mount namespace in which
// /run/systemd/journal is an empty tmpfs: journald is unreachable there, so
// audit records go to the fallback file, while runc's state and the
// containers stay on the host.
func withoutJournald(bin string, args ...string) []string {
	script := `if [ -d /run/systemd/journal ]; then mount -t tmpfs none /run/systemd/journal || exit 97; fi; exec "$@"`
	return append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", bin}, args...)
}

// Thirty containers created at once on two cores all start, each with its
// one audit record, whole, in the fallback file that every call appends to.
func TestThirtyConcurrentCreates(t *testing.T) {
	requireBinary(t, "unshare", "apt-get install -y util-linux")
	e := newRuncEnv(t)
	settings := e.baseSettings(t)
	config := writeGuardSettings(t, settings)
	const n = 30
	ids := make([]string, n)
	bundles := make([]string, n)
	for i := range ids {
		ids[i] = "load-" + strconv.Itoa(i)
		bundles[i] = e.bundle(t, []string{"sleep", "120"}, nonRootWithSeccomp(t))
		id := ids[i]
		t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", id).Run() })
	}

	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			argv := withoutJournald(e.guard, "--guard-config", config, "--root", e.root,
				"--log", filepath.Join(bundles[i], "log.json"), "--log-format", "json", "create", "--bundle", bundles[i], ids[i])
			_, errOut, err := runCommand(argv[0], argv[1:]...)
			if err != nil {
				errs[i] = fmt.Errorf("create %s: %v: %s", ids[i], err, errOut)
			}
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	for _, id := range ids {
		if _, errOut, err := e.guardCmd("--root", e.root, "start", id); err != nil {
			t.Fatalf("start %s: %v: %s", id, err, errOut)
		}
		out, _, err := e.guardCmd("--root", e.root, "state", id)
		var state struct{ Status string }
		if err != nil || json.Unmarshal([]byte(out), &state) != nil || state.Status != "running" {
			t.Fatalf("state %s: %v: %s", id, err, out)
		}
	}
	for _, id := range ids {
		if _, errOut, err := e.guardCmd("--root", e.root, "delete", "--force", id); err != nil {
			t.Errorf("delete %s: %v: %s", id, err, errOut)
		}
	}

	recorded := auditedContainers(t, settings.auditFile)
	slices.Sort(recorded)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(recorded, want) {
		t.Errorf("the fallback file records containers %v, want each of %v once", recorded, want)
	}
}

// auditedContainers reads the fallback audit file, checks that every line
// is one whole JSON record of a rewrite, and returns their container ids.
func auditedContainers(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the fallback audit file: %v", err)
	}
	var ids []string
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for scanner.Scan() {
		var rec map[string]string
		if err := json.Unmarshal(scanner.Bytes(), &rec); err != nil {
			t.Fatalf("audit line is not one JSON record (interleaved writes?): %v: %.300s", err, scanner.Text())
		}
		if rec["GUARD_DECISION"] != "rewrite" || rec["GUARD_OPERATION"] != "create" {
			t.Errorf("unexpected audit record: %v", rec)
		}
		ids = append(ids, rec["GUARD_CONTAINER_ID"])
	}
	return ids
}

// The runtime guard-runtime hands off to gets the descriptors guard-runtime
// was given and nothing more (no config, policy, bundle or audit file of
// its own), and holds no lock that guard-runtime took: a lock held across
// the exec would serialise runtime calls behind the container's runc.
func TestNothingIsHeldAcrossTheHandOff(t *testing.T) {
	e := newRuncEnv(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	standIn := harness.BuildCommand(t, "./tests/cmd/fdreport")
	t.Setenv("GUARD_FDREPORT", report)
	settings := e.baseSettings(t)
	settings.runtime, settings.digest = standIn, fileDigest(t, standIn)
	config := writeGuardSettings(t, settings)
	bundle := e.bundle(t, []string{"true"}, nonRootWithSeccomp(t))

	run := func(bin string, args ...string) (fds map[string]string, locks string) {
		t.Helper()
		os.Remove(report + ".fds")
		argv := withoutJournald(bin, args...)
		if _, errOut, err := runCommand(argv[0], argv[1:]...); err != nil {
			t.Fatalf("%s %v: %v: %s", bin, args, err, errOut)
		}
		listing, err := os.ReadFile(report + ".fds")
		if err != nil {
			t.Fatalf("the runtime stand-in did not run: %v", err)
		}
		lockData, _ := os.ReadFile(report + ".locks")
		return openDescriptors(string(listing)), strings.TrimSpace(string(lockData))
	}
	given, _ := run(standIn) // what the caller passes on, without guard-runtime
	for _, call := range [][]string{
		{"create", "--bundle", bundle, "held"}, // a rewrite, with its audit record
		{"state", "held"},
	} {
		fds, locks := run(e.guard, append([]string{"--guard-config", config, "--root", e.root}, call...)...)
		if locks != "" {
			t.Errorf("%s: the runtime holds a lock taken before the hand-off: %s", call[0], locks)
		}
		for fd, target := range fds {
			if _, ok := given[fd]; !ok && target != standIn {
				t.Errorf("%s: the runtime inherits descriptor %s on %s, which its caller did not pass", call[0], fd, target)
			}
		}
	}
	if _, err := os.Stat(settings.auditFile); err != nil {
		t.Errorf("the create wrote no record to the fallback file: %v", err)
	}
}

// openDescriptors reads `ls -l /proc/PID/fd` into descriptor -> target.
func openDescriptors(listing string) map[string]string {
	fds := map[string]string{}
	for _, line := range strings.Split(listing, "\n") {
		name, target, ok := strings.Cut(line, " -> ")
		if !ok {
			continue
		}
		fields := strings.Fields(name)
		fds[fields[len(fields)-1]] = target
	}
	return fds
}
