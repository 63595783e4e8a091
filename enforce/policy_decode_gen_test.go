package enforce

import (
	"flag"
	"reflect"
	"testing"

	"github.com/guard-runtime/guard-runtime/hack/gendecode"
)

var regenerate = flag.Bool("regenerate", false, "rewrite policy_decode_gen.go from the decoded types")

const generatedPolicyDecoder = "policy_decode_gen.go"

var policyDecoderConfig = gendecode.Config{
	Package:        "enforce",
	PackagePath:    "github.com/guard-runtime/guard-runtime/enforce",
	Roots:          []reflect.Type{reflect.TypeFor[policyEntry](), reflect.TypeFor[configEntry]()},
	Register:       "registerGeneratedDecoder(%s)",
	Regenerate:     "go generate ./enforce/ (delete this file first if the package no longer builds)",
	RegisterSchema: "registerEntrySchema(%q)",
}

// The committed decoder must be that of today's Policy: a new setting
// would otherwise send every cache entry down the slow path, or a changed
// one fail to build.
func TestGeneratedPolicyDecoderIsCurrent(t *testing.T) {
	gendecode.Check(t, policyDecoderConfig, generatedPolicyDecoder, *regenerate)
}
