#!/usr/bin/env bash
# Every test again, built with clang 14 (and Debian's libstdc++) instead of
# GCC 12: the second compiler users may pick (README). Its own output base,
# so neither compiler's build throws the other's away.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/output_base.sh
output_base="${XNET_CLANG_OUTPUT_BASE:-$(xnet_output_base clang)}"
# The targets, listed by the default output base: `//...` under another output
# base would also walk this one's convenience symlink (bazel-<directory>),
# whose name .bazelignore cannot know.
mapfile -t targets < <(bazel query --noshow_progress '//...' 2>/dev/null)
[[ ${#targets[@]} -gt 0 ]] || { echo "clang_test.sh: bazel query //... listed nothing" >&2; exit 1; }
bazel --output_base="$output_base" test --config=clang --experimental_convenience_symlinks=ignore \
  --test_env=XNET_REQUIRE_PRIVILEGED=1 "$@" -- "${targets[@]}"
