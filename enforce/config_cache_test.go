package enforce

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// configCacheFixture writes a config.yaml and points the config cache at a
// directory of the test's own, with a clock that counts the file as
// settled.
func configCacheFixture(t *testing.T, text string) (file, cacheDir string) {
	t.Helper()
	dir := t.TempDir()
	file = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cacheDir = filepath.Join(dir, "cache")
	oldDir, oldNow := configCacheDir, cacheNow
	configCacheDir = cacheDir
	cacheNow = func() time.Time { return time.Now().Add(time.Hour) }
	t.Cleanup(func() { configCacheDir, cacheNow = oldDir, oldNow })
	return file, cacheDir
}

const cachedConfigText = `runtime:
  path: /usr/sbin/runc
  sha256: ` + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + `
policy:
  default: baseline
kubernetes:
  namespaces:
    kube-system: baseline
`

// forgeConfigEntry rewrites the entry of file to name another runtime
// path: a load that returns it read the cache, not the file.
func forgeConfigEntry(t *testing.T, file, cacheDir string) {
	t.Helper()
	abs, _ := filepath.Abs(file)
	entry := filepath.Join(cacheDir, configEntryName(abs))
	data, err := os.ReadFile(entry)
	if err != nil {
		t.Fatalf("no config entry after a load: %v", err)
	}
	e, ok := decodeConfigEntry(data)
	if !ok {
		t.Fatalf("config entry does not decode: %s", data)
	}
	e.Config.Runtime.Path = "/forged/by/the/test"
	storeConfig(abs, mustIdentity(t, abs), e.Config)
}

func mustIdentity(t *testing.T, path string) fileIdentity {
	t.Helper()
	id, ok := trustedConfigIdentity(path)
	if !ok {
		t.Fatalf("%s has no trusted identity", path)
	}
	return id
}

func TestConfigIsReadFromTheCacheWhileTheFileIsUnchanged(t *testing.T) {
	file, cacheDir := configCacheFixture(t, cachedConfigText)
	first, err := LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	forgeConfigEntry(t, file, cacheDir)
	cached, err := LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if cached.Runtime.Path != "/forged/by/the/test" {
		t.Fatalf("the second load did not read the cache: runtime.path %q", cached.Runtime.Path)
	}
	cached.Runtime.Path = first.Runtime.Path
	if !reflect.DeepEqual(first, cached) {
		t.Fatalf("the cached config differs from the parsed one:\n%+v\n%+v", first, cached)
	}
}

// Any write to the file, even of the same bytes, moves its ctime: the
// entry no longer matches and the file is read again.
func TestConfigCacheMissesAfterAnyWrite(t *testing.T) {
	file, cacheDir := configCacheFixture(t, cachedConfigText)
	if _, err := LoadConfig(file); err != nil {
		t.Fatal(err)
	}
	forgeConfigEntry(t, file, cacheDir)
	time.Sleep(10 * time.Millisecond) // a coarse clock would keep the ctime
	if err := os.WriteFile(file, []byte(cachedConfigText), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runtime.Path != "/usr/sbin/runc" {
		t.Fatalf("a rewritten config.yaml was read from a stale entry: runtime.path %q", cfg.Runtime.Path)
	}
}

// A config that became writable by others is refused, entry or not.
func TestConfigCacheDoesNotOutliveTrust(t *testing.T) {
	file, cacheDir := configCacheFixture(t, cachedConfigText)
	if _, err := LoadConfig(file); err != nil {
		t.Fatal(err)
	}
	forgeConfigEntry(t, file, cacheDir)
	if err := os.Chmod(file, 0o666); err != nil {
		t.Fatal(err)
	}
	if cfg, err := LoadConfig(file); err == nil {
		t.Fatalf("a world-writable config.yaml was used (runtime.path %q)", cfg.Runtime.Path)
	}
}

// A change under two seconds old could be followed by another with the
// same ctime: such a file is read, not cached.
func TestConfigCacheStoresNoFreshFile(t *testing.T) {
	file, cacheDir := configCacheFixture(t, cachedConfigText)
	cacheNow = time.Now
	if _, err := LoadConfig(file); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(file)
	if _, err := os.Stat(filepath.Join(cacheDir, configEntryName(abs))); !os.IsNotExist(err) {
		t.Fatalf("an entry was stored for a file changed just now: %v", err)
	}
}

// A config that turns caching off is read every time, never cached.
func TestConfigCacheStoresNoConfigWithTheCacheOff(t *testing.T) {
	file, cacheDir := configCacheFixture(t, "runtime:\n  path: /usr/sbin/runc\n  cacheDir: \"\"\n")
	if _, err := LoadConfig(file); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(file)
	if _, err := os.Stat(filepath.Join(cacheDir, configEntryName(abs))); !os.IsNotExist(err) {
		t.Fatalf("an entry was stored for a config that turns the cache off: %v", err)
	}
}

// An entry in a cache directory others can write is not used.
func TestConfigCacheIgnoresAnUntrustedDirectory(t *testing.T) {
	file, cacheDir := configCacheFixture(t, cachedConfigText)
	if _, err := LoadConfig(file); err != nil {
		t.Fatal(err)
	}
	forgeConfigEntry(t, file, cacheDir)
	if err := os.Chmod(cacheDir, 0o777); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runtime.Path != "/usr/sbin/runc" {
		t.Fatalf("an entry in a world-writable cache directory was used: runtime.path %q", cfg.Runtime.Path)
	}
}

// A config entry reads back as the config it was written from.
func TestConfigEntryReadsBackAsTheConfig(t *testing.T) {
	file, cacheDir := configCacheFixture(t, cachedConfigText)
	cfg, err := LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(file)
	data, err := os.ReadFile(filepath.Join(cacheDir, configEntryName(abs)))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := decodeConfigEntry(data)
	if !ok || e.Path != abs {
		t.Fatalf("the entry does not read back: %v %+v", ok, e)
	}
	e.Config.File = cfg.File
	if !reflect.DeepEqual(e.Config, cfg) {
		t.Fatalf("entry %+v\nloaded %+v", e.Config, cfg)
	}
}

// The entry of a config.yaml that was deleted is removed when another
// config is stored: entries share one directory, and every temporary
// config (a test's, a benchmark's) would otherwise leave one behind. The
// entry of a config that still exists stays.
func TestConfigCachePrunesEntriesOfDeletedConfigs(t *testing.T) {
	gone, cacheDir := configCacheFixture(t, cachedConfigText)
	kept := filepath.Join(t.TempDir(), "config.yaml")
	later := filepath.Join(t.TempDir(), "config.yaml")
	for _, file := range []string{kept, later} {
		if err := os.WriteFile(file, []byte(cachedConfigText), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entryOf := func(file string) string {
		abs, _ := filepath.Abs(file)
		return filepath.Join(cacheDir, configEntryName(abs))
	}
	for _, file := range []string{gone, kept} {
		if _, err := LoadConfig(file); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(entryOf(file)); err != nil {
			t.Fatalf("no entry stored for %s: %v", file, err)
		}
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(later); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(entryOf(gone)); !os.IsNotExist(err) {
		t.Errorf("the entry of the deleted %s is still there (%v)", gone, err)
	}
	for _, file := range []string{kept, later} {
		if _, err := os.Stat(entryOf(file)); err != nil {
			t.Errorf("the entry of %s, which exists, is gone: %v", file, err)
		}
	}
}
