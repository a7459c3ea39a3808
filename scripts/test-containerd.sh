#!/usr/bin/env bash
# The containerd shim (crates/shim) end to end, on a private containerd: builds the shim and two
# C guests (guest/c/examples' TCP echo server and client), imports a plain image holding them,
# runs the server with `ctr run --runtime io.containerd.wasock.v1` on the host's network, and
# checks, on 127.0.0.1 only:
#   - a native client's bytes all come back (wasock.addr-pool=127.0.0.1/32 lets it listen);
#   - a wasm client allowed by the same annotation gets its echo too;
#   - without annotations a connect is refused (EACCES), and with the pool it is refused
#     outside it (127.0.0.2), with wasock.trace's denial line;
#   - a malformed or unknown annotation stops the container with status 1 and a message that
#     names it;
#   - `ctr task kill` (SIGTERM) stops the server (status 143);
#   - nothing is left: no containerd, shim or guest process of ours, no mount, no state under
#     /run/containerd, no cgroup, no temporary directory.
# Skipped (exit 0, with the reason) when not root, when containerd or ctr is missing, or when
# containerd does not start here; any other failure fails. Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s%N)

skip() {
  echo "containerd test: skipped: $*"
  exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (containerd and the shim make namespaces, mounts and cgroups)"
for tool in containerd ctr; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/install-deps.sh installs Debian's containerd)"
done

cargo build -p containerd-shim-wasock --locked
cargo test -p containerd-shim-wasock --locked --quiet  # the annotation parsers
shim=$PWD/${CARGO_TARGET_DIR:-target}/debug/containerd-shim-wasock-v1
[ -x "$shim" ] || { echo "containerd test: FAILED: $shim was not built" >&2; exit 1; }

T=$(mktemp -d /tmp/wasock-containerd.XXXXXX)
NS=wasock-test-$$
SOCK=$T/containerd.sock
IMAGE=docker.io/library/wasock-echo:test
containerd_pid=""
# What exists under /run/containerd before we start, so that only our own traces are removed.
run_existed=0
[ -e /run/containerd ] && run_existed=1
sockets_before=$(ls /run/containerd/s 2>/dev/null || true)

ctr_() { timeout 60 ctr -a "$SOCK" -n "$NS" "$@"; }
# Processes of our namespace: the shims (each re-spawned daemon, its zygotes and the guests
# forked from them all carry "-namespace $NS" in their command line).
our_shims() { pgrep -f -- "containerd-shim-wasock-v1 -namespace $NS " || true; }

teardown() {
  set +e
  if [ -n "$containerd_pid" ] && kill -0 "$containerd_pid" 2>/dev/null; then
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1; done
    sleep 0.5
    for id in $(ctr_ containers ls -q 2>/dev/null); do
      ctr_ tasks delete -f "$id" >/dev/null 2>&1
      ctr_ containers delete "$id" >/dev/null 2>&1
    done
    kill "$containerd_pid"
    for _ in $(seq 100); do kill -0 "$containerd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$containerd_pid" 2>/dev/null && kill -KILL "$containerd_pid"
    wait "$containerd_pid" 2>/dev/null
  fi
  for pid in $(our_shims); do kill -KILL "$pid" 2>/dev/null; done
  grep -F " $T/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l
  rm -rf "$T" "/run/containerd/wasock/$NS"
  for d in /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  for s in $(ls /run/containerd/s 2>/dev/null); do
    grep -qxF "$s" <<<"$sockets_before" || rm -f "/run/containerd/s/$s"
  done
  rmdir /run/containerd/wasock /run/containerd/s 2>/dev/null
  [ "$run_existed" -eq 1 ] || rmdir /run/containerd 2>/dev/null
  set -e
}
fail() {
  echo "containerd test: FAILED: $*" >&2
  for f in "$T"/*.out "$T/containerd.log"; do
    [ -f "$f" ] && { echo "--- $f (last 30 lines)" >&2; tail -n 30 "$f" >&2; }
  done
  exit 1
}
trap teardown EXIT

# The guests, from source, as guest/c/README.md builds them by hand.
guest/c/make-sysroot.sh "$T/sysroot"
for p in tcp_server tcp_client; do
  clang --target=wasm32-wasi --sysroot="$T/sysroot" -O2 -I guest/c/include -I guest/c/examples \
    "guest/c/examples/$p.c" guest/c/src/*.c -o "$T/$p.wasm"
done
scripts/make-oci-image.sh "$T/image.tar" "$IMAGE" "$T/tcp_server.wasm" "$T/tcp_client.wasm"

# A private containerd: its own root, state, sockets and plugin directory under $T, no CRI. The
# shim is found, as in a real node, as containerd-shim-wasock-v1 in containerd's PATH.
mkdir -p "$T/bin" "$T/fifo"
ln -s "$shim" "$T/bin/containerd-shim-wasock-v1"
cat >"$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
EOF
PATH="$T/bin:$PATH" setsid containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 </dev/null &
containerd_pid=$!
for _ in $(seq 100); do
  ctr -a "$SOCK" version >/dev/null 2>&1 && break
  kill -0 "$containerd_pid" 2>/dev/null || break
  sleep 0.1
done
ctr -a "$SOCK" version >/dev/null 2>&1 ||
  skip "containerd did not start within 10 s: $(tail -n 3 "$T/containerd.log" | tr '\n' ' ')"

ctr_ images import --snapshotter native "$T/image.tar" >/dev/null || fail "ctr images import of $IMAGE"

# run ID [ctr options...] -- ARGS...: runs a container to its end; prints its exit status.
# Its output (stdout and stderr) goes to $T/ID.out.
run() {
  local id=$1 opts=()
  shift
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  local status=0
  ctr_ run --rm --snapshotter native --net-host --fifo-dir "$T/fifo" --runtime io.containerd.wasock.v1 \
    "${opts[@]}" "$IMAGE" "$id" "$@" >"$T/$id.out" 2>&1 </dev/null || status=$?
  echo "$status"
}
expect() { # expect ID STATUS TEXT: the container ended with STATUS and printed TEXT
  local status
  status=$(run "$1" "${@:4}")
  [ "$status" -eq "$2" ] || fail "$1: exit status $status, expected $2"
  grep -qF -- "$3" "$T/$1.out" || fail "$1: its output lacks \"$3\""
}

# The echo server, on a port the kernel picks; it serves connections until it is stopped.
ctr_ run --rm --snapshotter native --net-host --fifo-dir "$T/fifo" --runtime io.containerd.wasock.v1 \
  --annotation wasock.addr-pool=127.0.0.1/32 \
  "$IMAGE" echo /tcp_server.wasm 127.0.0.1 0 1000 >"$T/echo.out" 2>&1 </dev/null &
echo_pid=$!
port=""
for _ in $(seq 200); do
  port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$T/echo.out")
  [ -n "$port" ] && break
  kill -0 "$echo_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || fail "the echo server did not report its port within 20 s"
echo "containerd test: ok: the wasm echo server listens on 127.0.0.1:$port under the shim"

python3 - "$port" <<'EOF' || fail "the native client's echo"
import socket, sys
data = bytes((i * 31 + 7) % 256 for i in range(200_000))
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
got = bytearray()
for start in range(0, len(data), 8192):  # lock-step chunks: no buffer can fill up
    s.sendall(data[start:start + 8192])
    while len(got) < min(start + 8192, len(data)):
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(f"the server closed the connection after {len(got)} bytes")
        got += chunk
s.shutdown(socket.SHUT_WR)
if s.recv(1) != b"":
    sys.exit("bytes beyond the echo")
if got != data:
    first = next(i for i in range(len(data)) if got[i] != data[i])
    sys.exit(f"byte {first} differs: sent {data[first]}, got {got[first]}")
EOF
echo "containerd test: ok: a native client's 200000 bytes came back unchanged"

expect client-ok 0 "echo ok" --annotation wasock.addr-pool=127.0.0.1/32 -- /tcp_client.wasm 127.0.0.1 "$port"
echo "containerd test: ok: a wasm client allowed by wasock.addr-pool got its echo"

expect no-annotations 1 "error: connect: Permission denied" -- /tcp_client.wasm 127.0.0.1 "$port"
echo "containerd test: ok: without annotations, connect is refused (EACCES)"

expect outside-pool 1 "denied: sock_connect to 127.0.0.2:$port is outside the address pool" \
  --annotation wasock.addr-pool=127.0.0.1/32 --annotation wasock.trace=true -- /tcp_client.wasm 127.0.0.2 "$port"
grep -qF "error: connect: Permission denied" "$T/outside-pool.out" || fail "outside-pool: the guest did not get EACCES"
echo "containerd test: ok: a connect outside the pool is refused, and wasock.trace says why"

expect bad-pool 1 "wasock: wasock.addr-pool=127.0.0.1/33: invalid entry" \
  --annotation wasock.addr-pool=127.0.0.1/33 -- /tcp_client.wasm 127.0.0.1 "$port"
expect unknown-key 1 "wasock: unknown annotation wasock.adr-pool=127.0.0.1/32" \
  --annotation wasock.adr-pool=127.0.0.1/32 -- /tcp_client.wasm 127.0.0.1 "$port"
echo "containerd test: ok: a malformed or unknown annotation stops the container with status 1, named"

# Only the two allowed clients reached the server.
grep -qF "connection 1 closed after echoing 200000 bytes" "$T/echo.out" || fail "echo: the server's log lacks the native client"
grep -qF "connection 2 closed after echoing" "$T/echo.out" || fail "echo: the server's log lacks the wasm client"
if grep -qF "connection 3 " "$T/echo.out"; then fail "echo: a refused client reached the server"; fi

# Stop: SIGTERM (ctr task kill's default); the shim's handler ends the PID-1 guest at once.
ctr_ tasks kill echo || fail "ctr tasks kill echo"
for _ in $(seq 100); do kill -0 "$echo_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$echo_pid" 2>/dev/null && fail "the echo server did not stop within 10 s of SIGTERM"
status=0
wait "$echo_pid" || status=$?
[ "$status" -eq 143 ] || fail "echo: exit status $status after SIGTERM, expected 143"
echo "containerd test: ok: SIGTERM stopped the server (status 143)"

# The shim cleaned up after its containers: no task, container, process or state is left.
[ -z "$(ctr_ tasks ls -q)" ] || fail "tasks left: $(ctr_ tasks ls -q)"
[ -z "$(ctr_ containers ls -q)" ] || fail "containers left: $(ctr_ containers ls -q)"
for _ in $(seq 50); do [ -z "$(our_shims)" ] && break; sleep 0.1; done
[ -z "$(our_shims)" ] || fail "shim processes left: $(our_shims | tr '\n' ' ')"
[ -z "$(ls -A "/run/containerd/wasock/$NS" 2>/dev/null)" ] || fail "container state left in /run/containerd/wasock/$NS"
left=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/$NS/*" 2>/dev/null || true)
[ -z "$left" ] || fail "cgroups left: $left"

teardown
trap - EXIT
! kill -0 "$containerd_pid" 2>/dev/null || fail "containerd (pid $containerd_pid) still runs"
[ -z "$(our_shims)" ] || fail "shim processes left after containerd stopped"
! grep -qF " $T/" /proc/self/mountinfo || fail "mounts left under $T"
[ ! -e "$T" ] || fail "$T left"
[ ! -e "/run/containerd/wasock/$NS" ] || fail "/run/containerd/wasock/$NS left"
left=$(find /sys/fs/cgroup -maxdepth 2 -type d -name "$NS" 2>/dev/null || true)
[ -z "$left" ] || fail "cgroup directories left: $left"
for s in $(ls /run/containerd/s 2>/dev/null); do
  grep -qxF "$s" <<<"$sockets_before" || fail "shim socket /run/containerd/s/$s left"
done
echo "containerd test: ok: cleaned up (no process, mount, state, cgroup or socket of ours left)"
echo "containerd test: passed in $((($(date +%s%N) - started) / 1000000)) ms"
