# Shell side of //netns (sourced by sh_tests and scripts/demo.sh): two
# namespaces joined by a veth pair, always removed on exit, with the
# background commands started here and the files listed in CLEANUP_FILES.
# Names carry the pid.
#
#   source netns/veth_pair.sh
#   require_privileged        # skip when not root, fail if XNET_REQUIRE_PRIVILEGED=1
#   make_veth_pair            # sets NS_X NS_K DEV_X DEV_K; kernel side KERNEL_ADDR
#                             # (default 10.88.0.2/24), tx csum off;
#                             # QUEUES=N for N rx/tx queues on both ends,
#                             # MTU=N for the MTU of both ends
#   in_x CMD... / in_k CMD... # run in the xnet / kernel namespace
# Only processes this script started are ever signalled, by pid.

set -euo pipefail

require_privileged() {
  if [[ $(id -u) -ne 0 ]]; then
    if [[ "${XNET_REQUIRE_PRIVILEGED:-0}" == 1 ]]; then
      echo "FAIL: needs root (XNET_REQUIRE_PRIVILEGED=1 forbids skipping)" >&2
      exit 1
    fi
    echo "SKIPPED: needs root (network namespaces, XDP)" >&2
    exit 0
  fi
}

BG_PIDS=()
CLEANUP_FILES=()
cleanup_veth_pair() {
  set +e
  for pid in "${BG_PIDS[@]}"; do
    kill -INT "$pid" 2>/dev/null
  done
  for pid in "${BG_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  [[ -n "${NS_X:-}" ]] && ip netns del "$NS_X" 2>/dev/null
  [[ -n "${NS_K:-}" ]] && ip netns del "$NS_K" 2>/dev/null
  [[ ${#CLEANUP_FILES[@]} -gt 0 ]] && rm -f "${CLEANUP_FILES[@]}"
  return 0
}

make_veth_pair() {
  local tag="$$${RANDOM}"
  NS_X="xnt-x-$tag"
  NS_K="xnt-k-$tag"
  DEV_X="vx$tag"
  DEV_K="vk$tag"
  DEV_X=${DEV_X:0:15}
  DEV_K=${DEV_K:0:15}
  trap cleanup_veth_pair EXIT
  ip netns add "$NS_X"
  ip netns add "$NS_K"
  local q=${QUEUES:-1}
  ip link add "$DEV_X" netns "$NS_X" numrxqueues "$q" numtxqueues "$q" type veth \
    peer name "$DEV_K" netns "$NS_K" numrxqueues "$q" numtxqueues "$q"
  ip -n "$NS_X" link set lo up
  ip -n "$NS_K" link set lo up
  # MTU=N for both ends (e.g. 9000: jumbo frames, multi-buffer AF_XDP).
  ip -n "$NS_X" link set "$DEV_X" mtu "${MTU:-1500}"
  ip -n "$NS_K" link set "$DEV_K" mtu "${MTU:-1500}"
  ip -n "$NS_X" link set "$DEV_X" up
  ip -n "$NS_K" link set "$DEV_K" up
  ip -n "$NS_K" addr add "${KERNEL_ADDR:-10.88.0.2/24}" dev "$DEV_K"
  ip netns exec "$NS_K" ethtool -K "$DEV_K" tx off >/dev/null
}

in_x() { ip netns exec "$NS_X" "$@"; }
in_k() { ip netns exec "$NS_K" "$@"; }

# Starts a command in the background in the xnet namespace, remembered for
# cleanup; BG_PID is its pid.
bg_in_x() {
  ip netns exec "$NS_X" "$@" &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# SIGINT to a background command we started, then waits for it (bounded).
stop_bg() {
  kill -INT "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1" 2>/dev/null || true
}

# Waits (bounded) until `ping` from the kernel side reaches ADDR.
wait_reachable() {
  for _ in $(seq 50); do
    if in_k ping -c1 -W1 "$1" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "FAIL: $1 never answered ping" >&2
  return 1
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
