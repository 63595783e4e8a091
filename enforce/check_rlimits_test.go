package enforce

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// compliantSpec carries runc's example rlimit, RLIMIT_NOFILE 1024:1024,
// at /process/rlimits/0; the fixtures add entries after it.
func withRlimit(typ string, soft, hard uint64) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: typ, Soft: soft, Hard: hard})
	}
}

func TestRlimitsBaselineFixtures(t *testing.T) {
	runFixtures(t, "baseline", compliantSpec, []fixture{
		{name: "runc's example nofile", verdict: Allow},
		{name: "no rlimits", change: func(s *specs.Spec) { s.Process.Rlimits = nil }, verdict: Allow},
		{name: "rtprio 99", change: withRlimit("RLIMIT_RTPRIO", 99, 99), verdict: DenyVerdict, field: "/process/rlimits/1/hard"},
		{name: "rtprio hard 1", change: withRlimit("RLIMIT_RTPRIO", 0, 1), verdict: DenyVerdict, field: "/process/rlimits/1/hard"},
		{name: "rtprio 0", change: withRlimit("RLIMIT_RTPRIO", 0, 0), verdict: Allow},
		{name: "nice 40", change: withRlimit("RLIMIT_NICE", 40, 40), verdict: DenyVerdict, field: "/process/rlimits/1/hard"},
		{name: "nice hard 21", change: withRlimit("RLIMIT_NICE", 0, 21), verdict: DenyVerdict, field: "/process/rlimits/1/hard"},
		// 20: back to nice 0 after lowering its priority, and no further.
		{name: "nice 20", change: withRlimit("RLIMIT_NICE", 20, 20), verdict: Allow},
		{name: "nice 10", change: withRlimit("RLIMIT_NICE", 10, 10), verdict: Allow},
		{name: "nice unlimited", change: withRlimit("RLIMIT_NICE", rlimInfinity, rlimInfinity), verdict: DenyVerdict, field: "/process/rlimits/1/hard"},
		// baseline does not limit open files.
		{name: "nofile unlimited", change: func(s *specs.Spec) { s.Process.Rlimits[0].Soft, s.Process.Rlimits[0].Hard = rlimInfinity, rlimInfinity }, verdict: Allow},
		// runc knows its sixteen names, spelled exactly so.
		{name: "misspelt type", change: func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_NOFILES" }, verdict: DenyVerdict, field: "/process/rlimits/0/type"},
		{name: "lower-case type", change: func(s *specs.Spec) { s.Process.Rlimits[0].Type = "rlimit_nofile" }, verdict: DenyVerdict, field: "/process/rlimits/0/type"},
		{name: "docker's short name", change: func(s *specs.Spec) { s.Process.Rlimits[0].Type = "nofile" }, verdict: DenyVerdict, field: "/process/rlimits/0/type"},
		{name: "soft above hard", change: func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 2048 }, verdict: DenyVerdict, field: "/process/rlimits/0/soft"},
		{name: "soft below hard", change: func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 512 }, verdict: Allow},
		// runc sets the entries in order; the last of a type is what the process gets.
		{name: "rtprio 99 replaced by 0", change: func(s *specs.Spec) {
			withRlimit("RLIMIT_RTPRIO", 99, 99)(s)
			withRlimit("RLIMIT_RTPRIO", 0, 0)(s)
		}, verdict: Allow},
		{name: "rtprio 0 replaced by 99", change: func(s *specs.Spec) {
			withRlimit("RLIMIT_RTPRIO", 0, 0)(s)
			withRlimit("RLIMIT_RTPRIO", 99, 99)(s)
		}, verdict: DenyVerdict, field: "/process/rlimits/2/hard"},
		// ... but every entry is set, and the kernel refuses this one.
		{name: "replaced entry with soft above hard", change: withRlimit("RLIMIT_NOFILE", 4096, 1024), verdict: DenyVerdict, field: "/process/rlimits/1/soft"},
	})
}

