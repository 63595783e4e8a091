//go:build !lean

package enforce

// `guard-runtime pin`: pins the configured runtime's sha256 in config.yaml,
// and leaves a record of the pinned file in the verification cache directory
// so that a later mismatch can say whether the file was replaced (an
// upgrade) or modified in place (tampering).

import (
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

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

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

// editPins rewrites runtime.sha256 through edit in the text of config.yaml:
// only the lines of that setting change, so every other key, comment and
// blank line stays as the admin wrote it. When the file did not exist,
// runtime.path is written too, so the new file says what it pins.
func editPins(data []byte, edit func(Digests) Digests, existed bool, runtimePath string) ([]byte, bool, error) {
	before, err := ParseConfig(data)
	if err != nil {
		return nil, false, err
	}
	pins := edit(before.Runtime.SHA256)
	if existed && slices.Equal(before.Runtime.SHA256, pins) {
		return data, false, nil
	}
	body, err := parseYAML(data, configHoldsOneDocument)
	if err != nil {
		return nil, false, err
	}
	text := configText{lines: splitLines(data), step: indentOf(data)}
	if err := text.setPins(body, pins, existed, runtimePath); err != nil {
		return nil, false, err
	}
	out := text.bytes()
	if err := checkOnlyPinsChanged(data, out, pins, existed, runtimePath); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// configText is config.yaml as lines, edited in place.
type configText struct {
	lines []string // without their line feeds
	step  int      // the file's indentation step
}

func splitLines(data []byte) []string {
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

func (c *configText) bytes() []byte {
	return []byte(strings.Join(c.lines, "\n") + "\n")
}

// replace puts lines in place of lines first to last (0-based, inclusive);
// last = first-1 inserts them before first.
func (c *configText) replace(first, last int, lines []string) {
	c.lines = slices.Concat(c.lines[:first], lines, c.lines[last+1:])
}

// setPins writes pins as runtime.sha256 into the document body.
func (c *configText) setPins(body ast.Node, pins Digests, existed bool, runtimePath string) error {
	if body == nil {
		// Empty, or only comments: the settings go after them.
		var path []string
		if !existed {
			path = []string{strings.Repeat(" ", c.step) + "path: " + yamlString(runtimePath)}
		}
		c.append(slices.Concat([]string{"runtime:"}, path, pinLines(c.step, c.step, pins, "")))
		return nil
	}
	top, err := blockMapping(body, "the top level")
	if err != nil {
		return err
	}
	runtimeEntry := entryOf(top, "runtime")
	switch {
	case runtimeEntry == nil:
		indent := columnOf(top[0].Key)
		c.append(append([]string{strings.Repeat(" ", indent) + "runtime:"}, pinLines(indent+c.step, c.step, pins, "")...))
	case runtimeEntry.Value.Type() == ast.NullType:
		// "runtime:" with nothing under it: the key's line keeps its comment.
		key := lineOf(runtimeEntry.Key)
		colon := runtimeEntry.GetToken().Position.Column
		c.lines[key] = withComment(c.lines[key][:colon], lineComment(runtimeEntry.Key))
		c.replace(key+1, key, pinLines(columnOf(runtimeEntry.Key)+c.step, c.step, pins, ""))
	default:
		return c.setPinsIn(runtimeEntry.Value, c.lastLine(top, runtimeEntry, len(c.lines)-1), pins)
	}
	return nil
}

// setPinsIn writes pins into the runtime section, whose last line is end:
// in place of the sha256 setting, or after the section's last setting.
func (c *configText) setPinsIn(section ast.Node, end int, pins Digests) error {
	settings, err := blockMapping(section, "runtime")
	if err != nil {
		return err
	}
	sha256 := entryOf(settings, "sha256")
	if sha256 == nil {
		c.replace(end+1, end, pinLines(columnOf(settings[0].Key), c.step, pins, ""))
		return nil
	}
	last := c.lastLine(settings, sha256, end)
	c.replace(lineOf(sha256.Key), last, pinLines(columnOf(sha256.Key), c.step, pins, lineComment(sha256.Key)))
	return nil
}

func (c *configText) append(lines []string) {
	c.lines = append(c.lines, lines...)
}

// lastLine returns the last line of entry, one of the block mapping
// entries: the line before the next entry's key, or the mapping's last line
// end, less the blank lines, comments and document end that lead to what
// follows.
func (c *configText) lastLine(entries []*ast.MappingValueNode, entry *ast.MappingValueNode, end int) int {
	first, last := lineOf(entry.Key), end
	if i := slices.Index(entries, entry); i+1 < len(entries) {
		last = lineOf(entries[i+1].Key) - 1
	}
	for last > first {
		trimmed := strings.TrimSpace(c.lines[last])
		if trimmed != "" && trimmed != "..." && !strings.HasPrefix(trimmed, "#") {
			break
		}
		last--
	}
	return last
}

// pinLines writes runtime.sha256 at indent: one pin as a scalar, several as
// a block list indented by step.
func pinLines(indent, step int, pins Digests, comment string) []string {
	pad := strings.Repeat(" ", indent)
	switch len(pins) {
	case 0:
		return []string{withComment(pad+"sha256: []", comment)}
	case 1:
		return []string{withComment(pad+"sha256: "+yamlString(pins[0]), comment)}
	}
	lines := []string{withComment(pad+"sha256:", comment)}
	for _, pin := range pins {
		lines = append(lines, pad+strings.Repeat(" ", step)+"- "+yamlString(pin))
	}
	return lines
}

func withComment(line, comment string) string {
	if comment == "" {
		return line
	}
	return line + " " + comment
}

// yamlString writes s as a YAML string, quoted where it would otherwise
// read as something else.
func yamlString(s string) string {
	if token.IsNeedQuoted(s) {
		return strconv.Quote(s)
	}
	return s
}

// blockMapping returns the entries of a mapping written in block style, the
// only style whose lines can be edited one setting at a time.
func blockMapping(node ast.Node, what string) ([]*ast.MappingValueNode, error) {
	m, ok := node.(*ast.MappingNode)
	if !ok || m.IsFlowStyle || len(m.Values) == 0 {
		return nil, fmt.Errorf("%s is not a mapping of one key per line (line %d): edit runtime.sha256 by hand", what, node.GetToken().Position.Line)
	}
	return m.Values, nil
}

func entryOf(entries []*ast.MappingValueNode, key string) *ast.MappingValueNode {
	for _, entry := range entries {
		if entry.Key.GetToken().Value == key {
			return entry
		}
	}
	return nil
}

// lineOf is the 0-based line of node; columnOf its 0-based column.
func lineOf(node ast.Node) int   { return node.GetToken().Position.Line - 1 }
func columnOf(node ast.Node) int { return node.GetToken().Position.Column - 1 }

// lineComment returns the comment that ends the line of key, "" if none.
func lineComment(key ast.Node) string {
	tk := key.GetToken()
	for next := tk.Next; next != nil && next.Position.Line == tk.Position.Line; next = next.Next {
		if next.Type == token.CommentType {
			return "#" + next.Value
		}
	}
	return ""
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
