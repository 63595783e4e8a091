#!/bin/bash
# Installs guard-runtime on a Debian or Ubuntu host and registers it with
# Docker. Run it as root from a checkout of the repository:
#
#   hack/install.sh [--default] [--restart-docker]
#   hack/install.sh --uninstall [--purge] [--restart-docker]
#
# Install:
#   - installs runc (apt-get) if it is missing;
#   - builds guard-runtime (static, CGO_ENABLED=0) to /usr/local/bin: the
#     lean build as guard-runtime, which engines call, and the full build
#     beside it as guard-runtime-full, to which the lean build hands the
#     calls its caches cannot carry out (see enforce/build.go);
#   - installs policy.d/*.yaml to /etc/guard-runtime/policy.d;
#   - writes /etc/guard-runtime/config.yaml if absent (runtime.path = the
#     runc found on PATH, policy.default = restricted) and pins runc's
#     sha256 with `guard-runtime pin`;
#   - when Docker is present, registers the runtimes guard (default policy),
#     guard-baseline, guard-restricted and guard-audit in
#     /etc/docker/daemon.json, keeping every other key, backing the old
#     file up to daemon.json.pre-guard-runtime and writing atomically.
# Running it again changes nothing that is already in place.
#
# Options:
#   --default          also set "default-runtime": "guard" in daemon.json
#   --restart-docker   restart dockerd after changing daemon.json
#   --uninstall        remove the runtimes from daemon.json (restoring the
#                      backup when nothing else changed) and the binaries;
#                      refuses while containers still use a guard runtime
#   --purge            with --uninstall: also remove /etc/guard-runtime
#   --force            with --uninstall: even if containers use guard runtimes
#   --root DIR         install under DIR instead of / (also GUARD_INSTALL_ROOT),
#                      for packaging and tests; paths written into the files
#                      are those of the target system
#   --binary FILE      install this guard-runtime instead of building one: a
#                      full build works alone; a lean build needs --full-binary
#   --full-binary FILE install this guard-runtime-full instead of building one
#   --policies DIR     install the policies from DIR instead of policy.d
#   --docker, --no-docker
#                      register with Docker, or not, whatever is detected
set -euo pipefail

readonly bin_path=/usr/local/bin/guard-runtime
readonly full_bin_path=/usr/local/bin/guard-runtime-full
readonly etc_dir=/etc/guard-runtime
readonly config_path=$etc_dir/config.yaml
readonly policy_dir=$etc_dir/policy.d
readonly daemon_json=/etc/docker/daemon.json
readonly default_policy=restricted

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=${GUARD_INSTALL_ROOT:-/}
set_default=false
restart_docker=false
uninstall=false
purge=false
force=false
binary=""
full_binary=""
policies=$repo_root/policy.d
docker_mode=auto

say() { echo "guard-runtime install: $*"; }
die() { echo "guard-runtime install: error: $*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
		--default) set_default=true ;;
		--restart-docker) restart_docker=true ;;
		--uninstall) uninstall=true ;;
		--purge) purge=true ;;
		--force) force=true ;;
		--root) root=${2:?--root needs a directory}; shift ;;
		--root=*) root=${1#--root=} ;;
		--binary) binary=${2:?--binary needs a file}; shift ;;
		--binary=*) binary=${1#--binary=} ;;
		--full-binary) full_binary=${2:?--full-binary needs a file}; shift ;;
		--full-binary=*) full_binary=${1#--full-binary=} ;;
		--policies) policies=${2:?--policies needs a directory}; shift ;;
		--policies=*) policies=${1#--policies=} ;;
		--docker) docker_mode=yes ;;
		--no-docker) docker_mode=no ;;
		-h|--help) usage; exit 0 ;;
		*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done

root=${root%/} # "/" becomes "", the host itself
[ -z "$root" ] || [ -d "$root" ] || die "--root $root is not a directory"
on_host() { [ -z "$root" ]; }
target() { echo "$root$1"; }

if on_host && [ "$(id -u)" != 0 ]; then
	die "run as root (it writes /usr/local/bin, /etc/guard-runtime and /etc/docker)"
fi

