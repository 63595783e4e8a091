package enforce

// The hand-off to the real OCI runtime. guard-runtime opens the runtime
// binary once, checks the sha256 of that open file against the pins in
// config.yaml, and executes the very same open file, so a rename or a
// replacement of the path between the check and the exec cannot slip another
// binary in. A verification cache keyed by the file's identity keeps the
// check to a few system calls. docs/runtime-verification.md gives the threat
// model and the races that remain.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotPinned is returned when config.yaml has no runtime.sha256: without a
// pin there is nothing to verify the runtime against, so guard-runtime runs
// nothing.
var ErrNotPinned = errors.New("runtime is not pinned")

// Runtime is the real OCI runtime binary, opened once, verified, and executed
// from that same open file.
type Runtime struct {
	// Path is the configured runtime path; the runtime sees it as argv[0].
	Path string
	// Digest is the hex sha256 of the opened file.
	Digest string
	// FromCache says the digest came from the verification cache rather
	// than from hashing the file.
	FromCache bool
	// CacheErr says why the verification cache could not be read or
	// written, if it could not. Verification never depends on the cache:
	// without it the file is hashed, which only costs time.
	CacheErr error

	fd   int
	id   fileIdentity
	pins []string
}

// settleTime is how old a file's ctime must be before its digest is cached.
// File timestamps come from a coarse clock (one tick, or one second on some
// filesystems), so a write right after hashing could leave ctime unchanged;
// once the ctime is older than this, any later write gives a different one.
const settleTime = 2 * time.Second

// OpenRuntime opens rc.Path, verifies the open file against rc.SHA256 (from
// the verification cache in rc.CacheDir when it holds the file's identity,
// by hashing otherwise) and returns it ready to Exec. A digest that matches
// no pin is a *VerificationError; a missing pin is ErrNotPinned. Close the
// Runtime if it is not executed.
func OpenRuntime(rc RuntimeConfig) (*Runtime, error) {
	return openRuntime(rc, time.Now)
}

func openRuntime(rc RuntimeConfig, now func() time.Time) (*Runtime, error) {
	pins, err := normalizePins(rc)
	if err != nil {
		return nil, err
	}
	r, err := openRuntimeFile(rc.Path)
	if err != nil {
		return nil, err
	}
	r.pins = pins
	if err := r.verify(rc.CacheDir, now); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// normalizePins checks that every pin is a sha256 digest and lower-cases it.
func normalizePins(rc RuntimeConfig) ([]string, error) {
	if len(rc.SHA256) == 0 {
		return nil, fmt.Errorf("%w: runtime.sha256 is empty, so %s cannot be verified and guard-runtime runs no container; pin the installed runtime with `guard-runtime pin` (add --guard-config FILE for another config file)", ErrNotPinned, rc.Path)
	}
	pins := make([]string, 0, len(rc.SHA256))
	for _, d := range rc.SHA256 {
		p, err := normalizeDigest(d)
		if err != nil {
			return nil, fmt.Errorf("runtime.sha256: %w", err)
		}
		pins = append(pins, p)
	}
	return pins, nil
}

func normalizeDigest(d string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(d))
	if len(p) != 32*2 || strings.Trim(p, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%q is not a sha256 digest (64 hex digits); run `guard-runtime pin` to write the digest of the installed runtime", d)
	}
	return p, nil
}

// openRuntimeFile opens the runtime binary and records its identity. The
// descriptor is close-on-exec: the runtime must not inherit a handle on its
// own binary.
func openRuntimeFile(path string) (*Runtime, error) {
	if path == "" {
		return nil, errors.New("runtime.path is empty: set it to the real runtime binary, e.g. /usr/sbin/runc")
	}
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("runtime.path %q is not absolute: guard-runtime runs in the bundle directory, where a relative path could name any file", path)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open runtime %s: %w (install it, or set runtime.path in config.yaml)", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat runtime %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("runtime %s is not a regular file (mode %#o): set runtime.path to the runtime binary", path, st.Mode)
	}
	if st.Mode&0o111 == 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("runtime %s is not executable (mode %#o)", path, st.Mode&0o7777)
	}
	return &Runtime{Path: path, fd: fd, id: identityOf(&st)}, nil
}

