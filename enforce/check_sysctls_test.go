package enforce

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func withSysctl(key, value string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{key: value} }
}

func TestSysctlsFixtures(t *testing.T) {
	fixtures := []fixture{
		{name: "docker's two", change: func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "0 2147483647"}
		}, verdict: Allow},
		{name: "slash form of a safe key", change: withSysctl("net/ipv4/tcp_syncookies", "1"), verdict: Allow},
		{name: "ip_forward", change: withSysctl("net.ipv4.ip_forward", "1"), verdict: DenyVerdict, field: "/linux/sysctl/net.ipv4.ip_forward"},
		{name: "ip_forward, slash form", change: withSysctl("net/ipv4/ip_forward", "1"), verdict: DenyVerdict, field: "/linux/sysctl/net~1ipv4~1ip_forward"},
		{name: "kernel.core_pattern", change: withSysctl("kernel.core_pattern", "|/tmp/x"), verdict: DenyVerdict, field: "/linux/sysctl/kernel.core_pattern"},
		{name: "dots walking out of a safe key", change: withSysctl("net/ipv4/ip_local_port_range/../../../kernel/core_pattern", "|/x"),
			verdict: DenyVerdict, field: "/linux/sysctl/net~1ipv4~1ip_local_port_range~1..~1..~1..~1kernel~1core_pattern"},
		{name: "different case", change: withSysctl("Kernel.shm_rmid_forced", "1"), verdict: DenyVerdict, field: "/linux/sysctl/Kernel.shm_rmid_forced"},
	}
	for _, key := range []string{"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
		"net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.tcp_keepalive_time",
		"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_fin_timeout"} {
		fixtures = append(fixtures, fixture{name: "safe " + key, change: withSysctl(key, "1"), verdict: Allow})
	}
	for _, policy := range []string{"baseline", "restricted"} {
		t.Run(policy, func(t *testing.T) { runFixtures(t, policy, compliantSpec, fixtures) })
	}
}

func TestSysctlsPolicyWantsDottedKeys(t *testing.T) {
	if err := (&Sysctls{Allowed: []string{"net/ipv4/ip_forward"}}).Validate(); err == nil {
		t.Fatal("a slash key in the policy validated")
	}
}
