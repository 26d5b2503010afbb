#!/usr/bin/env bash
# The compose stack for real: builds docker-compose.yml's images, starts the stack, waits for every container to be
# healthy, turns a labelled issue on the fake GitHub into a pull request through it, checks RabbitMQ's management API
# and the tracing dashboard's API for the work item's trace, scales toolgateway to 3 and sends two more issues through,
# then tears everything down (containers, volumes, MCP server containers), whether it passed or not.
# No registry is reachable here, so the base images compose builds on are built locally first (scripts/lib/infra.sh:
# Debian from its package archive, .NET from this machine's SDK, RabbitMQ from Debian's package, and a stand-in for the
# tracing dashboard) and handed to compose through DOTNET_SDK_IMAGE, DOTNET_RUNTIME_IMAGE, RABBITMQ_IMAGE, JAEGER_IMAGE.
# Exits non-zero on any failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib/infra.sh
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-orchestrator-smoke}
export DEPLOYMENT_NAME=$COMPOSE_PROJECT_NAME

teardown() {
  # Compose refuses any command without the broker's passwords, even down: any value does for taking the stack down.
  printf '%s=unused-for-taking-it-down\n' RABBITMQ_PASSWORD RABBITMQ_INTAKE_PASSWORD RABBITMQ_PLANNER_PASSWORD \
    RABBITMQ_TOOLGATEWAY_PASSWORD RABBITMQ_PUBLISHER_PASSWORD >"$INFRA_WORK/empty.env"
  docker-compose --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" --env-file "$INFRA_WORK/empty.env" \
    down --volumes --remove-orphans --timeout 10 >"$INFRA_WORK/down.log" 2>&1 || { infra_log "docker-compose down failed:"; cat "$INFRA_WORK/down.log" >&2; }
  local left
  left=$(docker ps -aq --filter "label=org.orchestrator.deployment=$DEPLOYMENT_NAME")
  [ -z "$left" ] || docker rm --force $left >/dev/null 2>&1 || true
}
trap 'teardown; dotnet build-server shutdown >/dev/null 2>&1 || true; infra_cleanup' EXIT

infra_apt git git docker-compose docker-compose
export TMPDIR="$INFRA_WORK/tmp"
mkdir -p "$TMPDIR"
infra_docker
# The MCP server images ToolGateway's default catalog runs, and the base images compose builds on.
infra_mcp_images "$ROOT"
infra_compose_base_images "$ROOT"

# Whatever an earlier run that was cut short left (its broker's volume holds durable queues whose consumers are gone).
teardown
dotnet build tests/Orchestrator.ComposeSmoke -c Release -v q -nologo -clp:ErrorsOnly
dotnet tests/Orchestrator.ComposeSmoke/bin/Release/net10.0/Orchestrator.ComposeSmoke.dll
