package enforce

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A mountinfo with escaped names, optional fields and two mounts at one
// point.
const mountinfoFixture = `27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
43 27 254:0 /run/netns /run/netns rw,relatime shared:1 master:2 - ext4 /dev/vda rw
50 27 0:40 / /srv/tmp rw - tmpfs tmpfs rw
51 27 254:0 /etc /var/lib/docker/volumes/evil/_data rw - ext4 /dev/vda rw
52 27 254:0 /home/a\040b\011c\012d\134e /var/lib/docker/volumes/odd\040name/_data rw - ext4 /dev/vda rw
53 27 0:40 / /var/lib/docker/volumes/stacked/_data rw - tmpfs tmpfs rw
54 53 254:0 /srv/data /var/lib/docker/volumes/stacked/_data rw - ext4 /dev/vda rw
60 27 0:41 /exports/x /mnt/nfs rw - nfs server:/ rw
61 27 0:41 /exports/x/y /var/lib/docker/volumes/nfs/_data rw - nfs server:/ rw
62 27 0:42 / /var/lib/docker/volumes/fresh/_data rw - tmpfs tmpfs rw
63 27 0:40 /sub /var/lib/docker/volumes/tmpsub/_data rw - tmpfs tmpfs rw
72 69 0:4 net:[4026532178] /run/containerd/netns/cni-1 rw - nsfs nsfs rw
73 69 0:4 net:[4026532178] /var/lib/docker/volumes/ns/_data rw - nsfs nsfs rw
`

// writeMountinfo is a mountinfo file of the given text, for a test.
func writeMountinfo(t testing.TB, text string) (name string) {
	t.Helper()
	name = filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatalf("mountinfo fixture: %v", err)
	}
	return name
}

// readMountinfo lists the entries of a mountinfo file, as scanMountinfo
// reads them.
func readMountinfo(name string) ([]mountEntry, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var entries []mountEntry
	err = scanMountinfo(name, string(data), func(e mountEntry) { entries = append(entries, e) })
	return entries, err
}

func TestReadMountinfo(t *testing.T) {
	entries, err := readMountinfo(writeMountinfo(t, mountinfoFixture))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 13 {
		t.Fatalf("%d entries, want 13: %+v", len(entries), entries)
	}
	// A namespace file's root is not a path; CRI's network namespaces show it.
	if got, want := entries[11], (mountEntry{device: "0:4", root: "net:[4026532178]", mountPoint: "/run/containerd/netns/cni-1", fsType: "nsfs"}); got != want {
		t.Errorf("nsfs: got %+v, want %+v", got, want)
	}
	if got, want := entries[1], (mountEntry{device: "254:0", root: "/run/netns", mountPoint: "/run/netns", fsType: "ext4"}); got != want {
		t.Errorf("optional fields: got %+v, want %+v", got, want)
	}
	if got, want := entries[4], (mountEntry{device: "254:0", root: "/home/a b\tc\nd\\e", mountPoint: "/var/lib/docker/volumes/odd name/_data", fsType: "ext4"}); got != want {
		t.Errorf("escapes: got %+v, want %+v", got, want)
	}
	for _, bad := range []string{
		"27 1 254:0 / / rw\n",                    // no separator
		"27 1 254:0 / / rw -\n",                  // no type and source
		"27 1 254 / / rw - ext4 /dev/vda rw\n",   // no major:minor
		"27 1 254:0 / x rw - ext4 /dev/vda rw\n", // relative mount point
		"27 1 254:0 / /a\\07 rw - ext4 /dev/vda rw\n",
		"27 1 254:0 / /a\\101 rw - ext4 /dev/vda rw\n",
	} {
		if _, err := readMountinfo(writeMountinfo(t, bad)); err == nil {
			t.Errorf("malformed %q was read", bad)
		}
	}
	if _, err := readMountinfo(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a missing mountinfo was read")
	}
}

