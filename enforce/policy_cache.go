package enforce

import (
	"time"

	"golang.org/x/sys/unix"
)

// The policy cache keeps a policy as it was loaded and checked, so that a
// runtime call does not parse YAML: parsing baseline, restricted and the
// policy extending them costs about 2 ms, decoding the cached form about
// a tenth of that. An entry names every file it was built from (the
// policy directory and each policy of the extends chain) with its
// (device, inode, size, mtime, ctime); it is used only while each still
// has exactly that identity. Any write, chmod or chown changes a file's
// ctime, and a replacement its inode, so an entry can never outlive the
// files, and their ownership and modes, that it was checked against.
// Entries live in the root-only verification cache directory, are
// written atomically, and are trusted on the same terms as its other
// entries. `policy check` and `policy lint` always read the YAML.

// maxPolicyEntry bounds an entry; the shipped policies' are under 5 KB.
const maxPolicyEntry = 1 << 18

type policyEntry struct {
	Dir   string
	Name  string
	Files []policySource
	// Policy is the policy as loaded, with its extends chain merged in.
	Policy *Policy
}

// policySource is one file an entry was built from.
type policySource struct {
	Path     string
	Identity string
}

// loadPolicyCached is LoadPolicy through the cache in cacheDir. Any
// problem with the cache falls back to reading the YAML.
func loadPolicyCached(dir, name, cacheDir string) (*Policy, error) {
	cache, err := openVerifyCache(cacheDir)
	if err != nil || cache == nil {
		return LoadPolicy(dir, name)
	}
	defer cache.close()
	entryName := policyEntryName(dir, name)
	if p := cache.lookupPolicy(entryName, dir, name); p != nil {
		return p, nil
	}
	before, ok := policySources(dir, name)
	p, err := LoadPolicy(dir, name)
	if err != nil {
		return nil, err
	}
	// Cache only what was read from files that did not change while they
	// were read, and whose last change is old enough for its ctime to be
	// told apart from the next one.
	after, okAfter := policySources(dir, name)
	if ok && okAfter && sameSources(before, after) && sourcesSettled(before, cacheNow()) {
		cache.storePolicy(entryName, &policyEntry{Dir: dir, Name: name, Files: before, Policy: p})
	}
	return p, nil
}

func policyEntryName(dir, name string) string {
	return "p-" + cacheNameHash(dir+"\x00"+name, 12)
}

func (c *verifyCache) lookupPolicy(entryName, dir, name string) *Policy {
	data, err := c.readFileUpTo(entryName, maxPolicyEntry)
	if err != nil || data == nil {
		return nil
	}
	e, ok := decodePolicyEntry(data)
	// An entry names the directory and the policy's file at least: one
	// that names no file would never go stale.
	if !ok || e.Dir != dir || e.Name != name || e.Policy == nil || len(e.Files) < 2 {
		return nil
	}
	for _, f := range e.Files {
		id, ok := identityAt(f.Path)
		if !ok || id != f.Identity {
			return nil
		}
	}
	// Validation rebuilds what controls derive from their settings.
	if err := e.Policy.validateCached(); err != nil {
		return nil
	}
	return e.Policy
}

// decodePolicyEntry reads a policy cache entry.
func decodePolicyEntry(data []byte) (*policyEntry, bool) {
	return decodeEntry(policyEntryKind, data, binDecodePolicyEntry)
}

func (c *verifyCache) storePolicy(entryName string, e *policyEntry) {
	data := encodePolicyEntry(e)
	if data == nil || len(data) > maxPolicyEntry {
		return
	}
	c.writeFile(entryName, data) // a failed write only costs the next call a parse
}

// policySources lists the files a policy is built from, with their
// identities: the directory, the policy, and each policy it extends.
func policySources(dir, name string) ([]policySource, bool) {
	sources := []policySource{}
	add := func(path string) bool {
		id, ok := identityAt(path)
		sources = append(sources, policySource{Path: path, Identity: id})
		return ok
	}
	if !add(dir) {
		return nil, false
	}
	for seen := 0; name != "" && seen <= maxExtendsDepth; seen++ {
		file := policyFile(dir, name)
		if !add(file) {
			return nil, false
		}
		name = extendsNameOf(file)
	}
	return sources, true
}

func identityAt(path string) (string, bool) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return "", false
	}
	return string(identityOf(&st).appendKey(nil)), true
}

func sameSources(a, b []policySource) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sourcesSettled(sources []policySource, now time.Time) bool {
	for _, s := range sources {
		var st unix.Stat_t
		if err := unix.Lstat(s.Path, &st); err != nil || !settled(identityOf(&st), now) {
			return false
		}
	}
	return true
}

// cacheNow is the clock the settle rule of the policy and config caches
// reads; tests move it on.
var cacheNow = time.Now
