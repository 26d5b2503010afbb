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

# Uses the Docker engine that answers, or installs (docker.io) and starts one for the run. Containers are never started
# with a registry in reach: images are built locally (infra_mcp_images).
infra_docker() {
  if docker info >/dev/null 2>&1; then
    infra_log "using the running Docker engine"
    return 0
  fi
  infra_apt /usr/sbin/dockerd docker.io
  local dir="$INFRA_WORK/docker"
  mkdir -p "$dir"
  setsid /usr/sbin/dockerd --pidfile "$dir/dockerd.pid" >"$dir/dockerd.log" 2>&1 &
  INFRA_CLEANUP+=("infra_stop_pid \"\$(cat $dir/dockerd.pid 2>/dev/null)\"")
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && { infra_log "Docker engine started"; return 0; }
    sleep 0.5
  done
  infra_log "the Docker engine did not start; its log follows"; tail -50 "$dir/dockerd.log" >&2; return 1
}

infra_stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
}

# An image with the host's node, git and a /bin/sh, from nothing but the host's files: no registry is reachable here,
# so this stands in for node:20-bookworm-slim as the NODE_IMAGE the MCP server Dockerfiles build on.
infra_node_image() {
  local image=$1 rootfs="$INFRA_WORK/node-rootfs" file lib
  docker image inspect "$image" >/dev/null 2>&1 && return 0
  infra_log "building $image from the host's node and git"
  mkdir -p "$rootfs/tmp" "$rootfs/etc" "$rootfs/workspace"
  chmod 1777 "$rootfs/tmp"
  for file in /usr/bin/node /usr/bin/git /usr/bin/env /usr/bin/dash; do
    cp -L --parents "$file" "$rootfs"
    for lib in $(ldd "$file" | grep -oE '/[^ ]+'); do cp -L --parents "$lib" "$rootfs"; done
  done
  mkdir -p "$rootfs/bin" && ln -s /usr/bin/dash "$rootfs/bin/sh"
  tar -C / -c usr/lib/git-core usr/share/git-core | tar -C "$rootfs" -x
  printf 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/tmp:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$image" >/dev/null
  rm -rf "$rootfs"
}

# npm ci of the pinned MCP servers (each folder has its package-lock.json), so the process launcher can run them and
# their images are built with exactly these files.
infra_npm_ci() {
  local dir
  for dir in "$@"; do
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
      infra_log "npm ci $dir"
      npm ci --prefix "$dir" --no-audit --no-fund >"$INFRA_WORK/npm.log" 2>&1 || { cat "$INFRA_WORK/npm.log" >&2; return 1; }
      touch "$dir/node_modules"
    fi
  done
}

# The MCP server images the tests and the benchmark run: the default catalog's own (from services/ToolGateway/mcp-servers)
# and the test servers (tests/mcp-servers), each built from its Dockerfile on the host-built node image.
infra_mcp_images() {
  local root=$1 node_image=orchestrator-test/node:20 line dir image
  infra_npm_ci "$root/services/ToolGateway/mcp-servers/filesystem" "$root/services/ToolGateway/mcp-servers/git" \
    "$root/tests/mcp-servers/everything"
  infra_node_image "$node_image"
  while read -r dir image; do
    infra_log "building $image"
    docker build -q --build-arg NODE_IMAGE="$node_image" -t "$image" "$root/$dir" >"$INFRA_WORK/docker-build.log" 2>&1 \
      || { cat "$INFRA_WORK/docker-build.log" >&2; return 1; }
  done < <(grep -vE '^\s*(#|$)' "$root/tests/mcp-servers/images.txt")
}

# ---- Stand-ins for the registry images docker-compose.yml builds on (no registry is reachable here) ----

# A Debian 12 base image from the Debian archive (debootstrap), trusting what the host trusts: its CA bundle is the
# image's, so a TLS-intercepting proxy between this machine and the package registries is trusted inside as well.
infra_debian_image() {
  local image=$1 rootfs="$INFRA_WORK/debian-rootfs"
  docker image inspect "$image" >/dev/null 2>&1 && return 0
  infra_apt /usr/sbin/debootstrap debootstrap
  # The Debian archive this machine installs from (deb822 or one-line sources).
  local mirror
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}')
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  mirror=${mirror:-http://deb.debian.org/debian}
  infra_log "building $image (debootstrap from $mirror)"
  debootstrap --variant=minbase --include=ca-certificates,libssl3 bookworm "$rootfs" "$mirror" \
    >"$INFRA_WORK/debootstrap.log" 2>&1 || { tail -30 "$INFRA_WORK/debootstrap.log" >&2; return 1; }
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$image" >/dev/null
  rm -rf "$rootfs"
}

