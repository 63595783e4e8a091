#!/bin/bash
# Captures the OCI documents that Docker hands its runtime, for use as test
# fixtures: the bundle's config.json for `docker run` with each security
# relevant option, the --process file of `docker exec`, and the resources
# JSON of `docker update`.
#
# It starts a private dockerd (own data-root, exec-root, pidfile, socket,
# config file and containerd namespace; no iptables, no bridge) so that no
# other Docker daemon on the host is disturbed, imports a busybox rootfs,
# and registers a logging runtime that copies each document before it execs
# the real runc. The documents are captured before runc runs, so containers
# that runc cannot start on this host (e.g. --privileged without
# CAP_SYS_RESOURCE) are captured all the same.
#
# Usage: hack/capture-docker-configs.sh [OUTPUT_DIR]
#   OUTPUT_DIR defaults to enforce/testdata/docker in this repository.
# Needs: root, docker.io (dockerd + docker CLI), runc, busybox-static.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
out_dir=${1:-$repo_root/enforce/testdata/docker}

die() { echo "capture-docker-configs: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (dockerd needs it)"
dockerd_bin=$(command -v dockerd) || die "dockerd not found: apt-get install -y docker.io"
# The CLI of the docker.io package matches its daemon; a newer CLI found
# first on PATH would still work but is not what we want to record against.
docker_bin=/usr/bin/docker
[ -x "$docker_bin" ] || docker_bin=$(command -v docker) || die "docker CLI not found: apt-get install -y docker.io"
runc_bin=$(command -v runc) || die "runc not found: apt-get install -y runc"
# The rootfs needs a busybox that runs without the host's libraries.
busybox_bin=""
for candidate in /bin/busybox /usr/bin/busybox; do
	[ -x "$candidate" ] || continue
	case "$(ldd "$candidate" 2>&1 || true)" in
		*"not a dynamic executable"*|*"statically linked"*) busybox_bin=$candidate; break ;;
	esac
done
[ -n "$busybox_bin" ] || die "a static busybox is needed: apt-get install -y busybox-static"

# The work directory is laid out like a host root, so that stripping its
# prefix from captured paths gives the paths a stock Docker install writes
# (/var/lib/docker, /var/run/docker, /var/run/docker.sock).
work=$(mktemp -d /tmp/guard-capture.XXXXXX)
data_root=$work/var/lib/docker
exec_root=$work/var/run/docker
socket=$work/var/run/docker.sock
pidfile=$work/var/run/docker.pid
daemon_json=$work/etc/docker/daemon.json
raw=$work/capture
shared_src=$work/srv/shared
# A namespace of our own keeps containers apart from any other dockerd that
# shares a system containerd; it is written back as "moby" in the fixtures.
namespace=guardcapture$$
mkdir -p "$data_root" "$exec_root" "$(dirname "$daemon_json")" "$raw" "$work/docker-cli" "$shared_src"
export DOCKER_CONFIG=$work/docker-cli

# dockerd always creates /run/docker/plugins (plugin discovery ignores
# --exec-root); remove it again if it was not there before.
plugins_dir_existed=false
[ -e /run/docker/plugins ] && plugins_dir_existed=true

