#!/usr/bin/env bash
# The test command. On a fresh Debian 12 machine (root, .NET 10 SDK, Node 20) it installs and starts what the tests
# need, builds and runs the whole suite, stops what it started, and ends with one line "N passed, N failed, N skipped".
# It exits non-zero on any failure, and when no test ran.
#   RABBITMQ_URL (+ RABBITMQ_MANAGEMENT_URL) set: use that broker instead of starting one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib/infra.sh
# The build servers dotnet leaves behind for the next build are stopped too.
trap 'dotnet build-server shutdown >/dev/null 2>&1 || true; infra_cleanup' EXIT
CONFIGURATION=${CONFIGURATION:-Release}
RESULTS="$INFRA_WORK/results"

infra_apt git git node nodejs docker-compose docker-compose
# Everything the tests write to the temp folder goes away with the run.
export TMPDIR="$INFRA_WORK/tmp"
mkdir -p "$TMPDIR"
infra_rabbitmq
infra_mcp_servers "$ROOT"

echo "Building ($CONFIGURATION)..."
dotnet build Orchestrator.sln -c "$CONFIGURATION" -v q -nologo -clp:ErrorsOnly

echo "Testing..."
set +e
dotnet test --solution Orchestrator.sln -c "$CONFIGURATION" --no-build --no-progress \
  --report-xunit-trx --results-directory "$RESULTS" --timeout 25m
status=$?
set -e

# Counts come from the TRX reports, one per test module.
passed=0 failed=0 skipped=0
counter() { grep -o "<Counters [^>]*" "$1" | grep -o " $2=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
while IFS= read -r -d '' trx; do
  passed=$(( passed + $(counter "$trx" passed) ))
  for key in failed error timeout aborted; do failed=$(( failed + $(counter "$trx" $key) )); done
  skipped=$(( skipped + $(counter "$trx" notExecuted) ))
done < <(find "$RESULTS" -name '*.trx' -print0 2>/dev/null)
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "No test ran."
  status=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $status (a test module did not finish: see above)."
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
