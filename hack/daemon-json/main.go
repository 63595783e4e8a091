// Command daemon-json registers guard-runtime's runtimes in Docker's
// daemon.json, and removes them again, for hack/install.sh.
//
//	daemon-json install   --file /etc/docker/daemon.json [--binary PATH] [--default]
//	daemon-json uninstall --file /etc/docker/daemon.json
//
// It keeps every other key and the order of keys, refuses a file that is
// not one JSON object or that has duplicate keys, backs the old file up to
// <file>.pre-guard-runtime before its first change, validates the result
// and writes it atomically. A run that would change nothing writes
// nothing. It prints one line saying what it did; exit status 0 on
// success, 1 on any error (the file is then untouched).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultBinary is where hack/install.sh puts guard-runtime.
const DefaultBinary = "/usr/local/bin/guard-runtime"

// BackupSuffix names the copy of daemon.json taken before guard-runtime's
// first change to it.
const BackupSuffix = ".pre-guard-runtime"

// maxFileSize bounds what is read: daemon.json is a few KiB.
const maxFileSize = 1 << 20

// runtimePolicies maps each runtime name guard-runtime registers to the
// policy it selects; "" means the default policy of config.yaml.
var runtimePolicies = []struct{ name, policy string }{
	{"guard", ""},
	{"guard-baseline", "baseline"},
	{"guard-restricted", "restricted"},
	{"guard-audit", "audit"},
}

// DefaultRuntime is the runtime --default makes Docker use.
const DefaultRuntime = "guard"

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "daemon-json: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: daemon-json install|uninstall --file FILE [--binary PATH] [--default]")
	}
	flags := flag.NewFlagSet("daemon-json "+args[0], flag.ContinueOnError)
	file := flags.String("file", "/etc/docker/daemon.json", "Docker's daemon.json")
	binary := flags.String("binary", DefaultBinary, "guard-runtime's path as dockerd will see it (install)")
	setDefault := flags.Bool("default", false, `also set "default-runtime": "`+DefaultRuntime+`" (install)`)
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	if flags.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	var message string
	var err error
	switch args[0] {
	case "install":
		message, err = Install(*file, *binary, *setDefault)
	case "uninstall":
		message, err = Uninstall(*file)
	default:
		return fmt.Errorf("unknown command %q: want install or uninstall", args[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, message)
	return nil
}

// Install merges guard-runtime's runtimes (and with setDefault the
// default-runtime) into the daemon.json at path, creating it if needed.
func Install(path, binary string, setDefault bool) (string, error) {
	if !filepath.IsAbs(binary) || strings.ContainsAny(binary, " \t\n") {
		return "", fmt.Errorf("--binary %q: dockerd needs an absolute path without spaces", binary)
	}
	current, err := readDaemonJSON(path)
	if err != nil {
		return "", err
	}
	doc := current.doc.clone()
	runtimes, err := doc.object("runtimes")
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	for _, rt := range runtimePolicies {
		runtimes.set(rt.name, runtimeEntry(binary, rt.policy))
	}
	doc.set("runtimes", runtimes.encode())
	if setDefault {
		doc.set("default-runtime", marshalNoHTMLEscape(DefaultRuntime))
	}
	if current.exists && bytes.Equal(doc.encode(), current.doc.encode()) {
		return path + ": guard-runtime's runtimes already registered, nothing changed", nil
	}
	if err := validate(doc); err != nil {
		return "", fmt.Errorf("%s: refusing to write an invalid daemon.json: %w", path, err)
	}
	backup := path + BackupSuffix
	note := ""
	if current.exists {
		made, err := backupOnce(path, backup, current.raw, current.mode)
		if err != nil {
			return "", err
		}
		if made {
			note = "; previous file saved as " + backup
		} else {
			note = "; " + backup + " kept from the first install"
		}
	}
	if err := writeAtomic(path, indent(doc.encode()), current.mode); err != nil {
		return "", err
	}
	what := "registered runtimes " + runtimeNames()
	if setDefault {
		what += ` and "default-runtime": "` + DefaultRuntime + `"`
	}
	return path + ": " + what + note, nil
}

// Uninstall removes guard-runtime's runtimes from daemon.json. A
// default-runtime that names one of them goes back to what the backup had,
// or is removed. When the result is, as JSON, the backup, the backup
// itself is put back, byte for byte; a file that install created is removed.
func Uninstall(path string) (string, error) {
	current, err := readDaemonJSON(path)
	if err != nil {
		return "", err
	}
	if !current.exists {
		return path + ": does not exist, nothing to remove", nil
	}
	backupPath := path + BackupSuffix
	backup, err := readDaemonJSON(backupPath)
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	doc := current.doc.clone()
	if err := removeOurRuntimes(doc); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if err := restoreDefaultRuntime(doc, backup); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case bytes.Equal(doc.encode(), current.doc.encode()):
		return path + ": no guard-runtime runtimes registered, nothing changed", nil
	case backup.exists && bytes.Equal(doc.encode(), backup.doc.encode()):
		if err := os.Rename(backupPath, path); err != nil {
			return "", fmt.Errorf("restore %s: %w", path, err)
		}
		return path + ": restored from " + backupPath, nil
	case !backup.exists && len(doc.members) == 0:
		if err := os.Remove(path); err != nil {
			return "", err
		}
		return path + ": removed (guard-runtime's install had created it)", nil
	}
	if err := validate(doc); err != nil {
		return "", fmt.Errorf("%s: refusing to write an invalid daemon.json: %w", path, err)
	}
	if err := writeAtomic(path, indent(doc.encode()), current.mode); err != nil {
		return "", err
	}
	note := ""
	if backup.exists {
		note = "; " + backupPath + " kept: the file was edited after the install"
	}
	return path + ": removed guard-runtime's runtimes" + note, nil
}

