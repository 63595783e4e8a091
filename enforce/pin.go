package enforce

// `guard-runtime pin`: pins the configured runtime's sha256 in config.yaml,
// and leaves a record of the pinned file in the verification cache directory
// so that a later mismatch can say whether the file was replaced (an
// upgrade) or modified in place (tampering).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/guard-runtime/guard-runtime/spec"
)

// Pin hashes the runtime configured in configPath and writes its digest as
// the only runtime.sha256, keeping the rest of config.yaml (other keys,
// comments). A missing config.yaml is created with the default runtime
// path. Nothing is written when the pin is already exactly that digest.
func Pin(configPath string) (digest string, err error) {
	return pinRuntime(configPath, time.Now, nil)
}

// pinRuntime is Pin; adjust, when not nil, changes the loaded configuration
// before it is used (tests point the defaults of a new file at temporary
// paths with it).
func pinRuntime(configPath string, now func() time.Time, adjust func(*Config)) (string, error) {
	data, existed, err := readConfigForEdit(configPath)
	if err != nil {
		return "", err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return "", fmt.Errorf("config %s: %w; fix it, then pin again", configPath, err)
	}
	if adjust != nil {
		adjust(cfg)
	}
	r, err := openRuntimeFile(cfg.Runtime.Path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	digest, isELF, err := r.hash()
	if err != nil {
		return "", err
	}
	if !isELF {
		return "", fmt.Errorf("runtime %s is not an ELF executable: set runtime.path to the runtime binary itself, not a script that runs it", r.Path)
	}
	r.Digest = digest
	if err := recordPin(cfg.Runtime.CacheDir, r, now()); err != nil {
		return "", err
	}
	out, changed, err := editPins(data, func(Digests) Digests { return Digests{digest} }, existed, cfg.Runtime.Path)
	if err != nil {
		return "", fmt.Errorf("config %s: %w", configPath, err)
	}
	if changed {
		if err := writeConfig(configPath, out, existed); err != nil {
			return "", err
		}
	}
	return digest, nil
}

// AddPin adds digest to runtime.sha256 without touching the runtime, keeping
// the pins already there: during an upgrade both the installed and the
// incoming binary are allowed (see hack/dpkg/). `guard-runtime pin` then
// narrows the list to what is installed.
func AddPin(configPath, digest string) error {
	d, err := normalizeDigest(digest)
	if err != nil {
		return err
	}
	data, existed, err := readConfigForEdit(configPath)
	if err != nil {
		return err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return fmt.Errorf("config %s: %w; fix it, then pin again", configPath, err)
	}
	add := func(old Digests) Digests {
		if slices.ContainsFunc(old, func(p string) bool { return strings.EqualFold(strings.TrimSpace(p), d) }) {
			return old
		}
		return append(slices.Clone(old), d)
	}
	out, changed, err := editPins(data, add, existed, cfg.Runtime.Path)
	if err != nil {
		return fmt.Errorf("config %s: %w", configPath, err)
	}
	if !changed {
		return nil
	}
	return writeConfig(configPath, out, existed)
}

func readConfigForEdit(path string) (data []byte, existed bool, err error) {
	data, err = spec.ReadFile(path, maxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read config: %w", err)
	}
	return data, true, nil
}

// writeConfig replaces config.yaml atomically. A new one is created empty
// first (an empty config has no pin, so a concurrent reader refuses to run
// anything), then replaced.
func writeConfig(path string, data []byte, existed bool) error {
	if !existed {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create config directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("create config: %w", err)
		}
		f.Close()
		if err := spec.WriteFileAtomic(path, data); err != nil {
			os.Remove(path)
			return fmt.Errorf("write config: %w", err)
		}
		return nil
	}
	if err := spec.WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// editPins rewrites runtime.sha256 through edit, leaving every other node of
// the document (and its comments) as it was. When the file did not exist,
// runtime.path is written out too, so the new file says what it pins.
func editPins(data []byte, edit func(Digests) Digests, existed bool, runtimePath string) ([]byte, bool, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, false, err
	}
	// A file of comments alone decodes to no node at all, its comments
	// dropped: they are kept by writing the new settings after them.
	prefix := []byte(nil)
	if doc.Kind == 0 && len(bytes.TrimSpace(data)) > 0 {
		prefix = append(bytes.TrimRight(data, "\n"), '\n')
	}
	root, err := documentMapping(&doc)
	if err != nil {
		return nil, false, err
	}
	rt, err := childMapping(root, "runtime")
	if err != nil {
		return nil, false, err
	}
	var old Digests
	_, value := mappingValue(rt, "sha256")
	if value != nil {
		if err := value.Decode(&old); err != nil {
			return nil, false, fmt.Errorf("runtime.sha256: %w", err)
		}
	}
	pins := edit(old)
	if existed && slices.Equal(old, pins) {
		return data, false, nil
	}
	if _, path := mappingValue(rt, "path"); !existed && path == nil {
		setMappingValue(rt, "path", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: runtimePath})
	}
	setMappingValue(rt, "sha256", digestsNode(pins))
	out, err := encodeYAML(&doc, indentOf(data))
	if err != nil {
		return nil, false, err
	}
	out = append(prefix, keepBlankLines(data, out)...)
	if err := checkOnlyPinsChanged(data, out, pins, existed, runtimePath); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// documentMapping returns the top-level mapping, creating it in an empty
