package enforce

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/guard-runtime/guard-runtime/hack/gendecode"
)

const freshCacheDirEnv = "GUARD_RUNTIME_BENCH_CACHE_DIR"

// cachedRestricted fills a cache with the shipped restricted policy.
func cachedRestricted(b *testing.B) string {
	dir := filepath.Join(b.TempDir(), "cache")
	// Files just checked out may be too fresh to cache: judge them an
	// hour from now.
	now := cacheNow
	cacheNow = func() time.Time { return now().Add(time.Hour) }
	defer func() { cacheNow = now }()
	if _, err := loadPolicyCached(shippedPolicies, "restricted", dir); err != nil {
		b.Fatal(err)
	}
	if cache, err := openVerifyCache(dir); err != nil || cache == nil || cache.lookupPolicy(policyEntryName(shippedPolicies, "restricted"), shippedPolicies, "restricted") == nil {
		b.Fatalf("restricted was not cached (%v): check the modes of its files", err)
	}
	return dir
}

// BenchmarkCachedPolicyLoad is loading restricted from the cache in a
// process that has loaded it before.
func BenchmarkCachedPolicyLoad(b *testing.B) {
	dir := cachedRestricted(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := loadPolicyCached(shippedPolicies, "restricted", dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCachedPolicyLoadFreshProcess is the first load of a process,
// as each runtime call makes it: go test -run '^$' -bench FreshProcess -benchtime 1x.
func BenchmarkCachedPolicyLoadFreshProcess(b *testing.B) {
	dir := cachedRestricted(b)
	for b.Loop() {
		gendecode.MeasureFreshProcess(b, "TestFirstCachedPolicyLoad", freshCacheDirEnv+"="+dir)
	}
}

func TestFirstCachedPolicyLoad(t *testing.T) {
	dir := os.Getenv(freshCacheDirEnv)
	gendecode.TimeInFreshProcess(t, func() error {
		cache, err := openVerifyCache(dir)
		if err != nil || cache == nil {
			return fmt.Errorf("open cache %s: %v", dir, err)
		}
		defer cache.close()
		if cache.lookupPolicy(policyEntryName(shippedPolicies, "restricted"), shippedPolicies, "restricted") == nil {
			return fmt.Errorf("restricted is not in the cache %s", dir)
		}
		return nil
	})
}
