//! Webhook signatures.
//!
//! Every delivery carries `Inflow-Signature: t=<unix seconds>,v1=<hex>`,
//! where the hex is HMAC-SHA256, keyed with the endpoint's signing secret,
//! of the timestamp, a full stop and the raw request body: `"<t>.<body>"`.
//! While a rotated-out secret is still valid the header carries one `v1=`
//! per secret. A receiver accepts the delivery when any `v1=` matches its
//! secret (compared in constant time) and `t` is recent enough.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header name.
pub const SIGNATURE_HEADER: &str = "Inflow-Signature";

/// A new endpoint signing secret: `whsec_` and 43 random letters and digits.
pub fn generate_webhook_secret() -> String {
    format!("whsec_{}", crate::crypto::random_alphanumeric(43))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// The `Inflow-Signature` value: `t=…` then one `v1=…` per secret, in order.
pub fn signature_header(timestamp: i64, secrets: &[&str], body: &[u8]) -> String {
    let mut out = format!("t={timestamp}");
    for s in secrets {
        out.push_str(",v1=");
        out.push_str(&sign(s, timestamp, body));
    }
    out
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the header has no `t=<unix seconds>` element")]
    MissingTimestamp,
    #[error("the header has no `v1=` signature")]
    MissingSignature,
    #[error("`t=` is not unix seconds")]
    BadTimestamp,
    #[error("the timestamp is {age_secs} s from now; the tolerance is {tolerance_secs} s")]
    TooOld { age_secs: i64, tolerance_secs: i64 },
    #[error(
        "no v1 signature matches the secret (the payload must be the raw body, byte for byte)"
    )]
    Mismatch,
}

/// The parts of an `Inflow-Signature` value. A leading `Inflow-Signature:` is
/// tolerated, so a header line can be pasted whole.
pub fn parse_header(header: &str) -> Result<(i64, Vec<String>), SignatureError> {
    let value = header.trim();
    let value = match value.split_once(':') {
        Some((name, rest)) if name.trim().eq_ignore_ascii_case(SIGNATURE_HEADER) => rest.trim(),
        _ => value,
    };
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => {
                timestamp = Some(
                    v.trim()
                        .parse::<i64>()
                        .map_err(|_| SignatureError::BadTimestamp)?,
                )
            }
            Some(("v1", v)) => signatures.push(v.trim().to_owned()),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    if signatures.is_empty() {
        return Err(SignatureError::MissingSignature);
    }
    Ok((t, signatures))
}

/// Check a delivery: any `v1=` of `header` must be the signature of `body`
/// under `secret`, and when `tolerance_secs` is given, `t` must be within it
/// of `now_unix`. Returns the signed timestamp.
pub fn verify(
    header: &str,
    body: &[u8],
    secret: &str,
    now_unix: i64,
    tolerance_secs: Option<i64>,
) -> Result<i64, SignatureError> {
    let (t, signatures) = parse_header(header)?;
    let expected = mac(secret, t, body);
    let matched = signatures.iter().any(|s| {
        hex::decode(s)
            .map(|raw| expected.clone().verify_slice(&raw).is_ok())
            .unwrap_or(false)
    });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    if let Some(tol) = tolerance_secs {
        let age = now_unix.saturating_sub(t);
        if age.abs() > tol {
            return Err(SignatureError::TooOld {
                age_secs: age,
                tolerance_secs: tol,
            });
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_recipe_matches_openssl() {
        // printf '%s' '1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            sign("whsec_test", 1_700_000_000, br#"{"id":"evt_1"}"#),
            "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"
        );
    }

    #[test]
    fn any_of_several_signatures_verifies_and_tampering_does_not() {
        let (old, new) = (generate_webhook_secret(), generate_webhook_secret());
        assert!(new.starts_with("whsec_") && new.len() == 49);
        let body = br#"{"id":"evt_1","type":"collection.created"}"#;
        let h = signature_header(1_700_000_000, &[&new, &old], body);
        assert_eq!(h.matches("v1=").count(), 2);
        assert_eq!(
            verify(&h, body, &old, 1_700_000_010, Some(300)),
            Ok(1_700_000_000)
        );
        assert_eq!(
            verify(&h, body, &new, 1_700_000_010, Some(300)),
            Ok(1_700_000_000)
        );
        let pasted = format!("Inflow-Signature: {h}");
        assert!(verify(&pasted, body, &new, 0, None).is_ok());
        assert_eq!(
            verify(&h, b"{}", &new, 1_700_000_000, None),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&h, body, "whsec_other", 1_700_000_000, None),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            verify(&h, body, &new, 1_700_001_000, Some(300)),
            Err(SignatureError::TooOld { .. })
        ));
        assert_eq!(
            verify("v1=ab", body, &new, 0, None),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            verify("t=1", body, &new, 0, None),
            Err(SignatureError::MissingSignature)
        );
        assert_eq!(
            verify("t=x,v1=00", body, &new, 0, None),
            Err(SignatureError::BadTimestamp)
        );
    }
}
