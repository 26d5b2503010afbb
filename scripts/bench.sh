#!/usr/bin/env bash
# Benchmarks that print "name: value" lines. On a fresh Debian 12 machine it installs and starts what they need (RabbitMQ,
# the Docker engine, the MCP server images), as scripts/test.sh does, and stops it again.
#   scripts/bench.sh gateway    ToolGateway: overhead over a direct stdio call, throughput, cold start, container removal
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
case "${1:-}" in
  gateway) ;;
  *) echo "usage: scripts/bench.sh gateway" >&2; exit 2 ;;
esac
source scripts/lib/infra.sh
trap 'dotnet build-server shutdown >/dev/null 2>&1 || true; infra_cleanup' EXIT
infra_apt git git node nodejs
export TMPDIR="$INFRA_WORK/tmp"
mkdir -p "$TMPDIR"
infra_rabbitmq
infra_docker
infra_mcp_images "$ROOT"
dotnet build tests/Orchestrator.Benchmarks -c Release -v q -nologo -clp:ErrorsOnly
dotnet tests/Orchestrator.Benchmarks/bin/Release/net10.0/Orchestrator.Benchmarks.dll "$1"
