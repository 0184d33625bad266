#!/usr/bin/env bash
# Measure signed, idempotent POST /v1/payment-methods, POST
# /v1/collections/ach, signed GET /v1/collections/{id} and card sales
# (POST /v1/collections/card) throughput and latency against the same
# server's /healthz, on SQLite and on PostgreSQL, and the server's resident
# memory idle after start and after the load.
#
#   scripts/load.sh [DURATION_SECONDS] [CONCURRENCY]
#
# Needs: a release build (built here), curl, jq, psql, PostgreSQL at
# 127.0.0.1:5432 (user postgres, trust auth). Traffic stays on 127.0.0.1 and
# every run stops by itself after DURATION seconds. Per-key rate limits are
# off for the measured server (it measures throughput, not the limiter).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
concurrency=${2:-32}
cargo build --release -q -p inflow-server --bin inflow --example loadgen
bin=target/release/inflow
loadgen=target/release/examples/loadgen
admin_key="ik_test_load_admin_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

run_backend() {
  local name=$1 db_url=$2
  local dir port pid
  dir=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$dir" && INFLOW_LISTEN="127.0.0.1:$port" INFLOW_DATABASE_URL="$db_url" INFLOW_BOOTSTRAP_ADMIN_KEY="$admin_key" \
     INFLOW_RATE_LIMIT__REQUESTS_PER_SECOND=0 RUST_LOG=warn exec "$OLDPWD/$bin" serve >/dev/null 2>&1) &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  local url="http://127.0.0.1:$port"
  echo "idle RSS after start: $(grep VmRSS /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
  local cus key secret
  cus=$(curl -sf "$url/v1/customers" -H "Authorization: Bearer $admin_key" \
        -d '{"name":"Load Co","kind":"business"}' | jq -r .id)
  read -r key secret < <(curl -sf "$url/v1/api-keys" -H "Authorization: Bearer $admin_key" \
        -d "{\"customerId\":\"$cus\"}" | jq -r '"\(.key) \(.signingSecret)"')
  echo "## $name"
  "$loadgen" --url "$url" --target healthz --concurrency "$concurrency" --duration "$duration"
  "$loadgen" --url "$url" --target payment-methods --concurrency "$concurrency" --duration "$duration" --key "$key" --secret "$secret"
  local account pm
  account=$(curl -sf "$url/v1/accounts" -H "Authorization: Bearer $key" -d '{"name":"Load"}' | jq -r .id)
  pm=$(curl -sf "$url/v1/payment-methods" -H "Authorization: Bearer $key" \
        -d '{"type":"us_bank_account","usBankAccount":{"routingNumber":"121042882","accountNumber":"000123456789","accountType":"checking","holderName":"Load Test","holderType":"individual"}}' | jq -r .id)
  "$loadgen" --url "$url" --target collections --concurrency "$concurrency" --duration "$duration" --key "$key" --secret "$secret" \
    --account "$account" --payment-method "$pm"
  local collection
  collection=$(curl -sf "$url/v1/collections/ach" -H "Authorization: Bearer $key" \
        -d "{\"destinationAccountId\":\"$account\",\"paymentMethodId\":\"$pm\",\"amount\":{\"currency\":\"USD\",\"value\":\"1234\"},\"authorization\":{\"type\":\"written\",\"obtainedAt\":\"2026-01-05T10:00:00Z\"},\"allowDuplicate\":true}" | jq -r .id)
  "$loadgen" --url "$url" --target collection-get --concurrency "$concurrency" --duration "$duration" --key "$key" --secret "$secret" \
    --collection "$collection"
  # Card sales on one saved card (its daily limit raised out of the way).
  curl -sf -X PATCH "$url/v1/customers/$cus" -H "Authorization: Bearer $admin_key" \
        -d '{"cardDailyLimit":{"currency":"USD","value":"9999999999"}}' >/dev/null
  local card
  card=$(curl -sf "$url/v1/payment-methods" -H "Authorization: Bearer $key" \
        -d '{"type":"card","card":{"number":"4242424242424242","expMonth":12,"expYear":2040,"holderName":"Load Test","billingAddress":{"postalCode":"20001"}}}' | jq -r .id)
  "$loadgen" --url "$url" --target card-sales --concurrency "$concurrency" --duration "$duration" --key "$key" --secret "$secret" \
    --account "$account" --payment-method "$card"
  echo "RSS after the load: $(grep VmRSS /proc/$pid/status | awk '{print $2/1024 " MiB"}'), peak $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

run_backend sqlite "sqlite://./inflow-data/inflow.db"

pg_db="inflow_load_$$"
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $pg_db" postgres
trap 'psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" postgres' EXIT
run_backend postgres "postgres://postgres@127.0.0.1:5432/$pg_db"