func TestRlimitsRestrictedFixtures(t *testing.T) {
	runFixtures(t, "restricted", compliantSpec, []fixture{
		{name: "compliant", verdict: Allow},
		{name: "nofile at the maximum, as Podman writes it", change: func(s *specs.Spec) { s.Process.Rlimits[0].Soft, s.Process.Rlimits[0].Hard = 1048576, 1048576 }, verdict: Allow},
		{name: "nofile hard above the maximum", change: func(s *specs.Spec) { s.Process.Rlimits[0].Hard = 1048577 }, verdict: DenyVerdict, field: "/process/rlimits/0/hard"},
		{name: "nofile unlimited, as docker writes -1", change: func(s *specs.Spec) { s.Process.Rlimits[0].Soft, s.Process.Rlimits[0].Hard = rlimInfinity, rlimInfinity }, verdict: DenyVerdict, field: "/process/rlimits/0/hard"},
		// baseline's maximums hold in the policies that extend it.
		{name: "rtprio 1", change: withRlimit("RLIMIT_RTPRIO", 1, 1), verdict: DenyVerdict, field: "/process/rlimits/1/hard"},
		{name: "nproc unlimited", change: withRlimit("RLIMIT_NPROC", rlimInfinity, rlimInfinity), verdict: Allow},
	})
	for _, policy := range []string{"k8s-baseline", "k8s-restricted"} {
		t.Run(policy, func(t *testing.T) {
			runFixtures(t, policy, compliantSpec, []fixture{
				{name: "rtprio 99", change: withRlimit("RLIMIT_RTPRIO", 99, 99), verdict: DenyVerdict, field: "/process/rlimits/1/hard"},
			})
		})
	}
}

func TestRlimitsMessages(t *testing.T) {
	p := loadShipped(t, "baseline")
	for _, c := range []struct {
		change func(*specs.Spec)
		field  string
		want   string
	}{
		{withRlimit("RLIMIT_RTPRIO", 99, 99), "/process/rlimits/1/hard",
			"RLIMIT_RTPRIO hard limit 99 is above the maximum 0 of policy baseline, and runc sets it with the host's privileges: leave out --ulimit rtprio or give it a hard limit of at most 0"},
		{withRlimit("RLIMIT_NICE", rlimInfinity, rlimInfinity), "/process/rlimits/1/hard", "RLIMIT_NICE hard limit unlimited is above the maximum 20"},
		{withRlimit("RLIMIT_NOFILES", 1, 1), "/process/rlimits/1/type", `rlimit type "RLIMIT_NOFILES" is not one runc sets`},
		{withRlimit("RLIMIT_NOFILE", 4096, 1024), "/process/rlimits/1/soft", "RLIMIT_NOFILE soft limit 4096 is above its hard limit 1024: the kernel refuses that"},
	} {
		s := compliantSpec()
		c.change(s)
		if msg := violationAt(judgeSpec(t, p, s), c.field).Message; !strings.Contains(msg, c.want) {
			t.Errorf("message at %s: %q, want %q", c.field, msg, c.want)
		}
	}
}

// clampPolicy lowers what is above its maximums instead of denying.
const clampPolicy = `extends: baseline
controls:
  rlimits:
    max:
      RLIMIT_NOFILE: 4096
    action: rewrite
`

func TestRlimitsRewriteLowersToTheMaximum(t *testing.T) {
	p := loadFrom(t, policyDir(t, map[string]string{"clamp": clampPolicy}), "clamp")
	for _, c := range []struct {
		name               string
		soft, hard         uint64
		wantSoft, wantHard uint64
		verdict            Verdict
	}{
		{name: "both above", soft: 8192, hard: 8192, wantSoft: 4096, wantHard: 4096, verdict: RewriteDoc},
		{name: "soft below the maximum is kept", soft: 1024, hard: 1 << 20, wantSoft: 1024, wantHard: 4096, verdict: RewriteDoc},
		{name: "unlimited", soft: rlimInfinity, hard: rlimInfinity, wantSoft: 4096, wantHard: 4096, verdict: RewriteDoc},
		{name: "at the maximum", soft: 4096, hard: 4096, wantSoft: 4096, wantHard: 4096, verdict: Allow},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := compliantSpec()
			s.Process.Rlimits[0].Soft, s.Process.Rlimits[0].Hard = c.soft, c.hard
			// Evaluate judges the rewritten document again and fails if it
			// does not pass.
			d := judgeSpec(t, p, s)
			if d.Verdict != c.verdict {
				t.Fatalf("verdict %s, want %s: %+v", d.Verdict, c.verdict, d.Violations)
			}
			var got specs.Spec
			if err := d.Result.Unmarshal(&got); err != nil {
				t.Fatal(err)
			}
			rl := got.Process.Rlimits
			if len(rl) != 1 || rl[0] != (specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: c.wantSoft, Hard: c.wantHard}) {
				t.Fatalf("rlimits became %+v, want soft %d hard %d", rl, c.wantSoft, c.wantHard)
			}
			if c.verdict == RewriteDoc {
				if msg := violationAt(d, "/process/rlimits/0/hard").Message; !strings.Contains(msg, "lowered to the maximum 4096 by policy clamp") {
					t.Errorf("message: %s", msg)
				}
				if again := judgeConfig(t, p, mustEncode(t, d)); again.Verdict != Allow {
					t.Errorf("the rewritten document is judged %s: %+v", again.Verdict, again.Violations)
				}
			}
		})
	}
}

