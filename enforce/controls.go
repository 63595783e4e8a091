package enforce

// Controls holds one section per control. A section a policy leaves out
// turns that control off. The section names are the keys of a policy
// file's "controls:" mapping; each control's file documents its settings.
// Controls run in this order, so their messages come in this order:
// privileged first, since its one message explains the many that follow.
type Controls struct {
	Privileged *Privileged `yaml:"privileged,omitempty"`

	RunAsNonRoot      *RunAsNonRoot      `yaml:"runAsNonRoot,omitempty"`
	RunAsNonRootGroup *RunAsNonRootGroup `yaml:"runAsNonRootGroup,omitempty"`
	Capabilities      *Capabilities      `yaml:"capabilities,omitempty"`
	ReadOnlyRoot      *ReadOnlyRoot      `yaml:"readOnlyRoot,omitempty"`
	Resources         *Resources         `yaml:"resources,omitempty"`
	NoNewPrivileges   *NoNewPrivileges   `yaml:"noNewPrivileges,omitempty"`

	Devices           *Devices           `yaml:"devices,omitempty"`
	Sysctls           *Sysctls           `yaml:"sysctls,omitempty"`
	Seccomp           *Seccomp           `yaml:"seccomp,omitempty"`
	AppArmor          *AppArmor          `yaml:"appArmor,omitempty"`
	SELinux           *SELinux           `yaml:"seLinux,omitempty"`
	MaskedPaths       *MaskedPaths       `yaml:"maskedPaths,omitempty"`
	ProcFd            *ProcFd            `yaml:"procFd,omitempty"`
	PassedDescriptors *PassedDescriptors `yaml:"passedDescriptors,omitempty"`
	PivotRoot         *PivotRoot         `yaml:"pivotRoot,omitempty"`
	SessionKeyring    *SessionKeyring    `yaml:"sessionKeyring,omitempty"`
	Hooks             *Hooks             `yaml:"hooks,omitempty"`
	Unified           *Unified           `yaml:"unified,omitempty"`
	SystemdProperties *SystemdProperties `yaml:"systemdProperties,omitempty"`
	CgroupsPath       *CgroupsPath       `yaml:"cgroupsPath,omitempty"`
	OOM               *OOM               `yaml:"oom,omitempty"`
	Rlimits           *Rlimits           `yaml:"rlimits,omitempty"`

	HostNamespaces    *HostNamespaces    `yaml:"hostNamespaces,omitempty"`
	HostPaths         *HostPaths         `yaml:"hostPaths,omitempty"`
	MountDestinations *MountDestinations `yaml:"mountDestinations,omitempty"`
	MountTypes        *MountTypes        `yaml:"mountTypes,omitempty"`
	MountPropagation  *MountPropagation  `yaml:"mountPropagation,omitempty"`
}
