#!/usr/bin/env bash
# Throughput of 1, 2 and 3 `inflow serve` nodes sharing one PostgreSQL
# database, the load spread evenly over the nodes (worker i → node i mod n):
# `GET /healthz`, signed `POST /v1/payment-methods` and signed
# `POST /v1/collections/ach` (see crates/server/examples/loadgen.rs).
#
#   scripts/load-nodes.sh [DURATION_SECONDS] [CONCURRENCY] [MAX_NODES]
#
# Each node count gets a fresh database, so every run starts from the same
# table sizes. Needs what scripts/load.sh needs (release build made here,
# curl, jq, psql, PostgreSQL at 127.0.0.1:5432 with trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-8}
concurrency=${2:-32}
max_nodes=${3:-3}
cargo build --release -q -p inflow-server --bin inflow --example loadgen
bin=$PWD/target/release/inflow
loadgen=$PWD/target/release/examples/loadgen
admin_key="ik_test_load_admin_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Nodes of one deployment share the master key (a sandbox node would
# otherwise make its own and could not open the secrets another sealed).
master_key=$(head -c 32 /dev/urandom | base64)
pids=()
dirs=()
pg_db=""

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for dir in "${dirs[@]}"; do rm -rf "$dir"; done
  pids=(); dirs=()
  if [ -n "$pg_db" ]; then
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" postgres
    pg_db=""
  fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_node() {
  local db_url=$1 dir port
  dir=$(mktemp -d); dirs+=("$dir")
  port=$(free_port)
  (cd "$dir" && INFLOW_LISTEN="127.0.0.1:$port" INFLOW_DATABASE_URL="$db_url" \
     INFLOW_BOOTSTRAP_ADMIN_KEY="$admin_key" INFLOW_MASTER_KEY="$master_key" INFLOW_RATE_LIMIT__REQUESTS_PER_SECOND=0 \
     RUST_LOG=warn exec "$bin" serve >/dev/null 2>&1) &
  pids+=($!)
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  urls+=("http://127.0.0.1:$port")
}

for nodes in $(seq 1 "$max_nodes"); do
  pg_db="inflow_load_nodes_$$_$nodes"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $pg_db" postgres
  db_url="postgres://postgres@127.0.0.1:5432/$pg_db"
  urls=()
  # Not in a subshell: start_node records the node's pid, folder and URL.
  for _ in $(seq 1 "$nodes"); do start_node "$db_url"; done
  first=${urls[0]}
  all=$(IFS=,; echo "${urls[*]}")
  cus=$(curl -sf "$first/v1/customers" -H "Authorization: Bearer $admin_key" \
        -d '{"name":"Load Co","kind":"business"}' | jq -r .id)
  read -r key secret < <(curl -sf "$first/v1/api-keys" -H "Authorization: Bearer $admin_key" \
        -d "{\"customerId\":\"$cus\"}" | jq -r '"\(.key) \(.signingSecret)"')
  account=$(curl -sf "$first/v1/accounts" -H "Authorization: Bearer $key" -d '{"name":"Load"}' | jq -r .id)
  pm=$(curl -sf "$first/v1/payment-methods" -H "Authorization: Bearer $key" \
        -d '{"type":"us_bank_account","usBankAccount":{"routingNumber":"121042882","accountNumber":"000123456789","accountType":"checking","holderName":"Load Test","holderType":"individual"}}' | jq -r .id)
  echo "## postgres, $nodes node(s)"
  "$loadgen" --url "$all" --target healthz --concurrency "$concurrency" --duration "$duration"
  "$loadgen" --url "$all" --target payment-methods --concurrency "$concurrency" --duration "$duration" \
    --key "$key" --secret "$secret"
  "$loadgen" --url "$all" --target collections --concurrency "$concurrency" --duration "$duration" \
    --key "$key" --secret "$secret" --account "$account" --payment-method "$pm"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  cleanup
done