// verify sets r.Digest from the cache or by hashing, and checks it against
// the pins.
func (r *Runtime) verify(cacheDir string, now func() time.Time) error {
	cache, err := openVerifyCache(cacheDir)
	r.CacheErr = err
	defer cache.close()
	if cache != nil {
		digest, err := cache.lookup(r.id)
		if err != nil {
			r.CacheErr = err
		}
		if digest != "" && slices.Contains(r.pins, digest) {
			r.Digest, r.FromCache = digest, true
			return nil
		}
		// A cached digest that matches no pin is confirmed by hashing
		// before it is reported: a refusal must rest on the content.
	}
	digest, isELF, err := r.hash()
	if err != nil {
		return err
	}
	r.Digest = digest
	// Only an ELF executable is recorded: a cache hit skips the hash, and
	// with it the look at the content that refuses a script.
	if cache != nil && isELF && settled(r.id, now()) {
		if err := cache.store(r.id, digest); err != nil {
			r.CacheErr = err
		}
	}
	if !slices.Contains(r.pins, digest) {
		return r.mismatch(cache)
	}
	if !isELF {
		return fmt.Errorf("runtime %s is not an ELF executable: set runtime.path to the runtime binary itself, not a script that runs it (a script's interpreter would read it again by path, unverified)", r.Path)
	}
	return nil
}

// hash computes the sha256 of the open file. The file must hold still while
// it is read: its identity (any write changes the ctime) is compared before
// and after. A change that is not a write, such as the unlink of a rename
// over the path, also moves the ctime, so the file is read again, a few
// times at most.
func (r *Runtime) hash() (digest string, isELF bool, err error) {
	for range 3 {
		digest, isELF, err = hashFile(r.fd)
		if err != nil {
			return "", false, fmt.Errorf("hash runtime %s: %w", r.Path, err)
		}
		id, err := r.identity()
		if err != nil {
			return "", false, err
		}
		if id == r.id {
			return digest, isELF, nil
		}
		r.id = id
	}
	return "", false, &VerificationError{Path: r.Path, Expected: r.pins, ModifiedDuringVerification: true}
}

func (r *Runtime) identity() (fileIdentity, error) {
	var st unix.Stat_t
	if err := unix.Fstat(r.fd, &st); err != nil {
		return fileIdentity{}, fmt.Errorf("stat runtime %s: %w", r.Path, err)
	}
	return identityOf(&st), nil
}

// hashBufferSize: a buffer this size stays on the stack and in the CPU cache.
const hashBufferSize = 64 << 10

// settled reports whether id's ctime is old enough that any later write to
// the file is bound to change it (see settleTime).
func settled(id fileIdentity, now time.Time) bool {
	ctime := time.Unix(int64(id.Ctime.Sec), int64(id.Ctime.Nsec))
	return now.Sub(ctime) >= settleTime
}

// checkUnchanged makes sure the open file still has the verified content
// right before it is executed. An unchanged identity proves it (any write
// changes the ctime); a changed one, e.g. by a rename over the path, which
// moves the ctime of the file it unlinks, is settled by hashing again.
func (r *Runtime) checkUnchanged() error {
	id, err := r.identity()
	if err != nil || id == r.id {
		return err
	}
	verified := r.Digest
	digest, _, err := r.hash()
	if err != nil {
		return err
	}
	if digest != verified {
		return &VerificationError{Path: r.Path, Expected: r.pins, Actual: digest, ModifiedDuringVerification: true}
	}
	return nil
}

// Exec replaces the current process with the verified runtime. args come
// without argv[0]; the runtime gets r.Path as argv[0], args and env. The
// kernel executes the open file through /proc/self/fd, never the path
// again. syscall.Exec also restores the RLIMIT_NOFILE that the Go runtime
// raised at start-up, so the runtime starts with the limits guard-runtime
// was given. Exec only returns on error.
func (r *Runtime) Exec(args []string, env []string) error {
	if r == nil || r.fd < 0 {
		return errors.New("exec runtime: it is not open")
	}
	if err := r.checkUnchanged(); err != nil {
		return err
	}
	argv := make([]string, 0, len(args)+1)
	argv = append(argv, r.Path)
	argv = append(argv, args...)
	fdPath := "/proc/self/fd/" + strconv.Itoa(r.fd)
	err := syscall.Exec(fdPath, argv, env)
	if errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("exec runtime %s through %s: %w (is /proc mounted? a dynamically linked runtime also needs its ELF interpreter)", r.Path, fdPath, err)
	}
	return fmt.Errorf("exec runtime %s through %s: %w", r.Path, fdPath, err)
}

