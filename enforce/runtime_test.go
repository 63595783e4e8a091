package enforce

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeRuntime is file content that passes for an ELF binary; it is verified
// but never executed.
func fakeRuntime(name string) []byte {
	return []byte("\x7fELF fake runtime " + name + "\n" + strings.Repeat("x", 4096))
}

func digestOf(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

func writeRuntime(t *testing.T, path string, content []byte) string {
	t.Helper()
	if err := os.WriteFile(path, content, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// settledRuntime writes a runtime file and waits until its ctime is older
// than settleTime, so that its digest may be cached, as for an installed
// runc.
func settledRuntime(t *testing.T, path string, content []byte) string {
	t.Helper()
	writeRuntime(t, path, content)
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	ctime := time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	time.Sleep(time.Until(ctime.Add(settleTime + 50*time.Millisecond)))
	return path
}

// openSettled verifies as OpenRuntime does, an hour from now: the runtime
// file was then written long enough ago for its digest to be cached. Only
// TestContentChangeIsDetectedDespiteTheCache waits for real.
func openSettled(rc RuntimeConfig) (*Runtime, error) {
	return openRuntime(rc, func() time.Time { return time.Now().Add(time.Hour) })
}

func TestOpenRuntimeAcceptsItsPin(t *testing.T) {
	t.Parallel()
	content := fakeRuntime("pinned")
	path := writeRuntime(t, filepath.Join(t.TempDir(), "runc"), content)
	digest := digestOf(content)
	other := digestOf([]byte("another runtime"))
	for name, pins := range map[string]Digests{
		"one pin":               {digest},
		"upper-case pin":        {strings.ToUpper(digest)},
		"list, installed first": {digest, other},
		"list, installed last":  {other, digest},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := OpenRuntime(RuntimeConfig{Path: path, SHA256: pins})
			if err != nil {
				t.Fatalf("OpenRuntime: %v", err)
			}
			defer r.Close()
			if r.Digest != digest || r.Path != path || r.FromCache {
				t.Errorf("got digest %s path %s fromCache %v, want %s %s false", r.Digest, r.Path, r.FromCache, digest, path)
			}
		})
	}
}

func TestOpenRuntimeRefusesAWrongPin(t *testing.T) {
	t.Parallel()
	content := fakeRuntime("tampered")
	path := writeRuntime(t, filepath.Join(t.TempDir(), "runc"), content)
	pinned := []string{digestOf([]byte("genuine runc")), digestOf([]byte("genuine runc, next release"))}
	r, err := OpenRuntime(RuntimeConfig{Path: path, SHA256: pinned})
	if err == nil {
		r.Close()
		t.Fatal("OpenRuntime accepted a runtime whose digest is not pinned")
	}
	var verr *VerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %v is not a *VerificationError", err)
	}
	actual := digestOf(content)
	if verr.Path != path || verr.Actual != actual || len(verr.Expected) != 2 {
		t.Errorf("VerificationError = %+v, want path %s, actual %s and both pins", verr, path, actual)
	}
	for _, want := range []string{path, actual, pinned[0], pinned[1], "guard-runtime pin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not mention %s", err, want)
		}
	}
}

func TestOpenRuntimeRefusesWithoutAPin(t *testing.T) {
	t.Parallel()
	path := writeRuntime(t, filepath.Join(t.TempDir(), "runc"), fakeRuntime("unpinned"))
	for name, pins := range map[string]Digests{"no pin": nil, "empty list": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := OpenRuntime(RuntimeConfig{Path: path, SHA256: pins})
			if !errors.Is(err, ErrNotPinned) {
				t.Fatalf("error %v, want ErrNotPinned", err)
			}
			for _, want := range []string{"guard-runtime pin", path} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not mention %s", err, want)
				}
			}
		})
	}
}

