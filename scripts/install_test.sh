#!/usr/bin/env bash
# scripts/install.sh as a user meets it: installs into a temporary prefix,
# builds examples/echo_server.cc out of the tree with pkg-config (shared
# library, and the static archive), runs the shared build and the installed
# `xnet` on a veth pair (a kernel socket must get all its datagrams back),
# then uninstalls and checks that the prefix is empty again. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source netns/veth_pair.sh
require_privileged

prefix="$(mktemp -d /tmp/xnet-install-test.XXXXXX)"
src="$(mktemp -d /tmp/xnet-install-src.XXXXXX)"
cleanup() { cleanup_veth_pair; rm -rf "$prefix" "$src"; }
trap cleanup EXIT

scripts/install.sh "$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg-config --exists xnet || fail "pkg-config does not know xnet"

# Out of the tree: only the example's own files and what was installed.
mkdir -p "$src/examples"
cp "$root/examples/echo_server.cc" "$root/examples/example_args.h" "$src/examples/"
cd "$src"
# shellcheck disable=SC2046
c++ -std=c++20 -O2 examples/echo_server.cc -I. $(pkg-config --cflags --libs xnet) \
  -Wl,-rpath,"$prefix/lib" -o echo_server || fail "out-of-tree build against libxnet.so"
grep -q "$prefix/lib/libxnet.so.0" <<<"$(ldd ./echo_server)" || fail "echo_server does not use the installed libxnet.so"
# shellcheck disable=SC2046
c++ -std=c++20 -O2 examples/echo_server.cc -I. $(pkg-config --cflags xnet) "$prefix/lib/libxnet.a" \
  $(pkg-config --libs libxdp libbpf liburing fmt libpcap libmnl) -lelf -lz -o echo_server_static \
  || fail "out-of-tree build against libxnet.a"
cd "$root"

make_veth_pair
bg_in_x "$src/echo_server" --dev "$DEV_X" --addr 10.88.0.1/24 --port 7 --seconds 60
pid=$BG_PID
wait_reachable 10.88.0.1
out=$(in_k "$prefix/bin/xnet" ping --kernel --to 10.88.0.1:7 --count 200 --size 500 2>/dev/null) \
  || fail "kernel ping through the installed xnet: $out"
grep -q "received 200  lost 0" <<<"$out" || fail "the out-of-tree echo_server lost datagrams: $out"
stop_bg "$pid"

scripts/install.sh --uninstall "$prefix"
left=$(find "$prefix" -mindepth 1 -not -type d)
[[ -z "$left" ]] || fail "uninstall left files: $left"
echo "install: PASS"
