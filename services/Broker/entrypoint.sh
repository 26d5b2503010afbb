#!/bin/sh
# The broker's entrypoint in compose: writes the definitions (definitions.sh) where the broker reads them at every start,
# tells it to load them, then runs the image's own entrypoint ("$@"). With definitions loaded the broker creates no
# default user: the administrator and the services' users are the ones defined.
set -eu
here=$(dirname "$0")
mkdir -p /etc/rabbitmq/conf.d
# The passwords are in it: readable by the broker's user alone.
(umask 077 && sh "$here/definitions.sh" >/etc/rabbitmq/definitions.json)
chown rabbitmq:rabbitmq /etc/rabbitmq/definitions.json 2>/dev/null || true
echo "load_definitions = /etc/rabbitmq/definitions.json" >/etc/rabbitmq/conf.d/20-orchestrator-definitions.conf
chmod 644 /etc/rabbitmq/conf.d/20-orchestrator-definitions.conf
exec "$@"