func TestOpenRuntimeRefusesMalformedPins(t *testing.T) {
	t.Parallel()
	content := fakeRuntime("malformed pins")
	path := writeRuntime(t, filepath.Join(t.TempDir(), "runc"), content)
	for name, pin := range map[string]string{
		"empty":     "",
		"too short": digestOf(content)[:63],
		"not hex":   strings.Repeat("g", 64),
		"prefixed":  "sha256:" + digestOf(content),
	} {
		t.Run(name, func(t *testing.T) {
			// The good digest is listed too: a list with a broken entry is
			// a broken config, not a partial pin.
			_, err := OpenRuntime(RuntimeConfig{Path: path, SHA256: Digests{digestOf(content), pin}})
			if err == nil || !strings.Contains(err.Error(), "not a sha256 digest") {
				t.Fatalf("error %v, want one saying the pin is not a sha256 digest", err)
			}
		})
	}
}

func TestOpenRuntimeRefusesUnusableFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := []byte("#!/bin/sh\nexec /usr/sbin/runc \"$@\"\n")
	writeRuntime(t, filepath.Join(dir, "wrapper.sh"), script)
	plain := fakeRuntime("not executable")
	if err := os.WriteFile(filepath.Join(dir, "plain"), plain, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, pin, want string
	}{
		{"relative path", "runc", digestOf(plain), "not absolute"},
		{"missing file", filepath.Join(dir, "missing"), digestOf(plain), "no such file"},
		{"directory", dir, digestOf(plain), "not a regular file"},
		{"not executable", filepath.Join(dir, "plain"), digestOf(plain), "not executable"},
		{"script", filepath.Join(dir, "wrapper.sh"), digestOf(script), "not an ELF executable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenRuntime(RuntimeConfig{Path: tc.path, SHA256: Digests{tc.pin}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// A pinned script is refused on every call, not only on the one that
// hashes it: a cache hit skips the hash and the look at the content with
// it, so a script's digest is never recorded.
func TestPinnedScriptIsRefusedFromTheCacheToo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := []byte("#!/bin/sh\nexec /usr/sbin/runc \"$@\"\n")
	path := writeRuntime(t, filepath.Join(dir, "wrapper.sh"), script)
	cacheDir := filepath.Join(dir, "verified")
	for call := 1; call <= 2; call++ {
		_, err := openSettled(RuntimeConfig{Path: path, SHA256: Digests{digestOf(script)}, CacheDir: cacheDir})
		if err == nil || !strings.Contains(err.Error(), "not an ELF executable") {
			t.Fatalf("call %d: error %v, want the refusal of a script", call, err)
		}
	}
	if _, err := os.Stat(cacheEntryPath(t, cacheDir, path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the script's digest was recorded (stat: %v)", err)
	}
}

func cacheEntryPath(t *testing.T, cacheDir, runtimePath string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(runtimePath, &st); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(cacheDir, fmt.Sprintf("v-%d-%d", st.Dev, st.Ino))
}

// forgeCacheEntry rewrites the cached digest of runtimePath, as only root
// could. If OpenRuntime then reports the forged digest, it did not hash.
func forgeCacheEntry(t *testing.T, entry, realDigest, forgedDigest string) {
	t.Helper()
	data, err := os.ReadFile(entry)
	if err != nil {
		t.Fatalf("the verification cache has no entry: %v", err)
	}
	forged := strings.Replace(string(data), realDigest, forgedDigest, 1)
	if forged == string(data) {
		t.Fatalf("entry %q does not hold digest %s", data, realDigest)
	}
	if err := os.WriteFile(entry, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestVerificationCacheHitDoesNotHash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := fakeRuntime("cached")
	path := writeRuntime(t, filepath.Join(dir, "runc"), content)
	cacheDir := filepath.Join(dir, "verified")
	digest := digestOf(content)

	r, err := openSettled(RuntimeConfig{Path: path, SHA256: Digests{digest}, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if r.FromCache || r.CacheErr != nil {
		t.Fatalf("first verification: fromCache %v, cache error %v; want a hash and a stored entry", r.FromCache, r.CacheErr)
	}
	entry := cacheEntryPath(t, cacheDir, path)
	forged := digestOf([]byte("what the cache claims"))
	forgeCacheEntry(t, entry, digest, forged)

	r, err = openSettled(RuntimeConfig{Path: path, SHA256: Digests{forged}, CacheDir: cacheDir})
	if err != nil {
		t.Fatalf("with the forged entry pinned: %v", err)
	}
	r.Close()
	if r.Digest != forged || !r.FromCache {
		t.Fatalf("digest %s fromCache %v: the file was hashed although the cache held its identity", r.Digest, r.FromCache)
	}

	// A cached digest that matches no pin is confirmed by hashing, and the
	// entry is corrected.
	r, err = openSettled(RuntimeConfig{Path: path, SHA256: Digests{digest}, CacheDir: cacheDir})
	if err != nil {
		t.Fatalf("with the real digest pinned: %v", err)
	}
	r.Close()
	if r.Digest != digest || r.FromCache {
		t.Fatalf("digest %s fromCache %v, want the hashed %s", r.Digest, r.FromCache, digest)
	}
	if data, _ := os.ReadFile(entry); !strings.Contains(string(data), digest) {
		t.Errorf("entry %q was not corrected to %s", data, digest)
	}
}

func TestVerificationCacheSkipsAFreshFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := fakeRuntime("fresh")
	path := writeRuntime(t, filepath.Join(dir, "runc"), content)
	cacheDir := filepath.Join(dir, "verified")
	r, err := OpenRuntime(RuntimeConfig{Path: path, SHA256: Digests{digestOf(content)}, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := os.Stat(cacheEntryPath(t, cacheDir, path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file changed %v ago was cached (stat: %v): a write in the same clock tick would keep its ctime", settleTime, err)
	}
}

func TestContentChangeIsDetectedDespiteTheCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := fakeRuntime("original")
	path := settledRuntime(t, filepath.Join(dir, "runc"), content)
	cacheDir := filepath.Join(dir, "verified")
	rc := RuntimeConfig{Path: path, SHA256: Digests{digestOf(content)}, CacheDir: cacheDir}
	for range 2 {
		r, err := OpenRuntime(rc)
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	// Overwrite in place with content of the same size and put the mtime
	// back, as a careful attacker would: only the ctime betrays the write.
	tampered := fakeRuntime("tampered")
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(tampered, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}

	r, err := OpenRuntime(rc)
	var verr *VerificationError
	if !errors.As(err, &verr) {
		r.Close()
		t.Fatalf("OpenRuntime after an in-place write: %v, want a *VerificationError", err)
	}
	if verr.Actual != digestOf(tampered) {
		t.Errorf("actual digest %s, want the tampered content's %s", verr.Actual, digestOf(tampered))
	}
}

func TestUntrustedCacheIsNotUsed(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("changing the owner of cache files needs root")
	}
	const stranger = 12345
	for _, tc := range []struct {
		name  string
		spoil func(dir, entry string) error
		want  string
	}{
		{"directory writable by others", func(dir, _ string) error { return os.Chmod(dir, 0o777) }, "writable by group or others"},
		{"directory owned by another user", func(dir, _ string) error { return os.Chown(dir, stranger, stranger) }, "owned by uid 12345"},
		{"entry writable by others", func(_, entry string) error { return os.Chmod(entry, 0o666) }, "writable by group or others"},
		{"entry owned by another user", func(_, entry string) error { return os.Chown(entry, stranger, stranger) }, "owned by uid 12345"},
		{"entry is a symlink", func(dir, entry string) error {
			target := filepath.Join(dir, "elsewhere")
			if err := os.Rename(entry, target); err != nil {
				return err
			}
			return os.Symlink(target, entry)
		}, "too many levels of symbolic links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			content := fakeRuntime("untrusted cache")
			path := writeRuntime(t, filepath.Join(dir, "runc"), content)
			cacheDir := filepath.Join(dir, "verified")
			digest := digestOf(content)
			r, err := openSettled(RuntimeConfig{Path: path, SHA256: Digests{digest}, CacheDir: cacheDir})
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			entry := cacheEntryPath(t, cacheDir, path)
			forged := digestOf([]byte("forged"))
			forgeCacheEntry(t, entry, digest, forged)
			if err := tc.spoil(cacheDir, entry); err != nil {
				t.Fatal(err)
			}

			// The untrusted entry is not read: the file is hashed. (A
			// trusted directory gets a fresh entry in its place.)
			r, err = openSettled(RuntimeConfig{Path: path, SHA256: Digests{digest}, CacheDir: cacheDir})
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			if r.FromCache || r.CacheErr == nil || !strings.Contains(r.CacheErr.Error(), tc.want) {
				t.Errorf("fromCache %v, cache error %v; want a hash and an error containing %q", r.FromCache, r.CacheErr, tc.want)
			}
			_, err = openSettled(RuntimeConfig{Path: path, SHA256: Digests{forged}, CacheDir: cacheDir})
			var verr *VerificationError
			if !errors.As(err, &verr) || verr.Actual != digest {
				t.Fatalf("with the forged digest pinned: %v, want a mismatch on the hashed %s", err, digest)
			}
		})
	}
}

func TestVerificationCacheDirectoryIsCreatedPrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := fakeRuntime("new cache")
	path := writeRuntime(t, filepath.Join(dir, "runc"), content)
	cacheDir := filepath.Join(dir, "var", "lib", "guard-runtime", "verified")
	r, err := OpenRuntime(RuntimeConfig{Path: path, SHA256: Digests{digestOf(content)}, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if r.CacheErr != nil {
		t.Errorf("cache error %v", r.CacheErr)
	}
	info, err := os.Stat(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("cache directory mode %v, want 0700", info.Mode().Perm())
	}
}

func TestConcurrentVerificationsShareTheCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := fakeRuntime("concurrent")
	path := writeRuntime(t, filepath.Join(dir, "runc"), content)
	cacheDir := filepath.Join(dir, "verified")
	digest := digestOf(content)
	rc := RuntimeConfig{Path: path, SHA256: Digests{digest}, CacheDir: cacheDir}

	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			r, err := openSettled(rc)
			if err != nil {
				errs <- err
				return
			}
			if r.Digest != digest || r.CacheErr != nil {
				errs <- fmt.Errorf("digest %s, cache error %v", r.Digest, r.CacheErr)
			}
			r.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	names, err := os.ReadDir(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 {
		t.Errorf("cache holds %v, want exactly one entry and no temporary file", names)
	}
	r, err := openSettled(rc)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if !r.FromCache {
		t.Error("the entry written by concurrent callers is not a hit")
	}
}

// The Exec tests run in a child process: Exec replaces the process that
// calls it. The child is this test binary, run with helperEnv set; the
// runtime it executes is a copy of this test binary too, run with targetEnv
// set, which reports what it was given.
const (
	helperEnv = "GUARD_RUNTIME_TEST_EXEC_HELPER"
	targetEnv = "GUARD_RUNTIME_TEST_EXEC_TARGET"
	markerEnv = "GUARD_RUNTIME_TEST_MARKER"

	targetReport      = "exec target report: "
	helperRefused     = "exec refused: "
	helperRefusedExit = 7
)

type targetReportData struct {
	Argv       []string
	Marker     string
	RuntimeFDs []string // descriptors of the target that lead to its own binary
}

// TestRuntimeExecTarget is the program executed by the Exec tests.
func TestRuntimeExecTarget(t *testing.T) {
	if os.Getenv(targetEnv) == "" {
		t.Skip("run by the Exec tests as the executed runtime")
	}
	report := targetReportData{Argv: os.Args, Marker: os.Getenv(markerEnv)}
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, filepath.Dir(os.Args[0])) {
			report.RuntimeFDs = append(report.RuntimeFDs, e.Name()+" -> "+target)
		}
	}
	data, _ := json.Marshal(report)
	fmt.Println(targetReport + string(data))
	os.Exit(0)
}

// TestRuntimeExecHelper opens the runtime named in the environment,
// disturbs it as the test asks, and execs it.
func TestRuntimeExecHelper(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("run by the Exec tests in a child process")
	}
	path := os.Getenv("GUARD_RUNTIME_TEST_PATH")
	r, err := OpenRuntime(RuntimeConfig{Path: path, SHA256: Digests{os.Getenv("GUARD_RUNTIME_TEST_PIN")}})
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "rename":
		if err := os.Rename(os.Getenv("GUARD_RUNTIME_TEST_REPLACEMENT"), path); err != nil {
			t.Fatal(err)
		}
	case "write":
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("appended after verification"))
		f.Close()
	}
	env := []string{targetEnv + "=1", markerEnv + "=passed through"}
	err = r.Exec([]string{"-test.run=^TestRuntimeExecTarget$", "extra arg"}, env)
	fmt.Println(helperRefused + err.Error())
	var verr *VerificationError
	if errors.As(err, &verr) {
		os.Exit(helperRefusedExit)
	}
	os.Exit(1)
}

// copyTestBinary installs a copy of this test binary as a runtime.
func copyTestBinary(t *testing.T, dst string) []byte {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	writeRuntime(t, dst, content)
	return content
}

func runExecHelper(t *testing.T, mode, path, pin string, extraEnv ...string) (string, int) {
	t.Helper()
	env := append([]string{helperEnv + "=" + mode, "GUARD_RUNTIME_TEST_PATH=" + path, "GUARD_RUNTIME_TEST_PIN=" + pin}, extraEnv...)
	return runChildTest(t, "TestRuntimeExecHelper", env, nil)
}

// runChildTest runs the test named test of this binary in a child process
// with env as its whole environment and files as its descriptors 3, 4, …
// (nil: not open), and returns its output and exit status.
func runChildTest(t *testing.T, test string, env []string, files []*os.File) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = env
	cmd.ExtraFiles = files
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// childReport decodes into report the JSON a child printed after prefix,
// and reports whether there was one.
func childReport(t *testing.T, out, prefix string, report any) bool {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if data, ok := strings.CutPrefix(line, prefix); ok {
			if err := json.Unmarshal([]byte(data), report); err != nil {
				t.Fatal(err)
			}
			return true
		}
	}
	return false
}

