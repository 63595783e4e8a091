package enforce

import (
	"flag"
	"reflect"
	"testing"

	"github.com/guard-runtime/guard-runtime/hack/gendecode"
)

var regenerate = flag.Bool("regenerate", false, "rewrite cache_codec_gen.go and cache_codec_encode_gen.go from the cache entries' types")

const (
	generatedCacheDecoders = "cache_codec_gen.go"
	generatedCacheEncoders = "cache_codec_encode_gen.go"
)

var cacheCodecConfig = gendecode.BinaryConfig{
	Package:        "enforce",
	PackagePath:    "github.com/guard-runtime/guard-runtime/enforce",
	Roots:          []reflect.Type{reflect.TypeFor[policyEntry](), reflect.TypeFor[configEntry]()},
	Reader:         "binReader",
	Regenerate:     "go generate ./enforce/ (delete this file first if the package no longer builds)",
	RegisterSchema: "registerCodecSchema(%q)",
	// The lean build reads entries; only the full build writes them.
	EncodeConstraint: "!lean",
}

// The committed codec must be that of today's entry types: a new setting
// would otherwise not be kept in the cache, or a changed one fail to build.
func TestGeneratedCacheCodecIsCurrent(t *testing.T) {
	gendecode.CheckBinary(t, cacheCodecConfig, generatedCacheDecoders, generatedCacheEncoders, *regenerate)
}
