#!/usr/bin/env bash
# The test command. On a fresh Debian 12 machine (root, .NET 10 SDK, Node 20) it installs and starts what the tests
# need, builds and runs the whole suite, then the fake GitHub's contract check (tests/github-contract: every answer the
# fake gave, against GitHub's OpenAPI description) and the compose smoke test (scripts/compose-smoke.sh), one test each,
# stops what it started, and ends with one line "N passed, N failed, N skipped".
# It exits non-zero on any failure, and when no test ran.
#   RABBITMQ_URL (+ RABBITMQ_MANAGEMENT_URL) set: use that broker instead of starting one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib/infra.sh
# The build servers dotnet leaves behind for the next build are stopped too.
trap 'dotnet build-server shutdown >/dev/null 2>&1 || true; infra_cleanup' EXIT
CONFIGURATION=${CONFIGURATION:-Release}

infra_apt git git node nodejs docker-compose docker-compose chromium chromium
# Everything the tests write to the temp folder goes away with the run.
export TMPDIR="$INFRA_WORK/tmp"
mkdir -p "$TMPDIR"
infra_rabbitmq
infra_docker
infra_mcp_images "$ROOT"
# playwright-core for the browser tests (they drive Debian's Chromium; no browser is downloaded), and GitHub's OpenAPI
# description with a JSON-schema validator for the fake GitHub's contract check.
infra_npm_ci "$ROOT/tests/browser" "$ROOT/tests/github-contract"
# Every answer the fake GitHub gives in the suite is written here, and checked against GitHub's description after it.
export FAKE_GITHUB_RECORD_DIR="$INFRA_WORK/fake-github-answers"
rm -rf "$FAKE_GITHUB_RECORD_DIR"

echo "Building ($CONFIGURATION)..."
dotnet build Orchestrator.sln -c "$CONFIGURATION" -v q -nologo -clp:ErrorsOnly

echo "Testing..."
set +e
dotnet test --solution Orchestrator.sln -c "$CONFIGURATION" --no-build --no-progress --no-ansi \
  --timeout 25m 2>&1 | tee "$INFRA_WORK/test.log"
status=${PIPESTATUS[0]}
set -e

# The counts are the runner's own summary over all test modules.
count() { grep -E "^\s+$1: [0-9]+" "$INFRA_WORK/test.log" | tail -1 | grep -oE '[0-9]+' || echo 0; }
passed=$(count succeeded)
failed=$(count failed)
skipped=$(count skipped)

# The fake GitHub answered as GitHub does: every answer it gave in the suite, against GitHub's OpenAPI description.
echo "Fake GitHub contract (tests/github-contract/validate.mjs)..."
if [ -d "$FAKE_GITHUB_RECORD_DIR" ] && node tests/github-contract/validate.mjs "$FAKE_GITHUB_RECORD_DIR" 2>&1 | sed 's/^/  [contract] /'; then
  passed=$((passed + 1))
else
  echo "The fake GitHub's contract check failed."
  failed=$((failed + 1))
fi

# The compose stack as users run it (images built, one issue to a pull request, scaled): one test more.
echo "Compose smoke test (scripts/compose-smoke.sh)..."
if bash scripts/compose-smoke.sh 2>&1 | sed 's/^/  [compose] /'; then
  passed=$((passed + 1))
else
  echo "The compose smoke test failed."
  failed=$((failed + 1))
fi
# The suite must leave no MCP server container behind (the tests' deployments are named orchestrator-test-*).
left=$(docker ps --all --format '{{.Names}} {{.Label "org.orchestrator.deployment"}}' | awk '$2 ~ /^orchestrator-test-/ {print $1}')
if [ -n "$left" ]; then
  echo "Containers left behind by the suite (counted as one failure): $(echo $left)"
  docker rm --force $left >/dev/null 2>&1 || true
  failed=$((failed + 1))
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "No test ran."
  status=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $status (a test module did not finish: see above)."
fi
# The names of what failed, just above the last line, where a reader of the run's tail finds them.
grep -E '^\s*failed [A-Za-z_]' "$INFRA_WORK/test.log" | sed 's/^\s*/  /' | sort -u || true
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