func TestMountOf(t *testing.T) {
	mountinfo := writeMountinfo(t, mountinfoFixture+`80 27 7:1 /sub /srv/sub rw - btrfs /dev/loop1 rw
81 27 7:1 / /var/lib/docker/volumes/whole/_data rw - btrfs /dev/loop1 rw
82 27 7:1 /sub/x /var/lib/docker/volumes/part/_data rw - btrfs /dev/loop1 rw
`)
	// Where each mount point leads on the host: every other mount of its
	// device that shows its directory; "hidden" when the device is
	// mounted elsewhere but nowhere shows it.
	leads := map[string][]string{
		"/var/lib/docker/volumes/evil/_data":     {"/etc"},
		"/var/lib/docker/volumes/odd name/_data": {"/home/a b\tc\nd\\e"},
		// The topmost (last) mount at a point is the one seen.
		"/var/lib/docker/volumes/stacked/_data": {"/srv/data"},
		// No mount shows the device's "/": the root that holds it places it.
		"/var/lib/docker/volumes/nfs/_data": {"/mnt/nfs/y"},
		// Every mount that shows it, a volume's too: each must pass.
		"/var/lib/docker/volumes/tmpsub/_data": {"/srv/tmp/sub", "/var/lib/docker/volumes/stacked/_data/sub"},
		"/var/lib/docker/volumes/part/_data":   {"/srv/sub/x", "/var/lib/docker/volumes/whole/_data/sub/x"},
		"/var/lib/docker/volumes/fresh/_data":  nil,
		"/var/lib/docker/volumes/ns/_data":     nil, // a namespace file places no directory
		"/var/lib/docker/volumes/none/_data":   nil,
		// The same device's other mount, not the point itself.
		"/run/netns": {"/run/netns"},
	}
	for point, want := range leads {
		hosts, _, hidden, err := mountOf(mountinfo, point)
		if want == nil && errors.Is(err, errNotMounted) {
			continue
		}
		slices.Sort(hosts)
		if err != nil || hidden || !slices.Equal(hosts, want) {
			t.Errorf("mountOf(%q) = %q, hidden %v, %v; want %q", point, hosts, hidden, err, want)
		}
	}
	// The whole device, where the host mounts only a part of it.
	if hosts, _, hidden, err := mountOf(mountinfo, "/var/lib/docker/volumes/whole/_data"); err != nil || !hidden || hosts != nil {
		t.Errorf("a whole device mounted elsewhere only in part: %q, hidden %v, %v", hosts, hidden, err)
	}
}

// mustMount mounts, or skips the test where mounting is not allowed; the
// mount is undone at the end of the test.
func mustMount(t *testing.T, source, target, fstype string, flags uintptr) {
	t.Helper()
	if err := unix.Mount(source, target, fstype, flags, ""); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skipf("mount %s: %v (run as root)", target, err)
		}
		t.Fatalf("mount %s on %s: %v", source, target, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
}

