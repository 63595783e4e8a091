//go:build !lean

package enforce

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/goccy/go-yaml"

	"github.com/guard-runtime/guard-runtime/spec"
)

// PolicyCommand runs `guard-runtime policy check|lint …`, the offline tools
// admins use before a rollout.
func PolicyCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: guard-runtime policy check|lint [options]")
		return ExitUnusable
	}
	switch args[0] {
	case "check":
		return policyCheck(args[1:], stdout, stderr)
	case "lint":
		return policyLint(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "guard-runtime policy: unknown command %q: use check or lint\n", args[0])
	return ExitUnusable
}

type checkRequest struct {
	policyDir, policy         string
	asJSON                    bool
	config, bundle, exec, upd string
	containerID               string
	systemdCgroup             bool
}

func parseCheckFlags(args []string, stderr io.Writer) (*checkRequest, error) {
	req := &checkRequest{}
	fs := flag.NewFlagSet("guard-runtime policy check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defaults := defaultPolicySource()
	fs.StringVar(&req.policyDir, "policy-dir", defaults.Dir, "directory of policy files")
	fs.StringVar(&req.policy, "policy", defaults.Default, "policy name")
	fs.BoolVar(&req.asJSON, "json", false, "print one JSON object")
	fs.StringVar(&req.config, "config", "", "a config.json to judge as at create")
	fs.StringVar(&req.bundle, "bundle", "", "a bundle directory whose config.json to judge")
	fs.StringVar(&req.exec, "exec", "", "an exec process file to judge")
	fs.StringVar(&req.upd, "update", "", "an update resources file to judge")
	fs.StringVar(&req.containerID, "id", "policy-check", "the container id to use in messages")
	fs.BoolVar(&req.systemdCgroup, "systemd-cgroup", false, "read linux.cgroupsPath as runc --systemd-cgroup does: slice:prefix:name")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	given := 0
	for _, s := range []string{req.config, req.bundle, req.exec, req.upd} {
		if s != "" {
			given++
		}
	}
	if given != 1 || fs.NArg() != 0 {
		return nil, errors.New("give exactly one of --config FILE, --bundle DIR, --exec PROCESS_FILE, --update RESOURCES_FILE")
	}
	return req, nil
}

// defaultPolicySource takes the policy directory and default policy from
// the installed config.yaml when there is one.
func defaultPolicySource() PolicyConfig {
	if cfg, err := LoadConfig(DefaultConfigPath); err == nil {
		return cfg.Policy
	}
	return PolicyConfig{Dir: DefaultPolicyDir, Default: DefaultPolicy}
}

func policyCheck(args []string, stdout, stderr io.Writer) int {
	req, err := parseCheckFlags(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "guard-runtime policy check: %v\n", err)
		return ExitUnusable
	}
	p, err := LoadPolicy(req.policyDir, req.policy)
	if err != nil {
		fmt.Fprintf(stderr, "guard-runtime policy check: %v\n", err)
		return ExitUnusable
	}
	d, err := req.evaluate(p)
	if err != nil {
		fmt.Fprintf(stderr, "guard-runtime policy check: %v\n", err)
		return ExitUnusable
	}
	if req.asJSON {
		err = writeDecisionJSON(stdout, d)
	} else {
		writeDecisionText(stdout, d)
	}
	if err != nil {
		fmt.Fprintf(stderr, "guard-runtime policy check: %v\n", err)
		return ExitUnusable
	}
	if d.Verdict == DenyVerdict {
		return ExitDenied
	}
	return ExitAdmitted
}

func (req *checkRequest) evaluate(p *Policy) (*Decision, error) {
	ctx := Context{ContainerID: req.containerID}
	switch {
	case req.exec != "":
		ctx.Operation = OpExec
		data, err := spec.ReadFile(req.exec, spec.MaxDocumentSize)
		if err != nil {
			return nil, err
		}
		doc, err := spec.DecodeProcess(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", req.exec, err)
		}
		return EvaluateProcess(p, doc, ctx)
	case req.upd != "":
		ctx.Operation = OpUpdate
		data, err := spec.ReadFile(req.upd, spec.MaxDocumentSize)
		if err != nil {
			return nil, err
		}
		doc, err := spec.DecodeResources(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", req.upd, err)
		}
		return EvaluateResources(p, doc, ctx)
	}
	ctx.Operation = OpCreate
	ctx.Call.SystemdCgroup = req.systemdCgroup
	file := req.config
	if req.bundle != "" {
		bundle, err := resolveBundle(req.bundle)
		if err != nil {
			return nil, err
		}
		ctx.Bundle = bundle
		if file, err = configFile(bundle); err != nil {
			return nil, err
		}
	}
	data, err := spec.ReadFile(file, spec.MaxDocumentSize)
	if err != nil {
		return nil, err
	}
	doc, err := spec.DecodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return EvaluateConfig(p, doc, ctx)
}

// checkResult is the JSON contract of `policy check --json`.
type checkResult struct {
	Decision   Verdict          `json:"decision"`
	Policy     string           `json:"policy"`
	Mode       Mode             `json:"mode"`
	Violations []Violation      `json:"violations"`
	Patch      []spec.Operation `json:"patch"`
	Result     jsontext.Value   `json:"result"`
}

func writeDecisionJSON(w io.Writer, d *Decision) error {
	out := checkResult{Decision: d.Verdict, Policy: d.Policy, Mode: d.Mode,
		Violations: d.Violations, Patch: d.Patch, Result: jsontext.Value("null")}
	if out.Violations == nil {
		out.Violations = []Violation{}
	}
	if out.Patch == nil {
		out.Patch = []spec.Operation{}
	}
	if d.Verdict != DenyVerdict {
		doc, err := d.Result.Encode()
		if err != nil {
			return err
		}
		out.Result = doc
	}
	data, err := json.Marshal(out, jsontext.Multiline(true))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

func writeDecisionText(w io.Writer, d *Decision) {
	fmt.Fprintf(w, "policy %s (%s mode): %s\n", d.Policy, d.Mode, d.Verdict)
	for _, v := range d.Violations {
		fmt.Fprintf(w, "  %-7s %-22s %s\n          %s\n", v.Action, v.Control, v.Field, v.Message)
	}
}

func policyLint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("guard-runtime policy lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("policy-dir", defaultPolicySource().Dir, "directory of policy files")
	if err := fs.Parse(args); err != nil {
		return ExitUnusable
	}
	names := fs.Args()
	if len(names) == 0 {
		names = Available(*dir)
	}
	if len(names) == 0 {
		fmt.Fprintf(stderr, "guard-runtime policy lint: no policies in %s\n", *dir)
		return ExitUnusable
	}
	status := ExitAdmitted
	for _, name := range names {
		if err := lintOne(stdout, *dir, name); err != nil {
			fmt.Fprintf(stderr, "guard-runtime policy lint: %v\n", err)
			status = ExitUnusable
		}
	}
	return status
}

// lintOne loads a policy and prints its effective rules, with what it
// extends already merged in.
func lintOne(w io.Writer, dir, name string) error {
	p, err := LoadPolicy(dir, name)
	if err != nil {
		return err
	}
	rules, err := p.rules()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# policy %s (%s): ok\n", p.Name, p.File)
	_, err = w.Write([]byte(indentYAML(string(rules))))
	return err
}

// rules writes a loaded policy's settings as a policy file, lists
// indented as policy.d writes them.
func (p *Policy) rules() ([]byte, error) {
	return yaml.MarshalWithOptions(p, yaml.IndentSequence(true))
}

func indentYAML(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}
