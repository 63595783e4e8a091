#!/bin/bash
# Shows guard-runtime's three decisions side by side under the policy
# restricted: a container it allows as it is, one it rewrites before it
# runs, and one it denies. For each: the command, what happened, and the
# audit record of the decision.
#
#   sudo hack/demo.sh [--docker | --runc] [options]
#
# Modes:
#   --docker   three `docker run --runtime guard-restricted …` on this
#              Docker host (DOCKER_HOST is honoured). Needs guard-runtime
#              installed and registered with Docker (hack/install.sh).
#   --runc     no Docker needed: three OCI bundles on a busybox-static
#              rootfs, each judged by `guard-runtime policy check`, then run
#              through guard-runtime in front of the real runc, with a
#              temporary config.yaml that pins runc and uses this
#              checkout's policy.d.
#   Without either: --docker when Docker lists a guard-restricted runtime,
#   --runc otherwise.
#
# Options:
#   --image IMAGE          image for --docker (default busybox)
#   --guard-runtime FILE   guard-runtime binary for --runc (default
#                          /usr/local/bin/guard-runtime when installed, else
#                          built from this checkout)
#   --audit-file FILE      where --docker looks for records when journald
#                          has none (default /var/log/guard-runtime/audit.log,
#                          config.yaml's audit.file default)
#   DOCKER=FILE            (environment) the docker CLI to use
#
# The records come from journald (journalctl -t guard-runtime …), or from
# the fallback audit file when journald is not running. The demo exits
# non-zero when a case did not end in the decision it demonstrates.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=auto
image=busybox
guard_runtime=""
docker_audit_file=/var/log/guard-runtime/audit.log
docker_cli=${DOCKER:-docker}
readonly policy=restricted

die() { echo "hack/demo.sh: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
		--docker) mode=docker ;;
		--runc) mode=runc ;;
		--image) image=${2:?--image needs an image}; shift ;;
		--image=*) image=${1#--image=} ;;
		--guard-runtime) guard_runtime=${2:?--guard-runtime needs a file}; shift ;;
		--guard-runtime=*) guard_runtime=${1#--guard-runtime=} ;;
		--audit-file) docker_audit_file=${2:?--audit-file needs a file}; shift ;;
		--audit-file=*) docker_audit_file=${1#--audit-file=} ;;
		-h|--help) usage; exit 0 ;;
		*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done

[ "$(id -u)" = 0 ] || die "run it as root: it starts containers and reads the audit trail"

work=$(mktemp -d /tmp/guard-demo.XXXXXX)
# Container ids of this run; the journal keeps those of earlier runs.
run_id=$(date +%s)-$$
containers=()
cleanup() {
	local id
	for id in "${containers[@]}"; do
		if [ "$mode" = docker ]; then
			"$docker_cli" rm -f "$id" >/dev/null 2>&1 || true
		else
			runc --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
		fi
	done
	rm -rf "$work"
}
trap cleanup EXIT

# What every container prints: its uid, its bounding capabilities, whether
# its root is read-only, and its memory limit. It runs in the container.
# shellcheck disable=SC2016
readonly probe='echo "uid=$(id -u) CapBnd=$(grep CapBnd /proc/self/status | cut -f2) root=$(grep " / " /proc/mounts | head -n1 | cut -d" " -f4 | cut -d, -f1) memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"'

# show_command prints a command as one could type it.
show_command() {
	local out="" arg
	for arg in "$@"; do
		case "$arg" in
			"$probe") out+=" \"\$probe\"" ;;
			*[[:space:]\"\'\$]*) out+=" '${arg//\'/\'\\\'\'}'" ;;
			*) out+=" $arg" ;;
		esac
	done
	echo "\$${out}"
}

heading() {
	echo
	echo "=== $1"
	echo "    $2"
}

# --- audit records -------------------------------------------------------

# show_record ID AUDIT_FILE: prints the audit record of container ID from
# journald, or else from the fallback file, and sets $decision from it.
show_record() {
	local id=$1 file=$2 record="" _
	decision="?"
	if command -v journalctl >/dev/null 2>&1 && [ -S /run/systemd/journal/socket ]; then
		# journald takes records asynchronously: wait a moment for this one.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			journalctl --sync >/dev/null 2>&1 || true
			record=$(journalctl --no-pager -t guard-runtime "GUARD_CONTAINER_ID=$id" -o json-pretty 2>/dev/null || true)
			[ -n "$record" ] && break
			sleep 0.2
		done
		if [ -n "$record" ]; then
			echo "audit record:"
			show_command journalctl -t guard-runtime "GUARD_CONTAINER_ID=$id" -o json-pretty
		fi
	fi
	if [ -z "$record" ] && [ -f "$file" ]; then
		record=$(grep -F "\"GUARD_CONTAINER_ID\":\"$id\"" "$file" || true)
		if [ -n "$record" ]; then
			echo "audit record (journald is not running; from the fallback file):"
			show_command grep -F "\"GUARD_CONTAINER_ID\":\"$id\"" "$file"
		fi
	fi
	if [ -z "$record" ]; then
		echo "no audit record of $id found in journald or in $file"
		return 0
	fi
	echo "$record"
	decision=$(echo "$record" | sed -n 's/.*"GUARD_DECISION" *: *"\([a-z]*\)".*/\1/p' | tail -n1)
	[ -n "$decision" ] || decision="?"
}

