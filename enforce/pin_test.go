package enforce

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pinFixture is a host: a runtime binary, a cache directory and a
// config.yaml written from a template where RUNTIME, CACHE and OLD stand for
// the runtime path, the cache directory and an old pin.
type pinFixture struct {
	dir, runtime, cache, config string
	content                     []byte
}

func newPinFixture(t *testing.T, template string) pinFixture {
	t.Helper()
	dir := t.TempDir()
	f := pinFixture{
		dir:     dir,
		runtime: filepath.Join(dir, "runc"),
		cache:   filepath.Join(dir, "verified"),
		config:  filepath.Join(dir, "config.yaml"),
		content: fakeRuntime("installed"),
	}
	writeRuntime(t, f.runtime, f.content)
	if template != "" {
		text := strings.NewReplacer("RUNTIME", f.runtime, "CACHE", f.cache, "OLD", digestOf([]byte("old runc"))).Replace(template)
		if err := os.WriteFile(f.config, []byte(text), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f pinFixture) read(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(f.config)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func (f pinFixture) load(t *testing.T) *Config {
	t.Helper()
	cfg, err := LoadConfig(f.config)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const commentedConfig = `# guard-runtime on this host
runtime:
  # the real runtime
  path: RUNTIME   # keep me
  sha256: OLD  # previous pin
  cacheDir: CACHE

# policies
policy:
  dir: /etc/guard-runtime/policy.d
  default: baseline  # tenants run baseline

audit:
  file: /var/log/guard-runtime/audit.log
kubernetes:
  namespaces:
    kube-system: baseline
`

func TestPinKeepsCommentsAndOtherKeys(t *testing.T) {
	t.Parallel()
	f := newPinFixture(t, commentedConfig)
	before := f.load(t)
	digest, err := Pin(f.config)
	if err != nil {
		t.Fatal(err)
	}
	if digest != digestOf(f.content) {
		t.Fatalf("Pin returned %s, want the runtime's %s", digest, digestOf(f.content))
	}
	after := f.load(t)
	if !reflect.DeepEqual(after.Runtime.SHA256, Digests{digest}) {
		t.Errorf("runtime.sha256 = %v, want [%s]", after.Runtime.SHA256, digest)
	}
	before.Runtime.SHA256, after.Runtime.SHA256 = nil, nil
	if !reflect.DeepEqual(before, after) {
		t.Errorf("other settings changed:\nbefore %+v\nafter  %+v", before, after)
	}
	text := f.read(t)
	for _, comment := range []string{"# guard-runtime on this host", "# the real runtime", "# keep me", "# previous pin", "# tenants run baseline"} {
		if !strings.Contains(text, comment) {
			t.Errorf("comment %q lost:\n%s", comment, text)
		}
	}
	if !strings.Contains(text, "\n  path: ") {
		t.Errorf("the two-space indentation was not kept:\n%s", text)
	}
	if !strings.Contains(text, "\n\n# policies\npolicy:\n") || !strings.Contains(text, "\n\naudit:\n") {
		t.Errorf("the blank lines between sections were not kept:\n%s", text)
	}
	info, err := os.Stat(f.config)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("config mode %v, want the original 0640", info.Mode().Perm())
	}
}

func TestPinNarrowsAListToTheInstalledDigest(t *testing.T) {
	t.Parallel()
	f := newPinFixture(t, "runtime:\n    path: RUNTIME\n    cacheDir: CACHE\n    sha256:\n        - OLD\n        - "+strings.Repeat("ab", 32)+"\n")
	digest, err := Pin(f.config)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.load(t).Runtime.SHA256; !reflect.DeepEqual(got, Digests{digest}) {
		t.Errorf("runtime.sha256 = %v, want [%s]", got, digest)
	}
	if !strings.Contains(f.read(t), "\n    path: ") {
		t.Errorf("the four-space indentation was not kept:\n%s", f.read(t))
	}
}

func TestPinLeavesAnUpToDateConfigAlone(t *testing.T) {
	t.Parallel()
	f := newPinFixture(t, commentedConfig)
	if _, err := Pin(f.config); err != nil {
		t.Fatal(err)
	}
	var before syscall.Stat_t
	if err := syscall.Stat(f.config, &before); err != nil {
		t.Fatal(err)
	}
	text := f.read(t)
	if _, err := Pin(f.config); err != nil {
		t.Fatal(err)
	}
	var after syscall.Stat_t
	if err := syscall.Stat(f.config, &after); err != nil {
		t.Fatal(err)
	}
	if before.Ino != after.Ino || f.read(t) != text {
		t.Error("pinning the digest already pinned rewrote config.yaml")
	}
}

func TestPinCompletesPartialConfigs(t *testing.T) {
	t.Parallel()
	for name, template := range map[string]string{
		"empty file":         "",
		"only comments":      "# nothing configured yet\n",
		"no runtime section": "runtime:\n  path: RUNTIME\n  cacheDir: CACHE\npolicy:\n  default: baseline\n",
		"null sha256":        "runtime:\n  path: RUNTIME\n  cacheDir: CACHE\n  sha256:\n",
	} {
		t.Run(name, func(t *testing.T) {
			f := newPinFixture(t, template)
			if err := os.WriteFile(f.config, []byte(strings.NewReplacer("RUNTIME", f.runtime, "CACHE", f.cache).Replace(template)), 0o644); err != nil {
				t.Fatal(err)
			}
			digest, err := pinRuntime(f.config, time.Now, func(c *Config) { c.Runtime.Path, c.Runtime.CacheDir = f.runtime, f.cache })
			if err != nil {
				t.Fatal(err)
			}
			cfg := f.load(t)
			if !reflect.DeepEqual(cfg.Runtime.SHA256, Digests{digest}) {
				t.Errorf("runtime.sha256 = %v, want [%s]\n%s", cfg.Runtime.SHA256, digest, f.read(t))
			}
			if strings.HasPrefix(template, "#") && !strings.Contains(f.read(t), "# nothing configured yet") {
				t.Errorf("comment lost:\n%s", f.read(t))
			}
		})
	}
}

func TestPinCreatesAMissingConfig(t *testing.T) {
	t.Parallel()
	f := newPinFixture(t, "")
	config := filepath.Join(f.dir, "etc", "guard-runtime", "config.yaml")
	digest, err := pinRuntime(config, time.Now, func(c *Config) { c.Runtime.Path, c.Runtime.CacheDir = f.runtime, f.cache })
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runtime.Path != f.runtime || !reflect.DeepEqual(cfg.Runtime.SHA256, Digests{digest}) {
		t.Errorf("new config pins %s %v, want %s [%s]", cfg.Runtime.Path, cfg.Runtime.SHA256, f.runtime, digest)
	}
	if entries, _ := os.ReadDir(filepath.Dir(config)); len(entries) != 1 {
		t.Errorf("config directory holds %v, want config.yaml alone", entries)
	}
}

func TestPinRefusesABrokenConfigAndLeavesItAlone(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ template, want string }{
		"unknown key":       {"runtime:\n  path: RUNTIME\n  cacheDir: CACHE\n  sha265: OLD\n", "sha265"},
		"runtime not a map": {"runtime: RUNTIME\n", "runtime"},
		"not yaml":          {"runtime: [\n", "yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newPinFixture(t, tc.template)
			before := f.read(t)
			_, err := Pin(f.config)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
			if f.read(t) != before {
				t.Errorf("the broken config was changed:\n%s", f.read(t))
			}
		})
	}
}

func TestPinRefusesAScript(t *testing.T) {
	t.Parallel()
	f := newPinFixture(t, "runtime:\n  path: RUNTIME\n  cacheDir: CACHE\n")
	writeRuntime(t, f.runtime, []byte("#!/bin/sh\nexec /usr/sbin/runc \"$@\"\n"))
	before := f.read(t)
	if _, err := Pin(f.config); err == nil || !strings.Contains(err.Error(), "not an ELF executable") {
		t.Fatalf("error %v, want a refusal of the script", err)
	}
	if f.read(t) != before {
		t.Error("config changed although nothing was pinned")
	}
}

func TestPinnedRuntimeVerifies(t *testing.T) {
	t.Parallel()
	f := newPinFixture(t, commentedConfig)
	if _, err := Pin(f.config); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRuntime(f.load(t).Runtime)
	if err != nil {
		t.Fatalf("OpenRuntime after Pin: %v", err)
	}
	r.Close()
	if r.Digest != digestOf(f.content) {
		t.Errorf("digest %s, want %s", r.Digest, digestOf(f.content))
	}
}

func TestMismatchSaysWhetherTheFileChangedSincePinned(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		disturb func(t *testing.T, f pinFixture) RuntimeConfig
		want    PinChange
		advice  string
	}{
		{"modified in place", func(t *testing.T, f pinFixture) RuntimeConfig {
			file, err := os.OpenFile(f.runtime, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			if _, err := file.WriteAt([]byte("payload"), 100); err != nil {
				t.Fatal(err)
			}
			return f.load(t).Runtime
		}, PinChangeModified, "do not re-pin"},
		{"replaced by an upgrade", func(t *testing.T, f pinFixture) RuntimeConfig {
			next := writeRuntime(t, f.runtime+".dpkg-new", fakeRuntime("next release"))
			if err := os.Rename(next, f.runtime); err != nil {
				t.Fatal(err)
			}
			return f.load(t).Runtime
		}, PinChangeReplaced, "pin the new binary"},
		{"pin edited by hand", func(t *testing.T, f pinFixture) RuntimeConfig {
			rc := f.load(t).Runtime
			rc.SHA256 = Digests{digestOf([]byte("some other runc"))}
			return rc
		}, PinChangeNone, "has not changed since it was pinned"},
		{"no record of the pin", func(t *testing.T, f pinFixture) RuntimeConfig {
			rc := f.load(t).Runtime
			rc.SHA256 = Digests{digestOf([]byte("pinned on another host"))}
			rc.CacheDir = filepath.Join(f.dir, "fresh-cache")
			return rc
		}, PinChangeUnknown, "cannot tell whether it changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newPinFixture(t, commentedConfig)
			if _, err := Pin(f.config); err != nil {
				t.Fatal(err)
			}
			_, err := OpenRuntime(tc.disturb(t, f))
			var verr *VerificationError
			if !errors.As(err, &verr) {
				t.Fatalf("error %v, want a *VerificationError", err)
			}
			if verr.ChangedSincePinned != tc.want {
				t.Errorf("ChangedSincePinned = %v, want %v", verr.ChangedSincePinned, tc.want)
			}
			if tc.want != PinChangeUnknown && verr.PinnedAt.IsZero() {
				t.Error("PinnedAt is not set although the pin was recorded")
			}
			if !strings.Contains(err.Error(), tc.advice) {
				t.Errorf("message %q does not say %q", err, tc.advice)
			}
		})
	}
}

