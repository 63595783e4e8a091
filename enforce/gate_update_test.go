package enforce

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/spec"
)

// withStdin runs fn with input on fd 0, as containerd writes an update's
// resources to runc's stdin, and returns what fd 0 holds afterwards: what
// the runtime would read.
func withStdin(t *testing.T, input []byte, fn func()) []byte {
	t.Helper()
	saved, err := syscall.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Dup3(saved, 0, 0)
		syscall.Close(saved)
	}()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(input)
	w.Close()
	if err := syscall.Dup3(int(r.Fd()), 0, 0); err != nil {
		t.Fatal(err)
	}
	r.Close()
	fn()
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(0, buf)
		if n <= 0 || err != nil {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

func TestUpdateOnStdinReachesRuncAsJudged(t *testing.T) {
	tests := []struct {
		name, input, want, err string
	}{
		{name: "docker update --memory 1g --memory-swap 1g", input: string(dockerCapture(t, "update-memory-1g.json")),
			want: string(dockerCapture(t, "update-memory-1g.json"))},
		{name: "limit without swap", input: `{"memory":{"limit":1073741824}}`,
			want: `{"memory":{"limit":1073741824,"swap":1073741824}}`},
		{name: "8Gi", input: `{"memory":{"limit":8589934592,"swap":8589934592}}`,
			err: `policy "restricted" denied update of container c1: /memory/limit 8589934592 is above the maximum 2147483648`},
		{name: "unlimited pids", input: `{"pids":{"limit":-1}}`, err: "/pids/limit -1 means no pids limit"},
		{name: "trailing document", input: `{"pids":{"limit":10}}{"pids":{"limit":-1}}`, err: "are not resources runc would read the same way"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGate(t, "--root", t.TempDir(), "update", "--resources", "-", "c1")
			args := slices.Clone(g.Inv.RuntimeArgs)
			var err error
			fed := withStdin(t, []byte(tt.input), func() { err = g.enforce() })
			if tt.err != "" {
				mustContain(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(fed) != tt.want {
				t.Errorf("runc reads\n%s\nwant\n%s", fed, tt.want)
			}
			if !slices.Equal(g.Inv.RuntimeArgs, args) {
				t.Errorf("runtime arguments changed: %q", g.Inv.RuntimeArgs)
			}
		})
	}
}

func TestUpdateFileReachesRuncAsJudged(t *testing.T) {
	tests := []struct {
		name, flag, input, want string
	}{
		{"rewritten", "-r", `{"memory":{"limit":1073741824,"swap":-1}}`, `{"memory":{"limit":1073741824,"swap":1073741824}}`},
		{"admitted unchanged", "--resources", `{"pids":{"limit":100}, "memory":{"limit":1073741824,"swap":1073741824}}`,
			`{"pids":{"limit":100}, "memory":{"limit":1073741824,"swap":1073741824}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := writeFile(t, dir, "resources.json", []byte(tt.input))
			g := testGate(t, "--root", dir, "update", tt.flag+"="+file, "c1")
			if err := g.enforce(); err != nil {
				t.Fatal(err)
			}
			// runc re-opened FILE by its path: what was renamed over it
			// after the judgement was applied unjudged.
			swap := writeFile(t, dir, "swap.json", []byte(`{"memory":{"limit":-1,"swap":-1},"pids":{"limit":-1}}`))
			if err := os.Rename(swap, file); err != nil {
				t.Fatal(err)
			}
			if got, _ := passedDocument(t, g, tt.flag); string(got) != tt.want {
				t.Errorf("runc reads %s, want %s", got, tt.want)
			}
			if n := len(g.Inv.RuntimeArgs); n != 5 || g.Inv.RuntimeArgs[4] != "c1" {
				t.Errorf("runtime arguments %q", g.Inv.RuntimeArgs)
			}
			assertNoGuardTempFiles(t, dir)
		})
	}
}

func TestDeniedUpdateFileIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	denied := []byte(`{"cpu":{"quota":-1,"period":100000}}`)
	file := writeFile(t, dir, "resources.json", denied)
	g := testGate(t, "--root", dir, "update", "--resources="+file, "c1")
	args := slices.Clone(g.Inv.RuntimeArgs)
	mustContain(t, g.enforce(), "means unlimited CPU")
	if got, _ := os.ReadFile(file); !bytes.Equal(got, denied) {
		t.Errorf("the resources of a denied update changed: %s", got)
	}
	if !slices.Equal(g.Inv.RuntimeArgs, args) {
		t.Errorf("runtime arguments changed: %q", g.Inv.RuntimeArgs)
	}
	assertNoGuardTempFiles(t, dir)
}

func TestUpdateFlagsReachRuncAsAJudgedDocument(t *testing.T) {
	g := testGate(t, "--root", "/run/x", "update", "--memory", "1g", "--pids-limit=100", "--l3-cache-schema", "L3:0=f", "c1", "--cpuset-cpus", "0")
	var err error
	fed := withStdin(t, nil, func() { err = g.enforce() })
	if err != nil {
		t.Fatal(err)
	}
	want := `{"memory":{"limit":1073741824,"swap":1073741824},"cpu":{"cpus":"0"},"pids":{"limit":100}}`
	if string(fed) != want {
		t.Errorf("runc reads %s, want %s", fed, want)
	}
	wantArgs := []string{"--root", "/run/x", "update", "--l3-cache-schema", "L3:0=f", "--resources", "-", "c1"}
	if !slices.Equal(g.Inv.RuntimeArgs, wantArgs) {
		t.Errorf("runtime arguments %q, want %q", g.Inv.RuntimeArgs, wantArgs)
	}
	again, err := spec.Parse(g.Inv.RuntimeArgs)
	if err != nil || again.ContainerID() != "c1" {
		t.Errorf("runc reads the new command line differently: %v", err)
	}
}

func TestUpdateFlagDenials(t *testing.T) {
	tests := []struct {
		flags []string
		want  string
	}{
		{[]string{"--memory", "8g"}, "above the maximum"},
		{[]string{"--memory=-1"}, "means no memory limit"},
		{[]string{"--pids-limit", "-1"}, "means no pids limit"},
		{[]string{"--cpu-quota", "50000"}, "without a period"},
		{[]string{"--memory-swap", "4g"}, "changes swap without the memory limit"},
		{[]string{"--memory", "1x"}, `invalid value "1x" for --memory`},
		{[]string{"--cpu-period", "-1"}, `invalid value "-1" for --cpu-period`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.flags, " "), func(t *testing.T) {
			g := testGate(t, append(append([]string{"--root", t.TempDir(), "update"}, tt.flags...), "c1")...)
			mustContain(t, g.enforce(), tt.want)
		})
	}
	mustContain(t, testGate(t, "update", "--memory", "1g", "c1", "c2").enforce(), "exactly one container id")
}

func TestResourcesFromFlagsFollowRunc(t *testing.T) {
	tests := []struct {
		flags []string
		want  string
	}{
		{nil, `{}`},
		{[]string{"--memory", "1.5g", "--memory-swap", "-1", "--memory-reservation", "64 MiB"},
			`{"memory":{"limit":1610612736,"reservation":67108864,"swap":-1}}`},
		{[]string{"--kernel-memory", "1k", "--kernel-memory-tcp", "2KB"}, `{"memory":{"kernel":1024,"kernelTCP":2048}}`},
		{[]string{"--cpu-quota", "-1", "--cpu-period", "100000", "--cpu-share", "512", "--cpu-rt-period", "1", "--cpu-rt-runtime", "2"},
			`{"cpu":{"shares":512,"quota":-1,"period":100000,"realtimeRuntime":2,"realtimePeriod":1}}`},
		{[]string{"--cpuset-mems", "0"}, `{"cpu":{"mems":"0"}}`},
		{[]string{"--pids-limit", "0x10"}, `{"pids":{"limit":16}}`},
		{[]string{"--blkio-weight", "65537"}, `{"blockIO":{"weight":1}}`}, // runc's uint16 conversion
		{[]string{"--memory", "0"}, `{"memory":{"limit":0}}`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.flags, " "), func(t *testing.T) {
			inv, err := spec.Parse(append(append([]string{"update"}, tt.flags...), "c1"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := resourcesFromFlags(inv)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(r)
			var got, want specs.LinuxResources
			json.Unmarshal(data, &got)
			json.Unmarshal([]byte(tt.want), &want)
			gotData, _ := json.Marshal(got)
			wantData, _ := json.Marshal(want)
			if !bytes.Equal(gotData, wantData) {
				t.Errorf("got %s, want %s", data, tt.want)
			}
		})
	}
}

// ramInBytes must read sizes as docker/go-units 0.4 does, since runc 1.1.5
// reads its memory flags with it.
func TestRAMInBytesReadsSizesAsRunc(t *testing.T) {
	valid := map[string]int64{
		"0": 0, "1": 1, "1b": 1, "1B": 1, "1i": 1, "1 ": 1, "32": 32,
		"1k": 1 << 10, "1K": 1 << 10, "1kb": 1 << 10, "1KiB": 1 << 10, "1 kib": 1 << 10,
		"1m": 1 << 20, "512m": 512 << 20, "1g": 1 << 30, "1 GB": 1 << 30, "1t": 1 << 40, "1p": 1 << 50,
		"1.5g": 3 << 29, "0.1k": 102, "1.0": 1, "8388607t": 8388607 << 40,
	}
	for s, want := range valid {
		if got, err := ramInBytes(s); err != nil || got != want {
			t.Errorf("ramInBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", " 1", "-1", "+1", "1x", "1e3", "1..2", "1.2.3", ".5", "5.", "1  g", "1bi", "1kk", "1gbb", "0x10", "8388608t", "99999999999999999999p"} {
		if got, err := ramInBytes(s); err == nil {
			t.Errorf("ramInBytes(%q) = %d, want an error", s, got)
		}
	}
}
