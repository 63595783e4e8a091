package spec

import (
	"flag"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/hack/gendecode"
)

var regenerate = flag.Bool("regenerate", false, "rewrite decode_gen.go from the decoded types")

const generatedDecoders = "decode_gen.go"

var decoderConfig = gendecode.Config{
	Package:     "spec",
	PackagePath: "github.com/guard-runtime/guard-runtime/spec",
	Roots:       []reflect.Type{reflect.TypeFor[specs.Spec](), reflect.TypeFor[specs.Process](), reflect.TypeFor[specs.LinuxResources]()},
	Register:    "registerFastDecoder(%s)",
	Regenerate:  "go generate ./spec/ (delete this file first if the package no longer builds)",
}

// The committed decoders must be those of today's types: a new field in
// runtime-spec would otherwise send every document that uses it down the
// slow path, or a changed field type fail to build.
func TestGeneratedDecodersAreCurrent(t *testing.T) {
	gendecode.Check(t, decoderConfig, generatedDecoders, *regenerate)
}