// Close releases the open runtime file when it is not executed.
func (r *Runtime) Close() error {
	if r == nil || r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

// fileIdentity is what the verification cache is keyed by. Any write to the
// file changes its ctime (and the kernel alone sets ctime); a replacement
// changes the device or inode.
type fileIdentity struct {
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime unix.Timespec
}

func identityOf(st *unix.Stat_t) fileIdentity {
	return fileIdentity{
		Dev:   uint64(st.Dev),
		Ino:   uint64(st.Ino),
		Size:  int64(st.Size),
		Mtime: st.Mtim,
		Ctime: st.Ctim,
	}
}

// appendKey writes the identity as "dev ino size mtime ctime", times as
// seconds.nanoseconds.
func (id fileIdentity) appendKey(b []byte) []byte {
	b = strconv.AppendUint(b, id.Dev, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, id.Ino, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, id.Size, 10)
	b = append(b, ' ')
	b = appendTimespec(b, id.Mtime)
	b = append(b, ' ')
	return appendTimespec(b, id.Ctime)
}

func appendTimespec(b []byte, ts unix.Timespec) []byte {
	b = strconv.AppendInt(b, int64(ts.Sec), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(ts.Nsec), 10)
}

// parseKey reads the five fields written by appendKey.
func parseKey(fields []string) (fileIdentity, error) {
	var id fileIdentity
	if len(fields) != 5 {
		return id, fmt.Errorf("identity has %d fields, want 5", len(fields))
	}
	var err error
	if id.Dev, err = strconv.ParseUint(fields[0], 10, 64); err != nil {
		return id, err
	}
	if id.Ino, err = strconv.ParseUint(fields[1], 10, 64); err != nil {
		return id, err
	}
	if id.Size, err = strconv.ParseInt(fields[2], 10, 64); err != nil {
		return id, err
	}
	if id.Mtime, err = parseTimespec(fields[3]); err != nil {
		return id, err
	}
	id.Ctime, err = parseTimespec(fields[4])
	return id, err
}

func parseTimespec(s string) (unix.Timespec, error) {
	sec, nsec, ok := strings.Cut(s, ".")
	if !ok {
		return unix.Timespec{}, fmt.Errorf("time %q is not seconds.nanoseconds", s)
	}
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return unix.Timespec{}, err
	}
	nsecs, err := strconv.ParseInt(nsec, 10, 64)
	if err != nil {
		return unix.Timespec{}, err
	}
	return unix.NsecToTimespec(secs*int64(time.Second) + nsecs), nil
}

// verifyCache is the directory of verified identities: one small file per
// runtime inode, named v-<dev>-<ino>, holding
//
//	guard-runtime-verified-v2 <dev> <ino> <size> <mtime> <ctime> <sha256>
//
// It records a fact (this identity had this digest, and is an ELF
// executable; nothing else is recorded), not a decision, so a
// change of pins needs no invalidation. Only a directory and files owned by
// root (or by the user guard-runtime runs as) and writable by nobody else
// are trusted; otherwise guard-runtime hashes.
//
// A hit costs an lstat of the directory and an open, fstat, read and close
// of the entry. Writes, on a miss only, go through a descriptor of the
// directory checked to be the one that was lstat'ed.
type verifyCache struct {
	dir   string
	st    unix.Stat_t
	dirfd int // -1 until a write opens it
}

const (
	cacheEntryMagic   = "guard-runtime-verified-v2"
	maxCacheEntrySize = 4096
)

// openVerifyCache checks, or creates with mode 0700, the cache directory.
// An empty dir disables the cache.
func openVerifyCache(dir string) (*verifyCache, error) {
	if dir == "" {
		return nil, nil
	}
	c := &verifyCache{dir: dir, dirfd: -1}
	err := unix.Lstat(dir, &c.st)
	if errors.Is(err, unix.ENOENT) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create verification cache: %w", err)
		}
		err = unix.Lstat(dir, &c.st)
	}
	if err != nil {
		return nil, fmt.Errorf("verification cache: %w", err)
	}
	if c.st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, fmt.Errorf("verification cache %s is not a directory (mode %#o): not trusted, the runtime is hashed instead", dir, c.st.Mode)
	}
	if !cacheFileTrusted(&c.st) {
		return nil, checkCacheTrusted(&c.st, "verification cache directory "+dir)
	}
	return c, nil
}

// openDir opens the directory for writing entries into it, making sure it
// is the directory that was checked.
func (c *verifyCache) openDir() error {
	if c.dirfd >= 0 {
		return nil
	}
	fd, err := unix.Open(c.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open verification cache %s: %w", c.dir, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Dev != c.st.Dev || st.Ino != c.st.Ino {
		unix.Close(fd)
		return fmt.Errorf("verification cache %s was replaced while in use (stat: %v)", c.dir, err)
	}
	c.dirfd = fd
	return nil
}

