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