// A volume created with bind options is a bind mount of a host directory
// at the volume's path, which the engine's rules admit: what it shows is
// judged.
func TestHostPathsVolumeThatIsAMountOfAHostDirectory(t *testing.T) {
	host := t.TempDir()
	docker := filepath.Join(host, "docker")
	secret := filepath.Join(host, "secret")
	plain := filepath.Join(host, "plain")
	mustMkdir(t, filepath.Join(secret, "sub"))
	mustMkdir(t, plain)
	policy := func(parent string) string {
		return fmt.Sprintf("extends: %s\ncontrols:\n  hostPaths:\n    roots:\n      dockerRoot: %s\n    sensitive:\n      - {path: %s, what: secrets}\n", parent, docker, secret)
	}
	dir := policyDir(t, map[string]string{"node": policy("baseline"), "strict": policy("restricted")})
	node, strict := loadFrom(t, dir, "node"), loadFrom(t, dir, "strict")
	volume := func(t *testing.T, name string) string {
		v := filepath.Join(docker, "volumes", name, "_data")
		mustMkdir(t, v)
		return v
	}
	judge := func(t *testing.T, p *Policy, source string) *Decision {
		t.Helper()
		s := compliantSpec()
		addMount(dockerBind(source, "/x"))(s)
		return judgeSpec(t, p, s)
	}

	t.Run("a bind mount of a sensitive directory is denied", func(t *testing.T) {
		v := volume(t, "evil")
		mustMount(t, secret, v, "", unix.MS_BIND)
		d := judge(t, node, v)
		msg := violationAt(d, newMountField).Message
		for _, want := range []string{v, "a mount of the host's " + secret + " (secrets)", "remove the volume, or recreate it without the bind options"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message lacks %q: %q (%+v)", want, msg, d.Violations)
			}
		}
	})
	t.Run("a bind mount of a directory inside one is denied", func(t *testing.T) {
		v := volume(t, "evil-sub")
		mustMount(t, filepath.Join(secret, "sub"), v, "", unix.MS_BIND)
		if d := judge(t, node, v); !strings.Contains(violationAt(d, newMountField).Message, "inside "+secret) {
			t.Fatalf("want denied as inside %s: %+v", secret, d.Violations)
		}
	})
	t.Run("the host's /etc, read-only, under the shipped baseline", func(t *testing.T) {
		v := filepath.Join(host, "etc-volume")
		mustMkdir(t, v)
		mustMount(t, "/etc", v, "", unix.MS_BIND)
		if err := unix.Mount("", v, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			t.Fatalf("remount %s read-only: %v", v, err)
		}
		if d := judge(t, loadShipped(t, "baseline"), v); !strings.Contains(violationAt(d, newMountField).Message, "a mount of the host's /etc (") {
			t.Fatalf("want denied as /etc: %+v", d.Violations)
		}
	})
	t.Run("a plain directory is admitted", func(t *testing.T) {
		v := volume(t, "plain")
		for _, p := range []*Policy{node, strict} {
			if d := judge(t, p, v); d.Verdict != Allow {
				t.Fatalf("%+v", d.Violations)
			}
		}
	})
	t.Run("a fresh tmpfs is admitted", func(t *testing.T) {
		v := volume(t, "tmpfs")
		mustMount(t, "tmpfs", v, "tmpfs", 0)
		for _, p := range []*Policy{node, strict} {
			if d := judge(t, p, v); d.Verdict != Allow {
				t.Fatalf("%+v", d.Violations)
			}
		}
	})
	// A fresh instance of these shows the host's kernel or files, though
	// its device is mounted nowhere else (docker volume create -o type=proc).
	for _, fs := range []struct{ typ, source, options string }{
		{"proc", "proc", ""},
		{"mqueue", "mqueue", ""},
		{"overlay", "overlay", "lowerdir=/etc:/usr"},
	} {
		t.Run("a fresh "+fs.typ+" is denied", func(t *testing.T) {
			v := volume(t, fs.typ)
			if err := unix.Mount(fs.source, v, fs.typ, 0, fs.options); err != nil {
				t.Skipf("mount %s here: %v", fs.typ, err)
			}
			t.Cleanup(func() { unix.Unmount(v, unix.MNT_DETACH) })
			for _, p := range []*Policy{node, strict} {
				if msg := violationAt(judge(t, p, v), newMountField).Message; !strings.Contains(msg, "it is a mount of a "+fs.typ+" filesystem") {
					t.Fatalf("%s volume: %q", fs.typ, msg)
				}
			}
		})
	}
	t.Run("a bind mount of another directory is judged as that directory", func(t *testing.T) {
		v := volume(t, "other")
		mustMount(t, plain, v, "", unix.MS_BIND)
		if d := judge(t, node, v); d.Verdict != Allow {
			t.Fatalf("baseline admits %s: %+v", plain, d.Violations)
		}
		d := judge(t, strict, v)
		if msg := violationAt(d, newMountField).Message; !strings.Contains(msg, "a mount of the host's "+plain) {
			t.Fatalf("restricted denies %s bound directly, and so as a volume: %+v", plain, d.Violations)
		}
	})
}

// A mount point that cannot be examined is not admitted.
func TestHostPathsUnreadableMountinfoFailsClosed(t *testing.T) {
	v := t.TempDir()
	mustMount(t, "tmpfs", v, "tmpfs", 0)
	if _, _, _, err := mountedHostPaths(writeMountinfo(t, "garbage\n"), v); err == nil {
		t.Error("a malformed mountinfo was taken as no mount")
	}
	if _, _, _, err := mountedHostPaths(filepath.Join(t.TempDir(), "none"), v); err == nil {
		t.Error("a missing mountinfo was taken as no mount")
	}
	// The kernel says it is a mount point, and mountinfo lists none there.
	if _, _, _, err := mountedHostPaths(writeMountinfo(t, mountinfoFixture), v); err == nil {
		t.Error("a mount point missing from mountinfo was taken as no mount")
	}
	// A path that is no mount point never reads it.
	if hosts, _, _, err := mountedHostPaths(filepath.Join(t.TempDir(), "none"), t.TempDir()); err != nil || hosts != nil {
		t.Errorf("a plain directory: %q, %v", hosts, err)
	}
}

// What judging a bind source that is a mount point costs on a host with
// a thousand mounts (containers' overlays with their long options): the
// whole of mountinfo is read, twice over the text.
func BenchmarkMountOfOnAHostWithAThousandMounts(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(mountinfoFixture)
	for i := range 1000 {
		fmt.Fprintf(&sb, "%d 27 0:%d / /var/lib/docker/overlay2/%064d/merged rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,upperdir=/var/lib/docker/overlay2/%064d/diff,workdir=/var/lib/docker/overlay2/%064d/work\n", 100+i, 100+i, i, i, i)
	}
	name := writeMountinfo(b, sb.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := mountOf(name, "/var/lib/docker/volumes/evil/_data"); err != nil {
			b.Fatal(err)
		}
	}
}

