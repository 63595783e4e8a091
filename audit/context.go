package audit

// Engine context keys, written as GUARD_<KEY>.
const (
	ContextK8sNamespace     = "K8S_NAMESPACE"
	ContextK8sPod           = "K8S_POD"
	ContextK8sPodUID        = "K8S_POD_UID"
	ContextK8sContainer     = "K8S_CONTAINER"
	ContextK8sContainerType = "K8S_CONTAINER_TYPE"
	ContextK8sSandboxID     = "K8S_SANDBOX_ID"
	ContextK8sImage         = "K8S_IMAGE"
)

// contextAnnotations lists, per context key, the annotations that carry it,
// in order of trust. containerd's CRI plugin writes io.kubernetes.cri.* itself
// and copies none of the request's annotations into config.json, so those
// come first; CRI-O writes io.kubernetes.cri-o.*; io.kubernetes.pod.* and
// io.kubernetes.container.* are the kubelet's names, which CRI-O and
// cri-dockerd pass on.
var contextAnnotations = []struct {
	key         string
	annotations []string
}{
	{ContextK8sNamespace, []string{"io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace"}},
	{ContextK8sPod, []string{"io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"}},
	{ContextK8sPodUID, []string{"io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"}},
	{ContextK8sContainer, []string{"io.kubernetes.cri.container-name", "io.kubernetes.container.name"}},
	{ContextK8sContainerType, []string{"io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"}},
	{ContextK8sSandboxID, []string{"io.kubernetes.cri.sandbox-id", "io.kubernetes.cri-o.SandboxID"}},
	{ContextK8sImage, []string{"io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName"}},
}

// EngineContext takes what the engine says about a container from the OCI
// annotations: the Kubernetes namespace, pod, container name and so on. It
// returns nil when there is none, as for plain Docker containers. It is
// context for people reading the record, not input to a decision.
func EngineContext(annotations map[string]string) map[string]string {
	var context map[string]string
	for _, entry := range contextAnnotations {
		for _, annotation := range entry.annotations {
			value := annotations[annotation]
			if value == "" {
				continue
			}
			if context == nil {
				context = make(map[string]string, len(contextAnnotations))
			}
			context[entry.key] = value
			break
		}
	}
	return context
}
