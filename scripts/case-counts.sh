#!/usr/bin/env bash
# Prints how many tests ran, passed, failed and were skipped: one line per module of the
# integration binary (one module per backend: sql_sqlite, sql_postgres, mongo, …) and one
# per other test binary, from the JUnit report nextest writes (.config/nextest.toml).
#
#   scripts/case-counts.sh            print the table of the last nextest run
#   scripts/case-counts.sh --clear    delete the report first (`make test` does, so that a
#                                     run that never reached the tests prints no stale table)
#   scripts/case-counts.sh FILE       read FILE instead of <target-dir>/nextest/default/junit.xml
#
# Exits 1 when there is no report or it cannot be read; the test results themselves do not
# change the exit status (nextest's own status says that).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# nextest keeps its store under the workspace's target/ even when CARGO_TARGET_DIR points
# elsewhere, so look there first, then in cargo's target directory.
report_paths() {
  local target
  target="$(cargo metadata --no-deps --format-version 1 |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
  printf '%s\n' "$PWD/target/nextest/default/junit.xml" "$target/nextest/default/junit.xml"
}

report_path() {
  local p first=""
  while read -r p; do
    [ -z "$first" ] && first="$p"
    if [ -f "$p" ]; then
      printf '%s\n' "$p"
      return
    fi
  done < <(report_paths)
  printf '%s\n' "$first"
}

case "${1:-}" in
  --clear)
    report_paths | while read -r p; do rm -f "$p"; done
    exit 0
    ;;
  -h | --help)
    sed -n '2,12p' "$0"
    exit 0
    ;;
  "") report="$(report_path)" ;;
  *) report="$1" ;;
esac

if [ ! -f "$report" ]; then
  echo "case-counts: no JUnit report at $report (nextest did not get to run the tests)" >&2
  exit 1
fi

python3 - "$report" <<'PY'
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict

INTEGRATION = "hellojohn-store::integration"

path = sys.argv[1]
try:
    root = ET.parse(path).getroot()
except (ET.ParseError, OSError) as e:
    print(f"case-counts: cannot read {path}: {e}", file=sys.stderr)
    sys.exit(1)

# group -> [passed, failed, skipped]
counts = defaultdict(lambda: [0, 0, 0])
for suite in root.iter("testsuite"):
    binary = suite.get("name", "?")
    for case in suite.iter("testcase"):
        name = case.get("name", "")
        if binary == INTEGRATION and "::" in name:
            group = "integration::" + name.split("::", 1)[0]
        else:
            group = binary
        if case.find("skipped") is not None:
            counts[group][2] += 1
        elif case.find("failure") is not None or case.find("error") is not None:
            counts[group][1] += 1
        else:
            counts[group][0] += 1

if not counts:
    print(f"case-counts: {path} lists no test", file=sys.stderr)
    sys.exit(1)

width = max(len("module / test binary"), *(len(g) for g in counts))
header = f"{'module / test binary':<{width}}  {'ran':>5}  {'passed':>6}  {'failed':>6}  {'skipped':>7}"
print()
print("Tests per backend module (integration binary) and per test binary:")
print(header)
print("-" * len(header))
total = [0, 0, 0]
for group in sorted(counts):
    passed, failed, skipped = counts[group]
    for i, n in enumerate((passed, failed, skipped)):
        total[i] += n
    mark = "  <- failures" if failed else ""
    print(f"{group:<{width}}  {passed + failed:>5}  {passed:>6}  {failed:>6}  {skipped:>7}{mark}")
print("-" * len(header))
passed, failed, skipped = total
print(f"{'total':<{width}}  {passed + failed:>5}  {passed:>6}  {failed:>6}  {skipped:>7}")
PY
