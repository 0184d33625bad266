//! The answers every operation shares, added to the OpenAPI document in one
//! place rather than repeated on each handler.
//!
//! The authentication layer, the body limit and the idempotency extractor
//! sit in front of every handler, so the statuses they produce (401, 403,
//! 413, 429, 409/422 for `Idempotency-Key`, 400 for a bad query) can come back
//! from any operation they guard; a generated client must know them.

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{
    ContentBuilder, HttpMethod, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder,
};

use inflow_core::collection::Rail;
use utoipa::{PartialSchema, ToSchema};

use crate::api::common::CURSOR_PATTERN;
use crate::http::idempotency::MAX_KEY_LEN;

/// Writes (POST, PUT, PATCH, DELETE all take `Idempotency-Key`) that do
/// not: the inbound upload, the inbound poll and the bank's webhooks
/// deduplicate by content; the cutoff, the clock and a file's retry-upload
/// and mark-uploaded are operator actions whose repetition is harmless (the
/// file actions answer 409 once the file has moved on).
const WITHOUT_IDEMPOTENCY_KEY: &[&str] = &[
    "/v1/ach/inbound",
    "/v1/ach/cutoffs",
    "/v1/ach/inbound/poll",
    "/v1/ach/files/{id}/retry-upload",
    "/v1/ach/files/{id}/mark-uploaded",
    "/v1/sandbox/clock/advance",
    "/v1/processors/stripe/webhooks",
    "/v1/ledger/check",
];

mod fields;
mod links;

/// Operations whose body may be left out (every field has a default).
const OPTIONAL_BODY: &[&str] = &[
    "/v1/collections/{id}/cancel",
    "/v1/collections/{id}/capture",
    "/v1/collections/{id}/void",
    "/v1/collections/{id}/refunds",
    "/v1/events/{id}/redeliver",
    "/v1/webhook-endpoints/{id}/rotate-secret",
    "/v1/schedules/{id}/cancel",
    "/v1/schedules/{id}/pause",
];

/// Add the shared parameters and responses to every operation of `api`.
pub fn apply(api: &mut OpenApi) {
    add_shared_answers(api);
}

/// Write the constraints the server checks by field name into the JSON
/// document (some of them, like `propertyNames`, have no place in utoipa's
/// model, so this works on the document as served).
pub fn constrain_fields(document: &mut serde_json::Value) {
    fields::constrain(document);
}

/// Link each create operation's answer to the operations that take the
/// created object's id (see `links.rs`).
pub fn add_links(document: &mut serde_json::Value) {
    links::add(document);
}

fn add_shared_answers(api: &mut OpenApi) {
    // Query parameters refer to these; no request or response body does.
    let components = api.components.get_or_insert_with(Default::default);
    components
        .schemas
        .entry(<Rail as ToSchema>::name().into_owned())
        .or_insert_with(<Rail as PartialSchema>::schema);
    for (path, item) in api.paths.paths.iter_mut() {
        for method in [
            HttpMethod::Get,
            HttpMethod::Post,
            HttpMethod::Put,
            HttpMethod::Patch,
            HttpMethod::Delete,
        ] {
            let operation = match method {
                HttpMethod::Get => item.get.as_mut(),
                HttpMethod::Post => item.post.as_mut(),
                HttpMethod::Put => item.put.as_mut(),
                HttpMethod::Patch => item.patch.as_mut(),
                HttpMethod::Delete => item.delete.as_mut(),
                _ => None,
            };
            if let Some(operation) = operation {
                apply_to_operation(path, &method, operation);
            }
        }
    }
}

fn apply_to_operation(path: &str, method: &HttpMethod, operation: &mut Operation) {
    let public = operation.security.as_ref().is_some_and(|s| s.is_empty());
    if !public {
        add_error(
            operation,
            "401",
            "No API key, an unknown or revoked key, or a missing or wrong request signature.",
        );
        add_error(
            operation,
            "403",
            "The key may not do this: an operator-only endpoint, or a right the key lacks.",
        );
        operation
            .responses
            .responses
            .entry("429".to_owned())
            .or_insert_with(|| RefOr::T(rate_limited_response()));
    }
    if OPTIONAL_BODY.contains(&path) {
        if let Some(body) = operation.request_body.as_mut() {
            body.required = Some(Required::False);
        }
    }
    if operation.request_body.is_some() {
        add_error(
            operation,
            "404",
            "The object, or an object the body refers to, does not exist.",
        );
        add_error(
            operation,
            "409",
            "The request conflicts with the object's current state.",
        );
        add_error(
            operation,
            "400",
            "The request is invalid; `param` names the field.",
        );
        add_error(
            operation,
            "413",
            "The request body is larger than the server accepts.",
        );
    }
    bound_query_parameters(path, operation);
    let writes = !matches!(method, HttpMethod::Get);
    if writes && !WITHOUT_IDEMPOTENCY_KEY.contains(&path) {
        add_idempotency_key(operation);
    }
}

