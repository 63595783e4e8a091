//go:build !lean

package enforce

import "github.com/go-json-experiment/json"

// marshalCacheEntry and unmarshalCacheEntry are the reflective codec of
// cache entries: the full build writes entries, and reads one the
// generated decoders leave to it.
func marshalCacheEntry(e any) ([]byte, error) {
	return json.Marshal(e, json.OmitZeroStructFields(true))
}

func unmarshalCacheEntry(data []byte, e any) error {
	return json.Unmarshal(data, e)
}
