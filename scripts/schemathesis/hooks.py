"""Schemathesis hooks for Inflow: sign every request as a real client does.

Inflow authenticates with `Authorization: Bearer <key>` and an HMAC-SHA256
request signature (v2) over the exact bytes sent. The signature must be
computed after schemathesis has serialised the body and the query, so it is
added by a `requests` auth callable, which sees the prepared request.

Environment:
  INFLOW_ST_KEY       API key
  INFLOW_ST_SECRET    its signing secret
  INFLOW_ST_CUSTOMER  optional: the customer an operator key acts for
"""

import hashlib
import hmac
import os
import re
import time
import uuid

import schemathesis


class InflowSignature:
    """A `requests` auth: bearer key, timestamp, nonce and v2 signature."""

    def __init__(self, key, secret, customer):
        self.key = key
        self.secret = secret.encode()
        self.customer = customer

    def __call__(self, request):
        # Schemathesis checks that the API refuses missing or wrong
        # credentials by removing or changing this header: leave those
        # requests unsigned so the server sees them as they are.
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return request
        if self.customer and "Inflow-Customer" not in request.headers:
            request.headers["Inflow-Customer"] = self.customer
        timestamp = str(int(time.time()))
        nonce = uuid.uuid4().hex
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        lines = [
            "v2",
            timestamp,
            nonce,
            request.method.upper(),
            request.path_url,
            request.headers.get("Idempotency-Key", ""),
            request.headers.get("Inflow-Customer", ""),
        ]
        message = "\n".join(lines).encode() + b"\n" + body
        signature = hmac.new(self.secret, message, hashlib.sha256).hexdigest()
        request.headers["X-Timestamp"] = timestamp
        request.headers["X-Nonce"] = nonce
        request.headers["X-Signature"] = f"v2={signature}"
        return request


SIGNER = InflowSignature(
    os.environ["INFLOW_ST_KEY"],
    os.environ["INFLOW_ST_SECRET"],
    os.environ.get("INFLOW_ST_CUSTOMER", ""),
)


PRINTABLE_KEY = re.compile(r"^[!-~]{1,255}$")


def integral_floats_as_integers(value):
    """JSON Schema counts 467.0 as an integer, so schemathesis sends it for
    integer fields; Inflow (like serde and the clients generated from its
    spec) takes integers written as integers. Rewriting an integral float as
    an integer keeps every case exactly as valid or invalid as it was."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {k: integral_floats_as_integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral_floats_as_integers(v) for v in value]
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.body, (dict, list, float)):
        case.body = integral_floats_as_integers(case.body)
    # Generated Idempotency-Keys repeat ("0", "a") across different bodies,
    # and the server rightly answers 422 to a reused key. A real client makes
    # a new key per request; do the same for keys that are valid, and leave
    # invalid ones as generated so their refusal is still tested.
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and PRINTABLE_KEY.match(key):
        headers["Idempotency-Key"] = (uuid.uuid4().hex + key)[:255]
    kwargs["auth"] = SIGNER