// document.
func documentMapping(doc *yaml.Node) (*yaml.Node, error) {
	if doc.Kind == 0 {
		*doc = yaml.Node{Kind: yaml.DocumentNode, HeadComment: doc.HeadComment}
	}
	if len(doc.Content) == 0 {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	root := doc.Content[0]
	if isNull(root) {
		root.Kind, root.Tag, root.Value = yaml.MappingNode, "!!map", ""
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the top level is not a mapping (line %d)", root.Line)
	}
	return root, nil
}

// childMapping returns the mapping under key, creating it when absent or null.
func childMapping(m *yaml.Node, key string) (*yaml.Node, error) {
	_, v := mappingValue(m, key)
	if v == nil {
		v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		setMappingValue(m, key, v)
	}
	if isNull(v) {
		v.Kind, v.Tag, v.Value = yaml.MappingNode, "!!map", ""
	}
	if v.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s is not a mapping (line %d)", key, v.Line)
	}
	return v, nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// setMappingValue replaces the value under key, keeping the comments that
// were attached to the old value, or appends key and value.
func setMappingValue(m *yaml.Node, key string, value *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k, old := m.Content[i], m.Content[i+1]; k.Value == key {
			value.HeadComment, value.LineComment, value.FootComment = old.HeadComment, old.LineComment, old.FootComment
			// A block list has no line of its own for the comment:
			// it stays on the key's line.
			if value.Kind != yaml.ScalarNode && k.LineComment == "" {
				k.LineComment, value.LineComment = value.LineComment, ""
			}
			*old = *value
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, value)
}

// digestsNode writes one pin as a scalar, several as a block list.
func digestsNode(pins Digests) *yaml.Node {
	if len(pins) == 1 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: pins[0]}
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, p := range pins {
		seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p})
	}
	return seq
}

func encodeYAML(doc *yaml.Node, indent int) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(indent)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return buf.Bytes(), nil
}

// indentOf keeps the file's indentation: the indent of its first indented
// line, 2 when there is none.
func indentOf(data []byte) int {
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || trimmed == line || strings.HasPrefix(trimmed, "#") {
			continue
		}
		return min(max(len(line)-len(trimmed), 2), 9)
	}
	return 2
}

// checkOnlyPinsChanged reads the new config back as guard-runtime will:
// it must pin exactly pins and otherwise mean what the old one meant (a new
// file also names runtimePath), so that a pin is never written into a file
// guard-runtime would refuse or read differently.
func checkOnlyPinsChanged(old, out []byte, pins Digests, existed bool, runtimePath string) error {
	before, err := ParseConfig(old)
	if err != nil {
		return err
	}
	if !existed {
		before.Runtime.Path = runtimePath
	}
	after, err := ParseConfig(out)
	if err != nil {
		return fmt.Errorf("the edited config does not load: %w", err)
	}
	if !slices.Equal(after.Runtime.SHA256, pins) {
		return fmt.Errorf("the edited config pins %v, not %v", after.Runtime.SHA256, pins)
	}
	before.Runtime.SHA256, after.Runtime.SHA256 = nil, nil
	if !reflect.DeepEqual(before, after) {
		return errors.New("editing the pin would change other settings; edit runtime.sha256 by hand")
	}
	return nil
}

