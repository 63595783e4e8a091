package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// existing is a daemon.json an admin already has: other keys, another
// runtime, an explicit default runtime, their own formatting.
const existing = `{
    "log-driver": "journald",
    "runtimes": {
        "nvidia": {"path": "/usr/bin/nvidia-container-runtime", "runtimeArgs": []}
    },
    "default-runtime": "nvidia",
    "storage-opts": ["overlay2.override_kernel_check=true"],
    "labels": ["a<b&c"]
}
`

func writeDaemonJSON(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "daemon.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func decode(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s is not valid JSON: %v\n%s", path, err, data)
	}
	return v
}

func TestInstallKeepsEveryExistingKey(t *testing.T) {
	path := writeDaemonJSON(t, existing)
	var before map[string]any
	json.Unmarshal([]byte(existing), &before)

	if _, err := Install(path, DefaultBinary, false); err != nil {
		t.Fatal(err)
	}
	after := decode(t, path)
	for key, value := range before {
		if key == "runtimes" {
			continue
		}
		if !reflect.DeepEqual(after[key], value) {
			t.Errorf("%s changed from %v to %v", key, value, after[key])
		}
	}
	runtimes := after["runtimes"].(map[string]any)
	if !reflect.DeepEqual(runtimes["nvidia"], before["runtimes"].(map[string]any)["nvidia"]) {
		t.Errorf("the nvidia runtime changed: %v", runtimes["nvidia"])
	}
	want := map[string]any{
		"guard":            map[string]any{"path": DefaultBinary},
		"guard-baseline":   map[string]any{"path": DefaultBinary, "runtimeArgs": []any{"--guard-policy=baseline"}},
		"guard-restricted": map[string]any{"path": DefaultBinary, "runtimeArgs": []any{"--guard-policy=restricted"}},
		"guard-audit":      map[string]any{"path": DefaultBinary, "runtimeArgs": []any{"--guard-policy=audit"}},
	}
	for name, entry := range want {
		if !reflect.DeepEqual(runtimes[name], entry) {
			t.Errorf("runtime %s = %v, want %v", name, runtimes[name], entry)
		}
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode became %v, want the file's 0600 kept", info.Mode().Perm())
	}
	content, _ := os.ReadFile(path)
	if !strings.Contains(string(content), `"a<b&c"`) {
		t.Errorf("values were re-escaped:\n%s", content)
	}
	if strings.Index(string(content), `"log-driver"`) > strings.Index(string(content), `"labels"`) {
		t.Errorf("key order changed:\n%s", content)
	}
}

