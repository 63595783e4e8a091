package enforce

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/sys/unix"

	"github.com/guard-runtime/guard-runtime/spec"
)

// The policy a container was created under is remembered, so that its exec
// and update calls are judged by the same rules whichever --guard-policy
// they come with: a container created under restricted cannot be entered
// as root through a runtime entry that says baseline.
//
// The record is one small file in runc's own state directory (--root),
// beside the container's directory:
//
//	<root>/<id>@guard-runtime.policy   {"policy":"restricted","policyDir":"/etc/guard-runtime/policy.d"}
//
// A file and not a subdirectory, because runc treats every directory in its
// root as a container: `runc list` prints an error for any other directory,
// and a subdirectory named like a valid container id (guard-runtime is one)
// would make `runc create` of that id fail. runc's ids never contain '@',
// so no record name can be a container's, and runc skips plain files.
//
// The record is written at an admitted create, run or restore, root-only
// (0600, in runc's 0700 root), atomically; read at exec and update, where
// one that anyone but root could have written is refused. A delete moves
// it into the container's own directory, <root>/<id>/guard-runtime.policy:
// guard-runtime execs the runtime and never learns whether the delete
// succeeded, and runc refuses to delete a running container without
// --force. Where runc deletes the container, it removes that directory
// and the record with it; where it refuses, the record is still found
// there, so a delete cannot strip a living container of its policy.
// Without a record (a container created before guard-runtime was
// installed, or directly with runc), the configured policy applies.

// policyRecordSuffix ends a record's file name; '@' is outside runc's
// container id alphabet.
const policyRecordSuffix = "@guard-runtime.policy"

// maxPolicyRecordSize bounds a record; a real one is under 200 bytes.
const maxPolicyRecordSize = 4096

// policyRecord is the content of a record.
type policyRecord struct {
	Policy string `json:"policy"`
	Dir    string `json:"policyDir"`
}

// stateDir is the runtime's state directory, where its containers live
// and guard-runtime keeps their policy records: --root as given, or the
// default of the configured runtime. A record in another runtime's
// directory would miss the container it belongs to: a create could not
// see that its id exists already, and a delete could not move the record
// into the container's directory.
func (g *Gate) stateDir() string {
	if g.Inv.RootGiven() || g.cfg == nil {
		return g.Inv.RootDir()
	}
	return defaultStateDir(g.cfg.Runtime.Path, os.Getenv)
}

// defaultStateDir is where the runtime at path keeps its containers when it
// runs as root without --root: runc's /run/runc, and the defaults of the
// other runtimes engines run by the same command line. runsc, unlike the
// others, follows XDG_RUNTIME_DIR even for root. An unknown runtime is
// taken to use runc's; engines pass --root in any case.
func defaultStateDir(path string, getenv func(string) string) string {
	switch filepath.Base(path) {
	case "crun":
		return "/run/crun"
	case "youki":
		return "/run/youki"
	case "runsc":
		if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
			return filepath.Join(dir, "runsc")
		}
		return "/var/run/runsc"
	}
	return spec.DefaultRootDir
}

// validContainerID reports whether runc 1.1.5 accepts id (letters, digits
// and _ + , - . ; not "." or ".."), and so whether it is safe in a path.
func validContainerID(id string) error {
	if id == "" || id == "." || id == ".." {
		return fmt.Errorf("container id %q is not valid: runc refuses it too", id)
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_' || c == '+' || c == ',' || c == '-' || c == '.':
		default:
			return fmt.Errorf("container id %q is not valid: runc accepts only letters, digits and _ + , - . in an id", id)
		}
	}
	return nil
}

// policyRecordInContainer names the record once a delete has moved it
// into the container's directory.
const policyRecordInContainer = "guard-runtime.policy"

// policyRecordPath is where the record of container id lives under root.
func policyRecordPath(root, id string) string {
	return filepath.Join(root, id+policyRecordSuffix)
}

// movedPolicyRecordPath is where a delete has moved the record.
func movedPolicyRecordPath(root, id string) string {
	return filepath.Join(root, id, policyRecordInContainer)
}

// rememberPolicy records that container id is created under p. A
// container that cannot be remembered is refused: its exec and update
// calls would otherwise be judged by whatever policy they come with.
func (g *Gate) rememberPolicy(p *Policy, id string) error {
	if err := validContainerID(id); err != nil {
		return fmt.Errorf("guard-runtime: refusing container: %w", err)
	}
	root := g.stateDir()
	// unix.Lstat and its bare errno: os.Lstat's *PathError costs a fresh
	// process an interface lookup in errors.Is on every create, where the
	// answer is nearly always ENOENT.
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, id), &st); err == nil {
		// runc refuses to create a container whose id exists; the record of
		// that container stays as it is, so that this call cannot change
		// the policy of a container it does not create.
		return nil
	} else if err != unix.ENOENT {
		return fmt.Errorf("guard-runtime: refusing container %s: lstat %s: %w", id, filepath.Join(root, id), err)
	}
	dir, err := filepath.Abs(filepath.Dir(p.File))
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing container %s: policy directory: %w", id, err)
	}
	data, err := policyRecord{Policy: p.Name, Dir: dir}.encode()
	if err != nil {
		return fmt.Errorf("guard-runtime: refusing container %s: encode its policy record: %w", id, err)
	}
	if err := writePolicyRecord(root, id, data); err != nil {
		return fmt.Errorf("guard-runtime: refusing container %s: cannot remember its policy %q: %w", id, p.Name, err)
	}
	return nil
}