func TestAddPinKeepsThePinsThere(t *testing.T) {
	t.Parallel()
	f := newPinFixture(t, commentedConfig)
	old := f.load(t).Runtime.SHA256
	incoming := strings.Repeat("AB", 32)
	if err := AddPin(f.config, incoming); err != nil {
		t.Fatal(err)
	}
	want := Digests{old[0], strings.ToLower(incoming)}
	if got := f.load(t).Runtime.SHA256; !reflect.DeepEqual(got, want) {
		t.Fatalf("runtime.sha256 = %v, want %v", got, want)
	}
	text := f.read(t)
	if !strings.Contains(text, "# keep me") || !strings.Contains(text, "sha256: # previous pin\n") {
		t.Errorf("comments lost or moved off their line:\n%s", text)
	}
	if err := AddPin(f.config, incoming); err != nil {
		t.Fatal(err)
	}
	if f.read(t) != text {
		t.Error("adding a digest already pinned changed config.yaml")
	}
	if err := AddPin(f.config, "sha256:"+incoming); err == nil || f.read(t) != text {
		t.Errorf("a malformed digest was accepted (error %v)", err)
	}
	// After the upgrade, pin narrows the list to what is installed.
	digest, err := Pin(f.config)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.load(t).Runtime.SHA256; !reflect.DeepEqual(got, Digests{digest}) {
		t.Errorf("after Pin runtime.sha256 = %v, want [%s]", got, digest)
	}
}

func TestPinRecordRoundTrips(t *testing.T) {
	t.Parallel()
	rec := pinRecord{
		ID:       fileIdentity{Dev: 254, Ino: 10706946, Size: 8752456},
		Digest:   digestOf([]byte("runc")),
		PinnedAt: time.Unix(0, 1767225600123456789),
		Path:     "/opt/runtimes/run c",
	}
	rec.ID.Mtime.Sec, rec.ID.Mtime.Nsec = 1706881985, 5
	rec.ID.Ctime.Sec, rec.ID.Ctime.Nsec = 1795770698, 976652726
	rec.Btime.Sec, rec.Btime.Nsec = 1795770698, 734384015
	got, err := parsePinRecord(rec.marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Errorf("round trip gave %+v, want %+v", got, rec)
	}
}
