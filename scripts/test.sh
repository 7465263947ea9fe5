#!/usr/bin/env bash
# The README's test command: installs what it needs, then runs every test
# plain (privileged end-to-end tests included: they must not skip), the unit
# tests again under ASan + UBSan, every test built with clang 14, a service
# built in another workspace against @xnet//:xnet, an install into a temporary
# prefix used out of the tree, then a short run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh

bazel build //...
bazel test //... --test_env=XNET_REQUIRE_PRIVILEGED=1
bazel test //... --config=asan --test_tag_filters=-no-sandbox,-benchmark
# The second compiler (its own output base; see scripts/clang_test.sh).
scripts/clang_test.sh
# xnet from another Bazel workspace (@xnet//:xnet), run on a veth pair.
scripts/consumer_test.sh
# xnet installed with pkg-config, an example built out of the tree and run.
scripts/install_test.sh
# Every fuzz target, briefly, from its seeds (clang + libFuzzer; see scripts/fuzz.sh).
scripts/fuzz.sh 10
