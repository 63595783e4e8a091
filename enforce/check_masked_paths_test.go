package enforce

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// without returns list less the paths given.
func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(p string) bool { return slices.Contains(drop, p) })
}

func setMasked(masked, readonly []string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = masked, readonly }
}

// Podman 4.3's defaults (containers/common): /proc/asound is read-only
// there, not masked.
var (
	podmanMasked = []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block"}
	podmanReadonly = []string{"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

func TestMaskedPathsFixtures(t *testing.T) {
	masked, readonly := compliantSpec().Linux.MaskedPaths, compliantSpec().Linux.ReadonlyPaths
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) {
			runFixtures(t, policy, compliantSpec, []fixture{
				{name: "no masked paths", change: func(s *specs.Spec) { s.Linux.MaskedPaths = nil }, verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "empty masked paths", change: func(s *specs.Spec) { s.Linux.MaskedPaths = []string{} }, verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "no read-only paths", change: func(s *specs.Spec) { s.Linux.ReadonlyPaths = nil }, verdict: DenyVerdict, field: "/linux/readonlyPaths"},
				// runc skips a path that does not exist: nothing is masked.
				{name: "a path that does not exist in each list", change: setMasked([]string{"/nonexistent"}, []string{"/nonexistent"}),
					verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "a path that does not exist as the read-only list", change: setMasked(masked, []string{"/nonexistent"}),
					verdict: DenyVerdict, field: "/linux/readonlyPaths"},
				{name: "a single masked path", change: setMasked([]string{"/proc/kcore"}, readonly), verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "/proc/kcore not masked", change: setMasked(without(masked, "/proc/kcore"), readonly), verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "/proc/kcore only read-only", change: setMasked(without(masked, "/proc/kcore"), append(slices.Clone(readonly), "/proc/kcore")),
					verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "/proc/sys writable", change: setMasked(masked, without(readonly, "/proc/sys")), verdict: DenyVerdict, field: "/linux/readonlyPaths"},
				{name: "a prefix that is no ancestor", change: setMasked(append(without(masked, "/proc/kcore"), "/proc/kcor"), readonly),
					verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "a path below is no ancestor", change: setMasked(append(without(masked, "/proc/kcore"), "/proc/kcore/x"), readonly),
					verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "/proc/sys masked instead of read-only", change: setMasked(append(slices.Clone(masked), "/proc/sys"), without(readonly, "/proc/sys")), verdict: Allow},
				{name: "/proc/asound read-only instead of masked", change: setMasked(without(masked, "/proc/asound"), append(slices.Clone(readonly), "/proc/asound")), verdict: Allow},
				{name: "/proc and /sys masked whole", change: setMasked([]string{"/proc", "/sys"}, nil), verdict: Allow},
				{name: "/proc read-only whole", change: setMasked(masked, []string{"/proc"}), verdict: Allow},
				// runc hands entries to the kernel as written: only a clean absolute
				// path names the same file whatever the image's symlinks are.
				{name: "a required path not written clean", change: setMasked(append(without(masked, "/proc/kcore"), "/proc//kcore/"), readonly), verdict: DenyVerdict, field: "/linux/maskedPaths"},
				{name: "a required path written relative", change: setMasked(masked, append(without(readonly, "/proc/sys"), "proc/sys")), verdict: DenyVerdict, field: "/linux/readonlyPaths"},
				{name: "a required path through .. after a link", change: setMasked(masked, append(without(readonly, "/proc/sys"), "/lnk/../proc/sys")), verdict: DenyVerdict, field: "/linux/readonlyPaths"},
				{name: "Podman's defaults", change: setMasked(podmanMasked, podmanReadonly), verdict: Allow},
			})
		})
	}
}

// Each engine's default lists pass every shipped policy that judges them:
// Docker's and containerd's (captured in testdata), the kubelet's, and
// Podman's.
func TestMaskedPathsAdmitEveryEngineDefault(t *testing.T) {
	defaults := map[string][2][]string{"Podman 4.3": {podmanMasked, podmanReadonly}}
	for _, capture := range []string{"docker/default.json", "cri/kubelet-sandbox.json", "cri/kubelet-container.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", capture))
		if err != nil {
			t.Fatal(err)
		}
		var s specs.Spec
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		defaults[capture] = [2][]string{s.Linux.MaskedPaths, s.Linux.ReadonlyPaths}
	}
	for _, policy := range []string{"baseline", "restricted", "k8s-baseline", "k8s-restricted"} {
		p := loadShipped(t, policy)
		for engine, lists := range defaults {
			d := judgeSpec(t, p, func() *specs.Spec { s := compliantSpec(); setMasked(lists[0], lists[1])(s); return s }())
			if slices.ContainsFunc(d.Violations, func(v Violation) bool { return v.Control == "maskedPaths" }) {
				t.Errorf("%s: %s's defaults: %+v", policy, engine, d.Violations)
			}
		}
	}
}