func mustEncode(t *testing.T, d *Decision) []byte {
	t.Helper()
	out, err := d.Result.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// What no value can put right is denied under rewrite too, and the
// maximums the clamp policy inherits from baseline are lowered as well.
func TestRlimitsRewriteDeniesWhatItCannotLower(t *testing.T) {
	p := loadFrom(t, policyDir(t, map[string]string{"clamp": clampPolicy}), "clamp")
	runPolicyFixtures(t, p, compliantSpec, []fixture{
		{name: "unknown type", change: func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_NOFILES" }, verdict: DenyVerdict, field: "/process/rlimits/0/type"},
		{name: "soft above hard", change: func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 2048 }, verdict: DenyVerdict, field: "/process/rlimits/0/soft"},
		{name: "rtprio lowered", change: withRlimit("RLIMIT_RTPRIO", 99, 99), verdict: RewriteDoc, field: "/process/rlimits/1/hard"},
	})
	// Only the entry that runc applies last is lowered.
	s := compliantSpec()
	withRlimit("RLIMIT_NOFILE", 8192, 8192)(s)
	d := judgeSpec(t, p, s)
	var got specs.Spec
	if err := d.Result.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	want := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}, {Type: "RLIMIT_NOFILE", Soft: 4096, Hard: 4096}}
	if d.Verdict != RewriteDoc || !reflect.DeepEqual(got.Process.Rlimits, want) {
		t.Fatalf("%s: rlimits became %+v, want %+v", d.Verdict, got.Process.Rlimits, want)
	}
}

func TestRlimitsInExec(t *testing.T) {
	baseline := loadShipped(t, "baseline")
	proc := compliantSpec().Process
	proc.Rlimits = append(proc.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_RTPRIO", Soft: 99, Hard: 99})
	if d := judgeExecProcess(t, baseline, proc); d.Verdict != DenyVerdict || !hasViolationAt(d, "/rlimits/1/hard") {
		t.Fatalf("exec with rtprio 99: %s %+v", d.Verdict, d.Violations)
	}
	proc.Rlimits = nil
	if d := judgeExecProcess(t, baseline, proc); d.Verdict != Allow {
		t.Fatalf("exec without rlimits: %s %+v", d.Verdict, d.Violations)
	}

	clamp := loadFrom(t, policyDir(t, map[string]string{"clamp": clampPolicy}), "clamp")
	proc.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 65536}}
	d := judgeExecProcess(t, clamp, proc)
	out := mustEncode(t, d)
	if d.Verdict != RewriteDoc || !bytes.Contains(out, []byte(`"rlimits":[{"type":"RLIMIT_NOFILE","hard":4096,"soft":1024}]`)) {
		t.Fatalf("exec rewrite: %s %+v\n%s", d.Verdict, d.Violations, out)
	}
}

func TestRlimitsInAuditMode(t *testing.T) {
	s := compliantSpec()
	withRlimit("RLIMIT_RTPRIO", 99, 99)(s)
	d := judgeSpec(t, loadShipped(t, "audit"), s)
	if d.Verdict != Allow || violationAt(d, "/process/rlimits/1/hard") != (Violation{Control: "rlimits", Field: "/process/rlimits/1/hard", Action: Deny,
		Message: "RLIMIT_RTPRIO hard limit 99 is above the maximum 0 of policy audit, and runc sets it with the host's privileges: leave out --ulimit rtprio or give it a hard limit of at most 0"}) {
		t.Fatalf("audit: %s %+v", d.Verdict, d.Violations)
	}
}