func (c *verifyCache) close() {
	if c != nil && c.dirfd >= 0 {
		unix.Close(c.dirfd)
	}
}

// checkCacheTrusted accepts a cache file or directory only if nobody but its
// owner can write it and the owner is root or the user guard-runtime runs
// as (which is root on a host).
func checkCacheTrusted(st *unix.Stat_t, what string) error {
	if st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not root: not trusted, the runtime is hashed instead (chown root it, or remove it)", what, st.Uid)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %#o): not trusted, the runtime is hashed instead (chmod go-w it)", what, st.Mode&0o7777)
	}
	return nil
}

// cacheFileTrusted is checkCacheTrusted's verdict without building its
// message, for the success path of every runtime call.
func cacheFileTrusted(st *unix.Stat_t) bool {
	return (st.Uid == 0 || int(st.Uid) == os.Geteuid()) && st.Mode&0o022 == 0
}

func cacheEntryName(id fileIdentity) string {
	return "v-" + strconv.FormatUint(id.Dev, 10) + "-" + strconv.FormatUint(id.Ino, 10)
}

// lookup returns the digest recorded for exactly this identity, or "".
func (c *verifyCache) lookup(id fileIdentity) (string, error) {
	data, err := c.readFile(cacheEntryName(id))
	if err != nil || data == nil {
		return "", err
	}
	want := append([]byte(cacheEntryMagic+" "), id.appendKey(nil)...)
	want = append(want, ' ')
	rest, ok := strings.CutPrefix(string(data), string(want))
	if !ok {
		return "", nil // an older identity of the same inode: a miss
	}
	digest, ok := strings.CutSuffix(rest, "\n")
	if _, err := normalizeDigest(digest); !ok || err != nil {
		return "", fmt.Errorf("verification cache entry %s/%s is malformed: it is replaced", c.dir, cacheEntryName(id))
	}
	return digest, nil
}

// readFile reads a small trusted file of the cache directory; a missing file
// is (nil, nil).
func (c *verifyCache) readFile(name string) ([]byte, error) {
	return c.readFileUpTo(name, maxCacheEntrySize)
}

// readFileUpTo is readFile for entries of up to limit bytes.
func (c *verifyCache) readFileUpTo(name string, limit int64) ([]byte, error) {
	fd, err := unix.Open(c.dir+"/"+name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s/%s: %w", c.dir, name, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("stat %s/%s: %w", c.dir, name, err)
	}
	// The file's description is only built for an error: every runtime
	// call reads two or three entries.
	what := func() string { return "verification cache file " + c.dir + "/" + name }
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > limit {
		return nil, fmt.Errorf("%s is not a small regular file: not trusted", what())
	}
	if !cacheFileTrusted(&st) {
		return nil, checkCacheTrusted(&st, what())
	}
	buf := make([]byte, st.Size+1)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what(), err)
	}
	return buf[:n], nil
}

func (c *verifyCache) store(id fileIdentity, digest string) error {
	line := append([]byte(cacheEntryMagic+" "), id.appendKey(nil)...)
	line = append(line, ' ')
	line = append(line, digest...)
	line = append(line, '\n')
	return c.writeFile(cacheEntryName(id), line)
}

var tempCounter atomic.Uint64

// writeFile replaces name in the cache directory atomically: concurrent
// callers each write their own temporary file and rename it into place, so
// a reader sees one whole entry or none.
func (c *verifyCache) writeFile(name string, data []byte) error {
	if err := c.openDir(); err != nil {
		return err
	}
	tmp := fmt.Sprintf(".%s.tmp-%d-%d", name, os.Getpid(), tempCounter.Add(1))
	if err := replaceFileAt(c.dirfd, tmp, name, data); err != nil {
		return fmt.Errorf("write verification cache %s: %w", c.dir, err)
	}
	return nil
}

// replaceFileAt writes data to a new file tmp, mode 0600, and renames it
// over name, both relative to dirfd (unix.AT_FDCWD for paths), through
// the descriptor: an *os.File would register the file with the network
// poller and toggle its flags, on every runtime call that writes. A
// reader sees the old content or the new, never a part; on any error tmp
// is removed. The error is an *os.PathError naming the step.
func replaceFileAt(dirfd int, tmp, name string, data []byte) error {
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "create", Path: tmp, Err: err}
	}
	werr := writeAll(fd, data)
	if err := errors.Join(werr, unix.Close(fd)); err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return &os.PathError{Op: "write", Path: tmp, Err: err}
	}
	if err := unix.Renameat(dirfd, tmp, dirfd, name); err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return &os.PathError{Op: "rename", Path: tmp, Err: err}
	}
	return nil
}

