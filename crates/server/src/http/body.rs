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
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(path) = misplaced_array(&value, "") {
            return Err(ApiError::invalid(
                "invalid_field",
                format!("{path}: invalid type: sequence, expected an object"),
                path,
            ));
        }
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

/// serde accepts a JSON array for a struct (its fields in order), which the
/// API documents as an object: `{"achLimits": [null, null]}` would pass. A
/// list is accepted only under a field some schema of the API declares as
/// an array; the first other one found is returned with its path.
fn misplaced_array(value: &serde_json::Value, path: &str) -> Option<String> {
    let serde_json::Value::Object(fields) = value else {
        return None;
    };
    for (name, child) in fields {
        let here = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        match child {
            serde_json::Value::Array(items) => {
                if !array_fields().contains(name.as_str()) {
                    return Some(here);
                }
                for (i, item) in items.iter().enumerate() {
                    if let Some(found) = misplaced_array(item, &format!("{here}[{i}]")) {
                        return Some(found);
                    }
                }
            }
            serde_json::Value::Object(_) if name != "metadata" => {
                if let Some(found) = misplaced_array(child, &here) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

/// The names of the properties that are arrays in the API's schemas.
fn array_fields() -> &'static std::collections::HashSet<String> {
    static FIELDS: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        let document = crate::api::openapi();
        let mut names = std::collections::HashSet::new();
        collect_array_fields(&document, &document, &mut names);
        names
    })
}

fn collect_array_fields(
    document: &serde_json::Value,
    value: &serde_json::Value,
    names: &mut std::collections::HashSet<String>,
) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                for (name, schema) in properties {
                    if may_be_array(document, schema, 0) {
                        names.insert(name.clone());
                    }
                }
            }
            map.values()
                .for_each(|v| collect_array_fields(document, v, names));
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|v| collect_array_fields(document, v, names)),
        _ => {}
    }
}

/// Whether `schema` (following `$ref`s and `oneOf`/`anyOf`/`allOf`) admits a list.
fn may_be_array(document: &serde_json::Value, schema: &serde_json::Value, depth: u8) -> bool {
    if depth > 8 {
        return false;
    }
    let is_array = |t: &serde_json::Value| match t {
        serde_json::Value::String(t) => t == "array",
        serde_json::Value::Array(ts) => ts.iter().any(|t| t == "array"),
        _ => false,
    };
    if schema.get("type").is_some_and(is_array) {
        return true;
    }
    if let Some(target) = schema
        .get("$ref")
        .and_then(|r| r.as_str())
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| document.pointer(pointer))
    {
        return may_be_array(document, target, depth + 1);
    }
    ["oneOf", "anyOf", "allOf"].iter().any(|k| {
        schema
            .get(*k)
            .and_then(|v| v.as_array())
            .is_some_and(|items| {
                items
                    .iter()
                    .any(|item| may_be_array(document, item, depth + 1))
            })
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
    fn a_list_where_the_api_documents_an_object_is_refused_naming_the_field() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Limits {
            per_entry_max: Option<String>,
            daily: Option<String>,
        }
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Patch {
            ach_limits: Option<Limits>,
            allowed_company_names: Option<Vec<String>>,
        }
        let e = parse_json::<Patch>(br#"{"achLimits": [null, null]}"#).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("achLimits"));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let ok = parse_json::<Patch>(br#"{"allowedCompanyNames": ["ACME"], "achLimits": {}}"#);
        assert!(ok.is_ok(), "{ok:?}");
    }

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
