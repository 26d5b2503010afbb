#!/bin/sh
# Prints the broker's definitions (RabbitMQ's JSON): the virtual host, the administrator (the management UI) and one
# user per service whose permissions allow only what that service must configure, write and read. The broker loads
# them at every start (entrypoint.sh); the tests create the same users from this output (BrokerPermissionTests).
#   RABBITMQ_VHOST (default /), RABBITMQ_USER (default orchestrator), RABBITMQ_PASSWORD,
#   RABBITMQ_INTAKE_PASSWORD, RABBITMQ_PLANNER_PASSWORD, RABBITMQ_TOOLGATEWAY_PASSWORD, RABBITMQ_PUBLISHER_PASSWORD
# Names, as MassTransit makes them: a message type's exchange is "Orchestrator.Contracts:<Type>"; a service's queues,
# their exchanges, its error and skipped queues and its bus endpoint (where responses arrive) start with "<service>-".
set -eu

vhost=${RABBITMQ_VHOST:-/}
admin=${RABBITMQ_USER:-orchestrator}

# A password goes into an amqp:// URL as it is: letters, digits and - . _ ~ only, and at least 16 of them.
check() {
  case "$2" in
    *[!A-Za-z0-9._~-]*|'') echo "definitions.sh: $1 must be set, of letters, digits and - . _ ~ only" >&2; exit 2 ;;
  esac
  [ "${#2}" -ge 16 ] || { echo "definitions.sh: $1 must be at least 16 characters" >&2; exit 2; }
}
check RABBITMQ_PASSWORD "${RABBITMQ_PASSWORD:-}"
check RABBITMQ_INTAKE_PASSWORD "${RABBITMQ_INTAKE_PASSWORD:-}"
check RABBITMQ_PLANNER_PASSWORD "${RABBITMQ_PLANNER_PASSWORD:-}"
check RABBITMQ_TOOLGATEWAY_PASSWORD "${RABBITMQ_TOOLGATEWAY_PASSWORD:-}"
check RABBITMQ_PUBLISHER_PASSWORD "${RABBITMQ_PUBLISHER_PASSWORD:-}"
case "$admin" in *[!A-Za-z0-9._-]*|'') echo "definitions.sh: RABBITMQ_USER must be letters, digits and - . _ only" >&2; exit 2 ;; esac

types() { printf '%s' "Orchestrator\\\\.Contracts:($1)"; }
# Fault<T>, published when a consumer gives up on a message: MassTransit names the exchange after the type it failed.
faults='MassTransit:Fault.*'

# Each service: what it may configure (declare), write (publish or send to) and read (consume, or bind from).
intake_configure="^(intake-.*|$(types 'WorkItemAccepted|WorkItemCancelled|WorkItemPlanned|WorkItemProgressed|WorkItemFailed|WorkItemCompleted|PullRequestOpened')|$faults)\$"
intake_write="^(intake-.*|$(types 'WorkItemAccepted|WorkItemCancelled')|$faults)\$"
intake_read="^(intake-.*|$(types 'WorkItemPlanned|WorkItemProgressed|WorkItemFailed|WorkItemCompleted|PullRequestOpened'))\$"

# The Planner sends tool calls to the replica that holds the workspace: that replica's queue is named toolgateway-replica-*.
planner_configure="^(planner-.*|toolgateway-replica-.*|$(types 'WorkItemAccepted|WorkItemCancelled|GatewayReplicaHeartbeat|WorkItemPlanned|WorkItemProgressed|WorkItemFailed|WorkItemCompleted|ChangesProposed|OpenWorkspace|ListTools')|$faults)\$"
planner_write="^(planner-.*|toolgateway-replica-.*|$(types 'WorkItemPlanned|WorkItemProgressed|WorkItemFailed|WorkItemCompleted|ChangesProposed|OpenWorkspace|ListTools')|$faults)\$"
planner_read="^(planner-.*|$(types 'WorkItemAccepted|WorkItemCancelled|GatewayReplicaHeartbeat'))\$"

# ToolGateway answers requests on the requester's bus endpoint: the Planner's, planner-bus-*.
toolgateway_configure="^(toolgateway-.*|planner-bus-.*|$(types 'OpenWorkspace|ListTools|GatewayReplicaHeartbeat|PullRequestOpened|WorkItemCancelled|WorkItemCompleted|WorkItemFailed')|$faults)\$"
toolgateway_write="^(toolgateway-.*|planner-bus-.*|$(types 'GatewayReplicaHeartbeat')|$faults)\$"
toolgateway_read="^(toolgateway-.*|$(types 'OpenWorkspace|ListTools|GatewayReplicaHeartbeat|PullRequestOpened|WorkItemCancelled|WorkItemCompleted|WorkItemFailed'))\$"

publisher_configure="^(publisher-.*|$(types 'PullRequestOpened|WorkItemFailed|WorkItemAccepted|WorkItemPlanned|WorkItemCompleted|WorkItemCancelled|ChangesProposed')|$faults)\$"
publisher_write="^(publisher-.*|$(types 'PullRequestOpened|WorkItemFailed')|$faults)\$"
publisher_read="^(publisher-.*|$(types 'WorkItemAccepted|WorkItemPlanned|WorkItemFailed|WorkItemCompleted|WorkItemCancelled|ChangesProposed'))\$"

user() { printf '    {"name": "%s", "password": "%s", "tags": "%s"}' "$1" "$2" "$3"; }
permission() { printf '    {"user": "%s", "vhost": "%s", "configure": "%s", "write": "%s", "read": "%s"}' "$1" "$vhost" "$2" "$3" "$4"; }

cat <<JSON
{
  "vhosts": [{"name": "$vhost"}],
  "users": [
$(user "$admin" "$RABBITMQ_PASSWORD" administrator),
$(user intake "$RABBITMQ_INTAKE_PASSWORD" ""),
$(user planner "$RABBITMQ_PLANNER_PASSWORD" ""),
$(user toolgateway "$RABBITMQ_TOOLGATEWAY_PASSWORD" ""),
$(user publisher "$RABBITMQ_PUBLISHER_PASSWORD" "")
  ],
  "permissions": [
$(permission "$admin" '.*' '.*' '.*'),
$(permission intake "$intake_configure" "$intake_write" "$intake_read"),
$(permission planner "$planner_configure" "$planner_write" "$planner_read"),
$(permission toolgateway "$toolgateway_configure" "$toolgateway_write" "$toolgateway_read"),
$(permission publisher "$publisher_configure" "$publisher_write" "$publisher_read")
  ]
}
JSON
