#!/usr/bin/env bash
# Benchmarks that print "name: value" lines. On a fresh Debian 12 machine it installs and starts what they need (RabbitMQ,
# the Docker engine, the MCP server images), as scripts/test.sh does, and stops it again.
#   scripts/bench.sh gateway    ToolGateway: overhead over a direct stdio call, throughput, cold start, container removal
#   scripts/bench.sh pipeline   the whole path as four processes: idle RSS, orchestration overhead, work items per minute
#   scripts/bench.sh sandbox    the sandbox: OpenWorkspace to the first run_command, run_command over docker exec, the broker's round trip
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
case "${1:-}" in
  gateway|pipeline|sandbox) ;;
  *) echo "usage: scripts/bench.sh gateway|pipeline|sandbox" >&2; exit 2 ;;
esac
source scripts/lib/infra.sh
trap 'dotnet build-server shutdown >/dev/null 2>&1 || true; infra_cleanup' EXIT
infra_apt git git node nodejs
export TMPDIR="$INFRA_WORK/tmp"
mkdir -p "$TMPDIR"
infra_rabbitmq
infra_docker
infra_mcp_images "$ROOT"
# The pipeline runs the services' real hosts, so the whole solution is built.
dotnet build Orchestrator.sln -c Release -v q -nologo -clp:ErrorsOnly
dotnet tests/Orchestrator.Benchmarks/bin/Release/net10.0/Orchestrator.Benchmarks.dll "$1"
