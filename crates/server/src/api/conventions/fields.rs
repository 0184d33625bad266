//! Constraints of body fields the server checks by field name — ids with
//! their prefix, non-empty names, e-mail and IP formats, URLs, card expiry
//! months, amounts in minor units, event selectors — written once into
//! every schema of the document that has such a field.
//!
//! The request types carry these fields as plain strings and parse them
//! into the core's newtypes (`CustomerId`, `Money`, `EventSelector`, …), so
//! the derive cannot see the rules; this table states them beside the
//! parsers' names instead of on every struct.

use serde_json::{json, Map, Value};

use inflow_core::webhook::event_types::EVENT_TYPES;

/// Merge the rule for each known field name into every object schema, and
/// give event selectors their values.
pub fn constrain(document: &mut Value) {
    if let Some(enabled) = document.pointer_mut("/components/schemas/EnabledEventsInput") {
        *enabled = json!({
            "description": "`\"*\"` for every event, or a list of event types and `resource.*` wildcards.",
            "oneOf": [
                { "type": "string", "enum": ["*"] },
                { "type": "array", "items": event_selector_schema(), "minItems": 1,
                  "maxItems": inflow_core::webhook::event_types::MAX_SELECTORS }
            ]
        });
    }
    if let Some(Value::Array(parameters)) =
        document.pointer_mut("/paths/~1v1~1events/get/parameters")
    {
        for parameter in parameters.iter_mut().filter(|p| p["name"] == "type") {
            parameter["schema"] = event_selector_schema();
        }
    }
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            walk(schema);
        }
    }
}

fn walk(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if let Some(rule) = rule_for(name) {
                merge(property, rule);
            }
            walk(property);
        }
    }
    for key in ["items", "allOf", "oneOf", "anyOf"] {
        match object.get_mut(key) {
            Some(Value::Array(items)) => items.iter_mut().for_each(walk),
            Some(item @ Value::Object(_)) => walk(item),
            _ => {}
        }
    }
}

/// Add `rule`'s keywords to a property of the rule's JSON type (nullable
/// or not); a `$ref` or a property of another type is left alone.
fn merge(property: &mut Value, (kind, rule): (&str, Value)) {
    let Some(target) = property.as_object_mut() else {
        return;
    };
    let has_kind = match target.get("type") {
        Some(Value::String(t)) => t == kind,
        Some(Value::Array(types)) => types.iter().any(|t| t == kind),
        _ => false,
    };
    if let (true, Value::Object(keywords)) = (has_kind, rule) {
        extend(target, keywords);
    }
}

fn extend(target: &mut Map<String, Value>, keywords: Map<String, Value>) {
    for (key, value) in keywords {
        target.insert(key, value);
    }
}

fn id_pattern(prefix: &str) -> (&'static str, Value) {
    (
        "string",
        json!({ "pattern": format!("^{prefix}_[0-9a-f]{{32}}$") }),
    )
}

/// A host name of ASCII labels, an optional port, path and query of the
/// characters RFC 3986 allows (others percent-encoded): what the webhook URL
/// parser takes, short of IP-literal hosts and internationalised domains.
const URL_PATTERN: &str = "^https?://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?(\\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$";

/// Text the API stores and shows back may not hold control characters
/// (C0, DEL or C1: what `char::is_control` refuses).
const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Required text: no control characters and something besides spaces
/// (the server trims before checking that it is not empty).
const NON_BLANK_TEXT: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Text written into a NACHA field of `max` characters: printable ASCII
/// without leading or trailing spaces, not all zeros.
fn nacha_text(max: usize) -> Value {
    json!({
        "minLength": 1,
        "maxLength": max,
        "allOf": [{ "pattern": "^[!-~]([ -~]*[!-~])?$" }, { "pattern": "[!-/1-~]" }]
    })
}

