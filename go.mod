module github.com/guard-runtime/guard-runtime

go 1.26.8

require (
	github.com/coreos/go-systemd/v22 v22.7.0
	github.com/go-json-experiment/json v1.27.2
	github.com/goccy/go-yaml v1.19.2
	github.com/moby/profiles/seccomp v0.3.0
	github.com/moby/sys/capability v0.5.0
	github.com/opencontainers/runc v1.2.8
	github.com/opencontainers/runtime-spec v1.2.1
	go.yaml.in/yaml/v3 v3.0.4
	golang.org/x/sys v0.50.0
)

require (
	github.com/cyphar/filepath-securejoin v0.5.1 // indirect
	github.com/godbus/dbus/v5 v5.1.0 // indirect
	github.com/moby/sys/mountinfo v0.7.1 // indirect
	github.com/moby/sys/userns v0.1.0 // indirect
	github.com/seccomp/libseccomp-golang v0.10.0 // indirect
	github.com/sirupsen/logrus v1.9.3 // indirect
	github.com/stretchr/testify v1.8.4 // indirect
	golang.org/x/net v0.33.0 // indirect
)
