package enforce

// Controls holds one section per control. A section a policy leaves out
// turns that control off. The section names are the keys of a policy
// file's "controls:" mapping; each control's file documents its settings.
type Controls struct {
	RunAsNonRoot    *RunAsNonRoot    `yaml:"runAsNonRoot,omitempty"`
	Capabilities    *Capabilities    `yaml:"capabilities,omitempty"`
	ReadOnlyRoot    *ReadOnlyRoot    `yaml:"readOnlyRoot,omitempty"`
	Resources       *Resources       `yaml:"resources,omitempty"`
	NoNewPrivileges *NoNewPrivileges `yaml:"noNewPrivileges,omitempty"`

	// Host namespaces, host paths and mounts.
	HostNamespaces    *HostNamespaces    `yaml:"hostNamespaces,omitempty"`
	HostPaths         *HostPaths         `yaml:"hostPaths,omitempty"`
	MountDestinations *MountDestinations `yaml:"mountDestinations,omitempty"`
	MountPropagation  *MountPropagation  `yaml:"mountPropagation,omitempty"`
}
