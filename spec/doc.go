// Package spec reads and writes the OCI documents a runtime is handed, and
// splits the runtime's command line the way runc splits it.
//
//   - argv.go: the runc command line (global flags, subcommand, its options),
//     with guard-runtime's own --guard-* flags taken out.
//   - strict.go: one strict read of a document: duplicate keys, keys that only
//     match a spec field case-insensitively, trailing data and out-of-range
//     numbers are errors, because runc would read them differently.
//   - tree.go: a lossless, order-preserving tree of the document, edited by
//     RFC 6902 operations, so unknown fields survive a rewrite.
//   - file.go: bounded reading and atomic writing of the files.
package spec
