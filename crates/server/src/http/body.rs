//! Parsing request bodies and query strings into typed requests, with
//! errors that name the offending field (`param`).

use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorType};

/// Parse a JSON body. Malformed JSON, unknown fields, missing fields and
/// wrong types each become a 400 whose `param` is the field's JSON path.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "body_required",
            "the request needs a JSON object body",
            "body",
        ));
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let is_json = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        return Err(if is_json {
            ApiError::invalid("invalid_field", "the body must be a JSON object", "body")
        } else {
            ApiError::invalid("malformed_json", "the body is not valid JSON", "body")
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        let valid_json = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        if (inner.is_syntax() || inner.is_eof()) && !valid_json {
            return ApiError::invalid(
                "malformed_json",
                format!("the body is not valid JSON: {message}"),
                "body",
            );
        }
        let (code, field) = if let Some(name) = quoted_after(&message, "unknown field `") {
            ("unknown_field", join_path(&path, name))
        } else if let Some(name) = quoted_after(&message, "missing field `") {
            ("missing_field", join_path(&path, name))
        } else {
            (
                "invalid_field",
                if path == "." { "body".to_owned() } else { path },
            )
        };
        let message = without_echoed_value(&strip_position(&message));
        ApiError::invalid(code, format!("{field}: {message}"), field)
    })
}

/// Parse a query string the same way.
pub fn parse_query<T: DeserializeOwned>(query: Option<&str>) -> Result<T, ApiError> {
    let raw = query.unwrap_or("");
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = quoted_after(&message, "unknown field `")
            .or_else(|| quoted_after(&message, "missing field `"))
            .map(str::to_owned)
            .unwrap_or(path);
        ApiError::invalid(
            "invalid_query_parameter",
            format!("{field}: {message}"),
            field,
        )
    })
}

fn quoted_after<'a>(message: &'a str, marker: &str) -> Option<&'a str> {
    let start = message.find(marker)? + marker.len();
    let rest = &message[start..];
    rest.find('`').map(|end| &rest[..end])
}

fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "." {
        name.to_owned()
    } else if parent == name || parent.ends_with(&format!(".{name}")) {
        parent.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// serde_json appends " at line 1 column 23"; the param already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// serde's "invalid type: integer `4242…`, expected a string" repeats the
/// value sent; a card number sent as a number must not come back in an
/// error (or reach a log through it), so only its kind is kept.
fn without_echoed_value(message: &str) -> String {
    for head in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(head) {
            let kind = rest.split([' ', ',']).next().unwrap_or_default();
            let tail = rest
                .find(", expected")
                .map(|i| &rest[i..])
                .unwrap_or_default();
            return format!("{head}{kind}{tail}");
        }
    }
    message.to_owned()
}

/// 413 for bodies over the configured limit.
pub fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorType::InvalidRequestError,
        "body_too_large",
        format!("request bodies are limited to {limit} bytes"),
    )
    .with_param("body")
}

/// For PATCH fields where `null` means "remove it": with `#[serde(default)]`
/// an absent field is `None`, `null` is `Some(None)`, a value `Some(Some(v))`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn type_errors_name_the_kind_but_never_repeat_the_value() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Card {
            number: String,
            month: u8,
        }
        let e = parse_json::<Card>(br#"{"number": 4242424242424242, "month": 1}"#).unwrap_err();
        assert!(!e.message.contains("4242"), "{}", e.message);
        assert!(
            e.message
                .contains("invalid type: integer, expected a string"),
            "{}",
            e.message
        );
        let e = parse_json::<Card>(br#"{"number": "x", "month": 4242424242}"#).unwrap_err();
        assert!(!e.message.contains("4242"), "{}", e.message);
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        routing_number: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        us_bank_account: Option<Inner>,
        limit: Option<u32>,
    }

    fn err(body: &str) -> ApiError {
        parse_json::<Outer>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn names_the_field_for_each_kind_of_json_mistake() {
        let e = err(r#"{"name":"a","nmae":"b"}"#);
        assert_eq!(
            (e.code.as_str(), e.param.as_deref()),
            ("unknown_field", Some("nmae"))
        );
        let e = err(r#"{}"#);
        assert_eq!(
            (e.code.as_str(), e.param.as_deref()),
            ("missing_field", Some("name"))
        );
        let e = err(r#"{"name":5}"#);
        assert_eq!(
            (e.code.as_str(), e.param.as_deref()),
            ("invalid_field", Some("name"))
        );
        let e = err(r#"{"name":"a","usBankAccount":{"routingNumber":1}}"#);
        assert_eq!(e.param.as_deref(), Some("usBankAccount.routingNumber"));
        let e = err(r#"{"name":"a","usBankAccount":{"routing":"1"}}"#);
        assert_eq!(e.param.as_deref(), Some("usBankAccount.routing"));
        let e = err(r#"{"name":"a","limit":-1}"#);
        assert_eq!(e.param.as_deref(), Some("limit"));
        let e = err(r#"{"name":"#);
        assert_eq!(
            (e.code.as_str(), e.param.as_deref()),
            ("malformed_json", Some("body"))
        );
        let e = err("");
        assert_eq!(e.code, "body_required");
        let e = err("[1]");
        assert_eq!(e.param.as_deref(), Some("body"));
        assert!(e.status.is_client_error());
    }
}