func TestInstallBacksUpOnceAndIsIdempotent(t *testing.T) {
	path := writeDaemonJSON(t, existing)
	backup := path + BackupSuffix

	if _, err := Install(path, DefaultBinary, false); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(backup)
	if err != nil || string(saved) != existing {
		t.Fatalf("backup holds %q (%v), want the original file", saved, err)
	}
	first, _ := os.ReadFile(path)
	firstInfo, _ := os.Stat(path)

	message, err := Install(path, DefaultBinary, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(message, "nothing changed") {
		t.Errorf("second run said %q", message)
	}
	second, _ := os.ReadFile(path)
	secondInfo, _ := os.Stat(path)
	if string(first) != string(second) || !firstInfo.ModTime().Equal(secondInfo.ModTime()) {
		t.Errorf("second run rewrote the file")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 2 {
		t.Errorf("directory holds %d files after two runs, want daemon.json and one backup", len(entries))
	}

	// Setting the default later changes the file but keeps the first backup.
	if _, err := Install(path, DefaultBinary, true); err != nil {
		t.Fatal(err)
	}
	if saved, _ := os.ReadFile(backup); string(saved) != existing {
		t.Errorf("the backup of the original was overwritten")
	}
	if got := decode(t, path)["default-runtime"]; got != DefaultRuntime {
		t.Errorf("default-runtime = %v, want %s", got, DefaultRuntime)
	}
}

func TestInstallCreatesMissingFileAndUninstallRemovesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.json")
	if _, err := Install(path, DefaultBinary, true); err != nil {
		t.Fatal(err)
	}
	if got := decode(t, path)["default-runtime"]; got != DefaultRuntime {
		t.Fatalf("default-runtime = %v", got)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Errorf("new file has mode %v, want 0644", info.Mode().Perm())
	}
	if _, err := os.Stat(path + BackupSuffix); !os.IsNotExist(err) {
		t.Errorf("a backup was made of a file that did not exist")
	}
	if _, err := Uninstall(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("uninstall left the daemon.json that install created")
	}
}

func TestUninstallRestoresTheOriginalByteForByte(t *testing.T) {
	path := writeDaemonJSON(t, existing)
	if _, err := Install(path, DefaultBinary, true); err != nil {
		t.Fatal(err)
	}
	message, err := Uninstall(path)
	if err != nil {
		t.Fatal(err)
	}
	if content, _ := os.ReadFile(path); string(content) != existing {
		t.Fatalf("uninstall (%s) left:\n%s", message, content)
	}
	if _, err := os.Stat(path + BackupSuffix); !os.IsNotExist(err) {
		t.Errorf("the backup is still there after it was restored")
	}
	if message, err := Uninstall(path); err != nil || !strings.Contains(message, "nothing changed") {
		t.Errorf("second uninstall: %q, %v", message, err)
	}
}

func TestUninstallKeepsLaterEditsAndRestoresDefaultRuntime(t *testing.T) {
	path := writeDaemonJSON(t, existing)
	if _, err := Install(path, DefaultBinary, true); err != nil {
		t.Fatal(err)
	}
	// The admin adds a key after the install.
	doc := decode(t, path)
	doc["debug"] = true
	edited, _ := json.Marshal(doc)
	os.WriteFile(path, edited, 0o600)

	if _, err := Uninstall(path); err != nil {
		t.Fatal(err)
	}
	after := decode(t, path)
	if after["debug"] != true {
		t.Errorf("the admin's later key was lost: %v", after)
	}
	if after["default-runtime"] != "nvidia" {
		t.Errorf("default-runtime = %v, want the backup's nvidia", after["default-runtime"])
	}
	runtimes := after["runtimes"].(map[string]any)
	if len(runtimes) != 1 || runtimes["nvidia"] == nil {
		t.Errorf("runtimes = %v, want only nvidia", runtimes)
	}
	if _, err := os.Stat(path + BackupSuffix); err != nil {
		t.Errorf("the backup was removed although the file was not restored from it: %v", err)
	}
}

func TestUninstallWithoutBackupRemovesOnlyOurKeys(t *testing.T) {
	path := writeDaemonJSON(t, `{"debug": true, "default-runtime": "guard-restricted",
		"runtimes": {"guard": {"path": "/x"}, "guard-restricted": {"path": "/x"}, "other": {"path": "/y"}}}`)
	if _, err := Uninstall(path); err != nil {
		t.Fatal(err)
	}
	after := decode(t, path)
	want := map[string]any{"debug": true, "runtimes": map[string]any{"other": map[string]any{"path": "/y"}}}
	if !reflect.DeepEqual(after, want) {
		t.Errorf("after uninstall: %v, want %v", after, want)
	}
}

func TestBadInputLeavesTheFileAlone(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":             `{"debug": true,`,
		"not an object":        `["runtimes"]`,
		"trailing data":        `{"debug": true} {}`,
		"duplicate key":        `{"debug": true, "debug": false}`,
		"nested duplicate":     `{"runtimes": {"x": {"path": "/a"}, "x": {"path": "/b"}}}`,
		"runtimes not object":  `{"runtimes": ["guard"]}`,
		"runtime without path": `{"runtimes": {"x": {"runtimeArgs": []}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := writeDaemonJSON(t, content)
			if message, err := Install(path, DefaultBinary, false); err == nil {
				t.Fatalf("accepted: %s", message)
			}
			if after, _ := os.ReadFile(path); string(after) != content {
				t.Errorf("file changed to %s", after)
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
				t.Errorf("left %d files, want only daemon.json", len(entries))
			}
		})
	}
}

func TestDuplicateKeyErrorNamesTheKey(t *testing.T) {
	path := writeDaemonJSON(t, `{"runtimes": {"x": {"path": "/a", "path": "/b"}}}`)
	_, err := Install(path, DefaultBinary, false)
	if err == nil || !strings.Contains(err.Error(), `"path" appears twice in /runtimes/x`) {
		t.Fatalf("error %v, want one naming the key and where", err)
	}
}

func TestInstallRefusesABinaryPathDockerCannotRun(t *testing.T) {
	path := writeDaemonJSON(t, `{}`)
	for _, binary := range []string{"guard-runtime", "/opt/my tools/guard-runtime"} {
		if _, err := Install(path, binary, false); err == nil {
			t.Errorf("accepted binary path %q", binary)
		}
	}
}

func TestCommandLine(t *testing.T) {
	path := writeDaemonJSON(t, `{}`)
	var out strings.Builder
	if err := run([]string{"install", "--file", path, "--binary", "/opt/guard/guard-runtime", "--default"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "registered runtimes guard, guard-baseline, guard-restricted, guard-audit") {
		t.Errorf("printed %q", out.String())
	}
	if got := decode(t, path)["runtimes"].(map[string]any)["guard"]; !reflect.DeepEqual(got, map[string]any{"path": "/opt/guard/guard-runtime"}) {
		t.Errorf("guard runtime = %v", got)
	}
	if err := run([]string{"reinstall", "--file", path}, &out); err == nil {
		t.Errorf("unknown command accepted")
	}
	if err := run([]string{"install", "--file", path, "extra"}, &out); err == nil {
		t.Errorf("extra argument accepted")
	}
}