fn rule_for(field: &str) -> Option<(&'static str, Value)> {
    Some(match field {
        "customerId" => id_pattern("cus"),
        "destinationAccountId" | "accountId" => id_pattern("acc"),
        "paymentMethodId" => id_pattern("pm"),
        "counterpartyId" => id_pattern("cpt"),
        "collectionId" => id_pattern("col"),
        "scheduleId" => id_pattern("sch"),
        "eventId" => id_pattern("evt"),
        "endpointId" => id_pattern("we"),
        "externalId" | "paymentMethodExternalId" | "destinationAccountExternalId" => {
            ("string", json!({ "pattern": "^[!-~]{1,128}$" }))
        }
        "name" | "holderName" | "evidenceRef" | "reason" | "purpose" | "reference"
        | "statusReason" => (
            "string",
            json!({ "minLength": 1, "pattern": NON_BLANK_TEXT }),
        ),
        "description" => ("string", json!({ "pattern": NO_CONTROL_CHARACTERS })),
        "currency" => ("string", json!({ "enum": ["USD"] })),
        "email" => ("string", json!({ "format": "email" })),
        "ipAddress" => (
            "string",
            json!({ "anyOf": [{ "format": "ipv4" }, { "format": "ipv6" }] }),
        ),
        "url" => ("string", json!({ "pattern": URL_PATTERN })),
        "achFixed"
        | "achSameDaySurcharge"
        | "achPercentageMin"
        | "achPercentageMax"
        | "achReturnFee"
        | "cardFixed"
        | "cardDisputeFee" => (
            "integer",
            json!({ "minimum": 0, "maximum": inflow_core::fees::MAX_FEE_MINOR }),
        ),
        "achPercentageBps" | "cardPercentageBps" => (
            "integer",
            json!({ "minimum": 0, "maximum": inflow_core::fees::MAX_BASIS_POINTS }),
        ),
        "achCompanyName" | "companyName" => ("string", nacha_text(16)),
        "companyEntryDescription" => ("string", nacha_text(10)),
        "achCompanyId" => (
            "string",
            json!({ "allOf": [{ "pattern": "^[A-Za-z0-9]{10}$" }, { "pattern": "[1-9A-Za-z]" }] }),
        ),
        // An `[[odfi]]` profile's id; it must also be configured.
        "odfiId" => ("string", json!({ "pattern": "^[a-z0-9_-]{1,32}$" })),
        // Money: minor units as a string of digits without leading zeros.
        "value" => ("string", json!({ "pattern": "^(0|[1-9][0-9]{0,9})$" })),
        "expMonth" => ("integer", json!({ "minimum": 1, "maximum": 12 })),
        "expYear" => ("integer", json!({ "minimum": 2000, "maximum": 9999 })),
        "overlapHours" => ("integer", json!({ "minimum": 0, "maximum": 168 })),
        "metadata" => (
            "object",
            json!({
                "maxProperties": 50,
                "propertyNames": { "minLength": 1, "maxLength": 40 },
                "additionalProperties": { "type": "string", "maxLength": 500 }
            }),
        ),
        "allowedCompanyNames" => (
            "array",
            json!({
                "maxItems": 20,
                "items": { "type": "string", "minLength": 1, "maxLength": 16,
                           "pattern": "^[ -~]*[!-/1-~][ -~]*$" }
            }),
        ),
        _ => return None,
    })
}

/// `"*"`, `resource.*` or an event type: what `enabledEvents` items and the
/// events list's `type` filter take.
pub fn event_selector_schema() -> Value {
    let mut values: Vec<String> = vec!["*".to_owned()];
    let mut resources: Vec<&str> = Vec::new();
    for resource in EVENT_TYPES
        .iter()
        .filter_map(|t| t.split_once('.').map(|(r, _)| r))
    {
        if !resources.contains(&resource) {
            resources.push(resource);
        }
    }
    values.extend(resources.iter().map(|r| format!("{r}.*")));
    values.extend(EVENT_TYPES.iter().map(|t| (*t).to_owned()));
    json!({ "type": "string", "enum": values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_to_string_fields_at_any_depth_and_leave_refs_alone() {
        let mut doc = json!({"components": {"schemas": {
            "Req": {"type": "object", "properties": {
                "customerId": {"type": ["string", "null"]},
                "name": {"type": "string"},
                "card": {"type": "object", "properties": {"expMonth": {"type": "integer"}}},
                "paymentMethodId": {"$ref": "#/components/schemas/X"},
                "email": {"type": "integer"}
            }}
        }}});
        constrain(&mut doc);
        let props = &doc["components"]["schemas"]["Req"]["properties"];
        assert_eq!(props["customerId"]["pattern"], "^cus_[0-9a-f]{32}$");
        assert_eq!(props["name"]["minLength"], 1);
        assert_eq!(props["card"]["properties"]["expMonth"]["maximum"], 12);
        assert!(props["paymentMethodId"].get("pattern").is_none());
        assert!(props["email"].get("format").is_none());
    }

    #[test]
    fn event_selectors_list_wildcards_and_every_type_once() {
        let schema = event_selector_schema();
        let values = schema["enum"].as_array().unwrap();
        assert!(values.contains(&json!("*")));
        assert!(values.contains(&json!("collection.*")));
        assert!(values.contains(&json!("collection.returned")));
        let mut unique = values.clone();
        unique.dedup();
        assert_eq!(unique.len(), values.len());
    }
}