work=$(mktemp -d /tmp/guard-install.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- helpers ----------------------------------------------------------------

find_go() {
	if command -v go >/dev/null 2>&1; then command -v go
	elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
	else
		die "building guard-runtime needs Go ($(sed -n 's/^go //p' "$repo_root/go.mod") or newer) and none was found on PATH or in /usr/local/go.
  Install Go from your distribution or from the official Go downloads, then
  export PATH=\$PATH:/usr/local/go/bin and run this script again."
	fi
}

# install_file SRC DST MODE: copies SRC to DST atomically (temporary file in
# the same directory, then rename), root-owned, unless DST already has the
# same content and mode. Prints what it did.
install_file() {
	local src=$1 dst=$2 mode=$3
	if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(stat -c %a "$dst")" = "${mode#0}" ]; then
		say "$dst is up to date"
		return 0
	fi
	local tmp
	tmp=$(mktemp "$(dirname "$dst")/.$(basename "$dst").XXXXXX")
	cp "$src" "$tmp"
	chmod "$mode" "$tmp"
	chown 0:0 "$tmp" 2>/dev/null || true
	mv -f "$tmp" "$dst"
	say "installed $dst"
}

install_dir() { # DIR: creates DIR (and parents) root-owned, mode 0755
	if [ ! -d "$1" ]; then
		install -d -m 0755 "$1"
		chown 0:0 "$1" 2>/dev/null || true
	fi
}

docker_present() {
	case "$docker_mode" in
		yes) return 0 ;;
		no) return 1 ;;
	esac
	if on_host; then
		command -v dockerd >/dev/null 2>&1 || [ -d /etc/docker ]
	else
		[ -d "$(target /etc/docker)" ]
	fi
}

daemon_json_tool() {
	if [ ! -x "$work/daemon-json" ]; then
		(cd "$repo_root" && CGO_ENABLED=0 "$(find_go)" build -o "$work/daemon-json" ./hack/daemon-json) ||
			die "could not build hack/daemon-json"
	fi
	"$work/daemon-json" "$@"
}

# is_pinned CONFIG: true when config.yaml holds a sha256 digest.
is_pinned() {
	grep -Eq '^[[:space:]]*(sha256:[[:space:]]*|-[[:space:]]*)"?[0-9a-fA-F]{64}"?[[:space:]]*$' "$1"
}

restart_dockerd() {
	if ! on_host; then
		say "not restarting dockerd: --root $root is not this host"
	elif command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl restart docker
		say "restarted docker (systemctl restart docker)"
	else
		say "systemd is not running here: restart dockerd yourself, e.g. 'service docker restart',
  or send it SIGHUP (kill -HUP \$(cat /var/run/docker.pid)): dockerd reloads runtimes
  and default-runtime from daemon.json without stopping containers"
	fi
}

explain_restart() {
	say "dockerd reads daemon.json at start. Apply the change with one of:
  systemctl reload docker     (SIGHUP: reloads runtimes and default-runtime, containers keep running)
  systemctl restart docker
  or run this script again with --restart-docker"
}

# --- install ------------------------------------------------------------------

