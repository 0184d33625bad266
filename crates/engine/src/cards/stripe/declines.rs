//! Stripe's decline codes as Inflow's. The collection keeps Inflow's code
//! (`decline.code`) and a message that ends with Stripe's own codes for
//! support (`[stripe: card_declined/insufficient_funds]`).

/// Inflow's decline code for Stripe's `code` / `decline_code`.
pub fn inflow_code(code: &str, decline_code: Option<&str>) -> &'static str {
    let specific = decline_code.unwrap_or(code);
    match specific {
        "insufficient_funds" | "card_velocity_exceeded" | "withdrawal_count_limit_exceeded" => {
            "insufficient_funds"
        }
        "expired_card" => "expired_card",
        "incorrect_cvc" | "invalid_cvc" => "incorrect_cvc",
        "processing_error" | "issuer_not_available" | "try_again_later" | "reenter_transaction" => {
            "processing_error"
        }
        "incorrect_number" | "invalid_number" | "invalid_account" => "incorrect_number",
        "lost_card" | "stolen_card" | "pickup_card" | "fraudulent" | "restricted_card"
        | "merchant_blacklist" | "security_violation" => "card_declined",
        "authentication_required" => "authentication_required",
        _ => match code {
            "expired_card" => "expired_card",
            "incorrect_cvc" | "invalid_cvc" => "incorrect_cvc",
            "processing_error" => "processing_error",
            "incorrect_number" | "invalid_number" => "incorrect_number",
            _ => "generic_decline",
        },
    }
}

/// The message kept on the collection: Stripe's text and its codes.
pub fn message(message: &str, code: &str, decline_code: Option<&str>) -> String {
    match decline_code {
        Some(d) => format!("{message} [stripe: {code}/{d}]"),
        None => format!("{message} [stripe: {code}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_decline_codes_map_to_inflow_codes() {
        let cases = [
            (
                "card_declined",
                Some("insufficient_funds"),
                "insufficient_funds",
            ),
            ("card_declined", Some("generic_decline"), "generic_decline"),
            ("card_declined", Some("do_not_honor"), "generic_decline"),
            ("card_declined", None, "generic_decline"),
            ("card_declined", Some("stolen_card"), "card_declined"),
            ("expired_card", None, "expired_card"),
            ("incorrect_cvc", None, "incorrect_cvc"),
            ("processing_error", None, "processing_error"),
            ("incorrect_number", None, "incorrect_number"),
            ("authentication_required", None, "authentication_required"),
        ];
        for (code, decline, want) in cases {
            assert_eq!(inflow_code(code, decline), want, "{code}/{decline:?}");
        }
        assert_eq!(
            message(
                "Your card was declined.",
                "card_declined",
                Some("lost_card")
            ),
            "Your card was declined. [stripe: card_declined/lost_card]"
        );
    }
}
