package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The lean build exists to leave out what only cache misses need: every
// package linked in runs its initialisation and touches its pages on
// every runtime call. These are what hack/bench measured as costly; a
// name ending in "/" stands for every package under it.
var leftOutOfLeanBuild = []string{
	"crypto/",
	"encoding/json",
	"flag",
	"github.com/goccy/go-yaml",
	"github.com/goccy/go-yaml/",
	"github.com/moby/profiles/seccomp",
	"github.com/go-json-experiment/json", // the reflective package; jsontext stays
	"net",
}

func TestLeanBuildLeavesOutWhatOnlyCacheMissesNeed(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the lean build's packages: install Go and put it on PATH")
	}
	cmd := exec.Command(goTool, "list", "-deps", "-tags", "lean", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps -tags lean: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, left := range leftOutOfLeanBuild {
			if pkg == left || strings.HasSuffix(left, "/") && strings.HasPrefix(pkg, left) {
				t.Errorf("the lean build links %s", pkg)
			}
		}
	}
}

// guard-runtime's own packages allocate nothing when they initialise: a
// package-level map or a table built at start-up costs every runtime
// call its allocations and the pages they touch, before anything is known
// about the call.
func TestLeanBuildInitialisesWithoutAllocating(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the lean build: install Go and put it on PATH")
	}
	bin := t.TempDir() + "/guard-runtime"
	build := exec.Command(goTool, "build", "-tags", "lean", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags lean: %v\n%s", err, out)
	}
	run := exec.Command(bin, "--guard-config", t.TempDir()+"/none.yaml", "state", "x")
	run.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, _ := run.CombinedOutput() // the call fails without a config; the trace comes first
	seen := 0
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "init github.com/guard-runtime/guard-runtime/") {
			continue
		}
		seen++
		if !strings.HasSuffix(line, " 0 bytes, 0 allocs") {
			t.Errorf("initialisation allocates: %s", line)
		}
	}
	if seen == 0 {
		t.Fatalf("no initialisation of guard-runtime's packages traced:\n%s", out)
	}
}
