#!/usr/bin/env bash
# The test command: installs what the tests need from Debian's packages and
# the Go module proxy, then runs the unit and end-to-end tests against the
# real runc, Docker engine, containerd, Podman and journald.
#
# Usage: sudo hack/test.sh [go test flags…]   (e.g. -run Docker)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "hack/test.sh: the end-to-end tests start containers and engines: run it as root" >&2
	exit 1
fi

export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
if ! command -v go >/dev/null; then
	echo "hack/test.sh: Go is not installed: install Go 1.26 or newer (Debian 12's golang package is too old) and put it on PATH" >&2
	exit 1
fi

packages=(runc crun busybox-static docker.io containerd podman systemd iproute2 util-linux)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "hack/test.sh: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

go mod download
go vet ./...
# The lean build engines call (enforce/build.go) must build too.
CGO_ENABLED=0 go build -tags lean -o /dev/null ./cmd/guard-runtime
# Packages share the machine's engines and 2 cores: run them one at a time.
go test -p 1 -count=1 -timeout 25m "$@" ./...