# The host's .NET on that Debian image: the whole SDK (the SDK_IMAGE stand-in), or only the shared runtimes (the
# RUNTIME_IMAGE stand-in, as mcr.microsoft.com/dotnet/aspnet is).
infra_dotnet_image() {
  local image=$1 kind=$2 base=$3 context="$INFRA_WORK/dotnet-image" dotnet=/usr/share/dotnet
  docker image inspect "$image" >/dev/null 2>&1 && return 0
  infra_log "building $image from the host's .NET"
  mkdir -p "$context"
  local exclude=()
  [ "$kind" = sdk ] || exclude=(--exclude=./sdk --exclude=./packs --exclude=./templates --exclude=./sdk-manifests --exclude=./dnx)
  tar -C "$dotnet" "${exclude[@]}" -c . | tar -C "$context" -x
  local env_lines='ENV DOTNET_ROOT=/usr/share/dotnet DOTNET_RUNNING_IN_CONTAINER=true DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1'
  [ "$kind" = sdk ] && env_lines="$env_lines NUGET_CERT_REVOCATION_MODE=offline"
  cat >"$INFRA_WORK/dotnet.Dockerfile" <<DOCKERFILE
FROM $base
COPY . /usr/share/dotnet/
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
$env_lines
DOCKERFILE
  docker build -q -f "$INFRA_WORK/dotnet.Dockerfile" -t "$image" "$context" >"$INFRA_WORK/docker-build.log" 2>&1 \
    || { cat "$INFRA_WORK/docker-build.log" >&2; return 1; }
  rm -rf "$context"
}

# Base images for the compose stack, all built here: exports DOTNET_SDK_IMAGE, DOTNET_RUNTIME_IMAGE, RABBITMQ_IMAGE and
# JAEGER_IMAGE, the variables docker-compose.yml reads.
infra_compose_base_images() {
  local root=$1 version debian=orchestrator-local/debian:bookworm
  version=$(dotnet --version)
  infra_debian_image "$debian"
  export DOTNET_SDK_IMAGE="orchestrator-local/dotnet-sdk:$version" DOTNET_RUNTIME_IMAGE="orchestrator-local/aspnet:$version"
  infra_dotnet_image "$DOTNET_SDK_IMAGE" sdk "$debian"
  infra_dotnet_image "$DOTNET_RUNTIME_IMAGE" runtime "$debian"
  # Built every time too (its package layer is cached), so that a change to its entrypoint is never missed.
  export RABBITMQ_IMAGE=orchestrator-local/rabbitmq:3-management
  infra_log "building $RABBITMQ_IMAGE (Debian's rabbitmq-server)"
  docker build -q --build-arg BASE_IMAGE="$debian" -t "$RABBITMQ_IMAGE" "$root/tests/stand-ins/rabbitmq" \
    >"$INFRA_WORK/docker-build.log" 2>&1 || { cat "$INFRA_WORK/docker-build.log" >&2; return 1; }
  # The tracing dashboard's stand-in is ours, so it is built every time.
  export JAEGER_IMAGE=orchestrator-local/tracing:latest
  infra_log "building $JAEGER_IMAGE (tests/Orchestrator.TracingStandIn)"
  dotnet publish "$root/tests/Orchestrator.TracingStandIn" -c Release -v q -nologo -clp:ErrorsOnly -o "$INFRA_WORK/tracing" >&2
  cp "$root/tests/Orchestrator.TracingStandIn/Dockerfile" "$INFRA_WORK/tracing/"
  docker build -q --build-arg RUNTIME_IMAGE="$DOTNET_RUNTIME_IMAGE" -t "$JAEGER_IMAGE" "$INFRA_WORK/tracing" \
    >"$INFRA_WORK/docker-build.log" 2>&1 || { cat "$INFRA_WORK/docker-build.log" >&2; return 1; }
}

infra_cleanup() {
  local i
  for (( i=${#INFRA_CLEANUP[@]}-1; i>=0; i-- )); do
    eval "${INFRA_CLEANUP[$i]}"
  done
  INFRA_CLEANUP=()
  rm -rf "$INFRA_WORK"
}