// keepBlankLines puts back the blank lines that the YAML encoder drops
// before top-level keys and comments, so that an admin's layout survives.
// Blank lines there carry no meaning; checkOnlyPinsChanged checks the result.
func keepBlankLines(orig, out []byte) []byte {
	spaced := map[string]int{}
	blank := false
	for _, line := range strings.Split(string(orig), "\n") {
		line = strings.TrimRight(line, " \t\r")
		if line == "" {
			blank = true
			continue
		}
		if blank && !strings.HasPrefix(line, " ") {
			spaced[line]++
		}
		blank = false
	}
	var b bytes.Buffer
	for i, line := range strings.SplitAfter(string(out), "\n") {
		if key := strings.TrimRight(line, " \n"); i > 0 && spaced[key] > 0 {
			spaced[key]--
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	return b.Bytes()
}

// pinRecord is what `guard-runtime pin` saw: the file's identity and birth
// time, its digest and when it was pinned. It is kept in the verification
// cache directory as pin-<hash of the path>, one line:
//
//	guard-runtime-pinned-v1 <dev> <ino> <size> <mtime> <ctime> <btime> <sha256> <unix ns> <path>
type pinRecord struct {
	ID       fileIdentity
	Btime    unix.Timespec // zero when the filesystem does not report it
	Digest   string
	PinnedAt time.Time
	Path     string
}

const pinRecordMagic = "guard-runtime-pinned-v1"

func pinRecordName(path string) string {
	sum := sha256.Sum256([]byte(path))
	return "pin-" + hex.EncodeToString(sum[:16])
}

// recordPin stores the verified identity and the pin record. A cache
// directory that cannot be trusted is an error here: the admin pinning is
// told to fix it, instead of every later call silently hashing.
func recordPin(cacheDir string, r *Runtime, now time.Time) error {
	cache, err := openVerifyCache(cacheDir)
	if err != nil {
		return fmt.Errorf("record the pin: %w", err)
	}
	if cache == nil {
		return nil
	}
	defer cache.close()
	if settled(r.id, now) {
		if err := cache.store(r.id, r.Digest); err != nil {
			return fmt.Errorf("record the pin: %w", err)
		}
	}
	btime, _ := birthTime(r.fd)
	rec := pinRecord{ID: r.id, Btime: btime, Digest: r.Digest, PinnedAt: now, Path: r.Path}
	if err := cache.writeFile(pinRecordName(r.Path), rec.marshal()); err != nil {
		return fmt.Errorf("record the pin: %w", err)
	}
	return nil
}

func (rec pinRecord) marshal() []byte {
	b := append([]byte(pinRecordMagic), ' ')
	b = rec.ID.appendKey(b)
	b = append(b, ' ')
	b = appendTimespec(b, rec.Btime)
	b = append(b, ' ')
	b = append(b, rec.Digest...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, rec.PinnedAt.UnixNano(), 10)
	b = append(b, ' ')
	b = append(b, rec.Path...)
	return append(b, '\n')
}

func parsePinRecord(data []byte) (pinRecord, error) {
	var rec pinRecord
	line, ok := strings.CutSuffix(string(data), "\n")
	fields := strings.SplitN(line, " ", 10)
	if !ok || len(fields) != 10 || fields[0] != pinRecordMagic {
		return rec, errors.New("not a pin record")
	}
	var err error
	if rec.ID, err = parseKey(fields[1:6]); err != nil {
		return rec, err
	}
	if rec.Btime, err = parseTimespec(fields[6]); err != nil {
		return rec, err
	}
	if rec.Digest, err = normalizeDigest(fields[7]); err != nil {
		return rec, err
	}
	ns, err := strconv.ParseInt(fields[8], 10, 64)
	if err != nil {
		return rec, err
	}
	rec.PinnedAt = time.Unix(0, ns)
	rec.Path = fields[9]
	return rec, nil
}

// readPinRecord returns the record for path; a missing, untrusted or
// malformed one is no record.
func (c *verifyCache) readPinRecord(path string) (pinRecord, bool) {
	data, err := c.readFile(pinRecordName(path))
	if err != nil || data == nil {
		return pinRecord{}, false
	}
	rec, err := parsePinRecord(data)
	if err != nil || rec.Path != path {
		return pinRecord{}, false
	}
	return rec, true
}

// compare says how the open file fd (identity cur, content digest) differs
// from the pinned one.
func (rec pinRecord) compare(fd int, cur fileIdentity, digest string) PinChange {
	if rec.ID.Dev != cur.Dev || rec.ID.Ino != cur.Ino {
		return PinChangeReplaced
	}
	// A freed inode number can be given to a new file: the birth time
	// tells them apart where the filesystem keeps one.
	if btime, ok := birthTime(fd); ok && rec.Btime != (unix.Timespec{}) && btime != rec.Btime {
		return PinChangeReplaced
	}
	if rec.ID != cur || rec.Digest != digest {
		return PinChangeModified
	}
	return PinChangeNone
}

func birthTime(fd int) (unix.Timespec, bool) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BTIME, &stx); err != nil || stx.Mask&unix.STATX_BTIME == 0 {
		return unix.Timespec{}, false
	}
	return unix.NsecToTimespec(stx.Btime.Sec*int64(time.Second) + int64(stx.Btime.Nsec)), true
}