do_install() {
	local runc
	if ! runc=$(command -v runc); then
		if on_host && command -v apt-get >/dev/null 2>&1; then
			say "runc is missing: installing it with apt-get"
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q runc
			runc=$(command -v runc) || die "runc still not found after apt-get install runc"
		else
			die "runc is not installed: apt-get install -y runc"
		fi
	fi

	local built=$binary built_full=$full_binary
	if [ -z "$built" ]; then
		local go
		go=$(find_go)
		[ -d "$repo_root/cmd/guard-runtime" ] || die "$repo_root/cmd/guard-runtime is missing: run this script from a complete checkout"
		say "building guard-runtime (lean and full builds) with $go"
		(cd "$repo_root" && CGO_ENABLED=0 "$go" build -trimpath -o "$work/guard-runtime-full" ./cmd/guard-runtime &&
			CGO_ENABLED=0 "$go" build -trimpath -tags lean -o "$work/guard-runtime" ./cmd/guard-runtime) ||
			die "go build ./cmd/guard-runtime failed (output above)"
		built=$work/guard-runtime
		built_full=$work/guard-runtime-full
	fi
	[ -z "$built_full" ] || [ -f "$built_full" ] || die "guard-runtime-full binary $built_full does not exist"
	[ -f "$built" ] || die "guard-runtime binary $built does not exist"

	local policy_files=()
	shopt -s nullglob
	policy_files=("$policies"/*.yaml)
	shopt -u nullglob
	[ ${#policy_files[@]} -gt 0 ] || die "no policies (*.yaml) in $policies"
	[ -f "$policies/$default_policy.yaml" ] || [ -f "$(target "$policy_dir/$default_policy.yaml")" ] ||
		die "the default policy $default_policy.yaml is in neither $policies nor $(target "$policy_dir")"

	install_dir "$(target /usr/local/bin)"
	# The full build first: the lean one must never be there without it.
	if [ -n "$built_full" ]; then
		install_file "$built_full" "$(target "$full_bin_path")" 0755
	fi
	install_file "$built" "$(target "$bin_path")" 0755

	install_dir "$(target "$policy_dir")"
	chmod 0755 "$(target "$etc_dir")" "$(target "$policy_dir")"
	local file
	for file in "${policy_files[@]}"; do
		install_file "$file" "$(target "$policy_dir")/$(basename "$file")" 0644
	done

	write_config "$runc"
	pin_runtime

	# Only now that binary, policies and pin are in place may Docker use it.
	if docker_present; then
		install_dir "$(target /etc/docker)"
		local args=(install --file "$(target "$daemon_json")" --binary "$bin_path")
		$set_default && args+=(--default)
		local message
		message=$(daemon_json_tool "${args[@]}") || die "daemon.json was left unchanged"
		say "$message"
		case "$message" in
			*"nothing changed"*) ;;
			*) if $restart_docker; then restart_dockerd; else explain_restart; fi ;;
		esac
	else
		say "Docker not found: no daemon.json to update (use --docker to write one anyway)"
	fi
	say "done. Try: docker run --rm --runtime guard-restricted -u 1000 <image> id"
}

write_config() {
	local runc=$1 config
	config=$(target "$config_path")
	if [ -e "$config" ]; then
		say "$config exists: kept as it is"
		return 0
	fi
	cat >"$work/config.yaml" <<EOF
# guard-runtime configuration; see the README.
runtime:
  # The real OCI runtime that admitted containers are handed to. Its
  # sha256 is pinned by 'guard-runtime pin'; after a runc upgrade, run:
  #   guard-runtime --guard-config $config_path pin
  path: $runc
policy:
  dir: $policy_dir
  default: $default_policy
EOF
	install_file "$work/config.yaml" "$config" 0644
}

pin_runtime() {
	local config
	config=$(target "$config_path")
	if is_pinned "$config"; then
		say "$config already pins the runtime's sha256"
	else
		"$(target "$bin_path")" --guard-config "$config" pin ||
			die "guard-runtime pin failed: without a pin guard-runtime refuses every container; Docker was not changed"
		is_pinned "$config" || die "guard-runtime pin did not write runtime.sha256 into $config"
		say "pinned the runtime's sha256 in $config"
	fi
	# The installed binary must work with this config before Docker uses it.
	"$(target "$bin_path")" --guard-config "$config" --version >/dev/null ||
		die "$(target "$bin_path") --guard-config $config --version failed; Docker was not changed"
}

# --- uninstall ----------------------------------------------------------------

# containers_using_guard lists the containers whose runtime is one of ours,
# from the host's dockerd (or the one DOCKER_HOST names).
containers_using_guard() {
	{ on_host || [ -n "${DOCKER_HOST:-}" ]; } || return 0
	command -v docker >/dev/null 2>&1 || return 0
	local ids
	ids=$(docker ps -aq 2>/dev/null) || return 0
	[ -n "$ids" ] || return 0
	# shellcheck disable=SC2086
	docker inspect -f '{{.Name}} {{.HostConfig.Runtime}}' $ids 2>/dev/null |
		awk '$2 == "guard" || $2 ~ /^guard-(baseline|restricted|audit)$/ { print substr($1, 2) " (" $2 ")" }'
}

do_uninstall() {
	if docker_present && [ -f "$(target "$daemon_json")" ]; then
		local users
		users=$(containers_using_guard)
		if [ -n "$users" ] && ! $force; then
			die "these containers use a guard runtime; without its binary dockerd cannot stop or remove them:
$users
  Remove them first (docker rm -f …), or pass --force."
		fi
		local message
		message=$(daemon_json_tool uninstall --file "$(target "$daemon_json")") || die "daemon.json was left unchanged"
		say "$message"
		case "$message" in
			*"nothing changed"*|*"does not exist"*) ;;
			*) if $restart_docker; then restart_dockerd; else explain_restart; fi ;;
		esac
	fi
	local file
	for file in "$bin_path" "$full_bin_path"; do
		if [ -e "$(target "$file")" ]; then
			rm -f "$(target "$file")"
			say "removed $(target "$file")"
		fi
	done
	if $purge; then
		rm -rf "$(target "$etc_dir")"
		say "removed $(target "$etc_dir")"
	elif [ -d "$(target "$etc_dir")" ]; then
		say "kept $(target "$etc_dir") (config and policies); --purge removes it"
	fi
}

if $uninstall; then
	do_uninstall
else
	do_install
fi