# --- three cases ---------------------------------------------------------

names=()
expected=()
decisions=()
outcomes=()

# record_case NAME EXPECTED DECISION OUTCOME
record_case() {
	names+=("$1")
	expected+=("$2")
	decisions+=("$3")
	outcomes+=("$4")
}

summary() {
	echo
	echo "=== summary: policy $policy"
	printf '%-8s  %-9s  %s\n' case decision outcome
	local i failed=0
	for i in "${!names[@]}"; do
		printf '%-8s  %-9s  %s\n' "${names[$i]}" "${decisions[$i]}" "${outcomes[$i]}"
		[ "${decisions[$i]}" = "${expected[$i]}" ] || failed=1
	done
	if [ "$failed" = 1 ]; then
		echo "hack/demo.sh: a case did not end in the decision it demonstrates (see above)" >&2
		exit 1
	fi
}

# --- Docker --------------------------------------------------------------

docker_has_guard() {
	local runtimes
	command -v "$docker_cli" >/dev/null 2>&1 &&
		runtimes=$("$docker_cli" info --format '{{json .Runtimes}}' 2>/dev/null) &&
		[[ "$runtimes" == *'"guard-restricted"'* ]]
}

# docker_case NAME EXPECTED WHAT DOCKER-RUN-OPTIONS…
docker_case() {
	local name=$1 want=$2 what=$3
	shift 3
	local container=guard-demo-$name-$run_id
	local cmd=("$docker_cli" run --name "$container" --runtime "guard-$policy" --network none "$@" "$image" sh -c "$probe")
	heading "$name" "$what"
	show_command "${cmd[@]}"
	containers+=("$container")
	local outcome output
	if output=$("${cmd[@]}" 2>&1); then
		outcome="ran: $(echo "$output" | tail -n1)"
	else
		outcome="refused by docker run (exit $?)"
	fi
	echo "$output"
	echo "-> $outcome"
	local id
	id=$("$docker_cli" inspect --format '{{.Id}}' "$container" 2>/dev/null) || {
		record_case "$name" "$want" "?" "$outcome (docker created no container)"
		return 0
	}
	show_record "$id" "$docker_audit_file"
	record_case "$name" "$want" "$decision" "$outcome"
}

run_docker() {
	docker_has_guard || die "Docker does not list a guard-restricted runtime: install and register guard-runtime with hack/install.sh (then reload dockerd), or run hack/demo.sh --runc"
	echo "guard-runtime demo with Docker, policy $policy, image $image"
	echo "probe=$probe"
	docker_case allow allow "meets the policy as it is: non-root, CAP_NET_BIND_SERVICE only, read-only root, no new privileges, limits" \
		-u 1000 --read-only --tmpfs /tmp --tmpfs /run --cap-drop ALL --cap-add NET_BIND_SERVICE \
		--security-opt no-new-privileges --memory 256m --memory-swap 256m --cpus 1 --pids-limit 100
	docker_case rewrite rewrite "non-root, but Docker's defaults: guard-runtime drops capabilities, makes the root read-only and sets limits" \
		-u 1000
	docker_case deny deny "runs as root: denied, the container never starts"
	summary
}

# --- runc ----------------------------------------------------------------

static_busybox() {
	local candidate
	for candidate in /bin/busybox /usr/bin/busybox; do
		[ -x "$candidate" ] || continue
		case "$(ldd "$candidate" 2>&1 || true)" in
			*"not a dynamic executable"*|*"statically linked"*) echo "$candidate"; return 0 ;;
		esac
	done
	return 1
}

find_guard_runtime() {
	if [ -n "$guard_runtime" ]; then
		[ -x "$guard_runtime" ] || die "--guard-runtime $guard_runtime is not an executable"
		echo "$guard_runtime"
	elif [ -x /usr/local/bin/guard-runtime ]; then
		echo /usr/local/bin/guard-runtime
	else
		local go
		go=$(command -v go || echo /usr/local/go/bin/go)
		[ -x "$go" ] || die "guard-runtime is not installed and there is no Go to build it: run hack/install.sh, or install Go"
		echo "building guard-runtime from $repo_root" >&2
		(cd "$repo_root" && CGO_ENABLED=0 "$go" build -o "$work/guard-runtime" ./cmd/guard-runtime) ||
			die "go build ./cmd/guard-runtime failed"
		echo "$work/guard-runtime"
	fi
}