// A bind source that lies inside a mount, not at its root, is judged as
// what the mount shows: the host path where the same file appears, and
// the mount's filesystem type.
func TestHostPathsSourceInsideAMount(t *testing.T) {
	host := t.TempDir()
	secret := filepath.Join(host, "secret")
	mustMkdir(t, filepath.Join(secret, "sub"))
	plain := filepath.Join(host, "plain")
	mustMkdir(t, filepath.Join(plain, "sub"))
	policy := fmt.Sprintf("extends: baseline\ncontrols:\n  hostPaths:\n    sensitive:\n      - {path: %s, what: secrets}\n", secret)
	node := loadFrom(t, policyDir(t, map[string]string{"node": policy}), "node")
	judge := func(t *testing.T, source string) *Decision {
		t.Helper()
		s := compliantSpec()
		addMount(dockerBind(source, "/x"))(s)
		return judgeSpec(t, node, s)
	}
	mountPoint := func(t *testing.T, name string) string {
		p := filepath.Join(host, name)
		mustMkdir(t, p)
		return p
	}

	t.Run("inside a bind mount of a sensitive directory", func(t *testing.T) {
		backup := mountPoint(t, "backup")
		mustMount(t, secret, backup, "", unix.MS_BIND)
		d := judge(t, filepath.Join(backup, "sub"))
		msg := violationAt(d, newMountField).Message
		if want := "it lies in the mount at " + backup + ", which shows the host's " + filepath.Join(secret, "sub") + " (inside " + secret; !strings.Contains(msg, want) {
			t.Fatalf("want %q: %q (%+v)", want, msg, d.Violations)
		}
	})
	t.Run("inside a proc mount", func(t *testing.T) {
		hostProc := mountPoint(t, "hostproc")
		mustMount(t, "proc", hostProc, "proc", 0)
		d := judge(t, filepath.Join(hostProc, "sys", "kernel"))
		if msg := violationAt(d, newMountField).Message; !strings.Contains(msg, "it lies in the proc filesystem mounted at "+hostProc) {
			t.Fatalf("the host's kernel settings through a proc mount at %s: %q (%+v)", hostProc, msg, d.Violations)
		}
	})
	t.Run("inside a bind mount of a plain directory", func(t *testing.T) {
		data := mountPoint(t, "data")
		mustMount(t, plain, data, "", unix.MS_BIND)
		if d := judge(t, filepath.Join(data, "sub")); d.Verdict != Allow {
			t.Fatalf("%+v", d.Violations)
		}
	})
	t.Run("inside a fresh tmpfs", func(t *testing.T) {
		scratch := mountPoint(t, "scratch")
		mustMount(t, "tmpfs", scratch, "tmpfs", 0)
		mustMkdir(t, filepath.Join(scratch, "d"))
		if d := judge(t, filepath.Join(scratch, "d")); d.Verdict != Allow {
			t.Fatalf("%+v", d.Violations)
		}
	})
	t.Run("on the root filesystem", func(t *testing.T) {
		if d := judge(t, filepath.Join(plain, "sub")); d.Verdict != Allow {
			t.Fatalf("%+v", d.Violations)
		}
	})
}

