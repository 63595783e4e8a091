package spec

import (
	stdjson "encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/guard-runtime/guard-runtime/hack/gendecode"
)

// The generated decoders (decode_gen.go) promise: where they read a
// document, they read exactly what the reflective path reads; where that
// path refuses a document, they do not read it.

// slowDecode is Decode without the generated decoders: the reference.
func slowDecode[T any](data []byte) (*T, error) {
	value, _, err := decodeReflective[T](data)
	return value, err
}

// fastOnly is the generated decoder alone, reading the document's
// tokens: no tree is built first.
func fastOnly[T any](data []byte) (*T, bool) {
	return fastDecode[T](data)
}

// checkFastAgrees fails when the generated decoder reads data while the
// reference refuses it or reads another value; it reports whether the
// generated decoder read it.
func checkFastAgrees[T any](t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := fastOnly[T](data)
	slow, err := slowDecode[T](data)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("the generated %T decoder reads a document the reflective path refuses (%v):\n%s", fast, err, data)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("the generated %T decoder reads another value:\n%s\n fast %+v\n slow %+v", fast, data, fast, slow)
	}
	return true
}

// documentKinds checks data as each of the three documents.
func documentKinds(t *testing.T, data []byte) {
	checkFastAgrees[specs.Spec](t, data)
	checkFastAgrees[specs.Process](t, data)
	checkFastAgrees[specs.LinuxResources](t, data)
}

type fixture struct {
	name string
	data []byte
	// check is checkFastAgrees for the fixture's type.
	check func(*testing.T, []byte) bool
}

// fixtures are the real documents: what Docker and the CRI plugin hand
// their runtime, the members of their configs that exec and update
// documents mirror, and runc's own example spec.
func fixtures(t *testing.T) []fixture {
	var out []fixture
	for _, dir := range []string{"../enforce/testdata/docker", "../enforce/testdata/cri"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(file)
			switch {
			case isProcessFixture(name) || strings.HasSuffix(name, "-exec.json"):
				out = append(out, fixture{file, data, checkFastAgrees[specs.Process]})
			case isResourcesFixture(name):
				out = append(out, fixture{file, data, checkFastAgrees[specs.LinuxResources]})
			default:
				out = append(out, fixture{file, data, checkFastAgrees[specs.Spec]})
				if process, ok := member(t, data, "/process"); ok {
					out = append(out, fixture{file + "#/process", process, checkFastAgrees[specs.Process]})
				}
				if resources, ok := member(t, data, "/linux/resources"); ok {
					out = append(out, fixture{file + "#/linux/resources", resources, checkFastAgrees[specs.LinuxResources]})
				}
			}
		}
	}
	if len(out) < 40 {
		t.Fatalf("only %d documents in ../enforce/testdata: the captured fixtures are missing", len(out))
	}
	example, err := stdjson.Marshal(specconv.Example())
	if err != nil {
		t.Fatal(err)
	}
	return append(out, fixture{"runc specconv.Example()", example, checkFastAgrees[specs.Spec]})
}

// Every real document takes the generated path (else it would pay for
// reflection in every runtime call) and reads as the reflective path
// reads it.
func TestFastDecodeReadsRealDocuments(t *testing.T) {
	for _, f := range fixtures(t) {
		if !f.check(t, f.data) {
			t.Errorf("%s: the generated decoder leaves a real document to the reflective path", f.name)
		}
	}
}

// mutated are the fixtures whose mutations are checked: each shape of
// document once (the others differ from these in values, which the
// mutations replace anyway), so that the test takes seconds.
var mutated = map[string]bool{
	"privileged.json": true, "user-1000-read-only.json": true, "exec-default.json": true,
	"update-memory-1g.json": true, "update-cpus-2.json": true, "update-pids-limit-200.json": true,
	"kubelet-container.json": true, "kubelet-sandbox.json": true, "kubelet-exec.json": true,
	"runc specconv.Example()": true,
}

// Each value of a real document of each shape replaced by values of other kinds and
// edge numbers, each member name by case variants and an unknown name:
// the generated decoder reads the result only as the reflective path does.
func TestFastDecodeMutations(t *testing.T) {
	read, total := 0, 0
	for _, f := range fixtures(t) {
		if !mutated[filepath.Base(f.name)] {
			continue
		}
		mutations, err := gendecode.Mutations(f.data)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for _, m := range mutations {
			total++
			if f.check(t, m) {
				read++
			}
		}
	}
	t.Logf("the generated decoders read %d of %d mutated documents", read, total)
	if read == 0 || read == total {
		t.Fatalf("the generated decoders read %d of %d mutated documents: the mutations do not exercise both paths", read, total)
	}
}

// What json/v2 does at the edges, pinned: the generated decoders must do
// the same or leave the document alone.
func TestFastDecodeEdges(t *testing.T) {
	for _, doc := range []string{
		`null`, `{}`, `[]`, `"s"`,
		`{"process":null}`, `{"process":{}}`, `{"mounts":[]}`, `{"mounts":null}`, `{"annotations":{}}`,
		`{"annotations":{"a":null}}`, `{"process":{"args":[null,"x"]}}`, `{"process":{"user":null}}`,
		`{"process":{"user":{"uid":-0}}}`, `{"process":{"user":{"uid":4294967295}}}`,
		`{"process":{"user":{"uid":4294967296}}}`, `{"process":{"oomScoreAdj":-2147483648}}`,
		`{"process":{"oomScoreAdj":-0}}`, `{"process":{"oomScoreAdj":2147483648}}`,
		`{"process":{"terminal":"true"}}`, `{"process":{"terminal":null}}`,
		`{"ociVersion":"\u0041\/"}`, `{"ociVersion":1}`, `{"Process":{}}`, `{"process":{"Args":[]}}`,
		`{"linux":{"devices":[{"fileMode":420,"major":1,"minor":-0}]}}`, `{"linux":{"devices":[{"fileMode":-1}]}}`,
		`{"linux":{"resources":{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":10}]}}}}`,
		`{"linux":{"resources":{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1e3}]}}}}`,
		`{"linux":{"resources":{"memory":{"limit":null,"swappiness":0}}}}`,
		`{"linux":{"resources":{"memory":{"swappiness":-0}}}}`,
		`{"linux":{"resources":{"cpu":{"quota":-9223372036854775808}}}}`,
		`{"windows":{"credentialSpec":{}}}`, `{"linux":{"rdma":{"mlx":{"hcaHandles":1}}}}`,
		`{"linux":{"netDevices":{"eth0":{"name":"x"}}}}`,
	} {
		t.Run(doc, func(t *testing.T) { documentKinds(t, []byte(doc)) })
	}
	if _, ok := fastOnly[specs.Spec]([]byte(`{"process":{"user":{"uid":0}},"x-vendor":1}`)); ok {
		t.Error("the generated decoder reads a document with a member it does not know")
	}
}

// FuzzFastDecodeConfig checks the promise on any input, as each of the
// three documents.
func FuzzFastDecodeConfig(f *testing.F) {
	for _, doc := range realDocuments(f, func(string) bool { return true }) {
		f.Add(doc)
	}
	f.Add([]byte(`{"process":{"user":{"uid":-0,"gid":1e0}},"linux":{"resources":{"blockIO":{"weightDevice":[{"major":8}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) { documentKinds(t, data) })
}
