#!/bin/sh
# Installs guard-runtime on a Kubernetes node whose CRI runtime is containerd,
# and registers one containerd runtime handler guard-<name> per entry of
# GUARD_HANDLERS, each running guard-runtime with its policy.
#
# Run by the DaemonSet in deploy/daemonset.yaml (privileged, hostPID, with the
# node's directories mounted under $HOST_ROOT), or by hand on a node with
# HOST_ROOT= HOST_EXEC= (see docs/kubernetes.md). Every path below is the path
# on the node; files are written through "$HOST_ROOT<path>", commands that must
# run on the node (sha256sum of runc, containerd, systemctl) through $HOST_EXEC.
#
# It changes nothing unless every step before the restart succeeded, and
# restarts containerd only when its configuration changed. A containerd that
# does not come back with the new configuration gets the old one back.
set -eu

: "${HOST_ROOT=/host}"
: "${HOST_EXEC=nsenter --target 1 --mount --uts --ipc --net --pid --}"
: "${GUARD_SOURCE:=/opt/guard-runtime}"            # bin/guard-runtime, policy.d/*.yaml in the image
# One handler guard-<name> per entry, name=policy (or a bare name: the
# policy of that name). On a node the handlers run the Kubernetes policies.
: "${GUARD_HANDLERS:=baseline=k8s-baseline restricted=k8s-restricted}"
: "${GUARD_BIN:=/usr/local/bin/guard-runtime}"
: "${GUARD_HANDLER_DIR:=/usr/local/lib/guard-runtime}"
: "${GUARD_CONFIG:=/etc/guard-runtime/config.yaml}"
: "${GUARD_POLICY_DIR:=/etc/guard-runtime/policy.d}"
: "${GUARD_CONFIG_TEMPLATE:=/config/config.yaml}"  # the ConfigMap's config.yaml, without runtime pin
: "${RUNC:=}"                                      # found on the node's PATH when empty
: "${CONTAINERD_CONFIG:=/etc/containerd/config.toml}"
: "${CONTAINERD_DROPIN:=/etc/containerd/conf.d/guard-runtime.toml}"
: "${CONTAINERD:=$HOST_EXEC containerd}"
: "${RESTART_CONTAINERD:=$HOST_EXEC systemctl restart containerd}"
: "${CONTAINERD_READY:=$HOST_EXEC systemctl is-active --quiet containerd}"
: "${READY_TIMEOUT:=60}"

MARKER="# Written by the guard-runtime installer."

say() { echo "guard-runtime installer: $*" >&2; }
die() { say "error: $*"; exit 1; }

# put SRC DEST MODE: atomic replace, so that a runtime call never reads half a file.
put() {
	mkdir -p "$HOST_ROOT$(dirname "$2")"
	cp "$1" "$HOST_ROOT$2.new"
	chmod "$3" "$HOST_ROOT$2.new"
	mv -f "$HOST_ROOT$2.new" "$HOST_ROOT$2"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -x "$GUARD_SOURCE/bin/guard-runtime" ] || die "$GUARD_SOURCE/bin/guard-runtime is missing from the installer image"
# handler_name ENTRY, handler_policy ENTRY: the two halves of name=policy.
handler_name() { echo "${1%%=*}"; }
handler_policy() { case "$1" in *=*) echo "${1#*=}" ;; *) echo "$1" ;; esac; }
HANDLER_NAMES=
for entry in $GUARD_HANDLERS; do
	name=$(handler_name "$entry") policy=$(handler_policy "$entry")
	echo "$name" | grep -Eqx '[a-z0-9]([-a-z0-9]*[a-z0-9])?' || die "handler name $name in GUARD_HANDLERS is not a DNS label (RuntimeClass handlers must be)"
	[ -f "$GUARD_SOURCE/policy.d/$policy.yaml" ] || die "policy $policy of handler guard-$name is not shipped ($GUARD_SOURCE/policy.d/$policy.yaml)"
	HANDLER_NAMES="$HANDLER_NAMES $name"
done
[ -n "$HANDLER_NAMES" ] || die "GUARD_HANDLERS is empty: name at least one handler"

# --- guard-runtime, its policies and its configuration ---------------------

# The lean build hands what its caches cannot do to the full build beside
# it; the full build goes first, so the lean one is never there without it.
if [ -f "$GUARD_SOURCE/bin/guard-runtime-full" ]; then
	put "$GUARD_SOURCE/bin/guard-runtime-full" "$(dirname "$GUARD_BIN")/guard-runtime-full" 0755