func TestRlimitsPolicySettings(t *testing.T) {
	load := func(settings string) (*Policy, error) {
		dir := policyDir(t, map[string]string{"p": "extends: baseline\ncontrols:\n  rlimits:\n" + settings})
		return LoadPolicy(dir, "p")
	}
	for _, c := range []struct{ settings, want string }{
		{"    max: {RLIMIT_NOFILES: 1024}\n", `p.yaml: line 3: controls.rlimits: max: unknown rlimit type "RLIMIT_NOFILES": use runc's names: RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_FSIZE, RLIMIT_LOCKS, RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_RSS, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIMIT_SIGPENDING, RLIMIT_STACK`},
		{"    max: {nofile: 1024, RLIMIT_nice: 0}\n", `unknown rlimit types "RLIMIT_nice", "nofile"`},
		{"    max: {RLIMIT_NOFILE: -1}\n", `limit "-1" is not valid: use a number (0 up to 18446744073709551615) or unlimited`},
		{"    max: {RLIMIT_NOFILE: 1e6}\n", `limit "1e6" is not valid`},
		{"    max: {RLIMIT_NOFILE: 0x100}\n", `limit "0x100" is not valid`},
		{"    max: {RLIMIT_NOFILE: 18446744073709551616}\n", `is not valid`},
		{"    max: {RLIMIT_NOFILE: infinity}\n", `limit "infinity" is not valid`},
		{"    max: {RLIMIT_NOFILE: [1]}\n", `want a single value, not a list`},
		{"    action: audit\n", `controls.rlimits: action "audit" is not valid here: use deny or rewrite`},
		{"    limit: {RLIMIT_NOFILE: 1}\n", `unknown key controls.rlimits.limit`},
	} {
		_, err := load(c.settings)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.settings, err, c.want)
		}
	}
	// A policy of its own must say what it does about a limit above the maximum.
	dir := policyDir(t, map[string]string{"own": "controls:\n  rlimits:\n    max: {RLIMIT_NOFILE: 1024}\n"})
	if _, err := LoadPolicy(dir, "own"); err == nil || !strings.Contains(err.Error(), `action "" is not valid here: use deny or rewrite`) {
		t.Errorf("a policy without an action: %v", err)
	}

	// Maximums are overlaid entry by entry; unlimited lifts a parent's.
	p, err := load("    max: {RLIMIT_NICE: unlimited, RLIMIT_STACK: 18446744073709551615}\n")
	if err != nil {
		t.Fatal(err)
	}
	want := Rlimits{Max: map[string]RlimitValue{"RLIMIT_RTPRIO": 0, "RLIMIT_NICE": rlimInfinity, "RLIMIT_STACK": rlimInfinity}, Action: Deny}
	if !reflect.DeepEqual(*p.Controls.Rlimits, want) {
		t.Fatalf("rlimits %+v, want %+v", *p.Controls.Rlimits, want)
	}
	s := compliantSpec()
	withRlimit("RLIMIT_NICE", rlimInfinity, rlimInfinity)(s)
	if d := judgeSpec(t, p, s); d.Verdict != Allow {
		t.Errorf("unlimited did not lift baseline's maximum: %s %+v", d.Verdict, d.Violations)
	}
	restricted := loadShipped(t, "restricted").Controls.Rlimits
	if want := (Rlimits{Max: map[string]RlimitValue{"RLIMIT_RTPRIO": 0, "RLIMIT_NICE": 20, "RLIMIT_NOFILE": 1048576}, Action: Deny}); !reflect.DeepEqual(*restricted, want) {
		t.Errorf("restricted's rlimits %+v, want baseline's and its own %+v", *restricted, want)
	}

	// unlimited is 2^64-1 in the cache, and unlimited again in lint's rules.
	back, ok := decodePolicyEntry(encodePolicyEntry(&policyEntry{Policy: p}))
	if !ok || !reflect.DeepEqual(back.Policy.Controls.Rlimits, p.Controls.Rlimits) {
		t.Errorf("through the cache: %v %+v", ok, back)
	}
	rules, err := p.rules()
	if err != nil || !strings.Contains(string(rules), "RLIMIT_NICE: unlimited") {
		t.Errorf("lint's rules: %v\n%s", err, rules)
	}
}
