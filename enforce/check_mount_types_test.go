package enforce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// newTypeField is the type of a mount appended to the compliant spec.
var newTypeField = fmt.Sprintf("/mounts/%d/type", len(compliantSpec().Mounts))

// newOptionsField is its options.
var newOptionsField = fmt.Sprintf("/mounts/%d/options", len(compliantSpec().Mounts))

func TestMountTypesFixtures(t *testing.T) {
	volume := "/var/lib/docker/volumes/data/_data"
	mount := func(typ, source, dest string, options ...string) func(*specs.Spec) {
		return addMount(specs.Mount{Destination: dest, Type: typ, Source: source, Options: options})
	}
	fixtures := []fixture{
		{name: "compliant: proc, tmpfs, devpts, mqueue, sysfs and cgroup", verdict: Allow},
		{name: "overlay of the host's /etc", change: mount("overlay", "overlay", "/hostetc", "lowerdir=/etc:/root"), verdict: DenyVerdict, field: newTypeField},
		{name: "binfmt_misc", change: mount("binfmt_misc", "binfmt_misc", "/binfmt"), verdict: DenyVerdict, field: newTypeField},
		{name: "debugfs", change: mount("debugfs", "debugfs", "/debug"), verdict: DenyVerdict, field: newTypeField},
		{name: "tracefs", change: mount("tracefs", "tracefs", "/trace"), verdict: DenyVerdict, field: newTypeField},
		{name: "securityfs", change: mount("securityfs", "securityfs", "/security"), verdict: DenyVerdict, field: newTypeField},
		{name: "bpf", change: mount("bpf", "bpf", "/bpf"), verdict: DenyVerdict, field: newTypeField},
		{name: "nfs", change: mount("nfs", "server:/export", "/nfs", "addr=192.0.2.1"), verdict: DenyVerdict, field: newTypeField},
		{name: "no type and no bind option", change: mount("", "/srv/data", "/data"), verdict: DenyVerdict, field: newTypeField},
		{name: "type bind without a bind option", change: mount("bind", volume, "/data"), verdict: DenyVerdict, field: newTypeField},
		{name: "a type in another case", change: mount("Tmpfs", "tmpfs", "/scratch"), verdict: DenyVerdict, field: newTypeField},
		{name: "remount of the filesystem at /", change: mount("mqueue", "mqueue", "/", "remount", "ro"), verdict: DenyVerdict, field: newOptionsField},
		{name: "remount of a tmpfs", change: mount("tmpfs", "tmpfs", "/x", "remount", "size=300m"), verdict: DenyVerdict, field: newOptionsField},
		{name: "remount of a volume bind", change: mount("bind", volume, "/data", "rbind", "remount", "ro"), verdict: DenyVerdict, field: newOptionsField},
		{name: "tmpfs elsewhere (--tmpfs)", change: mount("tmpfs", "tmpfs", "/scratch", "nosuid", "nodev", "noexec"), verdict: Allow},
		{name: "a second devpts", change: mount("devpts", "devpts", "/pts", "newinstance", "ptmxmode=0666"), verdict: Allow},
		{name: "a volume bind", change: mount("bind", volume, "/data", "rbind"), verdict: Allow},
		{name: "a volume bind with no type", change: mount("", volume, "/data", "rbind"), verdict: Allow},
		{name: "a volume bind whose type says overlay", change: mount("overlay", volume, "/data", "bind"), verdict: Allow},
	}
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) { runFixtures(t, policy, compliantSpec, fixtures) })
	}
}

func TestMountTypesMessagesSayWhatAndWhatToDo(t *testing.T) {
	overlay := specs.Mount{Destination: "/hostetc", Type: "overlay", Source: "overlay", Options: []string{"lowerdir=/etc:/root"}}
	untyped := specs.Mount{Destination: "/data", Source: "/srv/data"}
	for _, policy := range []string{"baseline", "restricted", "k8s-baseline", "k8s-restricted"} {
		requireDenial(t, policy, addMount(overlay), "mountTypes", newTypeField,
			"the overlay mount at /hostetc is not allowed", "only the engines' own filesystem types (proc, sysfs, cgroup, cgroup2, tmpfs, devpts, mqueue)",
			"use a named volume instead", "add overlay to mountTypes.allowed")
		requireDenial(t, policy, addMount(untyped), "mountTypes", newTypeField,
			"the mount at /data has no type and no bind or rbind option", "give a bind mount the rbind option")
	}
}

// Every config the engines wrote, privileged ones included, mounts only
// types the shipped policies allow.
func TestEngineConfigsPassMountTypes(t *testing.T) {
	for _, dir := range []string{"docker", "cri"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures in testdata/%s (%v): restore them from the repository", dir, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var s specs.Spec
			if err := json.Unmarshal(data, &s); err != nil || len(s.Mounts) == 0 {
				continue // an exec process or update resources file
			}
			for _, policy := range []string{"baseline", "k8s-baseline"} {
				d := judgeSpec(t, loadShipped(t, policy), &s)
				if slices.ContainsFunc(d.Violations, func(v Violation) bool { return v.Control == "mountTypes" }) {
					t.Errorf("%s under %s: %+v", f, policy, d.Violations)
				}
			}
		}
	}
}

func TestMountTypesValidation(t *testing.T) {
	for _, allowed := range [][]string{{""}, {"tmp fs"}, {"tmpfs,devpts"}, {"bind"}, {"rbind"}} {
		c := &MountTypes{Allowed: allowed}
		if err := c.Validate(); err == nil {
			t.Errorf("%q was accepted", allowed)
		}
	}
	if err := (&MountTypes{Allowed: []string{"tmpfs", "fuse.sshfs"}}).Validate(); err != nil {
		t.Errorf("plain types refused: %v", err)
	}
}

func TestMountTypesWithNothingAllowedSaysSo(t *testing.T) {
	dir := policyDir(t, map[string]string{"bare": "controls:\n  mountTypes: {allowed: []}\n"})
	s := compliantSpec()
	d := judgeSpec(t, loadFrom(t, dir, "bare"), s)
	v := violationAt(d, fmt.Sprintf("/mounts/%d/type", mountIndex("/dev")))
	if d.Verdict != DenyVerdict || !strings.Contains(v.Message, "filesystem types (none)") {
		t.Fatalf("tmpfs at /dev under a policy that allows no type: %+v", d.Violations)
	}
}

func TestPolicyCommandsKnowMountTypes(t *testing.T) {
	s := compliantSpec()
	addMount(specs.Mount{Destination: "/binfmt", Type: "binfmt_misc", Source: "binfmt_misc"})(s)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, status := policyCheckJSON(t, "baseline", "--config", file)
	if got.Decision != DenyVerdict || status != ExitDenied ||
		!slices.ContainsFunc(got.Violations, func(v Violation) bool { return v.Control == "mountTypes" && v.Field == newTypeField }) {
		t.Errorf("policy check: %s (exit %d): %+v", got.Decision, status, got.Violations)
	}
	var out bytes.Buffer
	if err := lintOne(&out, shippedPolicies, "baseline"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n    mountTypes:\n      allowed:\n        - proc\n") {
		t.Errorf("policy lint does not print mountTypes:\n%s", out.String())
	}
}
