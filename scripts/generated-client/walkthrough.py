"""The README walk-through's main steps, through a Python client generated
from Inflow's /openapi.json by openapi-python-client. Only the signing
(an httpx auth flow, below) is written by hand.

    python walkthrough.py <base-url> <api-key> <signing-secret>

Exits non-zero, saying which step failed, when anything is not as the API
documents it.
"""

import datetime
import hashlib
import hmac
import sys
import time
import uuid

import httpx

from inflow_client import AuthenticatedClient
from inflow_client.api.accounts import create as create_account
from inflow_client.api.collections import cancel as cancel_collection
from inflow_client.api.collections import create_ach, create_card, refund
from inflow_client.api.collections import list_ as list_collections
from inflow_client.api.counterparties import create as create_counterparty
from inflow_client.api.payment_methods import create as create_payment_method
from inflow_client.models import (
    AccountType,
    AchEntryType,
    AuthorizationInput,
    AuthorizationType,
    BillingAddress,
    CancelRequest,
    CardInput,
    CardTxType,
    CollectionStatus,
    CounterpartyKind,
    CreateAccountRequest,
    CreateCardCollectionRequest,
    CreateCollectionRequest,
    CreateCounterpartyRequest,
    CreatePaymentMethodRequest,
    HolderType,
    MoneyInput,
    MoneyInputCurrency,
    PaymentMethodType,
    Rail,
    RefundRequest,
    UsBankAccountInput,
)


class InflowSignature(httpx.Auth):
    """Signature v2 over the exact request sent (see the README, step 2)."""

    def __init__(self, secret):
        self.secret = secret.encode()

    def auth_flow(self, request):
        timestamp = str(int(time.time()))
        nonce = uuid.uuid4().hex
        path = request.url.raw_path.decode()
        lines = [
            "v2",
            timestamp,
            nonce,
            request.method,
            path,
            request.headers.get("Idempotency-Key", ""),
            request.headers.get("Inflow-Customer", ""),
        ]
        message = "\n".join(lines).encode() + b"\n" + (request.content or b"")
        request.headers["X-Timestamp"] = timestamp
        request.headers["X-Nonce"] = nonce
        request.headers["X-Signature"] = "v2=" + hmac.new(self.secret, message, hashlib.sha256).hexdigest()
        yield request


def expect(step, response, status):
    if response.status_code != status or response.parsed is None:
        sys.exit(f"{step}: expected {status}, got {response.status_code}: {response.content!r}")
    print(f"{step}: {status}")
    return response.parsed


def usd(cents):
    return MoneyInput(currency=MoneyInputCurrency.USD, value=str(cents))


def main():
    base, key, secret = sys.argv[1:4]
    client = AuthenticatedClient(base_url=base, token=key, httpx_args={"auth": InflowSignature(secret)})

    account = expect("destination account", create_account.sync_detailed(
        client=client, body=CreateAccountRequest(name="Operating account")), 201)
    payer = expect("counterparty", create_counterparty.sync_detailed(
        client=client, body=CreateCounterpartyRequest(
            name="Jane Doe", kind=CounterpartyKind.INDIVIDUAL, email="jane@example.com")), 201)
    bank = expect("bank payment method", create_payment_method.sync_detailed(
        client=client, idempotency_key="pm-jane-1", body=CreatePaymentMethodRequest(
            type_=PaymentMethodType.US_BANK_ACCOUNT, counterparty_id=payer.id,
            us_bank_account=UsBankAccountInput(
                routing_number="121042882", account_number="000123456789",
                account_type=AccountType.CHECKING, holder_name="Jane Doe",
                holder_type=HolderType.INDIVIDUAL))), 201)

    debit = expect("ACH debit", create_ach.sync_detailed(
        client=client, idempotency_key="debit-1", body=CreateCollectionRequest(
            amount=usd(2500), destination_account_id=account.id, payment_method_id=bank.id,
            type_=AchEntryType.DEBIT,
            authorization=AuthorizationInput(
                type_=AuthorizationType.ONLINE,
                obtained_at=datetime.datetime.now(datetime.timezone.utc),
                ip_address="203.0.113.7"))), 201)
    cancelled = expect("cancel", cancel_collection.sync_detailed(
        client=client, id=debit.id, idempotency_key="cancel-1",
        body=CancelRequest(reason="customer asked")), 200)
    if cancelled.status != CollectionStatus.CANCELLED:
        sys.exit(f"cancel: status is {cancelled.status}")

    page = expect("list cancelled ACH collections", list_collections.sync_detailed(
        client=client, rail=Rail.ACH, status=CollectionStatus.CANCELLED, limit=10), 200)
    if [c.id for c in page.data] != [debit.id]:
        sys.exit(f"list: expected only {debit.id}, got {[c.id for c in page.data]}")

    card = expect("card payment method", create_payment_method.sync_detailed(
        client=client, idempotency_key="pm-card-1", body=CreatePaymentMethodRequest(
            type_=PaymentMethodType.CARD, counterparty_id=payer.id,
            card=CardInput(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123",
                           holder_name="Jane Doe",
                           billing_address=BillingAddress(postal_code="94107")))), 201)
    sale = expect("card sale", create_card.sync_detailed(
        client=client, idempotency_key="sale-1", body=CreateCardCollectionRequest(
            amount=usd(1999), destination_account_id=account.id, payment_method_id=card.id,
            type_=CardTxType.SALE)), 201)
    refunded = expect("refund", refund.sync_detailed(
        client=client, id=sale.id, idempotency_key="refund-1",
        body=RefundRequest(amount=usd(500), reason="damaged item")), 201)
    if refunded.amount.value != "500" or refunded.collection.refunded_amount.value != "500":
        sys.exit(f"refund: expected 500 refunded, got {refunded.amount.value}")
    print("generated client walk-through: ok")


main()
