package enforce

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/guard-runtime/guard-runtime/hack/gendecode"
	"github.com/guard-runtime/guard-runtime/spec"
)

// The generated decoder of cache entries (policy_decode_gen.go) promises:
// where it reads an entry, it reads exactly what json.Unmarshal reads;
// where json.Unmarshal refuses an entry, it does not read it.

// shippedEntries are the cache entries of the shipped policies, as
// storePolicy writes them.
func shippedEntries(t testing.TB) map[string][]byte {
	entries := map[string][]byte{}
	for _, name := range Available(shippedPolicies) {
		sources, ok := policySources(shippedPolicies, name)
		if !ok {
			t.Fatalf("policy %s: cannot stat its files", name)
		}
		p, err := LoadPolicy(shippedPolicies, name)
		if err != nil {
			t.Fatal(err)
		}
		e := &policyEntry{Magic: policyCacheMagic, Dir: shippedPolicies, Name: name, Files: sources, Policy: p}
		data, err := encodeCacheEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		entries[name] = data
	}
	if len(entries) < 5 {
		t.Fatalf("only %d shipped policies in %s", len(entries), shippedPolicies)
	}
	return entries
}

// checkEntryDecoderAgrees fails when the generated decoder reads data
// while json.Unmarshal refuses it or reads another entry; it reports
// whether the generated decoder read it.
func checkEntryDecoderAgrees(t *testing.T, data []byte) bool {
	t.Helper()
	if generatedPolicyEntryDecoder == nil {
		t.Fatalf("no generated decoder of cache entries: regenerate it with `%s`", policyDecoderConfig.Regenerate)
	}
	var slow policyEntry
	slowErr := json.Unmarshal(data, &slow)
	fast, ok := spec.DecodeWith(data, generatedPolicyEntryDecoder)
	if !ok {
		return false
	}
	if slowErr != nil {
		t.Fatalf("the generated decoder reads an entry json.Unmarshal refuses (%v):\n%s", slowErr, data)
	}
	if !reflect.DeepEqual(*fast, slow) {
		t.Fatalf("the generated decoder reads another entry:\n%s\n fast %+v\n slow %+v", data, fast, slow)
	}
	return true
}

// Every shipped policy's entry takes the generated path, and reads as
// json.Unmarshal reads it.
func TestGeneratedDecoderReadsShippedEntries(t *testing.T) {
	for name, data := range shippedEntries(t) {
		if !checkEntryDecoderAgrees(t, data) {
			t.Errorf("policy %s: the generated decoder leaves its cache entry to json.Unmarshal", name)
		}
		e, ok := decodePolicyEntry(data)
		if !ok || e.Policy == nil || e.Name != name {
			t.Errorf("policy %s: decodePolicyEntry does not read its cache entry", name)
		}
	}
}

// Each value of each shipped entry replaced by values of other kinds and
// edge numbers, each member name by case variants and an unknown name.
func TestGeneratedDecoderMutatedEntries(t *testing.T) {
	read, total := 0, 0
	for name, data := range shippedEntries(t) {
		mutations, err := gendecode.Mutations(data)
		if err != nil {
			t.Fatalf("policy %s: %v", name, err)
		}
		for _, m := range mutations {
			total++
			if checkEntryDecoderAgrees(t, m) {
				read++
			}
		}
	}
	t.Logf("the generated decoder reads %d of %d mutated entries", read, total)
	if read == 0 || read == total {
		t.Fatalf("the generated decoder reads %d of %d mutated entries: the mutations do not exercise both paths", read, total)
	}
}

// FuzzGeneratedPolicyDecoder checks the promise on any input.
func FuzzGeneratedPolicyDecoder(f *testing.F) {
	for _, data := range shippedEntries(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkEntryDecoderAgrees(t, data) })
}

// The generated decoder reads an entry's tokens with no tree built first:
// an entry with duplicate names, invalid UTF-8, trailing data or more
// values than a document may hold is left to json.Unmarshal, which
// refuses the first three as it always did.
func TestGeneratedDecoderRefusesMalformedEntries(t *testing.T) {
	entry := shippedEntries(t)["restricted"]
	body := string(entry[1:])
	for name, c := range map[string]struct {
		data     string
		accepted bool // by json.Unmarshal
	}{
		"duplicate name":  {`{"magic":"x",` + body, false},
		"trailing data":   {string(entry) + `{}`, false},
		"invalid UTF-8":   {`{"name":"\xff",` + strings.Replace(body, `"name":`, `"x-name":`, 1), false},
		"escaped name":    {strings.Replace(string(entry), `"magic":`, `"m\u0061gic":`, 1), true},
		"too many values": {strings.Replace(string(entry), `"files":[`, `"files":[`+strings.Repeat(`{},`, spec.MaxDocumentValues), 1), true},
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := spec.DecodeWith([]byte(c.data), generatedPolicyEntryDecoder); ok {
				t.Fatal("the generated decoder reads it")
			}
			if _, ok := decodePolicyEntry([]byte(c.data)); ok != c.accepted {
				t.Fatalf("decodePolicyEntry reads it: %v", ok)
			}
		})
	}
}