# make_rootfs BUSYBOX DIR: a busybox rootfs at DIR. Each bundle has its
# own, as containerd keeps it: restricted admits a root filesystem in the
# bundle, and denies a host directory elsewhere that no rule names.
make_rootfs() {
	local busybox=$1 rootfs=$2
	mkdir -p "$rootfs"/{bin,dev,proc,sys,etc,tmp,run}
	chmod 1777 "$rootfs/tmp"
	cp "$busybox" "$rootfs/bin/busybox"
	chroot "$rootfs" /bin/busybox --install -s /bin
	printf '%s\n' "$probe" >"$rootfs/probe.sh"
}

readonly docker_default_caps='"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"'

# write_bundle DIR UID HARDENED: writes DIR/config.json. HARDENED=yes is
# a container that meets restricted as it is; no is what an engine sends by
# default (Docker's capabilities, writable root, no limits).
write_bundle() {
	local dir=$1 uid=$2 hardened=$3 caps root_readonly nnp resources tmpfs=""
	if [ "$hardened" = yes ]; then
		caps='"bounding": ["CAP_NET_BIND_SERVICE"], "effective": ["CAP_NET_BIND_SERVICE"], "permitted": ["CAP_NET_BIND_SERVICE"]'
		root_readonly=true nnp=true
		resources='"memory": {"limit": 268435456, "swap": 268435456}, "cpu": {"quota": 100000, "period": 100000}, "pids": {"limit": 100},'
		tmpfs='
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=64m", "mode=1777"]},
    {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=16m", "mode=755"]},'
	else
		caps="\"bounding\": [$docker_default_caps]"
		root_readonly=false nnp=false resources=""
	fi
	mkdir -p "$dir"
	cat >"$dir/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": $uid, "gid": $uid},
    "args": ["/bin/sh", "/probe.sh"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/",
    "capabilities": {$caps},
    "noNewPrivileges": $nnp,
    "oomScoreAdj": 0
  },
  "root": {"path": "rootfs", "readonly": $root_readonly},
  "hostname": "guard-demo",
  "mounts": [$tmpfs
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "resources": {$resources "devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
      "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["acct", "add_key", "delete_module", "finit_module", "init_module", "kexec_file_load",
        "kexec_load", "keyctl", "open_by_handle_at", "request_key", "swapoff", "swapon", "userfaultfd"],
        "action": "SCMP_ACT_ERRNO"}]
    }
  }
}
EOF
}

# runc_case NAME EXPECTED WHAT UID HARDENED
runc_case() {
	local name=$1 want=$2 what=$3 uid=$4 hardened=$5
	local bundle=$work/$name id=guard-demo-$name-$run_id
	write_bundle "$bundle" "$uid" "$hardened"
	make_rootfs "$busybox" "$bundle/rootfs"
	heading "$name" "$what"
	show_command guard-runtime policy check --policy-dir "$repo_root/policy.d" --policy "$policy" --bundle "$bundle"
	"$guard" policy check --policy-dir "$repo_root/policy.d" --policy "$policy" --bundle "$bundle" || true
	echo
	local cmd=(--guard-config "$work/config.yaml" --guard-policy="$policy" --root "$work/state"
		--log "$bundle/log.json" --log-format json run --bundle "$bundle" "$id")
	show_command guard-runtime "${cmd[@]}"
	containers+=("$id")
	local outcome output
	if output=$("$guard" "${cmd[@]}" 2>&1); then
		outcome="ran: $(echo "$output" | tail -n1)"
	else
		outcome="refused (exit $?)"
	fi
	echo "$output"
	echo "-> $outcome"
	show_record "$id" "$work/audit.log"
	record_case "$name" "$want" "$decision" "$outcome"
}

run_runc() {
	local runc
	runc=$(command -v runc) || die "runc is not installed: apt-get install -y runc"
	busybox=$(static_busybox) || die "a static busybox is needed for the demo's rootfs: apt-get install -y busybox-static"
	guard=$(find_guard_runtime)
	cat >"$work/config.yaml" <<EOF
runtime:
  path: $runc
  sha256: $(sha256sum "$runc" | cut -d' ' -f1)
  cacheDir: $work/cache
policy:
  dir: $repo_root/policy.d
  default: $policy
audit:
  file: $work/audit.log
EOF
	echo "guard-runtime demo with runc bundles, policy $policy"
	echo "guard-runtime: $guard; config: $work/config.yaml (pins $runc)"
	echo "probe=$probe"
	runc_case allow allow "meets the policy as it is: uid 1000, CAP_NET_BIND_SERVICE only, read-only root, no new privileges, limits" 1000 yes
	runc_case rewrite rewrite "uid 1000 with an engine's defaults: guard-runtime drops capabilities, makes the root read-only and sets limits" 1000 no
	runc_case deny deny "runs as root: denied, runc is never called" 0 no
	summary
}

if [ "$mode" = auto ]; then
	if docker_has_guard; then mode=docker; else mode=runc; fi
fi
if [ "$mode" = docker ]; then run_docker; else run_runc; fi
