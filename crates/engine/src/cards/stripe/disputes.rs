//! Stripe's disputes as Inflow's dispute reports: from the dispute list
//! (reconciliation) and from a verified webhook event
//! (`charge.dispute.*`). localstripe has no disputes: this is tested with
//! hand-written Stripe dispute objects.

use serde_json::Value;

use super::super::disputes::{DisputeReport, DisputeStage};
use super::super::processor::ProcessorError;
use super::client::Failure;
use super::StripeProcessor;

/// The report a Stripe dispute object makes; `None` for an inquiry
/// (`warning_*`: no money has moved) or an object without a payment.
pub fn report(dispute: &Value) -> Option<DisputeReport> {
    let stage = match dispute["status"].as_str()? {
        "needs_response" | "under_review" => DisputeStage::Open,
        "won" => DisputeStage::Won,
        "lost" => DisputeStage::Lost,
        _ => return None,
    };
    Some(DisputeReport {
        dispute_id: dispute["id"].as_str()?.to_owned(),
        processor_ref: dispute["payment_intent"].as_str()?.to_owned(),
        amount_minor: dispute["amount"].as_i64().filter(|a| *a > 0)?,
        reason: dispute["reason"]
            .as_str()
            .unwrap_or("unspecified")
            .to_owned(),
        stage,
    })
}

/// The report a webhook event makes: a `charge.dispute.*` event's dispute.
pub fn report_from_event(event: &Value) -> Option<DisputeReport> {
    let kind = event["type"].as_str()?;
    if !kind.starts_with("charge.dispute.") {
        return None;
    }
    report(&event["data"]["object"])
}

impl StripeProcessor {
    /// The latest 100 disputes of the account. A Stripe without a dispute
    /// list (404: localstripe) answers none.
    pub(super) async fn dispute_list(&self) -> Result<Vec<DisputeReport>, ProcessorError> {
        match self.client.get("/v1/disputes", &[("limit", "100")]).await {
            Ok(list) => Ok(list["data"]
                .as_array()
                .map(|ds| ds.iter().filter_map(report).collect())
                .unwrap_or_default()),
            Err(Failure::Refused { status: 404, .. }) => Ok(Vec::new()),
            Err(f) => Err(f.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A dispute as Stripe documents the object (hand-written).
    fn dispute(status: &str) -> Value {
        json!({"id": "dp_1Q2w3E4r5T6y7U8i", "object": "dispute", "amount": 2500, "currency": "usd",
            "charge": "ch_3Q2w3E4r5T6y7U8i", "payment_intent": "pi_3Q2w3E4r5T6y7U8i",
            "reason": "fraudulent", "status": status, "is_charge_refundable": false,
            "balance_transactions": [], "livemode": false})
    }

    #[test]
    fn stripe_dispute_statuses_map_to_open_won_and_lost_and_inquiries_are_skipped() {
        let open = report(&dispute("needs_response")).unwrap();
        assert_eq!(
            open,
            DisputeReport {
                dispute_id: "dp_1Q2w3E4r5T6y7U8i".into(),
                processor_ref: "pi_3Q2w3E4r5T6y7U8i".into(),
                amount_minor: 2500,
                reason: "fraudulent".into(),
                stage: DisputeStage::Open,
            }
        );
        assert_eq!(
            report(&dispute("under_review")).unwrap().stage,
            DisputeStage::Open
        );
        assert_eq!(report(&dispute("won")).unwrap().stage, DisputeStage::Won);
        assert_eq!(report(&dispute("lost")).unwrap().stage, DisputeStage::Lost);
        assert_eq!(report(&dispute("warning_needs_response")), None);
        let event = json!({"id": "evt_1", "object": "event", "type": "charge.dispute.closed",
            "data": {"object": dispute("won")}});
        assert_eq!(report_from_event(&event).unwrap().stage, DisputeStage::Won);
        let other = json!({"type": "payment_intent.succeeded", "data": {"object": {}}});
        assert_eq!(report_from_event(&other), None);
    }
}
