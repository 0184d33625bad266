//! The event types Inflow emits, and the selector an endpoint subscribes with.
//!
//! An endpoint's `enabledEvents` is a list of exact types
//! (`collection.completed`), resource wildcards (`collection.*`) or `"*"`
//! for everything. Exact types are checked against [`EVENT_TYPES`] so a typo
//! is refused instead of silently never matching. **A new event type must be
//! added to [`EVENT_TYPES`].**

use crate::ValidationError;

/// Every event type Inflow emits (or will, for rails still being built).
pub const EVENT_TYPES: &[&str] = &[
    "collection.created",
    "collection.updated",
    "collection.scheduled",
    "collection.pending",
    "collection.on_hold",
    "collection.batched",
    "collection.submitted",
    "collection.processing",
    "collection.completed",
    "collection.returned",
    "collection.failed",
    "collection.cancelled",
    "collection.reversed",
    "collection.authorized",
    "collection.declined",
    "collection.captured",
    "collection.voided",
    "collection.refunded",
    "collection.partially_refunded",
    "collection.disputed",
    "collection.dispute_won",
    "collection.dispute_lost",
    "refund.created",
    "refund.succeeded",
    "refund.failed",
    "refund.batched",
    "refund.submitted",
    "refund.completed",
    "refund.returned",
    "reversal.created",
    "reversal.batched",
    "reversal.submitted",
    "reversal.completed",
    "reversal.returned",
    "reversal.cancelled",
    "payment_method.updated",
    "schedule.created",
    "schedule.updated",
    "schedule.paused",
    "schedule.resumed",
    "schedule.cancelled",
    "schedule.completed",
    "schedule.stopped",
    "webhook_endpoint.disabled",
    "api_key.created",
    "api_key.revoked",
    "ach_file.uploaded",
    "ach_file.upload_failed",
    "ach_file.acknowledged",
    "ach_file.acknowledgement_mismatch",
    "ach_file.offset_returned",
    // Alerts (operator events: the operator's endpoints receive them).
    "customer.return_rate_exceeded",
    "job.stalled",
    "ledger.check_failed",
];

/// The most entries an endpoint may list.
pub const MAX_SELECTORS: usize = 64;

fn resource_of(t: &str) -> &str {
    t.split_once('.').map(|(r, _)| r).unwrap_or(t)
}

fn is_known_resource(r: &str) -> bool {
    EVENT_TYPES.iter().any(|t| resource_of(t) == r)
}

/// Which events an endpoint receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSelector(Vec<String>);

impl EventSelector {
    /// Validate a list from the API; `field` names the list (`enabledEvents`).
    pub fn parse(field: &str, items: &[String]) -> Result<Self, ValidationError> {
        if items.is_empty() {
            return Err(ValidationError::new(
                field,
                "required",
                format!("{field} must list at least one event type, or \"*\" for all"),
            ));
        }
        if items.len() > MAX_SELECTORS {
            return Err(ValidationError::new(
                field,
                "too_many_items",
                format!("{field} may list at most {MAX_SELECTORS} entries"),
            ));
        }
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for (i, raw) in items.iter().enumerate() {
            let item = raw.trim();
            let at = format!("{field}[{i}]");
            let ok = if item == "*" {
                true
            } else if let Some(resource) = item.strip_suffix(".*") {
                is_known_resource(resource)
            } else {
                EVENT_TYPES.contains(&item)
            };
            if !ok {
                let resource = resource_of(item);
                let hint: Vec<&str> = EVENT_TYPES
                    .iter()
                    .copied()
                    .filter(|t| resource_of(t) == resource)
                    .collect();
                let message = if hint.is_empty() {
                    format!(
                        "`{}` is not an event type; use \"*\", a resource wildcard such as \"collection.*\", or one of: {}",
                        crate::text::clip(item, 60),
                        EVENT_TYPES.join(", ")
                    )
                } else {
                    format!(
                        "`{}` is not an event type; {resource} events are: {}, or \"{resource}.*\"",
                        crate::text::clip(item, 60),
                        hint.join(", ")
                    )
                };
                return Err(ValidationError::new(at, "unknown_event_type", message));
            }
            if !out.iter().any(|o| o == item) {
                out.push(item.to_owned());
            }
        }
        Ok(Self(out))
    }

    /// Everything.
    pub fn all() -> Self {
        Self(vec!["*".into()])
    }

    /// Wrap a list read back from our own storage.
    pub fn from_trusted(items: Vec<String>) -> Self {
        Self(items)
    }

    pub fn items(&self) -> &[String] {
        &self.0
    }

    /// Does an event of type `event_type` go to this endpoint?
    pub fn matches(&self, event_type: &str) -> bool {
        self.0.iter().any(|s| {
            s == "*"
                || s == event_type
                || s.strip_suffix(".*")
                    .is_some_and(|r| resource_of(event_type) == r && event_type.len() > r.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(items: &[&str]) -> Result<EventSelector, ValidationError> {
        EventSelector::parse(
            "enabledEvents",
            &items.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn wildcards_and_exact_types_match_what_they_say() {
        let s = sel(&["collection.*", "payment_method.updated"]).unwrap();
        assert!(s.matches("collection.completed"));
        assert!(s.matches("payment_method.updated"));
        assert!(!s.matches("schedule.created"));
        assert!(!s.matches("collectionx.created"));
        assert!(sel(&["*"]).unwrap().matches("webhook_endpoint.disabled"));
        let exact = sel(&["collection.returned", "collection.returned"]).unwrap();
        assert_eq!(exact.items().len(), 1, "duplicates collapse");
        assert!(!exact.matches("collection.completed"));
    }

    #[test]
    fn typos_are_refused_with_the_index_and_the_valid_choices() {
        let e = sel(&["collection.completed", "collection.complete"]).unwrap_err();
        assert_eq!(e.field, "enabledEvents[1]");
        assert_eq!(e.code, "unknown_event_type");
        assert!(e.message.contains("collection.completed"), "{}", e.message);
        assert_eq!(
            sel(&["colection.*"]).unwrap_err().code,
            "unknown_event_type"
        );
        assert_eq!(sel(&[]).unwrap_err().code, "required");
    }
}
