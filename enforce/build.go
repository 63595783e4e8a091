package enforce

// guard-runtime is built twice from the same code. The full build (the
// default) does everything: it parses config.yaml and the policies, hashes
// the runtime, builds seccomp profiles, decodes unusual documents by
// reflection, and runs `policy` and `pin`. The lean build (-tags lean) is
// what engines call: it carries out a call from the caches alone, and
// execs the full build, installed beside it as FullBinaryName, the moment a
// call needs anything else. It hands over before any side effect (no
// file written, no audit record sent, standard input unread), so the full
// build carries out the whole call as if it had been called itself.
//
// The lean build leaves out the packages only cache misses need (the YAML
// decoder, crypto/sha256, the seccomp profile builder, encoding/json,
// reflective json/v2, flag): each runs its package initialisation and
// touches its pages on every call, which hack/bench measured at about
// 0.3 ms per call, a quarter of what guard-runtime adds to a create.

// FullBinaryName is the file name of the full build, which the lean build
// expects in the directory of its own executable.
const FullBinaryName = "guard-runtime-full"
