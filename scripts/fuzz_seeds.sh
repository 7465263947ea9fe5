#!/usr/bin/env bash
# Regenerates the fuzz targets' seed corpora (tests/fuzz/corpus/) from valid
# frames built by tests/fuzz/make_seeds.cc. The output is checked in.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf tests/fuzz/corpus
bazel run //tests/fuzz:make_seeds -- "$PWD/tests/fuzz/corpus"