func parseTargetReport(t *testing.T, out string) targetReportData {
	t.Helper()
	var report targetReportData
	if !childReport(t, out, targetReport, &report) {
		t.Fatalf("the verified runtime did not run; output:\n%s", out)
	}
	return report
}

func TestExecRunsTheVerifiedFileEvenAfterARename(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "runc")
	content := copyTestBinary(t, path)
	// The replacement exits 1 without a word: if it runs, no report.
	impostor, err := os.ReadFile("/bin/false")
	if err != nil {
		t.Fatalf("%v: install coreutils", err)
	}
	replacement := writeRuntime(t, filepath.Join(dir, "runc.new"), impostor)

	out, code := runExecHelper(t, "rename", path, digestOf(content), "GUARD_RUNTIME_TEST_REPLACEMENT="+replacement)
	report := parseTargetReport(t, out)
	if code != 0 {
		t.Errorf("exit code %d, want 0; output:\n%s", code, out)
	}
	if got, _ := os.ReadFile(path); digestOf(got) != digestOf(impostor) {
		t.Fatal("the runtime path was not replaced before Exec")
	}
	want := []string{path, "-test.run=^TestRuntimeExecTarget$", "extra arg"}
	if strings.Join(report.Argv, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("runtime argv %q, want %q", report.Argv, want)
	}
	if report.Marker != "passed through" {
		t.Errorf("runtime environment lost the marker: %q", report.Marker)
	}
	if len(report.RuntimeFDs) != 0 {
		t.Errorf("the runtime inherited descriptors of its own binary: %v", report.RuntimeFDs)
	}
}

func TestExecRefusesAFileWrittenAfterVerification(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "runc")
	content := copyTestBinary(t, path)
	out, code := runExecHelper(t, "write", path, digestOf(content))
	if code != helperRefusedExit || strings.Contains(out, targetReport) {
		t.Fatalf("exit code %d, want %d (refused without running the runtime); output:\n%s", code, helperRefusedExit, out)
	}
	if !strings.Contains(out, "written to while guard-runtime verified and executed it") {
		t.Errorf("refusal does not say the file was written to:\n%s", out)
	}
}

func TestExecAfterCloseFails(t *testing.T) {
	t.Parallel()
	content := fakeRuntime("closed")
	path := writeRuntime(t, filepath.Join(t.TempDir(), "runc"), content)
	r, err := OpenRuntime(RuntimeConfig{Path: path, SHA256: Digests{digestOf(content)}})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if err := r.Exec(nil, nil); err == nil || !strings.Contains(err.Error(), "not open") {
		t.Errorf("Exec after Close: %v", err)
	}
}