func TestMaskedPathsMessageNamesTheMissingPaths(t *testing.T) {
	s := compliantSpec()
	setMasked([]string{"/nonexistent"}, []string{"/nonexistent"})(s)
	d := judgeSpec(t, loadShipped(t, "baseline"), s)
	msg := violationAt(d, "/linux/maskedPaths").Message
	for _, want := range []string{"/proc/kcore", "/sys/firmware", "not masked", "policy baseline", "systempaths=unconfined"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if msg := violationAt(d, "/linux/readonlyPaths").Message; !strings.Contains(msg, "/proc/sys") || !strings.Contains(msg, "not read-only") {
		t.Errorf("the read-only message should name /proc/sys: %s", msg)
	}
}

func TestMaskedPathsRewriteToDefaults(t *testing.T) {
	s := compliantSpec()
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, []string{}
	p := nodePolicy(t)
	d := judgeSpec(t, p, s)
	if d.Verdict != RewriteDoc || !hasViolationAt(d, "/linux/maskedPaths") || !hasViolationAt(d, "/linux/readonlyPaths") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
	var got specs.Spec
	if err := d.Result.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Linux.MaskedPaths, p.Controls.MaskedPaths.Masked) || !slices.Equal(got.Linux.ReadonlyPaths, p.Controls.MaskedPaths.Readonly) {
		t.Fatalf("rewritten to %v and %v", got.Linux.MaskedPaths, got.Linux.ReadonlyPaths)
	}
	if !slices.Contains(got.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(got.Linux.ReadonlyPaths, "/proc/sysrq-trigger") {
		t.Fatalf("the shipped lists lack Docker's defaults: %v %v", got.Linux.MaskedPaths, got.Linux.ReadonlyPaths)
	}
}

// A rewrite appends what is missing and keeps what the document lists,
// in its order.
func TestMaskedPathsRewriteAppendsTheMissingPaths(t *testing.T) {
	s := compliantSpec()
	setMasked([]string{"/nonexistent", "/proc/kcore"}, []string{"/proc/sys"})(s)
	p := nodePolicy(t)
	d := judgeSpec(t, p, s)
	if d.Verdict != RewriteDoc {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
	var got specs.Spec
	if err := d.Result.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	wantMasked := append([]string{"/nonexistent", "/proc/kcore"}, without(p.Controls.MaskedPaths.Masked, "/proc/kcore")...)
	wantReadonly := append([]string{"/proc/sys"}, without(p.Controls.MaskedPaths.Readonly, "/proc/sys")...)
	if !slices.Equal(got.Linux.MaskedPaths, wantMasked) || !slices.Equal(got.Linux.ReadonlyPaths, wantReadonly) {
		t.Fatalf("rewritten to %v and %v, want %v and %v", got.Linux.MaskedPaths, got.Linux.ReadonlyPaths, wantMasked, wantReadonly)
	}
	for _, op := range d.Patch {
		if op.Op != "add" || (op.Path != "/linux/maskedPaths/-" && op.Path != "/linux/readonlyPaths/-") {
			t.Errorf("the rewrite should only append: %+v", op)
		}
	}
	if msg := violationAt(d, "/linux/maskedPaths").Message; !strings.Contains(msg, "appended to linux.maskedPaths") || strings.Contains(msg, "/proc/kcore") {
		t.Errorf("the message should name what was appended, and only that: %s", msg)
	}
	out, err := d.Result.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if again := judgeConfig(t, p, out); again.Verdict != Allow {
		t.Errorf("the rewritten document is not admitted: %+v", again.Violations)
	}
}

func TestMaskedPathsSettingsMustRequireSomething(t *testing.T) {
	for _, c := range []*MaskedPaths{{Missing: Rewrite}, {Missing: Deny}} {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "checks nothing") {
			t.Errorf("%+v: %v, want an error saying the control would check nothing", c, err)
		}
	}
	if err := (&MaskedPaths{Missing: Deny, Readonly: []string{"/proc/sys/"}}).Validate(); err == nil {
		t.Error("a path that is not clean was accepted")
	}
}