dockerd_pid=""
cleanup() {
	set +e
	if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
		ids=$(dock ps -aq 2>/dev/null)
		# shellcheck disable=SC2086 # one argument per container id
		[ -z "$ids" ] || dock rm -f $ids >/dev/null 2>&1
		kill -TERM "$dockerd_pid"
		for _ in $(seq 1 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
		kill -0 "$dockerd_pid" 2>/dev/null && kill -KILL "$dockerd_pid"
	fi
	# Shims and the supervised containerd carry our work path in their
	# command line; end only those.
	for proc in /proc/[0-9]*; do
		if tr '\0' ' ' <"$proc/cmdline" 2>/dev/null | grep -q -- "$work/"; then
			kill -KILL "${proc#/proc/}" 2>/dev/null
		fi
	done
	# Unmount whatever is left under the work directory, deepest first.
	awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r mnt; do umount -l "$mnt" 2>/dev/null; done
	umount -l "$shared_src" 2>/dev/null
	rm -rf "$work"
	if [ "$plugins_dir_existed" = false ]; then
		rmdir /run/docker/plugins 2>/dev/null && rmdir /run/docker 2>/dev/null
	fi
}
trap cleanup EXIT

dock() { "$docker_bin" -H "unix://$socket" "$@"; }

# --- busybox rootfs -------------------------------------------------------
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp" "$rootfs/root" "$rootfs/data"
cp "$busybox_bin" "$rootfs/bin/busybox"
chroot "$rootfs" /bin/busybox --install -s /bin
chmod 1777 "$rootfs/tmp"
tar -C "$rootfs" -cf "$work/rootfs.tar" .

# --- logging runtime ------------------------------------------------------
# Docker calls it as it calls runc:
#   <rt> --root R --log L --log-format json create --bundle B --pid-file P ID
#   <rt> ... exec --process F --detach --pid-file P ID
#   <rt> ... update --resources - ID          (JSON on stdin)
capture_runtime=$work/capture-runtime
cat >"$capture_runtime" <<EOF
#!/bin/sh
out='$raw'
runc='$runc_bin'
EOF
cat >>"$capture_runtime" <<'EOF'
printf '%s\n' "$*" >>"$out/calls.log"
command=""; prev=""; bundle=""; process=""; resources=""; id=""
for arg in "$@"; do
	case "$prev" in
		--bundle|-b) bundle=$arg ;;
		--process|-p) process=$arg ;;
		--resources|-r) resources=$arg ;;
	esac
	case "$arg" in
		--bundle=*) bundle=${arg#--bundle=} ;;
		--process=*) process=${arg#--process=} ;;
		--resources=*) resources=${arg#--resources=} ;;
	esac
	if [ -z "$command" ]; then
		case "$prev" in
			--root|--log|--log-format|--criu) ;;
			*) case "$arg" in create|run|restore|exec|update) command=$arg ;; esac ;;
		esac
	fi
	prev=$arg
	id=$arg
done
case "$command" in
	create|run|restore)
		mkdir -p "$out/$id"
		cp "${bundle:-.}/config.json" "$out/$id/config.json"
		;;
	exec)
		mkdir -p "$out/$id"
		[ -z "$process" ] || cp "$process" "$out/$id/exec.json"
		;;
	update)
		mkdir -p "$out/$id"
		if [ "$resources" = "-" ]; then
			cat >"$out/$id/update.json"
			exec "$runc" "$@" <"$out/$id/update.json"
		fi
		[ -z "$resources" ] || cp "$resources" "$out/$id/update.json"
		;;
esac
exec "$runc" "$@"
EOF
chmod 0755 "$capture_runtime"

# --- private dockerd ------------------------------------------------------
cat >"$daemon_json" <<EOF
{
  "runtimes": {"capture": {"path": "$capture_runtime"}},
  "default-runtime": "capture",
  "deprecated-key-path": "$work/etc/docker/key.json"
}
EOF
"$dockerd_bin" \
	--data-root "$data_root" --exec-root "$exec_root" --pidfile "$pidfile" \
	-H "unix://$socket" --config-file "$daemon_json" \
	--containerd-namespace "$namespace" --containerd-plugins-namespace "${namespace}plugins" \
	--iptables=false --ip6tables=false --bridge=none \
	>"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 60); do
	dock version >/dev/null 2>&1 && break
	kill -0 "$dockerd_pid" 2>/dev/null || { tail -n 30 "$work/dockerd.log" >&2; die "dockerd exited during start"; }
	sleep 1
done
dock version >/dev/null 2>&1 || { tail -n 30 "$work/dockerd.log" >&2; die "dockerd did not answer on $socket within 60s"; }
dock import "$work/rootfs.tar" busybox:local >/dev/null

# --- captures -------------------------------------------------------------
# Each capture records the container id under its fixture name; failures to
# start are expected for some options and only reported.
declare -A container_of=()
declare -a captured=() failed=()

