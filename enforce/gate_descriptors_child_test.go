package enforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The descriptor tests run guard-runtime's judgement in a child process
// that inherits the descriptors, at the numbers runc would pass, as the
// guard-runtime an engine starts does.
const (
	descriptorsChildEnv = "GUARD_TEST_DESCRIPTORS_ARGV"
	descriptorsReport   = "descriptors report: "
)

type descriptorsReportData struct {
	Descriptors []PassedDescriptor
	Error       string
	RuntimeArgs []string
}

// TestPassedDescriptorsInChild judges the command line in its environment
// with the descriptors it inherited, and reports.
func TestPassedDescriptorsInChild(t *testing.T) {
	argvJSON := os.Getenv(descriptorsChildEnv)
	if argvJSON == "" {
		t.Skip("run by the descriptor tests in a child process")
	}
	if os.Getenv("LISTEN_PID") == "self" {
		os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	}
	var argv []string
	if err := json.Unmarshal([]byte(argvJSON), &argv); err != nil {
		t.Fatal(err)
	}
	g := testGate(t, argv...)
	report := descriptorsReportData{Descriptors: passedDescriptors(g.Inv, os.Getenv)}
	if err := g.enforce(); err != nil {
		report.Error = err.Error()
	}
	report.RuntimeArgs = g.Inv.RuntimeArgs
	data, _ := json.Marshal(report)
	fmt.Println(descriptorsReport + string(data))
	os.Exit(0)
}

// judgeWithDescriptors runs guard-runtime's judgement of args in a child
// process whose descriptors 3, 4, … are files (nil: not open), with env.
func judgeWithDescriptors(t *testing.T, files []*os.File, env []string, args ...string) descriptorsReportData {
	t.Helper()
	argv, _ := json.Marshal(args)
	out, _ := runChildTest(t, "TestPassedDescriptorsInChild", append([]string{descriptorsChildEnv + "=" + string(argv)}, env...), files)
	var report descriptorsReportData
	if !childReport(t, out, descriptorsReport, &report) {
		t.Fatalf("the child reported nothing:\n%s", out)
	}
	return report
}

func openFile(t *testing.T, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func socketPair(t *testing.T) *os.File {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	peer := os.NewFile(uintptr(p[1]), "peer")
	end := os.NewFile(uintptr(p[0]), "socket")
	t.Cleanup(func() { peer.Close(); end.Close() })
	return end
}

func pipeEnd(t *testing.T) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r
}

// `runc run --preserve-fds 1 … 3</etc` gave a baseline container the
// host's /etc; a socket or a pipe is what descriptors are passed for.
func TestRunWithPreservedDescriptors(t *testing.T) {
	bundle := testBundle(t, compliantSpec())
	dir := t.TempDir()
	secret := writeFile(t, dir, "shadow", []byte("root:x"))
	tests := []struct {
		name string
		fd3  *os.File
		want string // "" when admitted
	}{
		{"3</etc", openFile(t, "/etc", os.O_RDONLY), `policy "baseline" denied container c1: descriptor 3, which --preserve-fds passes to the container, is a directory, and policy baseline allows only sockets and pipes`},
		{"3<>a host file", openFile(t, secret, os.O_RDWR), "descriptor 3, which --preserve-fds passes to the container, is a regular file"},
		{"3<>/dev/null", openFile(t, "/dev/null", os.O_RDWR), "is a character device"},
		{"an O_PATH socket file", openFile(t, socketFile(t), unix.O_PATH), "is an O_PATH reference to a socket of the host"},
		{"nothing at 3", nil, "descriptor 3, which --preserve-fds passes to the container, is not open in the call"},
		{"a socket", socketPair(t), ""},
		{"a pipe", pipeEnd(t), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := judgeWithDescriptors(t, []*os.File{tt.fd3}, nil,
				"--guard-policy=baseline", "--root", t.TempDir(), "run", "--preserve-fds", "1", "--bundle", bundle, "c1")
			if tt.want == "" {
				if report.Error != "" {
					t.Fatalf("refused: %s", report.Error)
				}
				return
			}
			if !strings.Contains(report.Error, tt.want) {
				t.Fatalf("error %q, want one containing %q", report.Error, tt.want)
			}
		})
	}
}

