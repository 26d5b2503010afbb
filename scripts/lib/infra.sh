# Shared by the scripts: install and start what the tests and benchmarks need, and stop it again.
# Source it, then call the functions; `infra_cleanup` undoes whatever `infra_*` started.

INFRA_WORK=${INFRA_WORK:-$(mktemp -d /tmp/orchestrator-infra.XXXXXX)}
INFRA_CLEANUP=()

infra_log() { printf '[infra] %s\n' "$*" >&2; }

# apt-get install the named packages when any of the given commands is missing.
infra_apt() {
  local missing=()
  while [ $# -gt 0 ]; do
    local cmd=$1 pkg=$2; shift 2
    [ -x "$cmd" ] || command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  infra_log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$INFRA_WORK/apt.log" 2>&1; then
    apt-get update -q >>"$INFRA_WORK/apt.log" 2>&1
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$INFRA_WORK/apt.log" 2>&1 \
      || { cat "$INFRA_WORK/apt.log" >&2; return 1; }
  fi
}

infra_free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( (RANDOM % 20000) + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((port + 20000))") 2>/dev/null; then
      echo "$port"; return 0
    fi
  done
  return 1
}

# Starts a private RabbitMQ node (its own name, ports and data folder) with the management plugin, unless RABBITMQ_URL
# is already set. Exports RABBITMQ_URL and RABBITMQ_MANAGEMENT_URL.
infra_rabbitmq() {
  if [ -n "${RABBITMQ_URL:-}" ]; then
    infra_log "using the broker at RABBITMQ_URL"
    return 0
  fi
  infra_apt /usr/lib/rabbitmq/bin/rabbitmq-server rabbitmq-server
  local dir="$INFRA_WORK/rabbitmq" port mgmt node
  port=$(infra_free_port); mgmt=$(infra_free_port)
  node="orchestrator-test-$$@localhost"
  mkdir -p "$dir/home" "$dir/log"
  echo '[rabbitmq_management].' >"$dir/enabled_plugins"
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$port
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt
CONF
  local epmd_running=0
  pgrep -x epmd >/dev/null 2>&1 && epmd_running=1
  (
    export HOME="$dir/home" RABBITMQ_NODENAME="$node" RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT=$((port + 20000)) \
      RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
      RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
    cd "$dir" && exec setsid /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/log/console.log" 2>&1
  ) &
  local ctl=(env HOME="$dir/home" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node" -q)
  INFRA_CLEANUP+=("${ctl[*]} stop >/dev/null 2>&1 || true")
  [ $epmd_running -eq 1 ] || INFRA_CLEANUP+=("epmd -kill >/dev/null 2>&1 || true")
  local ready=0
  for _ in $(seq 1 120); do
    if "${ctl[@]}" await_startup --timeout 30 >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.5
  done
  if [ $ready -ne 1 ]; then
    infra_log "RabbitMQ did not start; its log follows"; tail -50 "$dir/log/"*.log >&2; return 1
  fi
  export RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$port/"
  export RABBITMQ_MANAGEMENT_URL="http://guest:guest@127.0.0.1:$mgmt/"
  export RABBITMQ_NODENAME_TEST="$node"
  infra_log "RabbitMQ $node on 127.0.0.1:$port (management :$mgmt)"
}

# Installs the pinned MCP servers the tests run (tests/mcp-servers) with npm ci.
infra_mcp_servers() {
  local root=$1
  if [ ! -d "$root/tests/mcp-servers/node_modules" ] || [ "$root/tests/mcp-servers/package-lock.json" -nt "$root/tests/mcp-servers/node_modules" ]; then
    infra_log "installing MCP servers from npm"
    npm ci --prefix "$root/tests/mcp-servers" --no-audit --no-fund >"$INFRA_WORK/npm.log" 2>&1 || { cat "$INFRA_WORK/npm.log" >&2; return 1; }
  fi
}

infra_cleanup() {
  local i
  for (( i=${#INFRA_CLEANUP[@]}-1; i>=0; i-- )); do
    eval "${INFRA_CLEANUP[$i]}"
  done
  INFRA_CLEANUP=()
  rm -rf "$INFRA_WORK"
}