capture_run() { # name, docker run options...
	local name=$1; shift
	local cname=guard-capture-$name
	if dock run -d --name "$cname" "$@" busybox:local sleep 600 >/dev/null 2>"$work/$name.err"; then
		echo "captured $name (container started)"
	else
		echo "captured? $name: docker run failed: $(tr '\n' ' ' <"$work/$name.err")"
	fi
	local id
	id=$(dock inspect -f '{{.Id}}' "$cname" 2>/dev/null) || id=""
	if [ -n "$id" ] && [ -f "$raw/$id/config.json" ]; then
		container_of[$name]=$id
		cp "$raw/$id/config.json" "$work/$name.raw.json"
		captured+=("$name")
	else
		failed+=("$name: $(tr '\n' ' ' <"$work/$name.err")")
	fi
	[ "$name" = default ] || dock rm -f "$cname" >/dev/null 2>&1 || true
}

capture_run default --network none
capture_run user-1000 --network none -u 1000
capture_run user-1000-read-only --network none -u 1000 --read-only
capture_run privileged --network none --privileged
capture_run bind-docker-sock --network none -v "$socket:/var/run/docker.sock"
capture_run bind-etc --network none -v /etc:/host-etc
capture_run named-volume --network none -v data:/data
capture_run init --network none --init
capture_run network-host --network host
capture_run pid-host --network none --pid host
capture_run ipc-host --network none --ipc host
capture_run uts-host --network none --uts host
capture_run seccomp-unconfined --network none --security-opt seccomp=unconfined
capture_run systempaths-unconfined --network none --security-opt systempaths=unconfined
capture_run no-new-privileges --network none --security-opt no-new-privileges
capture_run device-fuse --network none --device /dev/fuse
capture_run device-cgroup-rule-all --network none --device-cgroup-rule 'c *:* rmw'
capture_run sysctl-ip-forward --network none --sysctl net.ipv4.ip_forward=1
capture_run cap-add-sys-admin --network none --cap-add SYS_ADMIN
capture_run cap-drop-all-add-net-bind-service --network none --cap-drop ALL --cap-add NET_BIND_SERVICE
capture_run memory-512m --network none --memory 512m
capture_run cpus-1 --network none --cpus 1.0
capture_run pids-limit-100 --network none --pids-limit 100
capture_run oom-score-adj-minus-500 --network none --oom-score-adj -500
capture_run oom-kill-disable --network none --oom-kill-disable
capture_run tmpfs-tmp --network none --tmpfs /tmp
capture_run workdir-proc-self-fd --network none -w /proc/self/fd/7
capture_run ulimit-rtprio-99 --network none --ulimit rtprio=99
capture_run ulimit-nofile-1024-2048 --network none --ulimit nofile=1024:2048
# dockerd accepts rshared only when the host source sits on a shared mount.
if mount --bind "$shared_src" "$shared_src" && mount --make-shared "$shared_src"; then
	capture_run bind-rshared --network none --mount "type=bind,source=$shared_src,target=/mnt,bind-propagation=rshared"
else
	failed+=("bind-rshared: could not make $shared_src a shared mount")
fi

