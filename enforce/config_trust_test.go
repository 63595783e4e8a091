package enforce

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const validConfig = "runtime:\n  path: /usr/sbin/runc\n  sha256: 0123\npolicy:\n  default: baseline\n"

// config.yaml names the binary guard-runtime executes as root, so it is
// read like a policy: a regular file that only root can have written, of
// a bounded size, holding one YAML document. Anything else refuses every
// call, with the file named, and never hangs it.
func TestLoadConfigRefusesWhatItCannotTrust(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, file string)
		want  string
	}{
		{"does not exist", func(t *testing.T, file string) {}, "does not exist"},
		{"a FIFO", func(t *testing.T, file string) { must(t, syscall.Mkfifo(file, 0o600)) }, "is a FIFO, not a regular file"},
		{"a directory", func(t *testing.T, file string) { must(t, os.Mkdir(file, 0o700)) }, "is a directory, not a regular file"},
		{"a symlink to /dev/zero", func(t *testing.T, file string) { must(t, os.Symlink("/dev/zero", file)) }, "is a device, not a regular file"},
		{"too large", func(t *testing.T, file string) {
			must(t, os.WriteFile(file, nil, 0o600))
			must(t, os.Truncate(file, maxConfigSize+1))
		}, "over the"},
		{"owned by another user", func(t *testing.T, file string) {
			must(t, os.WriteFile(file, []byte(validConfig), 0o644))
			must(t, os.Chown(file, 1000, 1000))
		}, "is owned by uid 1000, not root"},
		{"group-writable", func(t *testing.T, file string) {
			must(t, os.WriteFile(file, []byte(validConfig), 0o600))
			must(t, os.Chmod(file, 0o620))
		}, "is writable by group or others (mode 0620)"},
		{"a second document", func(t *testing.T, file string) {
			must(t, os.WriteFile(file, []byte(validConfig+"---\nruntime:\n  path: /tmp/other\n"), 0o600))
		}, "line 6: a second YAML document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "config.yaml")
			c.setup(t, file)
			done := make(chan error, 1)
			go func() {
				_, err := LoadConfig(file)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				t.Fatal("LoadConfig hangs")
			}
			if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadConfig: %v; want an error naming %s that says %q", err, file, c.want)
			}
		})
	}
}

func TestLoadConfigReadsAValidFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	must(t, os.WriteFile(file, []byte(validConfig), 0o644))
	cfg, err := LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runtime.Path != "/usr/sbin/runc" || cfg.Policy.Default != "baseline" || cfg.Policy.Dir != DefaultPolicyDir || cfg.File != file {
		t.Errorf("config read as %+v", cfg)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
