//go:build !lean

package enforce

// Entries are written by the full build only, on a cache miss; the lean
// build hands a miss over before anything is stored, and links no
// encoder (lean.go).

func encodePolicyEntry(e *policyEntry) []byte {
	return encodeEntry(policyEntryKind, e, binEncodePolicyEntry)
}

func encodeConfigEntry(e *configEntry) []byte {
	return encodeEntry(configEntryKind, e, binEncodeConfigEntry)
}
