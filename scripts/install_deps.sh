#!/usr/bin/env bash
# Installs the Debian packages xnet builds and runs with. Idempotent: does
# nothing (and needs no network) when everything is already installed.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-platforms bazel-rules-java
  g++ clang libclang-rt-14-dev
  libxdp-dev libbpf-dev liburing-dev libfmt-dev libgtest-dev libgmock-dev
  libbenchmark-dev libpcap-dev libcli11-dev libmnl-dev
  xdp-tools bpftool iproute2 ethtool iputils-ping tcpdump gnuplot-nox procps
)

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != *"install ok installed"* ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "xnet: missing packages (${missing[*]}); run as root or install them with apt-get" >&2
  exit 1
fi

echo "xnet: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
}