/// Any query parameter can be refused; each one's schema says what the
/// server's parser takes (the same parsers serve every list, so one table).
fn bound_query_parameters(path: &str, operation: &mut Operation) {
    let Some(parameters) = operation.parameters.as_mut() else {
        return;
    };
    let mut has_query = false;
    for parameter in parameters.iter_mut() {
        if !matches!(parameter.parameter_in, ParameterIn::Query) {
            continue;
        }
        has_query = true;
        if let Some(schema) = query_parameter_schema(path, &parameter.name) {
            parameter.schema = Some(schema);
        }
    }
    if has_query {
        add_error(
            operation,
            "400",
            "A query parameter is invalid; `param` names it.",
        );
    }
}

/// An object id: its prefix, `_`, then 32 lowercase hex digits.
fn id_of(prefix: &str) -> RefOr<Schema> {
    pattern(&format!("^{prefix}_[0-9a-f]{{32}}$"))
}

fn pattern(regex: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(regex))
        .into()
}

fn formatted(format: KnownFormat) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(format)))
        .into()
}

fn one_of_enums(names: &[&str]) -> RefOr<Schema> {
    let mut any = OneOfBuilder::new();
    for name in names {
        any = any.item(Ref::from_schema_name(*name));
    }
    any.into()
}

fn query_parameter_schema(path: &str, name: &str) -> Option<RefOr<Schema>> {
    Some(match (path, name) {
        (_, "limit") => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(200))
            .into(),
        ("/v1/accounts/{id}/entries", "startingAfter") => pattern("^len_[1-9][0-9]{0,17}$"),
        (_, "startingAfter") => pattern(CURSOR_PATTERN),
        (_, "customerId") => id_of("cus"),
        (_, "paymentMethodId") => id_of("pm"),
        (_, "counterpartyId") => id_of("cpt"),
        (_, "eventId") => id_of("evt"),
        ("/v1/audit-events", "objectId") => pattern("^[!-~]{1,100}$"),
        ("/v1/audit-events", "action") => pattern("^[a-z0-9_.]{1,100}$"),
        (_, "actorKeyId") => id_of("key"),
        (_, "objectId") => pattern("^[a-z]+_[0-9a-f]{32}$"),
        (_, "createdFrom" | "createdTo") => formatted(KnownFormat::DateTime),
        (_, "effectiveDateFrom" | "effectiveDateTo" | "date") => formatted(KnownFormat::Date),
        (_, "last4") => pattern("^[0-9]{4}$"),
        (_, "rail") => Ref::from_schema_name("Rail").into(),
        (_, "secCode") => Ref::from_schema_name("SecCode").into(),
        (_, "brand") => Ref::from_schema_name("CardBrand").into(),
        ("/v1/collections", "status") => one_of_enums(&["CollectionStatus", "CardStatus"]),
        ("/v1/collections", "type") => one_of_enums(&["AchEntryType", "CardTxType"]),
        ("/v1/schedules", "status") => Ref::from_schema_name("ScheduleStatus").into(),
        ("/v1/webhook-endpoints", "status") => Ref::from_schema_name("EndpointStatus").into(),
        (_, "status") if path.ends_with("/deliveries") => {
            Ref::from_schema_name("DeliveryStatus").into()
        }
        ("/v1/reports/daily-files/{id}/content", "format") => ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["csv", "jsonl"]))
            .into(),
        ("/v1/ach/files", "direction") => ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["outbound", "inbound"]))
            .into(),
        _ => return None,
    })
}

fn add_idempotency_key(operation: &mut Operation) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    parameters.retain(|p| !p.name.eq_ignore_ascii_case("Idempotency-Key"));
    parameters.push(idempotency_key_parameter());
    add_error(operation, "400", "The request is invalid (an `Idempotency-Key` that is not 1–255 printable ASCII characters included); `param` names what.");
    add_error(operation, "409", "A request with this `Idempotency-Key` is still being processed (see `Retry-After`), or the request conflicts with the object's state.");
    add_error(operation, "422", "This `Idempotency-Key` was already used with a different request, or the request cannot be carried out.");
}

fn idempotency_key_parameter() -> Parameter {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_KEY_LEN))
        .pattern(Some(format!("^[!-~]{{1,{MAX_KEY_LEN}}}$")));
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes the request safe to retry: 1 to 255 printable ASCII characters, no spaces. \
             A retry with the same key and body gets the first answer.",
        ))
        .schema(Some(schema))
        .build()
}

/// Document `status` with the error object, unless the operation already does.
fn add_error(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::T(error_response(description)));
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// `429 rate_limited` with the headers a client backs off by.
fn rate_limited_response() -> Response {
    let mut response = error_response(
        "The API key went over its rate limit (`rate_limited`); nothing was done. \
         `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` also come with \
         every authenticated answer when limits are on.",
    );
    for (name, description) in [
        ("Retry-After", "Seconds to wait before retrying."),
        (
            "RateLimit-Limit",
            "Requests the key may make at once (the burst).",
        ),
        ("RateLimit-Remaining", "Requests left now (0 here)."),
        (
            "RateLimit-Reset",
            "Seconds until the next request is allowed.",
        ),
    ] {
        let header = utoipa::openapi::HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .description(Some(description))
            .build();
        response.headers.insert(name.to_owned(), header);
    }
    response
}
