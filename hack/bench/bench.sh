#!/usr/bin/env bash
# hack/bench/bench.sh: what guard-runtime costs per runtime call.
#
# Prints the median wall time per call, over interleaved rounds, of
#   direct         the runtime itself,
#   wrapper        a bare static Go binary that only execs the runtime (the
#                  floor for any Go shim: Go start-up plus one more exec),
#   guard-runtime  with runtime verification and audit (journald) on: the
#                  lean build engines call, with the full build beside it,
# for `create` of a bundle the policy admits unchanged (restricted, and a
# bundle that complies with it), for `create` under the audit policy of a
# bundle that violates most controls (every check fires and computes its
# rewrite, the document is admitted unchanged), and for `state` (a
# pass-through), and relates them to a real `runc run` cycle of a busybox
# container. It also times the full build called directly, to show what
# the lean build saves. The runtime is a stand-in as large as runc (a static binary
# padded to runc's size; it prints {} for state and exits 0), so that
# verification costs what it would, and create can be repeated.
#
# Needs: go, runc (apt-get install -y runc), busybox-static
# (apt-get install -y busybox-static), root (for runc run).
#
# Settings, from the environment:
#   ROUNDS                     interleaved rounds (default 200, at least 100)
#   GUARD_BENCH_POLICY_DIR     policy directory (default: the repository's
#                              policy.d when it has GUARD_BENCH_POLICY, else a
#                              placeholder permissive policy in a temp dir)
#   GUARD_BENCH_POLICY         policy name for create (default restricted)
#   GUARD_BENCH_BUNDLE_CONFIG  config.json for create (default:
#                              hack/bench/restricted-config.json, runc's spec
#                              made to comply with restricted)
#   RUNC, BUSYBOX              paths of runc and a static busybox
#   KEEP=1                     keep the temp dir
set -euo pipefail

ROUNDS=${ROUNDS:-200}
RUNC=${RUNC:-/usr/sbin/runc}
BUSYBOX=${BUSYBOX:-/bin/busybox}
POLICY=${GUARD_BENCH_POLICY:-restricted}
REPO=$(cd "$(dirname "$0")/../.." && pwd)

die() { echo "hack/bench: $*" >&2; exit 1; }

command -v go >/dev/null || die "go not found: install Go"
[ -x "$RUNC" ] || die "no runc at $RUNC: apt-get install -y runc"
[ -x "$BUSYBOX" ] || die "no busybox at $BUSYBOX: apt-get install -y busybox-static"
[ "$(id -u)" = 0 ] || die "run as root: runc run needs it"
[ "$ROUNDS" -ge 100 ] || die "ROUNDS=$ROUNDS: medians need at least 100 rounds"


