package enforce

import (
	"strings"
	"testing"
)

var (
	pinA = strings.Repeat("a", 64)
	pinB = strings.Repeat("b", 64)
)

// Pin changes the lines of runtime.sha256 and no other byte of config.yaml.
func TestPinChangesOnlyTheLinesOfThePin(t *testing.T) {
	t.Parallel()
	f := newPinFixture(t, commentedConfig)
	before := strings.Split(f.read(t), "\n")
	digest, err := Pin(f.config)
	if err != nil {
		t.Fatal(err)
	}
	after := strings.Split(f.read(t), "\n")
	if len(after) != len(before) {
		t.Fatalf("%d lines became %d:\n%s", len(before), len(after), f.read(t))
	}
	for i := range before {
		want := before[i]
		if strings.HasPrefix(want, "  sha256: ") {
			want = "  sha256: " + digest + " # previous pin"
		}
		if after[i] != want {
			t.Errorf("line %d is %q, want %q", i+1, after[i], want)
		}
	}
}

func TestEditPins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		pins     Digests
		want     string
	}{
		{"a list becomes one pin, the key's comment stays",
			"runtime:\n    path: /x\n    sha256: # old pins\n        - " + pinB + "\n        # retired\n        - " + pinA + "\n    cacheDir: /c\n# end\n",
			Digests{pinA},
			"runtime:\n    path: /x\n    sha256: " + pinA + " # old pins\n    cacheDir: /c\n# end\n"},
		{"one pin becomes a list at the file's indentation",
			"runtime:\n    path: /x\n    sha256: " + pinB + "\n",
			Digests{pinB, pinA},
			"runtime:\n    path: /x\n    sha256:\n        - " + pinB + "\n        - " + pinA + "\n"},
		{"a flow list is replaced",
			"runtime:\n  sha256: [" + pinB + ",\n    " + pinA + "]\n  path: \"x # y\"\n",
			Digests{pinA},
			"runtime:\n  sha256: " + pinA + "\n  path: \"x # y\"\n"},
		{"no pin yet: added after the last setting, before the blank line and comments",
			"runtime:\n  path: /x\n  cacheDir: /c\n\n# policies\npolicy:\n  default: x\n",
			Digests{pinA},
			"runtime:\n  path: /x\n  cacheDir: /c\n  sha256: " + pinA + "\n\n# policies\npolicy:\n  default: x\n"},
		{"an empty runtime section keeps its comment",
			"runtime: ~  # nothing yet\npolicy:\n  default: x\n",
			Digests{pinA},
			"runtime: # nothing yet\n  sha256: " + pinA + "\npolicy:\n  default: x\n"},
		{"no runtime section: appended",
			"policy:\n  default: x\n",
			Digests{pinA},
			"policy:\n  default: x\nruntime:\n  sha256: " + pinA + "\n"},
		{"the document end marker stays",
			"runtime:\n  sha256: " + pinB + "\n...\n",
			Digests{pinA},
			"runtime:\n  sha256: " + pinA + "\n...\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, changed, err := editPins([]byte(tc.in), func(Digests) Digests { return tc.pins }, true, DefaultRuntimePath)
			if err != nil || !changed {
				t.Fatalf("changed %v, error %v", changed, err)
			}
			if string(out) != tc.want {
				t.Errorf("edited to\n%s\nwant\n%s", out, tc.want)
			}
		})
	}
}

// A mapping written in flow style has no line per setting to edit: pin
// says so and leaves the file alone rather than rewrite the admin's layout.
func TestPinRefusesAFlowStyleRuntimeSection(t *testing.T) {
	t.Parallel()
	f := newPinFixture(t, "runtime: {path: RUNTIME, cacheDir: CACHE}\n")
	before := f.read(t)
	if _, err := Pin(f.config); err == nil || !strings.Contains(err.Error(), "edit runtime.sha256 by hand") {
		t.Fatalf("error %v, want advice to edit by hand", err)
	}
	if f.read(t) != before {
		t.Errorf("config changed:\n%s", f.read(t))
	}
}
