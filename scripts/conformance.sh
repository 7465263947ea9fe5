#!/usr/bin/env bash
# Runs the differential conformance suite (//tests/conformance, root) and
# rewrites the results table of docs/conformance.md (between its
# results:begin / results:end markers) from what the test reported. The
# accepted-differences list above it is edited by hand.
#   scripts/conformance.sh [extra bazel test flags]
set -euo pipefail
cd "$(dirname "$0")/.."

results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
bazel test //tests/conformance:conformance_test --test_env=XNET_REQUIRE_PRIVILEGED=1 \
  --test_env=XNET_CONFORMANCE_RESULTS="$results" "$@" || status=$?
if [[ ! -s "$results" ]]; then
  echo "conformance.sh: the test wrote no results" >&2
  exit 1
fi

python3 - "$results" docs/conformance.md <<'PY'
import sys
results, doc = sys.argv[1], sys.argv[2]
rows, total = [], None
for line in open(results, encoding="utf-8"):
    line = line.rstrip("\n")
    name, _, text = line.partition("\t")
    if name == "#total":
        total = text.split("\t")
        continue
    text = text.replace("|", "\\|")
    verdict = "identical" if text == "identical" else ("**fails**" if text.startswith("FAIL") else "accepted")
    rows.append(f"| {name} | {verdict} | {'' if text == 'identical' else text} |")
n, identical, accepted, failing, secs = total
table = [f"{n} scenarios: {identical} identical, {accepted} with accepted differences only, "
         f"{failing} failing; the suite took {secs} s.", "",
         "| Scenario | Result | Differences |", "| --- | --- | --- |"] + rows
text = open(doc, encoding="utf-8").read()
begin, end = "<!-- results:begin -->", "<!-- results:end -->"
head, _, rest = text.partition(begin)
_, _, tail = rest.partition(end)
open(doc, "w", encoding="utf-8").write(head + begin + "\n" + "\n".join(table) + "\n" + end + tail)
PY
echo "docs/conformance.md updated"
exit "$status"
