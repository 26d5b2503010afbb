#!/usr/bin/env bash
# Makes .env from .env.example with every secret compose requires generated: the broker's five passwords, an API write
# token (printed once: keep it), and DOCKER_GID from this machine's Docker socket. Fill in the rest (repository, GitHub,
# LLM) afterwards. Refuses to overwrite an existing .env.
set -euo pipefail
cd "$(dirname "$0")/.."
[ ! -e .env ] || { echo ".env exists: not overwritten" >&2; exit 1; }
cp .env.example .env
chmod 600 .env
for p in RABBITMQ_PASSWORD RABBITMQ_INTAKE_PASSWORD RABBITMQ_PLANNER_PASSWORD RABBITMQ_TOOLGATEWAY_PASSWORD RABBITMQ_PUBLISHER_PASSWORD; do
  sed -i "s/^$p=\$/$p=$(openssl rand -hex 24)/" .env
done
token=$(openssl rand -hex 32)
sed -i "s/^API_TOKENS=\$/API_TOKENS=admin:write:$token/" .env
[ -S /var/run/docker.sock ] && sed -i "s/^DOCKER_GID=.*/DOCKER_GID=$(stat -c %g /var/run/docker.sock)/" .env
echo "Wrote .env. Your API token (write role, named admin): $token"
echo "Now set REPO_OWNER, REPO_NAME, the GitHub tokens and the LLM in .env."
