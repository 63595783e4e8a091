// Package deploy holds the Kubernetes manifests and the node installer; its
// tests lint them, since they cannot be applied to a cluster here: strict
// decoding against the fields the manifests use, cross-references between
// them, and the containerd configuration read by containerd itself.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/guard-runtime/guard-runtime/enforce"
)

type objectMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace"`
	Labels    map[string]string `yaml:"labels"`
}

type header struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
}

type namespace struct {
	header   `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
}

type serviceAccount struct {
	header                       `yaml:",inline"`
	Metadata                     objectMeta `yaml:"metadata"`
	AutomountServiceAccountToken *bool      `yaml:"automountServiceAccountToken"`
}

type configMap struct {
	header   `yaml:",inline"`
	Metadata objectMeta        `yaml:"metadata"`
	Data     map[string]string `yaml:"data"`
}

type runtimeClass struct {
	header     `yaml:",inline"`
	Metadata   objectMeta `yaml:"metadata"`
	Handler    string     `yaml:"handler"`
	Scheduling struct {
		NodeSelector map[string]string `yaml:"nodeSelector"`
	} `yaml:"scheduling"`
}

type envVar struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly"`
}

type container struct {
	Name            string        `yaml:"name"`
	Image           string        `yaml:"image"`
	ImagePullPolicy string        `yaml:"imagePullPolicy"`
	Command         []string      `yaml:"command"`
	Env             []envVar      `yaml:"env"`
	VolumeMounts    []volumeMount `yaml:"volumeMounts"`
	SecurityContext struct {
		Privileged               *bool  `yaml:"privileged"`
		AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
		RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
		RunAsUser                *int64 `yaml:"runAsUser"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

type volume struct {
	Name     string `yaml:"name"`
	HostPath *struct {
		Path string `yaml:"path"`
		Type string `yaml:"type"`
	} `yaml:"hostPath"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
}

type daemonSet struct {
	header   `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
	Spec     struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		UpdateStrategy struct {
			Type          string `yaml:"type"`
			RollingUpdate struct {
				MaxUnavailable int `yaml:"maxUnavailable"`
			} `yaml:"rollingUpdate"`
		} `yaml:"updateStrategy"`
		Template struct {
			Metadata objectMeta `yaml:"metadata"`
			Spec     struct {
				NodeSelector                  map[string]string `yaml:"nodeSelector"`
				HostPID                       bool              `yaml:"hostPID"`
				PriorityClassName             string            `yaml:"priorityClassName"`
				ServiceAccountName            string            `yaml:"serviceAccountName"`
				AutomountServiceAccountToken  *bool             `yaml:"automountServiceAccountToken"`
				TerminationGracePeriodSeconds int               `yaml:"terminationGracePeriodSeconds"`
				Tolerations                   []struct {
					Operator string `yaml:"operator"`
				} `yaml:"tolerations"`
				InitContainers []container `yaml:"initContainers"`
				Containers     []container `yaml:"containers"`
				Volumes        []volume    `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type kustomization struct {
	header    `yaml:",inline"`
	Resources []string `yaml:"resources"`
}

// manifests holds every object of the kustomization, decoded strictly.
type manifests struct {
	namespaces      []namespace
	serviceAccounts []serviceAccount
	configMaps      []configMap
	runtimeClasses  []runtimeClass
	daemonSets      []daemonSet
}

func decodeStrict(t *testing.T, where string, node *yaml.Node, into any) {
	t.Helper()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(node); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	var k kustomization
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	var m manifests
	for _, file := range k.Resources {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("kustomization lists %s: %v", file, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for i := 0; ; i++ {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", file, i, err)
			}
			var h header
			if err := node.Decode(&h); err != nil {
				t.Fatalf("%s document %d: %v", file, i, err)
			}
			where := file + " " + h.Kind
			switch h.APIVersion + " " + h.Kind {
			case "v1 Namespace":
				var o namespace
				decodeStrict(t, where, &node, &o)
				m.namespaces = append(m.namespaces, o)
			case "v1 ServiceAccount":
				var o serviceAccount
				decodeStrict(t, where, &node, &o)
				m.serviceAccounts = append(m.serviceAccounts, o)
			case "v1 ConfigMap":
				var o configMap
				decodeStrict(t, where, &node, &o)
				m.configMaps = append(m.configMaps, o)
			case "node.k8s.io/v1 RuntimeClass":
				var o runtimeClass
				decodeStrict(t, where, &node, &o)
				m.runtimeClasses = append(m.runtimeClasses, o)
			case "apps/v1 DaemonSet":
				var o daemonSet
				decodeStrict(t, where, &node, &o)
				m.daemonSets = append(m.daemonSets, o)
			default:
				t.Fatalf("%s document %d: unexpected %s %s", file, i, h.APIVersion, h.Kind)
			}
		}
	}
	return m
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	var k kustomization
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.yaml")
	for _, f := range files {
		if f != "kustomization.yaml" && !slices.Contains(k.Resources, f) {
			t.Errorf("%s is not listed in kustomization.yaml, so kubectl apply -k would skip it", f)
		}
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func installer(t *testing.T, m manifests) (daemonSet, container) {
	t.Helper()
	if len(m.daemonSets) != 1 || len(m.daemonSets[0].Spec.Template.Spec.InitContainers) != 1 {
		t.Fatalf("want one DaemonSet with one init container (the installer)")
	}
	return m.daemonSets[0], m.daemonSets[0].Spec.Template.Spec.InitContainers[0]
}

func installerEnv(c container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// installedHandlers reads the installer's GUARD_HANDLERS: handler name →
// policy, as install.sh splits its name=policy entries.
func installedHandlers(t *testing.T, install container) map[string]string {
	t.Helper()
	handlers := map[string]string{}
	for _, entry := range strings.Fields(installerEnv(install, "GUARD_HANDLERS")) {
		name, policy, ok := strings.Cut(entry, "=")
		if !ok {
			policy = name
		}
		handlers["guard-"+name] = policy
	}
	if len(handlers) == 0 {
		t.Fatal("the installer's GUARD_HANDLERS is empty")
	}
	return handlers
}

func TestRuntimeClassesNameTheInstalledHandlers(t *testing.T) {
	m := loadManifests(t)
	ds, install := installer(t, m)
	installed := installedHandlers(t, install)
	var handlers []string
	for _, rc := range m.runtimeClasses {
		if !dnsLabel.MatchString(rc.Handler) || len(rc.Handler) > 63 {
			t.Errorf("RuntimeClass %s: handler %q is not a DNS-1123 label", rc.Metadata.Name, rc.Handler)
		}
		if rc.Metadata.Name != rc.Handler {
			t.Errorf("RuntimeClass %s: name differs from its handler %q", rc.Metadata.Name, rc.Handler)
		}
		for key, value := range ds.Spec.Template.Spec.NodeSelector {
			if rc.Scheduling.NodeSelector[key] != value {
				t.Errorf("RuntimeClass %s would schedule pods on nodes without %s=%s, where the installer does not run",
					rc.Metadata.Name, key, value)
			}
		}
		handlers = append(handlers, rc.Handler)
	}
	slices.Sort(handlers)
	var want []string
	for name := range installed {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(handlers, want) {
		t.Errorf("RuntimeClass handlers %v, but the installer registers %v", handlers, want)
	}
}

// The handlers run the shipped Kubernetes policies: Docker's baseline and
// restricted deny what the kubelet sends for ordinary pods.
func TestHandlersRunTheKubernetesPolicies(t *testing.T) {
	m := loadManifests(t)
	_, install := installer(t, m)
	want := map[string]string{"guard-baseline": "k8s-baseline", "guard-restricted": "k8s-restricted"}
	got := installedHandlers(t, install)
	if !maps.Equal(got, want) {
		t.Errorf("handlers run %v, want %v", got, want)
	}
	for _, policy := range got {
		if _, err := enforce.LoadPolicy("../policy.d", policy); err != nil {
			t.Errorf("handler policy %s: %v", policy, err)
		}
	}
	cfg, err := enforce.ParseConfig([]byte(m.configMaps[0].Data["config.yaml"]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enforce.LoadPolicy("../policy.d", cfg.Policy.Default); err != nil || !strings.HasPrefix(cfg.Policy.Default, "k8s-") {
		t.Errorf("the node's default policy %q is not a shipped Kubernetes policy: %v", cfg.Policy.Default, err)
	}
}

func TestDaemonSetHangsTogether(t *testing.T) {
	m := loadManifests(t)
	ds, install := installer(t, m)
	spec := ds.Spec.Template.Spec
	for key, value := range ds.Spec.Selector.MatchLabels {
		if ds.Spec.Template.Metadata.Labels[key] != value {
			t.Errorf("selector %s=%s does not match the pod template's labels", key, value)
		}
	}
	if !slices.ContainsFunc(m.serviceAccounts, func(sa serviceAccount) bool {
		return sa.Metadata.Name == spec.ServiceAccountName && sa.Metadata.Namespace == ds.Metadata.Namespace
	}) {
		t.Errorf("service account %s/%s is not defined", ds.Metadata.Namespace, spec.ServiceAccountName)
	}
	if !slices.ContainsFunc(m.namespaces, func(ns namespace) bool { return ns.Metadata.Name == ds.Metadata.Namespace }) {
		t.Errorf("namespace %s is not defined", ds.Metadata.Namespace)
	}
	if !spec.HostPID || install.SecurityContext.Privileged == nil || !*install.SecurityContext.Privileged {
		t.Error("the installer needs hostPID and privileged to nsenter into the node and restart containerd")
	}
	if ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable != 1 {
		t.Error("maxUnavailable must be 1: containerd restarts one node at a time")
	}
	volumes := map[string]volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	hostRoot := installerEnv(install, "HOST_ROOT")
	for _, c := range append(append([]container{}, spec.InitContainers...), spec.Containers...) {
		for _, vm := range c.VolumeMounts {
			v, ok := volumes[vm.Name]
			if !ok {
				t.Errorf("container %s mounts undefined volume %s", c.Name, vm.Name)
				continue
			}
			if v.HostPath != nil && vm.MountPath != hostRoot+v.HostPath.Path {
				t.Errorf("host path %s is mounted at %s; install.sh writes it through HOST_ROOT %s", v.HostPath.Path, vm.MountPath, hostRoot)
			}
			if v.ConfigMap != nil && !slices.ContainsFunc(m.configMaps, func(cm configMap) bool { return cm.Metadata.Name == v.ConfigMap.Name }) {
				t.Errorf("volume %s uses undefined ConfigMap %s", v.Name, v.ConfigMap.Name)
			}
		}
	}
	if len(spec.Containers) != 1 || spec.Containers[0].SecurityContext.Privileged != nil {
		t.Error("the long-running container must hold no privilege: only the installer does")
	}
}

func TestConfigTemplateIsAValidConfigWithoutRuntimePin(t *testing.T) {
	m := loadManifests(t)
	if len(m.configMaps) != 1 {
		t.Fatal("want one ConfigMap with config.yaml")
	}
	data := m.configMaps[0].Data["config.yaml"]
	cfg, err := enforce.ParseConfig([]byte(data))
	if err != nil {
		t.Fatalf("config.yaml in the ConfigMap: %v", err)
	}
	if len(cfg.Runtime.SHA256) != 0 || strings.Contains(data, "runtime:") {
		t.Error("the ConfigMap must not pin a runtime: the installer pins each node's own runc")
	}
	if cfg.Policy.Dir != "/etc/guard-runtime/policy.d" {
		t.Errorf("policy dir %s is not where the installer puts the policies", cfg.Policy.Dir)
	}
}

func TestInstallerScriptParses(t *testing.T) {
	out, err := execCommand("sh", "-n", "installer/install.sh")
	if err != nil {
		t.Fatalf("sh -n installer/install.sh: %v\n%s", err, out)
	}
}