// Socket activation's descriptors come first, --preserve-fds's after them.
func TestCreateWithSocketActivationAndPreservedDescriptors(t *testing.T) {
	bundle := testBundle(t, compliantSpec())
	files := []*os.File{socketPair(t), openFile(t, "/etc", os.O_RDONLY), pipeEnd(t)}
	args := []string{"--guard-policy=baseline", "--root", t.TempDir(), "create", "--preserve-fds", "1", "--bundle", bundle, "c1"}

	report := judgeWithDescriptors(t, files, []string{"LISTEN_FDS=2", "LISTEN_PID=self"}, args...)
	want := []PassedDescriptor{
		{FD: 3, Via: "LISTEN_FDS", Kind: DescriptorSocket},
		{FD: 4, Via: "LISTEN_FDS", Kind: DescriptorDirectory},
		{FD: 5, Via: "--preserve-fds", Kind: DescriptorPipe},
	}
	if !slices.Equal(report.Descriptors, want) {
		t.Errorf("passed %+v, want %+v", report.Descriptors, want)
	}
	mustContain(t, errors.New(report.Error), "descriptor 4, which LISTEN_FDS passes to the container, is a directory")

	// Another process's LISTEN_PID: runc passes none of them.
	report = judgeWithDescriptors(t, files, []string{"LISTEN_FDS=2", "LISTEN_PID=1"}, args...)
	want = []PassedDescriptor{{FD: 3, Via: "--preserve-fds", Kind: DescriptorSocket}}
	if !slices.Equal(report.Descriptors, want) || report.Error != "" {
		t.Errorf("passed %+v (%s), want %+v", report.Descriptors, report.Error, want)
	}
}

func TestExecWithPreservedDescriptors(t *testing.T) {
	root := t.TempDir()
	fakeContainer(t, root, "c1", compliantSpec())
	data, _ := json.Marshal(compliantSpec().Process)
	process := writeFile(t, t.TempDir(), "process.json", data)
	etc := openFile(t, "/etc", os.O_RDONLY)

	report := judgeWithDescriptors(t, []*os.File{etc}, nil, "--root", root, "exec", "--preserve-fds", "1", "--process", process, "c1")
	mustContain(t, errors.New(report.Error), `policy "restricted" denied exec in container c1: descriptor 3, which --preserve-fds passes to the container, is a directory`)

	// runc exec does not take socket activation's descriptors.
	report = judgeWithDescriptors(t, []*os.File{etc}, []string{"LISTEN_FDS=1", "LISTEN_PID=self"}, "--root", root, "exec", "--process", process, "c1")
	if report.Error != "" || len(report.Descriptors) != 0 {
		t.Errorf("exec with LISTEN_FDS: %+v", report)
	}

	// The judged process is passed above the preserved descriptors.
	report = judgeWithDescriptors(t, []*os.File{socketPair(t), pipeEnd(t)}, nil, "--root", root, "exec", "--preserve-fds", "2", "--process", process, "c1")
	if report.Error != "" {
		t.Fatal(report.Error)
	}
	i := slices.Index(report.RuntimeArgs, "--process")
	fd, err := strconv.Atoi(strings.TrimPrefix(report.RuntimeArgs[i+1], "/proc/self/fd/"))
	if err != nil || fd < 5 {
		t.Errorf("the process is passed as %s, which --preserve-fds 2 hands to the container", report.RuntimeArgs[i+1])
	}
}

// runc stops at the first preserved descriptor it cannot stat, and so does
// the judgement: a huge count costs no more than the descriptors open.
func TestAHugePreservedCountStopsAtTheFirstNotOpen(t *testing.T) {
	bundle := testBundle(t, compliantSpec())
	report := judgeWithDescriptors(t, []*os.File{socketPair(t)}, nil,
		"--guard-policy=baseline", "--root", t.TempDir(), "run", "--preserve-fds", "1000000000", "--bundle", bundle, "c1")
	want := []PassedDescriptor{
		{FD: 3, Via: "--preserve-fds", Kind: DescriptorSocket},
		{FD: 4, Via: "--preserve-fds", Kind: DescriptorNotOpen},
	}
	if !slices.Equal(report.Descriptors, want) {
		t.Errorf("passed %+v, want %+v", report.Descriptors, want)
	}
	mustContain(t, errors.New(report.Error), "descriptor 4, which --preserve-fds passes to the container, is not open in the call")
}
