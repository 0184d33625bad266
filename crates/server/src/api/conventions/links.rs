//! OpenAPI `links`: from an operation's success answer to the operations
//! that take what it returned (a created object's `id`). Generated clients
//! can show them, and schemathesis's stateful phase follows them: it
//! creates an object, then reads, changes, cancels or refunds that very
//! object instead of a random id that is always 404.

use serde_json::{json, Value};

/// One link: from `(method, path, status)` to `(method, path)`, the target's
/// `{id}` taken from the answer's body at `pointer`.
struct Link {
    from: (&'static str, &'static str, &'static str),
    name: &'static str,
    to: (&'static str, &'static str),
    pointer: &'static str,
    description: &'static str,
}

const fn link(
    from: (&'static str, &'static str, &'static str),
    name: &'static str,
    to: (&'static str, &'static str),
    description: &'static str,
) -> Link {
    Link {
        from,
        name,
        to,
        pointer: "/id",
        description,
    }
}

const COLLECTION: &str = "/v1/collections/{id}";

const LINKS: &[Link] = &[
    // An ACH debit: read it, cancel it.
    link(
        ("post", "/v1/collections/ach", "201"),
        "GetCollection",
        ("get", COLLECTION),
        "The collection just created.",
    ),
    link(
        ("post", "/v1/collections/ach", "201"),
        "CancelCollection",
        ("post", "/v1/collections/{id}/cancel"),
        "Cancel it before the cutoff puts it in a file.",
    ),
    // A card collection: read it, refund it, list its refunds, void it.
    link(
        ("post", "/v1/collections/card", "201"),
        "GetCollection",
        ("get", COLLECTION),
        "The collection just created.",
    ),
    link(
        ("post", "/v1/collections/card", "201"),
        "RefundCollection",
        ("post", "/v1/collections/{id}/refunds"),
        "Refund all or part of what was captured.",
    ),
    link(
        ("post", "/v1/collections/card", "201"),
        "ListRefunds",
        ("get", "/v1/collections/{id}/refunds"),
        "Its refunds.",
    ),
    link(
        ("post", "/v1/collections/card", "201"),
        "VoidCollection",
        ("post", "/v1/collections/{id}/void"),
        "Void the authorization, or the capture before settlement.",
    ),
    // A refund: read it, and its collection's refunds.
    link(
        ("post", "/v1/collections/{id}/refunds", "201"),
        "GetRefund",
        ("get", "/v1/refunds/{id}"),
        "The refund just created.",
    ),
    Link {
        from: ("post", "/v1/collections/{id}/refunds", "201"),
        name: "ListRefunds",
        to: ("get", "/v1/collections/{id}/refunds"),
        pointer: "/collectionId",
        description: "Every refund of the collection.",
    },
    // A payment method: read it, change it.
    link(
        ("post", "/v1/payment-methods", "201"),
        "GetPaymentMethod",
        ("get", "/v1/payment-methods/{id}"),
        "The payment method just saved.",
    ),
    link(
        ("post", "/v1/payment-methods", "201"),
        "UpdatePaymentMethod",
        ("patch", "/v1/payment-methods/{id}"),
        "Deactivate it, or change its details.",
    ),
    // Other objects: read what was created.
    link(
        ("post", "/v1/customers", "201"),
        "GetCustomer",
        ("get", "/v1/customers/{id}"),
        "The customer just created.",
    ),
    link(
        ("post", "/v1/accounts", "201"),
        "GetAccount",
        ("get", "/v1/accounts/{id}"),
        "The account just created.",
    ),
    link(
        ("post", "/v1/counterparties", "201"),
        "GetCounterparty",
        ("get", "/v1/counterparties/{id}"),
        "The counterparty just created.",
    ),
    link(
        ("post", "/v1/schedules", "201"),
        "GetSchedule",
        ("get", "/v1/schedules/{id}"),
        "The schedule just created.",
    ),
    link(
        ("post", "/v1/webhook-endpoints", "201"),
        "GetWebhookEndpoint",
        ("get", "/v1/webhook-endpoints/{id}"),
        "The endpoint just created (without its secret).",
    ),
];

/// `#/paths/…/method`: a reference to an operation (operation ids repeat
/// across tags, so links name operations by reference).
fn operation_ref(method: &str, path: &str) -> String {
    format!(
        "#/paths/{}/{method}",
        path.replace('~', "~0").replace('/', "~1")
    )
}

/// Add the table's links to the document's responses.
///
/// # Panics
/// If the table names an operation or a response the document lacks (a
/// route renamed without its link): caught by the snapshot test.
pub fn add(document: &mut Value) {
    for l in LINKS {
        let (to_method, to_path) = l.to;
        assert!(
            document["paths"][to_path][to_method].is_object(),
            "link target {to_method} {to_path} is not in the document"
        );
        let (method, path, status) = l.from;
        let response = document["paths"][path][method]["responses"]
            .get_mut(status)
            .unwrap_or_else(|| {
                panic!("link source {method} {path} {status} is not in the document")
            });
        response["links"][l.name] = json!({
            "operationRef": operation_ref(to_method, to_path),
            "parameters": {"id": format!("$response.body#{}", l.pointer)},
            "description": l.description,
        });
    }
}
