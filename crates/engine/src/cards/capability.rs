//! What the configured processor can do, checked before anything is
//! reserved: a card request on a node without a processor is
//! `503 card_processing_unavailable`; an operation the processor does not
//! offer (a force with an outside approval code, on Stripe) is
//! `422 capability_not_supported` naming the processor.

use inflow_core::card::CardTxType;

use super::error::{unprocessable, CardError};
use super::processor::Capabilities;

/// Refuse every card request when card processing is off.
pub fn require_enabled(caps: &Capabilities) -> Result<(), CardError> {
    if caps.enabled {
        return Ok(());
    }
    Err(CardError::ProcessingUnavailable(
        "no card processor is configured on this node (production mode never simulates one): \
         set [cards] processor = \"stripe\" with its secret key"
            .into(),
    ))
}

/// Refuse a new transaction of `tx_type` the processor does not offer.
pub fn require_for(caps: &Capabilities, tx_type: CardTxType) -> Result<(), CardError> {
    require_enabled(caps)?;
    if tx_type == CardTxType::Force && !caps.force_with_approval_code {
        return Err(unprocessable(
            "capability_not_supported",
            format!(
                "the card processor `{}` does not accept a force with an approval code obtained elsewhere; \
                 run an authorization and capture it instead",
                caps.processor
            ),
            "type",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_FORCE: Capabilities = Capabilities {
        processor: "stripe",
        enabled: true,
        force_with_approval_code: false,
    };

    #[test]
    fn a_force_is_refused_by_a_processor_without_it_and_names_the_processor() {
        let e = require_for(&NO_FORCE, CardTxType::Force).unwrap_err();
        match e {
            CardError::Refused(r) => {
                assert_eq!(
                    (r.kind, r.code, r.field.as_deref()),
                    (
                        inflow_core::RefusalKind::Unprocessable,
                        "capability_not_supported",
                        Some("type")
                    )
                );
                assert!(r.message.contains("stripe"), "{}", r.message);
            }
            e => panic!("{e:?}"),
        }
        assert!(require_for(&NO_FORCE, CardTxType::Sale).is_ok());
    }

    #[test]
    fn every_card_request_is_refused_when_processing_is_off() {
        assert!(matches!(
            require_for(&Capabilities::DISABLED, CardTxType::Sale),
            Err(CardError::ProcessingUnavailable(_))
        ));
    }
}
