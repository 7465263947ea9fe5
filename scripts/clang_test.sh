#!/usr/bin/env bash
# Every test again, built with clang 14 (and Debian's libstdc++) instead of
# GCC 12: the second compiler users may pick (README). Its own output base,
# so neither compiler's build throws the other's away.
set -euo pipefail
cd "$(dirname "$0")/.."
output_base="${XNET_CLANG_OUTPUT_BASE:-$HOME/.cache/xnet-clang-build}"
bazel --output_base="$output_base" test --config=clang --experimental_convenience_symlinks=ignore \
  //... --test_env=XNET_REQUIRE_PRIVILEGED=1 "$@"
