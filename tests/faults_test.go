package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/opencontainers/runc/libcontainer/specconv"

	"github.com/guard-runtime/guard-runtime/spec"
)

// mountSmallTmpfs mounts a tmpfs of size bytes on a fresh directory for the
// test's duration.
func mountSmallTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)+",mode=0755"); err != nil {
		t.Fatalf("mount a tmpfs on %s (the fault tests need root): %v", dir, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// rewrittenConfig is a config restricted rewrites: a non-root process with
// Docker's default capabilities, a writable root and no limits. Its root
// is the bundle's "rootfs", which need not exist: the tests that use it
// stop before runc would look.
func (e *runcEnv) rewrittenConfig(t *testing.T) []byte {
	t.Helper()
	s := specconv.Example() // root.path "rootfs"
	s.Process.Terminal = false
	s.Process.Args = []string{"true"}
	nonRootWithSeccomp(t)(s)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// guardCreate runs `guard-runtime create` of bundle as Docker would, and
// fails the test if it does not end within a minute (a hang).
func (e *runcEnv) guardCreate(t *testing.T, config, bundle, id string) (string, string, error) {
	t.Helper()
	t.Cleanup(func() { exec.Command(e.runc, "--root", e.root, "delete", "--force", id).Run() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, e.guard, "--guard-config", config, "--guard-policy=restricted", "--root", e.root,
		"create", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("guard-runtime create hung: killed after a minute; stderr %s", errOut.String())
	}
	return out.String(), errOut.String(), err
}

func (e *runcEnv) assertNoContainer(t *testing.T, id string) {
	t.Helper()
	if out, _, err := runCommand(e.runc, "--root", e.root, "state", id); err == nil {
		t.Errorf("runc knows container %s: %s", id, out)
	}
}

// A rewrite that cannot be written refuses the container, and leaves
// config.json byte for byte as it was, with no temporary file beside it.
func TestRewriteOnAFullOrReadOnlyBundleRefuses(t *testing.T) {
	e := newRuncEnv(t)
	config := writeGuardSettings(t, e.baseSettings(t))
	faults := map[string]struct {
		break_ func(t *testing.T, bundle string)
		want   string
	}{
		"full": {func(t *testing.T, bundle string) {
			f, err := os.Create(filepath.Join(bundle, "filler"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for err == nil {
				_, err = f.Write(make([]byte, 4096))
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the bundle's tmpfs: %v", err)
			}
		}, "no space left on device"},
		"read-only": {func(t *testing.T, bundle string) {
			if err := syscall.Mount("", bundle, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				t.Fatalf("remount the bundle read-only: %v", err)
			}
		}, "read-only file system"},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			bundle := mountSmallTmpfs(t, 64<<10)
			original := e.rewrittenConfig(t)
			if err := os.WriteFile(filepath.Join(bundle, "config.json"), original, 0o644); err != nil {
				t.Fatal(err)
			}
			fault.break_(t, bundle)
			before, _ := os.ReadDir(bundle)
			id := "fault-" + name
			out, errOut, err := e.guardCreate(t, config, bundle, id)
			if err == nil || out != "" {
				t.Fatalf("create: exit %v, stdout %q; want a refusal", err, out)
			}
			for _, want := range []string{`policy "restricted" rewrites ` + filepath.Join(bundle, "config.json") + " but it cannot be written", fault.want} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q: %s", want, errOut)
				}
			}
			if now, _ := os.ReadFile(filepath.Join(bundle, "config.json")); !bytes.Equal(now, original) {
				t.Error("config.json changed")
			}
			if after, _ := os.ReadDir(bundle); len(after) != len(before) {
				t.Errorf("the bundle held %d entries, now %d: a temporary file was left", len(before), len(after))
			}
			e.assertNoContainer(t, id)
		})
	}
}

// However guard-runtime is killed during a rewrite, config.json is the old
// document or the new one, never a mix. The config is padded with a large
// vendor field so that writing it takes a while. Half the runs are killed
// after a random delay within the time a whole run takes; the other half a
// random moment after the temporary file appears, that is while the new
// document is being written, synced or renamed.
func TestKilledRewriteLeavesTheOldOrTheNewConfig(t *testing.T) {
	e := newRuncEnv(t)
	settings := e.baseSettings(t)
	settings.runtime = "/bin/true" // the hand-off itself is not under test
	settings.digest = fileDigest(t, settings.runtime)
	config := writeGuardSettings(t, settings)

	var s map[string]any
	if err := json.Unmarshal(e.rewrittenConfig(t), &s); err != nil {
		t.Fatal(err)
	}
	s["x-padding"] = strings.Repeat("p", 8<<20)
	original, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	bundle := t.TempDir()
	file := filepath.Join(bundle, "config.json")
	args := []string{"--guard-config", config, "--guard-policy=restricted", "--root", e.root, "create", "--bundle", bundle, "killed"}
	reset := func() {
		if err := os.WriteFile(file, original, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	reset()
	start := time.Now()
	if _, errOut, err := runCommand(e.guard, args...); err != nil {
		t.Fatalf("a whole run: %v: %s", err, errOut)
	}
	whole := time.Since(start)
	rewritten, _ := os.ReadFile(file)
	if bytes.Equal(rewritten, original) {
		t.Fatal("restricted did not rewrite the config")
	}

	created := watchCreations(t, bundle)
	const runs = 60
	var kept, replaced, leftovers int
	for i := 0; i < runs; i++ {
		reset()
		drain(created)
		cmd := exec.Command(e.guard, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			time.Sleep(time.Duration(rand.Int64N(int64(whole) + 1)))
		} else {
			select {
			case <-created:
				time.Sleep(time.Duration(rand.Int64N(int64(10 * time.Millisecond))))
			case <-time.After(whole * 4):
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		now, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("run %d: config.json after the kill: %v", i, err)
		}
		switch {
		case bytes.Equal(now, original):
			kept++
		case bytes.Equal(now, rewritten):
			replaced++
		default:
			t.Fatalf("run %d: config.json is neither the old nor the new document after a kill (%d bytes)", i, len(now))
		}
		if _, err := spec.DecodeConfig(now); err != nil {
			t.Fatalf("run %d: config.json does not decode after a kill: %v", i, err)
		}
		temps, _ := filepath.Glob(filepath.Join(bundle, ".config.json.guard-*"))
		for _, tmp := range temps {
			leftovers++
			os.Remove(tmp)
		}
	}
	t.Logf("%d runs killed (a whole run takes %v): %d kept the old config, %d had the new one; %d were killed while writing, leaving their temporary file",
		runs, whole, kept, replaced, leftovers)
}

// watchCreations reports, through the channel, each file created in dir.
func watchCreations(t *testing.T, dir string) <-chan string {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE); err != nil {
		t.Fatalf("inotify watch %s: %v", dir, err)
	}
	events := os.NewFile(uintptr(fd), "inotify")
	t.Cleanup(func() { events.Close() })
	created := make(chan string, 64)
	go func() {
		buf := make([]byte, 64*1024)
		for {
			n, err := events.Read(buf)
			if err != nil {
				return
			}
			for off := 0; off+syscall.SizeofInotifyEvent <= n; {
				ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := strings.TrimRight(string(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)]), "\x00")
				select {
				case created <- name:
				default:
				}
				off += syscall.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}()
	return created
}

func drain(c <-chan string) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// A config.json that is not a readable regular file inside the bundle is
// refused with an error that says what was found, quickly, and no
// container is created.
func TestUnusableConfigFileIsRefused(t *testing.T) {
	e := newRuncEnv(t)
	config := writeGuardSettings(t, e.baseSettings(t))
	outside := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(outside, e.rewrittenConfig(t), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, file string)
		want  string
	}{
		{"missing", func(t *testing.T, file string) {}, "no such file or directory"},
		{"a directory", func(t *testing.T, file string) { must(t, os.Mkdir(file, 0o755)) }, "is a directory, not a regular file"},
		{"a FIFO", func(t *testing.T, file string) { must(t, syscall.Mkfifo(file, 0o644)) }, "is a FIFO, not a regular file"},
		{"a symlink to a FIFO in the bundle", func(t *testing.T, file string) {
			must(t, syscall.Mkfifo(filepath.Join(filepath.Dir(file), "fifo"), 0o644))
			must(t, os.Symlink("fifo", file))
		}, "is a FIFO, not a regular file"},
		{"a device", func(t *testing.T, file string) {
			must(t, syscall.Mknod(file, syscall.S_IFCHR|0o644, int(1<<8|3))) // /dev/null's numbers
		}, "is a device, not a regular file"},
		{"a symlink out of the bundle", func(t *testing.T, file string) { must(t, os.Symlink(outside, file)) }, "outside the bundle"},
		{"a dangling symlink", func(t *testing.T, file string) { must(t, os.Symlink("nothing", file)) }, "dangling symlink"},
		{"empty", func(t *testing.T, file string) { must(t, os.WriteFile(file, nil, 0o644)) }, "truncated"},
		{"over the size limit", func(t *testing.T, file string) {
			must(t, os.WriteFile(file, nil, 0o644))
			must(t, os.Truncate(file, spec.MaxDocumentSize+1))
		}, "over the 16777216-byte limit"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bundle := t.TempDir()
			file := filepath.Join(bundle, "config.json")
			c.setup(t, file)
			id := "bad-config-" + strconv.Itoa(i)
			out, errOut, err := e.guardCreate(t, config, bundle, id)
			if err == nil || out != "" {
				t.Fatalf("create: exit %v, stdout %q; want a refusal", err, out)
			}
			if !strings.Contains(errOut, c.want) || !strings.Contains(errOut, bundle) {
				t.Errorf("stderr does not say %q about %s: %s", c.want, file, errOut)
			}
			e.assertNoContainer(t, id)
		})
	}

	// Run by a user who cannot read it, config.json is refused as unreadable.
	t.Run("unreadable", func(t *testing.T) {
		bundle := t.TempDir()
		file := filepath.Join(bundle, "config.json")
		must(t, os.WriteFile(file, e.rewrittenConfig(t), 0o600))
		readable := filepath.Join(t.TempDir(), "config.yaml")
		data, _ := os.ReadFile(config)
		must(t, os.WriteFile(readable, data, 0o644))
		for _, dir := range []string{bundle, filepath.Dir(bundle), filepath.Dir(readable), filepath.Dir(filepath.Dir(readable))} {
			must(t, os.Chmod(dir, 0o755))
		}
		var errOut bytes.Buffer
		cmd := exec.Command(e.guard, "--guard-config", readable, "--guard-policy=restricted", "--root", e.root, "create", "--bundle", bundle, "bad-config-unreadable")
		cmd.Stderr = &errOut
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
		if err := cmd.Run(); err == nil || !strings.Contains(errOut.String(), "permission denied") || !strings.Contains(errOut.String(), file) {
			t.Errorf("create with an unreadable config.json: %v: %s", err, errOut.String())
		}
		e.assertNoContainer(t, "bad-config-unreadable")
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
