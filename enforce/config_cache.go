package enforce

import (
	"encoding/hex"
	"errors"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The config cache keeps config.yaml as it was read and checked, so that
// a runtime call, pass-through ones included, parses no YAML: a fresh
// process's YAML parse of config.yaml costs about 0.1 ms, on a call whose
// whole budget is 0.5 ms. It works as the policy cache does: an entry
// names the file with its (device, inode, size, mtime, ctime), followed
// through symlinks, and is used only while the file still has exactly that
// identity and is still root's and not writable by group or others; any
// write, chmod or chown changes the ctime, a replacement the inode.
//
// config.yaml says where the verification cache is, so its own entry
// cannot live there: config entries live in the default cache directory,
// /var/lib/guard-runtime/verified, trusted on the same terms (root's,
// 0700). A config that turns caching off (runtime.cacheDir: "") is read
// every time.

// maxConfigEntry bounds an entry: a config mapping many Kubernetes
// namespaces to policies is larger than a verification entry.
const maxConfigEntry = 1 << 16

// configCacheDir is where config entries live; tests move it.
var configCacheDir = DefaultCacheDir

type configEntry struct {
	Path     string
	Identity string
	Config   *Config
}

// loadConfigCached is loadConfigFile through the config cache. Any
// problem with the cache falls back to reading the file.
func loadConfigCached(path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return loadConfigFile(path)
	}
	before, ok := trustedConfigIdentity(abs)
	if ok {
		if cfg := lookupConfig(abs, before); cfg != nil {
			cfg.File = path
			return cfg, nil
		}
	}
	cfg, err := loadConfigFile(path)
	if err != nil || !ok || cfg.Runtime.CacheDir == "" {
		return cfg, err
	}
	// Cache only what was read from a file that did not change while it
	// was read, and whose last change is old enough for its ctime to be
	// told apart from the next one.
	if after, okAfter := trustedConfigIdentity(abs); okAfter && after == before && settled(before, cacheNow()) {
		storeConfig(abs, before, cfg)
	}
	return cfg, nil
}

// trustedConfigIdentity is the identity of the file at path when it is a
// regular file LoadConfig would trust.
func trustedConfigIdentity(path string) (fileIdentity, bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileIdentity{}, false
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 || st.Mode&0o022 != 0 {
		return fileIdentity{}, false
	}
	return identityOf(&st), true
}

func configEntryName(path string) string {
	return "c-" + cacheNameHash(path, 12)
}

// cacheNameHash names a cache entry after s. FNV-128a, not sha256: the
// lean build leaves crypto out, and a name need not resist collisions,
// because an entry records the path or names it was built from and is
// used only when they match.
func cacheNameHash(s string, n int) string {
	h := fnv.New128a()
	h.Write([]byte(s))
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:n])
}

func lookupConfig(path string, id fileIdentity) *Config {
	cache, err := openVerifyCache(configCacheDir)
	if err != nil || cache == nil {
		return nil
	}
	defer cache.close()
	data, err := cache.readFileUpTo(configEntryName(path), maxConfigEntry)
	if err != nil || data == nil {
		return nil
	}
	e, ok := decodeConfigEntry(data)
	if !ok || e.Path != path || e.Identity != string(id.appendKey(nil)) || e.Config == nil {
		return nil
	}
	return e.Config
}

func storeConfig(path string, id fileIdentity, cfg *Config) {
	cache, err := openVerifyCache(configCacheDir)
	if err != nil || cache == nil {
		return
	}
	defer cache.close()
	data := encodeConfigEntry(&configEntry{Path: path, Identity: string(id.appendKey(nil)), Config: cfg})
	if data == nil || len(data) > maxConfigEntry {
		return
	}
	name := configEntryName(path)
	cache.writeFile(name, data) // a failed write only costs the next call a parse
	cache.pruneConfigEntries(name)
}

// maxPrunedEntries bounds the entries one store looks at.
const maxPrunedEntries = 256

// pruneConfigEntries removes the entries of config files that no longer
// exist. A path's entry is replaced in place, so only a deleted or renamed
// config.yaml (a test's temporary one, most often) leaves an entry behind,
// in a directory every config shares; pruning runs on a store, that is on
// a cache miss, never on the path of a call the cache serves.
func (c *verifyCache) pruneConfigEntries(keep string) {
	if err := c.openDir(); err != nil {
		return
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	for i, entry := range entries {
		name := entry.Name()
		if i >= maxPrunedEntries {
			return
		}
		if name == keep || !strings.HasPrefix(name, "c-") || !entry.Type().IsRegular() {
			continue
		}
		data, err := c.readFileUpTo(name, maxConfigEntry)
		if err != nil || data == nil {
			continue
		}
		e, ok := decodeConfigEntry(data)
		if !ok || !filepath.IsAbs(e.Path) || configEntryName(e.Path) != name {
			continue // not an entry this version wrote: left alone
		}
		var st unix.Stat_t
		if err := unix.Lstat(e.Path, &st); errors.Is(err, unix.ENOENT) {
			unix.Unlinkat(c.dirfd, name, 0)
		}
	}
}

// decodeConfigEntry reads a config cache entry.
func decodeConfigEntry(data []byte) (*configEntry, bool) {
	return decodeEntry(configEntryKind, data, binDecodeConfigEntry)
}
