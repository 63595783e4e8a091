package enforce

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Every shipped policy must come back from its cache entry exactly as the
// YAML loader built it, derived state included.
func TestShippedPoliciesSurviveTheCacheEncoding(t *testing.T) {
	for _, name := range Available(shippedPolicies) {
		t.Run(name, func(t *testing.T) {
			p := loadShipped(t, name)
			data := encodePolicyEntry(&policyEntry{Dir: shippedPolicies, Name: name, Policy: p})
			e, ok := decodePolicyEntry(data)
			if !ok {
				t.Fatal("the entry does not decode")
			}
			if err := e.Policy.validate(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, e.Policy) {
				t.Fatalf("policy %s changed through the cache encoding:\n%+v\n%+v", name, p.Controls, e.Policy.Controls)
			}
		})
	}
}

// settledClock makes files written by the test count as settled.
func settledClock(t *testing.T) {
	old := cacheNow
	cacheNow = func() time.Time { return time.Now().Add(time.Hour) }
	t.Cleanup(func() { cacheNow = old })
}

func copyPolicies(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(shippedPolicies, n+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n+".yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCachedPolicyIsUsedUntilAFileOfItsChainChanges(t *testing.T) {
	settledClock(t)
	dir, cacheDir := copyPolicies(t, "baseline", "restricted"), filepath.Join(t.TempDir(), "cache")
	p, err := loadPolicyCached(dir, "restricted", cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := openVerifyCache(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	hit := cache.lookupPolicy(policyEntryName(dir, "restricted"), dir, "restricted")
	// As from the cache: host-path patterns compiled as mounts need them.
	if err := p.validateCached(); err != nil {
		t.Fatal(err)
	}
	if hit == nil || !reflect.DeepEqual(hit, p) {
		t.Fatalf("no usable cache entry after a load: %v", hit)
	}

	// A change to the parent policy, not the one named, must show.
	base := filepath.Join(dir, "baseline.yaml")
	data, _ := os.ReadFile(base)
	if err := os.WriteFile(base, []byte(strings.Replace(string(data), "denied: [unconfined]", "denied: [unconfined, another]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if cache.lookupPolicy(policyEntryName(dir, "restricted"), dir, "restricted") != nil {
		t.Fatal("the cache entry survived a change to the policy it extends")
	}
	again, err := loadPolicyCached(dir, "restricted", cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(again, p) {
		t.Fatal("the change to baseline.yaml was not read")
	}
}

func TestCacheNeverAdmitsAPolicyThatBecameUntrusted(t *testing.T) {
	settledClock(t)
	dir, cacheDir := copyPolicies(t, "baseline"), filepath.Join(t.TempDir(), "cache")
	if _, err := loadPolicyCached(dir, "baseline", cacheDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "baseline.yaml"), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := loadPolicyCached(dir, "baseline", cacheDir); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("a world-writable policy was used from the cache: %v", err)
	}
}

func TestFreshlyWrittenPoliciesAreNotCached(t *testing.T) {
	dir, cacheDir := copyPolicies(t, "baseline"), filepath.Join(t.TempDir(), "cache")
	if _, err := loadPolicyCached(dir, "baseline", cacheDir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, policyEntryName(dir, "baseline"))); err == nil {
		t.Fatal("a policy written within the settle time was cached: a second write in the same ctime tick would go unseen")
	}
}

func BenchmarkLoadPolicyFromYAML(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := LoadPolicy(shippedPolicies, "restricted"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadPolicyFromCache(b *testing.B) {
	old := cacheNow
	cacheNow = func() time.Time { return time.Now().Add(time.Hour) }
	defer func() { cacheNow = old }()
	cacheDir := filepath.Join(b.TempDir(), "cache")
	if _, err := loadPolicyCached(shippedPolicies, "restricted", cacheDir); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := loadPolicyCached(shippedPolicies, "restricted", cacheDir); err != nil {
			b.Fatal(err)
		}
	}
}

// storedEntry loads a copy of the shipped baseline through a fresh cache,
// and returns the cache, that policy directory, the entry's name and its
// file, whose content the test may change.
func storedEntry(t *testing.T) (cache *verifyCache, dir, name, file string) {
	t.Helper()
	settledClock(t)
	dir, cacheDir := copyPolicies(t, "baseline"), filepath.Join(t.TempDir(), "cache")
	if _, err := loadPolicyCached(dir, "baseline", cacheDir); err != nil {
		t.Fatal(err)
	}
	cache, err := openVerifyCache(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	name = policyEntryName(dir, "baseline")
	if cache.lookupPolicy(name, dir, "baseline") == nil {
		t.Fatal("no usable cache entry after a load")
	}
	return cache, dir, name, filepath.Join(cacheDir, name)
}

// An entry written for other types (another version of guard-runtime,
// whose policy has other settings) is not read: a setting it lacks would
// read as off.
func TestCacheEntryOfOtherTypesIsNotRead(t *testing.T) {
	cache, dir, name, entry := storedEntry(t)
	data, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}
	if codecSchema == "" || !strings.HasPrefix(string(data), entryHeader(policyEntryKind)) {
		t.Fatalf("the entry's header does not name the schema %q: %.80q", codecSchema, data)
	}
	other := strings.Replace(string(data), codecSchema, "0000000000000000", 1)
	if err := os.WriteFile(entry, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	if cache.lookupPolicy(name, dir, "baseline") != nil {
		t.Fatal("an entry of other types was read")
	}
}