// writePolicyRecord replaces the record atomically: a temporary file in the
// same directory, renamed over the record, so a reader sees the old record
// or the new one. It is not synced: like runc's own state beside it, the
// record describes a container that does not outlive a reboot (runc's
// root is on /run), and an fsync would cost every create milliseconds on
// a disk-backed root. The root is created as runc creates it, 0700, if
// this is its first container.
func writePolicyRecord(root, id string, data []byte) error {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return err
	}
	record := policyRecordPath(root, id)
	tmp := record + "." + strconv.Itoa(os.Getpid()) + "." + strconv.FormatUint(tempCounter.Add(1), 10) + ".tmp"
	return replaceFileAt(unix.AT_FDCWD, tmp, record, data)
}

// containerPolicy is the policy for an exec or update of container id: the
// one it was created under if that is known, the configured one otherwise.
func (g *Gate) containerPolicy(id string) (*Policy, error) {
	if err := validContainerID(id); err != nil {
		return nil, fmt.Errorf("guard-runtime: %w", err)
	}
	rec, err := readPolicyRecord(policyRecordPath(g.stateDir(), id))
	if errors.Is(err, fs.ErrNotExist) {
		// A delete that runc refused leaves it in the container's directory.
		rec, err = readPolicyRecord(movedPolicyRecordPath(g.stateDir(), id))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return g.policy("")
	}
	if err != nil {
		return nil, fmt.Errorf("guard-runtime: cannot tell which policy container %s was created under, refusing: %w", id, err)
	}
	p, err := loadPolicyCached(rec.Dir, rec.Policy, g.cfg.Runtime.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("guard-runtime: container %s was created under policy %q, which cannot be used now, refusing: %w", id, rec.Policy, err)
	}
	return p, nil
}

// readPolicyRecord reads a record that only root can have written. A
// record that is missing reports fs.ErrNotExist.
func readPolicyRecord(path string) (*policyRecord, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s is a symlink: remove it", path)
		}
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkPolicyRecordFile(path, info); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPolicyRecordSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPolicyRecordSize {
		return nil, fmt.Errorf("%s is over %d bytes: not a policy record", path, maxPolicyRecordSize)
	}
	return decodePolicyRecord(path, data)
}

// checkPolicyRecordFile refuses a record someone other than root could
// have written: whoever writes it chooses the container's policy.
func checkPolicyRecordFile(path string, info os.FileInfo) error {
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not root: it was not written by guard-runtime; remove it", path, st.Uid)
	}
	if info.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o): it was not written by guard-runtime; remove it", path, info.Mode().Perm())
	}
	return nil
}

// encode writes the record as JSON. It is written by hand: a fresh
// process's first reflective marshal costs a hundred microseconds or more,
// more than writing the file, on every create.
func (r policyRecord) encode() ([]byte, error) {
	b, err := jsontext.AppendQuote([]byte(`{"policy":`), r.Policy)
	if err != nil {
		return nil, fmt.Errorf("policy name: %w", err)
	}
	b, err = jsontext.AppendQuote(append(b, `,"policyDir":`...), r.Dir)
	if err != nil {
		return nil, fmt.Errorf("policy directory: %w", err)
	}
	return append(b, '}'), nil
}

// decodePolicyRecord reads what encode wrote: one object with exactly the
// members "policy" and "policyDir", each once, and nothing after it.
func decodePolicyRecord(path string, data []byte) (*policyRecord, error) {
	rec, err := decodePolicyRecordMembers(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a policy record: %w", path, err)
	}
	if rec.Policy == "" || !filepath.IsAbs(rec.Dir) {
		return nil, fmt.Errorf("%s is not a policy record: it names no policy or no absolute policy directory", path)
	}
	return rec, nil
}

func decodePolicyRecordMembers(data []byte) (*policyRecord, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, errors.New("it is not a JSON object")
	}
	rec := &policyRecord{}
	for dec.PeekKind() != '}' {
		// A token is only valid until the next read: keep the name's text.
		nameToken, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name := nameToken.String()
		value, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		if value.Kind() != '"' {
			return nil, fmt.Errorf("member %q is not a string", name)
		}
		switch name {
		case "policy":
			rec.Policy = value.String()
		case "policyDir":
			rec.Dir = value.String()
		default:
			return nil, fmt.Errorf("unknown member %q", name)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return rec, nil
}

// forgetPolicy hands the record of the container a delete names to the
// runtime's delete: it moves it into the container's directory, which runc
// removes only when it deletes the container. Where there is no such
// directory, there is no container to protect, and a record left by a
// create that never reached the runtime is removed. It is on the path of
// every delete, so it costs one rename in the usual case, and it never
// fails the delete: a record left behind is replaced when the id is
// created again.
func (g *Gate) forgetPolicy() {
	id := g.Inv.ContainerID()
	if validContainerID(id) != nil {
		return
	}
	root := g.stateDir()
	record := policyRecordPath(root, id)
	err := unix.Rename(record, movedPolicyRecordPath(root, id))
	if err != unix.ENOENT && err != unix.ENOTDIR {
		return // moved, or kept where it was: never lose a living container's record
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, id), &st); err == unix.ENOENT || (err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR) {
		_ = unix.Unlink(record)
	}
}
