#!/usr/bin/env bash
# Runs schemathesis (pinned, see scripts/ensure-schemathesis.sh) against an
# Inflow server, twice: as a customer, and as the operator acting for that
# customer (`Inflow-Customer`). Every request is signed by hooks.py.
#
#   scripts/schemathesis/run.sh <base-url> <data-dir>
#
# INFLOW_ST_EXAMPLES (default 10) bounds the examples per operation;
# INFLOW_ST_EXTRA adds schemathesis options (the suite uses it to prove
# that a run which tests nothing fails).
#
# <data-dir> is the server's data directory (sandbox: its
# demo-credentials.json holds the operator key; the CLI creates the
# customer in the same database). Exit status: 0 only when both runs found
# no failure. Reports go to <data-dir>/schemathesis-*.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
base="$1"; data="$2"
inflow="${INFLOW_BIN:-inflow}"
st="$("$here/../ensure-schemathesis.sh" | tail -1)"
examples="${INFLOW_ST_EXAMPLES:-10}"

admin_key=$(jq -r .apiKey "$data/demo-credentials.json")
admin_secret=$(jq -r .signingSecret "$data/demo-credentials.json")
customer=$("$inflow" customers create --name "Schemathesis Co" --kind business \
  --ach-company-name "SCHEMATHESIS CO" --ach-company-id 1234567890 --json | jq -r .id)
"$inflow" api-keys create --customer "$customer" --name schemathesis --json > "$data/schemathesis-key.json"
customer_key=$(jq -r .key "$data/schemathesis-key.json")
customer_secret=$(jq -r .signingSecret "$data/schemathesis-key.json")

curl -fsS "$base/openapi.json" > "$data/openapi.json"

run() {
  local role="$1" key="$2" secret="$3" acting_for="$4"
  echo "schemathesis as $role"
  INFLOW_ST_KEY="$key" INFLOW_ST_SECRET="$secret" INFLOW_ST_CUSTOMER="$acting_for" \
  SCHEMATHESIS_HOOKS="$here/hooks.py" \
    "$st" --config-file "$here/schemathesis.toml" run "$data/openapi.json" --url "$base" \
      --exclude-path '/v1/api-keys/{id}/revoke' \
      --checks all --max-examples "$examples" --seed 1 \
      --phases examples,coverage,fuzzing,stateful \
      ${INFLOW_ST_EXTRA:-} --no-color > "$data/schemathesis-$role.txt" 2>&1 && status=0 || status=$?
  tail -25 "$data/schemathesis-$role.txt"
  # A run that tested nothing proves nothing.
  if ! grep -qE "Tested: [1-9]" "$data/schemathesis-$role.txt"; then
    echo "FAIL: schemathesis as $role tested no operation" >&2; return 1
  fi
  return "$status"
}

# Excluded: POST /v1/api-keys/{id}/revoke. The run finds its own key in
# GET /v1/api-keys and revokes it, after which every request is (rightly)
# 401 and nothing else is tested. Revocation is covered by api_key_rights.rs.
failed=0
run customer "$customer_key" "$customer_secret" "" || failed=1
run operator "$admin_key" "$admin_secret" "$customer" || failed=1
exit "$failed"