func removeOurRuntimes(doc *object) error {
	if _, ok := doc.get("runtimes"); !ok {
		return nil
	}
	runtimes, err := doc.object("runtimes")
	if err != nil {
		return err
	}
	for _, rt := range runtimePolicies {
		runtimes.remove(rt.name)
	}
	if len(runtimes.members) == 0 {
		doc.remove("runtimes")
	} else {
		doc.set("runtimes", runtimes.encode())
	}
	return nil
}

func restoreDefaultRuntime(doc *object, backup daemonJSON) error {
	raw, ok := doc.get("default-runtime")
	if !ok {
		return nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil || !isOurRuntime(name) {
		return nil
	}
	if previous, ok := backup.doc.get("default-runtime"); ok {
		var previousName string
		if json.Unmarshal(previous, &previousName) == nil && !isOurRuntime(previousName) {
			doc.set("default-runtime", previous)
			return nil
		}
	}
	doc.remove("default-runtime")
	return nil
}

func isOurRuntime(name string) bool {
	for _, rt := range runtimePolicies {
		if rt.name == name {
			return true
		}
	}
	return false
}

func runtimeNames() string {
	names := make([]string, len(runtimePolicies))
	for i, rt := range runtimePolicies {
		names[i] = rt.name
	}
	return strings.Join(names, ", ")
}

func runtimeEntry(binary, policy string) json.RawMessage {
	entry := object{}
	entry.set("path", marshalNoHTMLEscape(binary))
	if policy != "" {
		entry.set("runtimeArgs", marshalNoHTMLEscape([]string{"--guard-policy=" + policy}))
	}
	return entry.encode()
}

// validate checks what dockerd checks at start for the keys this program
// touches: runtimes is an object of objects with a path (or, on newer
// dockerd, a runtimeType) and string runtimeArgs, and default-runtime names
// runc or a registered runtime.
func validate(doc *object) error {
	var problems []string
	declared := map[string]bool{"runc": true}
	if raw, ok := doc.get("runtimes"); ok {
		var runtimes map[string]struct {
			Path        *string   `json:"path"`
			RuntimeType *string   `json:"runtimeType"`
			RuntimeArgs *[]string `json:"runtimeArgs"`
		}
		if err := json.Unmarshal(raw, &runtimes); err != nil {
			problems = append(problems, fmt.Sprintf("runtimes: %v", err))
		}
		for name, rt := range runtimes {
			declared[name] = true
			if (rt.Path == nil || *rt.Path == "") && (rt.RuntimeType == nil || *rt.RuntimeType == "") {
				problems = append(problems, fmt.Sprintf("runtime %q has no path", name))
			}
		}
	}
	if raw, ok := doc.get("default-runtime"); ok {
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			problems = append(problems, "default-runtime is not a string")
		} else if !declared[name] {
			problems = append(problems, fmt.Sprintf("default-runtime %q is not runc and not in runtimes", name))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// daemonJSON is daemon.json as found on disk.
type daemonJSON struct {
	exists bool
	raw    []byte
	mode   fs.FileMode
	doc    *object
}

func readDaemonJSON(path string) (daemonJSON, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return daemonJSON{mode: 0o644, doc: &object{}}, nil
	}
	if err != nil {
		return daemonJSON{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return daemonJSON{}, err
	}
	if !info.Mode().IsRegular() {
		return daemonJSON{}, fmt.Errorf("%s is not a regular file", path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return daemonJSON{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(raw) > maxFileSize {
		return daemonJSON{}, fmt.Errorf("%s is over %d bytes; that is not a daemon.json", path, maxFileSize)
	}
	doc, err := parseObject(raw)
	if err != nil {
		return daemonJSON{}, fmt.Errorf("%s: %w; fix it by hand first (dockerd would not start with it either)", path, err)
	}
	return daemonJSON{exists: true, raw: raw, mode: info.Mode().Perm(), doc: doc}, nil
}

// backupOnce copies the original file to backup unless a backup from an
// earlier install exists: that one holds the state before guard-runtime.
func backupOnce(path, backup string, raw []byte, mode fs.FileMode) (bool, error) {
	if _, err := os.Lstat(backup); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := writeAtomic(backup, raw, mode); err != nil {
		return false, fmt.Errorf("back up %s: %w", path, err)
	}
	return true, nil
}

// writeAtomic writes data to a temporary file in path's directory, syncs
// it and renames it over path, so that dockerd never reads half a file.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp.Name(), path, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func indent(compact []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		panic(err) // compact was built from validated values
	}
	out.WriteByte('\n')
	return out.Bytes()
}