fi
put "$GUARD_SOURCE/bin/guard-runtime" "$GUARD_BIN" 0755
for file in "$GUARD_SOURCE"/policy.d/*.yaml; do
	put "$file" "$GUARD_POLICY_DIR/$(basename "$file")" 0644
done

# The runtime pin is the node's own runc: nodes of one cluster may differ.
if [ -z "$RUNC" ]; then
	RUNC=$($HOST_EXEC sh -c 'command -v runc') || die "runc not found on the node's PATH; set RUNC"
fi
digest=$($HOST_EXEC sha256sum "$RUNC" | cut -d' ' -f1)
[ ${#digest} -eq 64 ] || die "cannot hash $RUNC on the node"

# A config.yaml without the installer's first line belongs to the admin: keep it.
if [ ! -e "$HOST_ROOT$GUARD_CONFIG" ] || head -n 1 "$HOST_ROOT$GUARD_CONFIG" | grep -qxF "$MARKER"; then
	{
		echo "$MARKER"
		echo "# Remove the line above to keep local edits across installs."
		if [ -f "$GUARD_CONFIG_TEMPLATE" ]; then
			grep -q '^runtime:' "$GUARD_CONFIG_TEMPLATE" && die "$GUARD_CONFIG_TEMPLATE must not set runtime: the installer pins the node's runc"
			cat "$GUARD_CONFIG_TEMPLATE"
		fi
		printf 'runtime:\n  path: %s\n  sha256: %s\n' "$RUNC" "$digest"
	} >"$work/config.yaml"
	put "$work/config.yaml" "$GUARD_CONFIG" 0644
else
	say "keeping $GUARD_CONFIG: it was not written by the installer"
fi

# containerd's runc v2 shim has no option for runtime arguments, so each
# handler's BinaryName is a wrapper that adds the policy.
for entry in $GUARD_HANDLERS; do
	name=$(handler_name "$entry") policy=$(handler_policy "$entry")
	cat >"$work/guard-$name" <<EOF
#!/bin/sh
$MARKER
# containerd runtime handler guard-$name (RuntimeClass handler: guard-$name), policy $policy.
exec $GUARD_BIN --guard-config $GUARD_CONFIG --guard-policy=$policy "\$@"
EOF
	put "$work/guard-$name" "$GUARD_HANDLER_DIR/guard-$name" 0755
done

# --- containerd ------------------------------------------------------------

version=$($CONTAINERD --version | awk '{print $3}')
major=$(echo "$version" | sed 's/^v//; s/\..*//')
case "$major" in
1) cri='plugins."io.containerd.grpc.v1.cri"' config_version=2 ;;
2) cri='plugins."io.containerd.cri.v1.runtime"' config_version=3 ;;
*) die "unsupported containerd version $version" ;;
esac

# The main config must import the drop-in. Without a config file containerd
# runs on defaults, which a config with just the import keeps.
main="$HOST_ROOT$CONTAINERD_CONFIG"
if [ -e "$main" ]; then
	cp "$main" "$work/main.toml"
else
	echo "version = $config_version" >"$work/main.toml"
fi
if ! grep -q "^imports *=.*\"$CONTAINERD_DROPIN\"" "$work/main.toml"; then
	if grep -q '^imports *= *\[ *\]' "$work/main.toml"; then
		sed -i "s|^imports *= *\[ *\]|imports = [\"$CONTAINERD_DROPIN\"]|" "$work/main.toml"
	elif grep -q '^imports *= *\[.*\]' "$work/main.toml"; then
		sed -i "s|^imports *= *\[|imports = [\"$CONTAINERD_DROPIN\", |" "$work/main.toml"
	elif grep -q '^imports' "$work/main.toml"; then
		die "cannot edit the imports of $CONTAINERD_CONFIG (not on one line): add \"$CONTAINERD_DROPIN\" by hand"
	elif grep -q '^version' "$work/main.toml"; then
		sed -i "/^version/a imports = [\"$CONTAINERD_DROPIN\"]" "$work/main.toml"
	else
		sed -i "1i imports = [\"$CONTAINERD_DROPIN\"]" "$work/main.toml"
	fi
fi

# The handlers copy the cgroup driver of the default runtime: it must match the kubelet's.
handler_tables() {
	for name in $HANDLER_NAMES; do
		printf '\n[%s.containerd.runtimes.guard-%s]\n  runtime_type = "io.containerd.runc.v2"\n' "$cri" "$name"
		printf '  [%s.containerd.runtimes.guard-%s.options]\n    BinaryName = "%s/guard-%s"\n' "$cri" "$name" "$GUARD_HANDLER_DIR" "$name"
		[ -z "$systemd_cgroup" ] || printf '    SystemdCgroup = %s\n' "$systemd_cgroup"
	done
}

# The effective configuration without the drop-in: the main config with our
# import taken out, read by containerd itself.
sed "s|\"$CONTAINERD_DROPIN\", *||; s|, *\"$CONTAINERD_DROPIN\"||; s|\"$CONTAINERD_DROPIN\"||" "$work/main.toml" >"$work/without-dropin.toml"
$CONTAINERD --config "$work/without-dropin.toml" config dump >"$work/dump.toml" 2>"$work/dump.err" ||
	die "containerd cannot read $CONTAINERD_CONFIG: $(tail -n 3 "$work/dump.err")"