// writeAll writes data to fd, retrying short writes and interruptions.
func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// PinChange says how the runtime file differs from the file that was pinned.
type PinChange int

const (
	// PinChangeUnknown: there is no record of the pinned file (pinned by
	// hand, on another host, or without a usable cache directory).
	PinChangeUnknown PinChange = iota
	// PinChangeNone: the file is the one that was pinned; the pins in
	// config.yaml changed since.
	PinChangeNone
	// PinChangeReplaced: another file (a new inode) now sits at the path,
	// as after a package upgrade.
	PinChangeReplaced
	// PinChangeModified: the pinned file itself was written in place, as a
	// CVE-2019-5736 escape overwrites runc.
	PinChangeModified
)

func (c PinChange) String() string {
	switch c {
	case PinChangeNone:
		return "unchanged"
	case PinChangeReplaced:
		return "replaced"
	case PinChangeModified:
		return "modified in place"
	default:
		return "unknown"
	}
}

// VerificationError is a runtime binary whose content is not a pinned one.
type VerificationError struct {
	Path string
	// Expected are the pinned digests (runtime.sha256).
	Expected []string
	// Actual is the sha256 of the file found; empty when the file kept
	// changing while it was being hashed.
	Actual string
	// ChangedSincePinned compares the file with the record `guard-runtime
	// pin` left in the cache directory.
	ChangedSincePinned PinChange
	// PinnedAt is when the record was made; zero when there is none.
	PinnedAt time.Time
	// ModifiedDuringVerification: the file was written to after it was
	// opened, while it was hashed or before it was executed.
	ModifiedDuringVerification bool
}

func (e *VerificationError) Error() string {
	expected := strings.Join(e.Expected, ", ")
	if e.ModifiedDuringVerification {
		now := ""
		if e.Actual != "" {
			now = ", its sha256 is now " + e.Actual
		}
		return fmt.Sprintf("runtime %s was written to while guard-runtime verified and executed it, so it is not run (runtime.sha256 allows %s%s): something is modifying the runtime binary in place, as a CVE-2019-5736 escape does; reinstall the runtime from its package and investigate the host before running `guard-runtime pin`", e.Path, expected, now)
	}
	return fmt.Sprintf("runtime %s does not match its pin, so it is not run: its sha256 is %s, runtime.sha256 allows %s; %s", e.Path, e.Actual, expected, e.advice())
}

func (e *VerificationError) advice() string {
	when := ""
	if !e.PinnedAt.IsZero() {
		when = " on " + e.PinnedAt.UTC().Format(time.RFC3339)
	}
	switch e.ChangedSincePinned {
	case PinChangeModified:
		return "the file was modified in place since it was pinned" + when + ", as a CVE-2019-5736 escape overwrites runc: do not re-pin it; reinstall the runtime from its package (e.g. apt-get install --reinstall runc), investigate the host, then run `guard-runtime pin`"
	case PinChangeReplaced:
		return "the file was replaced by another one since it was pinned" + when + ", as a package upgrade does: if you upgraded the runtime, check the package (e.g. dpkg --verify runc) and run `guard-runtime pin` to pin the new binary; otherwise treat the host as compromised"
	case PinChangeNone:
		return "the file has not changed since it was pinned" + when + ", so runtime.sha256 was edited since: run `guard-runtime pin` to pin it again, or restore runtime.sha256"
	default:
		return "there is no record of the file as it was pinned (pinned by hand or on another host), so guard-runtime cannot tell whether it changed: if you upgraded the runtime on purpose, check the package (e.g. dpkg --verify runc) and run `guard-runtime pin`; otherwise reinstall it from its package"
	}
}

// mismatch builds the error for a digest that matches no pin, comparing the
// file with the record left by `guard-runtime pin`.
func (r *Runtime) mismatch(cache *verifyCache) error {
	e := &VerificationError{Path: r.Path, Expected: r.pins, Actual: r.Digest}
	if cache == nil {
		return e
	}
	rec, ok := cache.readPinRecord(r.Path)
	if !ok {
		return e
	}
	e.PinnedAt = rec.PinnedAt
	e.ChangedSincePinned = rec.compare(r.fd, r.id, r.Digest)
	return e
}