base=${container_of[default]:-}
capture_exec() { # name, docker exec options...
	local name=$1; shift
	rm -f "$raw/$base/exec.json"
	if dock exec "$@" guard-capture-default true 2>"$work/$name.err"; then
		echo "captured $name (exec ran)"
	else
		echo "captured? $name: docker exec failed: $(tr '\n' ' ' <"$work/$name.err")"
	fi
	if [ -f "$raw/$base/exec.json" ]; then
		container_of[$name]=$base
		cp "$raw/$base/exec.json" "$work/$name.raw.json"
		captured+=("$name")
	else
		failed+=("$name: $(tr '\n' ' ' <"$work/$name.err")")
	fi
}
capture_update() { # name, docker update options...
	local name=$1; shift
	rm -f "$raw/$base/update.json"
	if dock update "$@" guard-capture-default >/dev/null 2>"$work/$name.err"; then
		echo "captured $name (update applied)"
	else
		echo "captured? $name: docker update failed: $(tr '\n' ' ' <"$work/$name.err")"
	fi
	if [ -f "$raw/$base/update.json" ]; then
		container_of[$name]=$base
		cp "$raw/$base/update.json" "$work/$name.raw.json"
		captured+=("$name")
	else
		failed+=("$name: $(tr '\n' ' ' <"$work/$name.err")")
	fi
}
if [ -n "$base" ] && [ "$(dock inspect -f '{{.State.Running}}' guard-capture-default)" = true ]; then
	capture_exec exec-default
	capture_exec exec-user-0 -u 0
	capture_exec exec-user-1000 -u 1000
	capture_exec exec-privileged --privileged
	capture_update update-memory-1g --memory 1g --memory-swap 1g
	capture_update update-pids-limit-200 --pids-limit 200
	capture_update update-cpus-2 --cpus 2
	dock rm -f guard-capture-default >/dev/null
else
	failed+=("exec-*, update-*: the default container is not running")
fi

# --- normalise and write --------------------------------------------------
# Host-specific values are replaced by stable ones of the same shape, so
# that re-capturing gives the same files and tests can rely on the paths a
# stock Docker writes.
placeholder_id() { printf 'guard-runtime fixture %s' "$1" | sha256sum | cut -c1-64; }
dockerd_real_pid=$(cat "$pidfile")
# libnetwork's controller id, the last argument of Docker's prestart hook.
controller_id=$(sed -n 's/.*"libnetwork-setkey","[^"]*","[0-9a-f]\{64\}","\([0-9a-f]\{1,64\}\)".*/\1/p' "$work/default.raw.json" || true)
host_name=$(hostname)

normalise() { # name raw-file output-file
	local name=$1 src=$2 dst=$3
	local id=${container_of[$name]} owner=$name
	[ "$id" != "$base" ] || owner=default
	local new_id
	new_id=$(placeholder_id "container $owner")
	local expr=(
		-e "s|$work/|/|g"
		-e "s|$id|$new_id|g"
		-e "s|${id:0:12}|${new_id:0:12}|g"
		-e "s|/proc/$dockerd_real_pid/exe|/proc/1287/exe|g"
		-e "s|/$namespace|/moby|g"
		-e "s|\"hostname\":\"$host_name\"|\"hostname\":\"docker-host\"|g"
		-e "s|\"HOSTNAME=$host_name\"|\"HOSTNAME=docker-host\"|g"
	)
	if [ -n "$controller_id" ]; then
		local new_controller
		new_controller=$(placeholder_id controller)
		expr+=(-e "s|\"$controller_id\"|\"${new_controller:0:${#controller_id}}\"|g")
	fi
	# The rw layer of the root filesystem has a random cache id.
	local layer
	layer=$(sed -n 's|.*/overlay2/\([0-9a-f]\{64\}\)/merged.*|\1|p' "$src" | head -n 1)
	[ -z "$layer" ] || expr+=(-e "s|$layer|$(placeholder_id "layer $owner")|g")
	sed "${expr[@]}" "$src" >"$dst.tmp"
	if [ "${dst%.json}" != "$dst" ] && command -v jq >/dev/null; then
		jq -e . "$dst.tmp" >/dev/null || die "$name: the normalised document is not valid JSON"
	fi
	mv "$dst.tmp" "$dst"
}

mkdir -p "$out_dir"
for name in "${captured[@]}"; do
	normalise "$name" "$work/$name.raw.json" "$out_dir/$name.json"
done
# The command lines of the default container's life, as the engine sent them.
if [ -n "$base" ]; then
	grep -F -- "$base" "$raw/calls.log" >"$work/calls.raw" || true
	container_of[calls]=$base
	normalise calls "$work/calls.raw" "$out_dir/calls-default.txt"
fi

echo
echo "wrote ${#captured[@]} documents to $out_dir"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "not captured:"
	printf '  %s\n' "${failed[@]}"
fi