// rbind carries the mounts below a source into the container: each is
// judged as a bind source that is a mount point.
func TestHostPathsMountsBelowAnRbindSource(t *testing.T) {
	host := t.TempDir()
	secret := filepath.Join(host, "secret")
	mustMkdir(t, secret)
	policy := fmt.Sprintf("extends: baseline\ncontrols:\n  hostPaths:\n    sensitive:\n      - {path: %s, what: secrets}\n", secret)
	node := loadFrom(t, policyDir(t, map[string]string{"node": policy}), "node")
	judge := func(t *testing.T, m specs.Mount) *Decision {
		t.Helper()
		s := compliantSpec()
		addMount(m)(s)
		return judgeSpec(t, node, s)
	}
	// srv returns a fresh directory to bind, with below/ in it.
	srv := func(t *testing.T, name string) (dir, below string) {
		dir = filepath.Join(host, name)
		below = filepath.Join(dir, "below")
		mustMkdir(t, below)
		return dir, below
	}

	t.Run("a proc filesystem below", func(t *testing.T) {
		dir, below := srv(t, "with-proc")
		mustMount(t, "proc", below, "proc", 0)
		msg := violationAt(judge(t, dockerBind(dir, "/x")), newMountField).Message
		if want := "rbind carries the proc filesystem mounted at " + below; !strings.Contains(msg, want) {
			t.Fatalf("want %q: %q", want, msg)
		}
		// Without rbind the mount below stays behind.
		plain := specs.Mount{Destination: "/x", Type: "bind", Source: dir, Options: []string{"bind", "rprivate"}}
		if d := judge(t, plain); d.Verdict != Allow {
			t.Fatalf("a non-recursive bind: %+v", d.Violations)
		}
	})
	t.Run("a bind mount of a sensitive directory below", func(t *testing.T) {
		dir, below := srv(t, "with-secret")
		mustMount(t, secret, below, "", unix.MS_BIND)
		msg := violationAt(judge(t, dockerBind(dir, "/x")), newMountField).Message
		if want := "rbind carries the mount at " + below + " below it into the container, which shows the host's " + secret; !strings.Contains(msg, want) {
			t.Fatalf("want %q: %q", want, msg)
		}
	})
	t.Run("a fresh tmpfs below", func(t *testing.T) {
		dir, below := srv(t, "with-tmpfs")
		mustMount(t, "tmpfs", below, "tmpfs", 0)
		if d := judge(t, dockerBind(dir, "/x")); d.Verdict != Allow {
			t.Fatalf("%+v", d.Violations)
		}
	})
	t.Run("nothing below", func(t *testing.T) {
		dir, _ := srv(t, "plain")
		if d := judge(t, dockerBind(dir, "/x")); d.Verdict != Allow {
			t.Fatalf("%+v", d.Violations)
		}
	})
}

// runc binds the root filesystem recursively: a root.path outside the
// bundle and the engines' image stores is judged as an rbind source at
// "/", by what it is a mount of, what it lies in and what is mounted
// below it. An engine's image store is not looked at: the engine
// assembled the root there, often as an overlay mount.
func TestHostPathsRootFilesystemMounts(t *testing.T) {
	host := t.TempDir()
	secret := filepath.Join(host, "secret")
	mustMkdir(t, secret)
	docker := filepath.Join(host, "docker")
	policy := fmt.Sprintf("extends: baseline\ncontrols:\n  hostPaths:\n    roots:\n      dockerRoot: %s\n    sensitive:\n      - {path: %s, what: secrets}\n", docker, secret)
	node := loadFrom(t, policyDir(t, map[string]string{"node": policy}), "node")
	judgeRoot := func(t *testing.T, root string) *Decision {
		t.Helper()
		s := compliantSpec()
		s.Root = &specs.Root{Path: root}
		return judgeSpecIn(t, node, s, Context{Operation: OpCreate, ContainerID: "fixture", Bundle: t.TempDir()})
	}
	dir := func(t *testing.T, name string) string {
		p := filepath.Join(host, name)
		mustMkdir(t, filepath.Join(p, "below"))
		return p
	}

	t.Run("a proc filesystem below the root", func(t *testing.T) {
		root := dir(t, "root-with-proc")
		mustMount(t, "proc", filepath.Join(root, "below"), "proc", 0)
		if msg := violationAt(judgeRoot(t, root), rootField).Message; !strings.Contains(msg, "rbind carries the proc filesystem mounted at "+filepath.Join(root, "below")) {
			t.Fatalf("%q", msg)
		}
	})
	t.Run("a root that is a bind mount of a sensitive directory", func(t *testing.T) {
		root := dir(t, "root-of-secret")
		mustMount(t, secret, root, "", unix.MS_BIND)
		if msg := violationAt(judgeRoot(t, root), rootField).Message; !strings.Contains(msg, "it is a mount of the host's "+secret) {
			t.Fatalf("%q", msg)
		}
	})
	t.Run("a plain directory", func(t *testing.T) {
		if d := judgeRoot(t, dir(t, "plain-root")); hasViolationAt(d, rootField) {
			t.Fatalf("%+v", d.Violations)
		}
	})
	t.Run("an overlay mount in Docker's image store", func(t *testing.T) {
		layer := filepath.Join(docker, "overlay2", "0123abcd")
		for _, d := range []string{"lower", "upper", "work", "merged"} {
			mustMkdir(t, filepath.Join(layer, d))
		}
		merged := filepath.Join(layer, "merged")
		options := fmt.Sprintf("lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", layer, layer, layer)
		if err := unix.Mount("overlay", merged, "overlay", 0, options); err != nil {
			t.Skipf("mount an overlay here: %v", err)
		}
		t.Cleanup(func() { unix.Unmount(merged, unix.MNT_DETACH) })
		if d := judgeRoot(t, merged); hasViolationAt(d, rootField) {
			t.Fatalf("Docker's own root: %+v", d.Violations)
		}
	})
}
