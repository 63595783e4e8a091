package engines

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/guard-runtime/guard-runtime/tests/harness"
)

// The CRI fixtures in enforce/testdata/cri are policy tests' input; this
// checks that they are still what this containerd writes, so that a fixture
// edited by hand, or a containerd that changed, shows up here.

var (
	hexID      = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	privateDir = regexp.MustCompile(`/tmp/guard-ctrd-[0-9]+/`)
	procNS     = regexp.MustCompile(`/proc/[0-9]+/ns/`)
	cniNetns   = regexp.MustCompile(`/netns/cni-[0-9a-f-]{36}`)
)

// normalize replaces the values enforce/testdata/cri/README.md lists as
// host-specific: IDs (numbered in order of appearance), the private
// daemon's directory, pause PIDs and network namespace names. A privileged
// container's device list is the host's /dev and is dropped.
func normalize(t *testing.T, name string, doc []byte) string {
	t.Helper()
	ids := map[string]string{}
	s := hexID.ReplaceAllStringFunc(string(doc), func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = fmt.Sprintf("<id%d>", len(ids)+1)
		}
		return ids[id]
	})
	s = privateDir.ReplaceAllString(s, "<containerd>/")
	s = procNS.ReplaceAllString(s, "/proc/<pid>/ns/")
	s = cniNetns.ReplaceAllString(s, "/netns/cni-<uuid>")
	if name != "privileged-container" {
		return s
	}
	var spec map[string]any
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	delete(spec["linux"].(map[string]any), "devices")
	out, _ := json.Marshal(spec)
	return string(out)
}

func TestCRIFixturesAreWhatContainerdWrites(t *testing.T) {
	cri := startCRI(t)
	root, err := filepath.Abs("../../enforce/testdata/cri")
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range harness.CRIFixtureShapes {
		t.Run(shape.App, func(t *testing.T) {
			docs, err := cri.CaptureFixture("guard-baseline", shape)
			if err != nil {
				t.Fatal(err)
			}
			for name, live := range docs {
				committed, err := os.ReadFile(filepath.Join(root, name+".json"))
				if err != nil {
					t.Fatalf("fixture %s: %v", name, err)
				}
				if got, want := normalize(t, name, live), normalize(t, name, committed); got != want {
					t.Errorf("%s differs from what containerd writes now (after normalizing host-specific values);"+
						" regenerate with go run ./hack/cri/capture\nnow:     %s\nfixture: %s", name, got, want)
				}
			}
		})
	}
}