T=$(mktemp -d /tmp/guard-bench.XXXXXX)
cleanup() {
	"$RUNC" --root "$T/runc-root" delete --force guard-bench >/dev/null 2>&1 || true
	umount "$T/state" 2>/dev/null || true
	if [ "${KEEP:-}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
export CGO_ENABLED=0

# as_installed FILE...: rewrites each file as a copy, the way hack/install.sh
# installs guard-runtime. Every exec of a binary the Go linker has just
# written took ~0.1 ms more here than an exec of the same bytes copied into
# place (how the linker's writes left the file in the page cache): left as
# built, every figure here would carry that, and comparing two builds would
# compare how each file was written.
as_installed() {
	local f
	for f in "$@"; do
		cp -p "$f" "$f.installing" && mv -f "$f.installing" "$f"
	done
}

# build_main DIR OUT [LDFLAGS]: builds the main.go in DIR as a static binary.
build_main() {
	(cd "$1" && printf 'module bench\n\ngo 1.22\n' >go.mod &&
		go build -trimpath -ldflags "-s -w ${3:-}" -o "$2" .)
}

echo "building the runtime stand-in, the bare wrapper and guard-runtime..." >&2
mkdir -p "$T/standin" "$T/wrapper"
cat >"$T/standin/main.go" <<'EOF'
// A runtime stand-in: prints an empty state object for state, does nothing
// for everything else.
package main

import "os"

func main() {
	for _, arg := range os.Args[1:] {
		if arg == "state" {
			os.Stdout.WriteString("{}\n")
			return
		}
	}
}
EOF
STANDIN=$T/runc-standin
build_main "$T/standin" "$STANDIN"
RUNC_SIZE=$(stat -c %s "$RUNC")
PAD=$((RUNC_SIZE - $(stat -c %s "$STANDIN")))
# Random padding: the hash then costs what it costs on runc's own bytes.
[ "$PAD" -le 0 ] || head -c "$PAD" /dev/urandom >>"$STANDIN"
as_installed "$STANDIN"

cat >"$T/wrapper/main.go" <<'EOF'
// The bare exec wrapper: the least any Go shim does.
package main

import (
	"os"
	"syscall"
)

var target string // set with -X main.target

func main() {
	err := syscall.Exec(target, append([]string{target}, os.Args[1:]...), os.Environ())
	os.Stderr.WriteString("exec " + target + ": " + err.Error() + "\n")
	os.Exit(127)
}
EOF
WRAPPER=$T/wrapper-bin
build_main "$T/wrapper" "$WRAPPER" "-X main.target=$STANDIN"
as_installed "$WRAPPER"

(cd "$REPO" && go build -o "$T/harness" ./hack/bench/harness)

# journald must answer, or every record would time a failed send and the
# fallback file instead of the journal.
journald_answers() { "$T/harness" -journald-answers; }
if ! journald_answers; then
	[ -x /lib/systemd/systemd-journald ] || die "journald does not answer and /lib/systemd/systemd-journald is missing: apt-get install -y systemd"
	echo "journald does not answer: starting /lib/systemd/systemd-journald" >&2
	mkdir -p /run/systemd/journal
	setsid /lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &
	for _ in $(seq 50); do journald_answers && break; sleep 0.1; done
	journald_answers || die "journald started but does not answer on /run/systemd/journal/socket"
fi

GUARD=
if [ -d "$REPO/cmd/guard-runtime" ]; then
	(cd "$REPO" && go build -trimpath -ldflags "-s -w" -o "$T/guard-runtime-full" ./cmd/guard-runtime &&
		go build -trimpath -ldflags "-s -w" -tags lean -o "$T/guard-runtime" ./cmd/guard-runtime) ||
		die "go build ./cmd/guard-runtime failed"
	GUARD=$T/guard-runtime
	GUARD_FULL=$T/guard-runtime-full
	as_installed "$GUARD" "$GUARD_FULL"
else
	echo "hack/bench: no ./cmd/guard-runtime in $REPO yet: measuring the wrapper and direct exec only" >&2
fi

# The policy: the repository's, or a placeholder that configures nothing.
POLICY_DIR=${GUARD_BENCH_POLICY_DIR:-$REPO/policy.d}
if [ -z "${GUARD_BENCH_POLICY_DIR:-}" ] && [ ! -f "$POLICY_DIR/$POLICY.yaml" ]; then
	POLICY_DIR=$T/policy.d
	mkdir -p "$POLICY_DIR"
	printf '# Placeholder policy for hack/bench: no control configured, every document admitted.\n' \
		>"$POLICY_DIR/$POLICY.yaml"
fi

cat >"$T/config.yaml" <<EOF
runtime:
  path: $STANDIN
  sha256: $(sha256sum "$STANDIN" | cut -d' ' -f1)
  cacheDir: $T/verified
policy:
  dir: $POLICY_DIR
  default: $POLICY
audit:
  file: $T/audit.log
EOF

# Three bundles: create hands the first two to the stand-in, runc run
# starts the third, which has a busybox rootfs.
BUNDLE=$T/bundle
AUDIT_BUNDLE=$T/audit-bundle
RUN_BUNDLE=$T/run-bundle
mkdir -p "$BUNDLE/rootfs" "$AUDIT_BUNDLE/rootfs" "$RUN_BUNDLE/rootfs/bin" "$T/state" "$T/runc-root"
# The runtime's --root is on a tmpfs, as engines' roots are under /run on a
# host (/run/docker/runtime-runc, /run/containerd/runc): guard-runtime keeps
# its per-container policy record there, and a disk-backed root would time
# the disk, not guard-runtime.
mount -t tmpfs -o size=16m,mode=0700 tmpfs "$T/state" || die "cannot mount a tmpfs on $T/state (run as root)"
# The rewritten bundle is on the tmpfs too, as engines' bundles are (under
# /run/containerd): a rewrite writes config.json atomically there.
REWRITE_BUNDLE=$T/state/rewrite-bundle
REWRITE_ID=054d93e62047ac4bca62b3c4bfe0121bfbdbff64f27af63cf9a9970663f68b08 # the id in its bind mounts
mkdir -p "$REWRITE_BUNDLE"
cp "$REPO/hack/bench/rewrite-config.json" "$T/rewrite-config.json"
cp "$BUSYBOX" "$RUN_BUNDLE/rootfs/bin/busybox"
ln -s busybox "$RUN_BUNDLE/rootfs/bin/sh"
ln -s busybox "$RUN_BUNDLE/rootfs/bin/true"
cp "${GUARD_BENCH_BUNDLE_CONFIG:-$REPO/hack/bench/restricted-config.json}" "$BUNDLE/config.json"
(cd "$RUN_BUNDLE" && "$RUNC" spec)
sed -i 's/"terminal": true/"terminal": false/; s/^\(\s*\)"sh"$/\1"true"/' "$RUN_BUNDLE/config.json"
cp "$RUN_BUNDLE/config.json" "$AUDIT_BUNDLE/config.json"
"$RUNC" --root "$T/runc-root" run --bundle "$RUN_BUNDLE" guard-bench >/dev/null 2>"$T/runc-run.err" ||
	die "runc run of a busybox container failed (is $BUSYBOX static? apt-get install -y busybox-static): $(cat "$T/runc-run.err")"

# The caches only record a file whose ctime has settled: until then every
# call of the lean build would hand over to the full build.
for settling in "$STANDIN" "$T/config.yaml"; do
	while [ $(($(date +%s) - $(stat -c %Z "$settling"))) -lt 3 ]; do sleep 0.5; done
done

CREATE=(--root "$T/state" --log "$BUNDLE/log.json" --log-format json create --bundle "$BUNDLE" --pid-file "$BUNDLE/init.pid" guard-bench)
AUDIT_CREATE=(--root "$T/state" --log "$AUDIT_BUNDLE/log.json" --log-format json create --bundle "$AUDIT_BUNDLE" --pid-file "$AUDIT_BUNDLE/init.pid" guard-bench-audit)
REWRITE_CREATE=(--root "$T/state" --log "$REWRITE_BUNDLE/log.json" --log-format json create --bundle "$REWRITE_BUNDLE" --pid-file "$REWRITE_BUNDLE/init.pid" "$REWRITE_ID")
RESTORE="+copy=$T/rewrite-config.json:$REWRITE_BUNDLE/config.json"
STATE=(--root "$T/state" state guard-bench)
spec_line() { local IFS=$'\t'; echo "$*"; }
{
	spec_line create/direct "$STANDIN" "${CREATE[@]}"
	spec_line create/wrapper "$WRAPPER" "${CREATE[@]}"
	spec_line state/direct "$STANDIN" "${STATE[@]}"
	spec_line state/wrapper "$WRAPPER" "${STATE[@]}"
	if [ -n "$GUARD" ]; then
		spec_line create/guard "$GUARD" --guard-config "$T/config.yaml" --guard-policy "$POLICY" "${CREATE[@]}"
		if [ -f "$POLICY_DIR/audit.yaml" ]; then
			spec_line create-audit/wrapper "$WRAPPER" "${AUDIT_CREATE[@]}"
			spec_line create-audit/guard "$GUARD" --guard-config "$T/config.yaml" --guard-policy audit "${AUDIT_CREATE[@]}"
		fi
		if [ -f "$POLICY_DIR/restricted.yaml" ]; then
			spec_line create-rewrite/wrapper "$RESTORE" "$WRAPPER" "${REWRITE_CREATE[@]}"
			spec_line create-rewrite/guard "$RESTORE" "$GUARD" --guard-config "$T/config.yaml" --guard-policy restricted "${REWRITE_CREATE[@]}"
		fi
		spec_line state/guard "$GUARD" --guard-config "$T/config.yaml" --guard-policy "$POLICY" "${STATE[@]}"
		spec_line create/full "$GUARD_FULL" --guard-config "$T/config.yaml" --guard-policy "$POLICY" "${CREATE[@]}"
		spec_line state/full "$GUARD_FULL" --guard-config "$T/config.yaml" --guard-policy "$POLICY" "${STATE[@]}"
	fi
	spec_line runc-run "$RUNC" --root "$T/runc-root" run --bundle "$RUN_BUNDLE" guard-bench
} >"$T/spec"

echo "timing $ROUNDS interleaved rounds on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)..." >&2
# Each difference is also taken within rounds (-pair): the two runs of a
# round are close in time, so drift in the machine's load between rounds
# cancels out of the difference.
PAIRS=()
for op in create create-audit create-rewrite state; do
	for base in wrapper direct full; do
		if grep -q "^$op/guard"$'\t' "$T/spec" && grep -q "^$op/$base"$'\t' "$T/spec"; then
			PAIRS+=(-pair "$op/guard,$op/$base")
		fi
	done
done
"$T/harness" -rounds "$ROUNDS" "${PAIRS[@]}" "$T/spec" >"$T/results"

if [ -n "$GUARD" ] && [ -z "$(ls -A "$T/verified" 2>/dev/null)" ]; then
	echo "hack/bench: warning: guard-runtime left no verification cache entry: its numbers include hashing the runtime" >&2
fi

awk -F'\t' -v rounds="$ROUNDS" -v size="$RUNC_SIZE" -v policy="$POLICY" '
	{ median[$1] = $3; q1[$1] = $4; q3[$1] = $5 }
	function cell(name) { return (name in median) ? sprintf("%8.3f [%.3f-%.3f]", median[name], q1[name], q3[name]) : sprintf("%8s", "-") }
	# diff is the median of the differences within rounds, with quartiles.
	function diff(a, b) { return ((a "-" b) in median) ? sprintf("%+7.3f [%+.2f,%+.2f]", median[a "-" b], q1[a "-" b], q3[a "-" b]) : sprintf("%22s", "-") }
	END {
		printf "per-call wall time in ms, median [quartiles] of %d interleaved rounds; runtime stand-in of %d bytes (runc'"'"'s size)\n\n", rounds, size
		printf "%-15s %-24s %-24s %-24s %-22s %-22s\n", "call", "direct", "bare wrapper", "guard-runtime", "guard-wrapper", "guard-direct"
		split("create create-audit create-rewrite state", ops, " ")
		for (i = 1; i <= 4; i++) {
			op = ops[i]
			if (!((op "/wrapper") in median)) continue
			printf "%-15s %-24s %-24s %-24s %-22s %-22s\n", op, cell(op "/direct"), cell(op "/wrapper"), cell(op "/guard"), diff(op "/guard", op "/wrapper"), diff(op "/guard", op "/direct")
		}
		printf "guard-wrapper, guard-direct: median [quartiles] of the differences within each round\n"
		printf "\ncreate: policy %s, a bundle it admits unchanged; create-audit: policy audit, runc'"'"'s default spec (every check fires);\ncreate-rewrite: policy restricted, Docker'"'"'s config for -u 1000, which it rewrites\n", policy
		run = median["runc-run"]
		printf "\nrunc run cycle of a busybox container: %.3f ms [%.3f-%.3f]\n", run, q1["runc-run"], q3["runc-run"]
		printf "bare wrapper per call: +%.3f ms over direct exec (%.1f%% of a runc run cycle)\n", median["state/wrapper"] - median["state/direct"], 100 * (median["state/wrapper"] - median["state/direct"]) / run
		if ("create/guard" in median) {
			# Docker makes at least three calls per container: create, start and delete; start and delete pass through like state.
			over_wrapper = median["create/guard-create/wrapper"] + 2 * median["state/guard-state/wrapper"]
			over_direct = median["create/guard-create/direct"] + 2 * median["state/guard-state/direct"]
			if ("create/guard-create/full" in median)
				printf "lean build against the full build alone: create %s, state %s\n", diff("create/guard", "create/full"), diff("state/guard", "state/full")
			printf "guard-runtime on create+start+delete: +%.3f ms over the bare wrapper, +%.3f ms over direct exec = %.1f%% of a runc run cycle\n", over_wrapper, over_direct, 100 * over_direct / run
			# The VMs drift, and the cost of guard-runtime moves with that of
			# the wrapper: this share tells a slow run from a costlier build.
			printf "create over the wrapper as a share of the wrapper'"'"'s own create: %.2f\n", median["create/guard-create/wrapper"] / median["create/wrapper"]
		}
	}' "$T/results"