default_runtime=$(awk -F'"' '/^ *default_runtime_name *=/ {print $2; exit}' "$work/dump.toml")
systemd_cgroup=$(awk -v table="[$cri.containerd.runtimes.${default_runtime:-runc}.options]" '
	/^ *\[/ { inside = (index($0, table) > 0) }
	inside && $1 == "SystemdCgroup" { print $3; exit }' "$work/dump.toml")

{
	echo "$MARKER"
	echo "# Runtime handlers $(echo $HANDLER_NAMES | sed 's/\([^ ]*\)/guard-\1/g')."
	echo "version = $config_version"
	if [ "$major" = 1 ]; then
		# containerd 1.x replaces a plugin's whole section with an imported
		# one (containerd/containerd#5837): carry the node's CRI section over,
		# as read just now, so that the import only adds the handlers.
		echo "# containerd 1.x: the CRI section below is the node's, copied from $CONTAINERD_CONFIG on install."
		echo "# Re-run the installer after changing the CRI settings there."
		awk -v cri="[$cri" -v skip="$(for n in $HANDLER_NAMES; do printf '[%s.containerd.runtimes.guard-%s]|' "$cri" "$n"; done)" '
			BEGIN { n = split(skip, own, "|") }
			/^ *\[/ {
				line = $0; sub(/^ +/, "", line)
				incri = (index(line, cri "]") == 1 || index(line, cri ".") == 1)
				mine = 0
				for (i = 1; i <= n; i++) {
					t = own[i]; sub(/\]$/, "", t)
					if (t != "" && (line == t "]" || index(line, t ".") == 1)) mine = 1
				}
			}
			incri && !mine' "$work/dump.toml"
	fi
	handler_tables
} >"$work/dropin.toml"

dropin="$HOST_ROOT$CONTAINERD_DROPIN"
if [ -e "$main" ] && cmp -s "$work/main.toml" "$main" && [ -e "$dropin" ] && cmp -s "$work/dropin.toml" "$dropin"; then
	say "containerd already has handlers$HANDLER_NAMES: not restarting it"
	exit 0
fi

# Check the new configuration with containerd before it goes live.
cp "$work/dropin.toml" "$work/check-dropin.toml"
sed "s|\"$CONTAINERD_DROPIN\"|\"$work/check-dropin.toml\"|" "$work/main.toml" >"$work/check-main.toml"
$CONTAINERD --config "$work/check-main.toml" config dump >"$work/check.toml" 2>"$work/check.err" ||
	die "containerd rejects the new configuration: $(tail -n 3 "$work/check.err")"
for name in $HANDLER_NAMES; do
	grep -q "BinaryName = \"$GUARD_HANDLER_DIR/guard-$name\"" "$work/check.toml" ||
		die "containerd does not see handler guard-$name in the new configuration"
done
if [ "$major" = 1 ]; then
	# Everything the node had in its CRI section must survive the import.
	awk -v cri="[$cri" '/^ *\[/ { line = $0; sub(/^ +/, "", line); incri = (index(line, cri "]") == 1 || index(line, cri ".") == 1) } incri' "$work/dump.toml" >"$work/cri-before"
	awk -v cri="[$cri" '/^ *\[/ { line = $0; sub(/^ +/, "", line); incri = (index(line, cri "]") == 1 || index(line, cri ".") == 1) } incri' "$work/check.toml" >"$work/cri-after"
	grep -vxF -f "$work/cri-after" "$work/cri-before" | grep -q . &&
		die "the drop-in would change the node's CRI settings: $(grep -vxF -f "$work/cri-after" "$work/cri-before" | head -n 3)"
fi

# Go live: keep the old files, swap in the new ones, restart, wait.
[ ! -e "$main" ] || cp -p "$main" "$work/main.old"
[ ! -e "$dropin" ] || cp -p "$dropin" "$work/dropin.old"
restore() {
	say "restoring the previous containerd configuration"
	if [ -e "$work/main.old" ]; then cp -p "$work/main.old" "$main"; else rm -f "$main"; fi
	if [ -e "$work/dropin.old" ]; then cp -p "$work/dropin.old" "$dropin"; else rm -f "$dropin"; fi
	$RESTART_CONTAINERD || say "containerd did not restart with the previous configuration either"
}
put "$work/dropin.toml" "$CONTAINERD_DROPIN" 0600
put "$work/main.toml" "$CONTAINERD_CONFIG" "$(stat -c %a "$main" 2>/dev/null || echo 644)"
say "restarting containerd $version; running containers keep running"
if ! $RESTART_CONTAINERD; then
	restore
	die "restarting containerd failed"
fi
waited=0
until $CONTAINERD_READY; do
	waited=$((waited + 1))
	if [ "$waited" -ge "$READY_TIMEOUT" ]; then
		restore
		die "containerd was not ready ${READY_TIMEOUT}s after the restart"
	fi
	sleep 1
done
say "installed: handlers $(echo $HANDLER_NAMES | sed 's/\([^ ]*\)/guard-\1/g') on containerd $version"
