package enforce

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/guard-runtime/guard-runtime/spec"
)

// descriptorViolations are the violations of the passedDescriptors control.
func descriptorViolations(d *Decision) []Violation {
	var got []Violation
	for _, v := range d.Violations {
		if v.Control == "passedDescriptors" {
			got = append(got, v)
		}
	}
	return got
}

func TestPassedDescriptorsAllowOnlySocketsAndPipes(t *testing.T) {
	tests := []struct {
		name string
		d    PassedDescriptor
		want string // "" when allowed
	}{
		{"socket", PassedDescriptor{FD: 3, Via: "--preserve-fds", Kind: DescriptorSocket}, ""},
		{"pipe", PassedDescriptor{FD: 3, Via: "LISTEN_FDS", Kind: DescriptorPipe}, ""},
		{"directory", PassedDescriptor{FD: 3, Via: "--preserve-fds", Kind: DescriptorDirectory}, "descriptor 3, which --preserve-fds passes to the container, is a directory"},
		{"regular file", PassedDescriptor{FD: 4, Via: "--preserve-fds", Kind: DescriptorRegularFile}, "descriptor 4, which --preserve-fds passes to the container, is a regular file"},
		{"character device", PassedDescriptor{FD: 3, Via: "LISTEN_FDS", Kind: DescriptorCharDevice}, "is a character device"},
		{"block device", PassedDescriptor{FD: 3, Via: "--preserve-fds", Kind: DescriptorBlockDevice}, "is a block device"},
		{"symbolic link", PassedDescriptor{FD: 3, Via: "--preserve-fds", Kind: DescriptorSymlink, PathOnly: true}, "O_PATH reference to a symbolic link"},
		{"eventfd", PassedDescriptor{FD: 3, Via: "--preserve-fds", Kind: DescriptorOther}, "neither a file, a socket nor a pipe"},
		{"O_PATH of a socket", PassedDescriptor{FD: 3, Via: "--preserve-fds", Kind: DescriptorSocket, PathOnly: true}, "is an O_PATH reference to a socket of the host"},
		{"not open", PassedDescriptor{FD: 5, Via: "--preserve-fds", Kind: DescriptorNotOpen}, "descriptor 5, which --preserve-fds passes to the container, is not open in the call"},
	}
	for _, policy := range []string{"baseline", "restricted", "k8s-baseline", "k8s-restricted"} {
		p := loadShipped(t, policy)
		for _, tt := range tests {
			t.Run(policy+"/"+tt.name, func(t *testing.T) {
				ctx := Context{Operation: OpRun, ContainerID: "fixture", Call: Call{Descriptors: []PassedDescriptor{tt.d}}}
				got := descriptorViolations(judgeSpecIn(t, p, compliantSpec(), ctx))
				if tt.want == "" {
					if len(got) != 0 {
						t.Fatalf("%s refused: %+v", tt.name, got)
					}
					return
				}
				if len(got) != 1 || got[0].Action != Deny || got[0].Field != tt.d.Via || !strings.Contains(got[0].Message, tt.want) {
					t.Fatalf("violations %+v, want one deny at %s saying %q", got, tt.d.Via, tt.want)
				}
			})
		}
	}
}

func TestPassedDescriptorsOfAnExecAreJudged(t *testing.T) {
	data, _ := json.Marshal(compliantSpec().Process)
	doc, err := spec.DecodeProcess(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := Context{Operation: OpExec, ContainerID: "fixture", Call: Call{Descriptors: []PassedDescriptor{
		{FD: 3, Via: "--preserve-fds", Kind: DescriptorSocket},
		{FD: 4, Via: "--preserve-fds", Kind: DescriptorDirectory},
	}}}
	d, err := EvaluateProcess(loadShipped(t, "baseline"), doc, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := descriptorViolations(d); d.Verdict != DenyVerdict || len(got) != 1 || !strings.Contains(got[0].Message, "descriptor 4") {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}

func TestPassedDescriptorsAreReportedInAuditMode(t *testing.T) {
	ctx := Context{Operation: OpCreate, ContainerID: "fixture", Call: Call{Descriptors: []PassedDescriptor{
		{FD: 3, Via: "--preserve-fds", Kind: DescriptorDirectory},
	}}}
	d := judgeSpecIn(t, loadShipped(t, "audit"), compliantSpec(), ctx)
	if got := descriptorViolations(d); d.Verdict != Allow || len(got) != 1 || got[0].Action != Deny {
		t.Fatalf("%s %+v", d.Verdict, d.Violations)
	}
}
