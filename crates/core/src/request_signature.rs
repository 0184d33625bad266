//! Request signatures: the exact bytes a client signs, and the check.
//!
//! **v2** (current) — `X-Signature: v2=<hex>`, the hex HMAC-SHA256 under
//! the key's signing secret of these lines joined by `\n` (no trailing
//! newline; the body is last so it may contain anything):
//!
//! ```text
//! v2
//! <X-Timestamp>
//! <X-Nonce, or empty>
//! <METHOD>
//! <path?query, exactly as sent>
//! <Idempotency-Key, or empty>
//! <Inflow-Customer, or empty>
//! <body>
//! ```
//!
//! Header values cannot contain a newline, so the fields cannot be shifted
//! into one another. Covering `Idempotency-Key` and `Inflow-Customer` means a
//! captured request cannot be re-sent under another key or for another
//! customer; the nonce lets a client send two otherwise identical requests
//! in the same second (each signature is accepted once).
//!
//! **v1** (deprecated) — `X-Signature: <hex>` (bare) or `v1=<hex>`, over
//! `timestamp \n METHOD \n path?query \n body`. It covers neither header; the
//! server decides when it is still accepted.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest `X-Nonce` accepted.
pub const MAX_NONCE_LEN: usize = 128;

/// Everything a v2 signature covers. Absent headers are empty strings.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub timestamp: &'a str,
    pub nonce: &'a str,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub idempotency_key: &'a str,
    pub customer: &'a str,
    pub body: &'a [u8],
}

impl SignedRequest<'_> {
    fn v2_header_lines(&self) -> [&str; 7] {
        [
            "v2",
            self.timestamp,
            self.nonce,
            self.method,
            self.path_and_query,
            self.idempotency_key,
            self.customer,
        ]
    }

    /// The exact bytes a v2 signature is computed over.
    pub fn string_to_sign_v2(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.path_and_query.len() + self.body.len());
        for field in self.v2_header_lines() {
            out.extend_from_slice(field.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(self.body);
        out
    }

    /// The same bytes as [`Self::string_to_sign_v2`], fed to the MAC
    /// without copying the body.
    fn mac_v2(&self, secret: &str) -> HmacSha256 {
        let mut mac = new_mac(secret);
        for field in self.v2_header_lines() {
            mac.update(field.as_bytes());
            mac.update(b"\n");
        }
        mac.update(self.body);
        mac
    }

    fn mac_v1(&self, secret: &str) -> HmacSha256 {
        let mut mac = new_mac(secret);
        for field in [self.timestamp, self.method, self.path_and_query] {
            mac.update(field.as_bytes());
            mac.update(b"\n");
        }
        mac.update(self.body);
        mac
    }
}

fn new_mac(secret: &str) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length")
}

/// The `X-Signature` value for `req` under `secret`: `v2=<hex>`.
pub fn sign_v2(secret: &str, req: &SignedRequest<'_>) -> String {
    format!(
        "v2={}",
        hex::encode(req.mac_v2(secret).finalize().into_bytes())
    )
}

/// Hex HMAC-SHA256 of a request the v1 (deprecated) way.
pub fn sign_request(
    secret: &str,
    timestamp: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> String {
    let req = SignedRequest {
        timestamp,
        nonce: "",
        method,
        path_and_query,
        idempotency_key: "",
        customer: "",
        body,
    };
    hex::encode(req.mac_v1(secret).finalize().into_bytes())
}

/// Constant-time check of a v1 hex signature.
pub fn verify_request_signature(
    secret: &str,
    timestamp: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    signature_hex: &str,
) -> bool {
    match parse_signature_header(signature_hex) {
        Ok(sig @ SignatureHeader::V1(_)) => sig.verify(
            secret,
            &SignedRequest {
                timestamp,
                nonce: "",
                method,
                path_and_query,
                idempotency_key: "",
                customer: "",
                body,
            },
        ),
        _ => false,
    }
}

/// A parsed `X-Signature` header: its version and the 32 MAC bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureHeader {
    V1([u8; 32]),
    V2([u8; 32]),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureHeaderError {
    #[error("unknown signature version `{0}`: send X-Signature: v2=<hex>")]
    UnknownVersion(String),
    #[error("X-Signature must carry 64 hex digits (HMAC-SHA256)")]
    NotHex,
}

/// Parse `v2=<hex>`, `v1=<hex>` or a bare (v1) hex signature.
pub fn parse_signature_header(value: &str) -> Result<SignatureHeader, SignatureHeaderError> {
    let value = value.trim();
    let (version, digits) = match value.split_once('=') {
        Some((v, d)) => (v.trim(), d.trim()),
        None => ("v1", value),
    };
    let mut mac = [0u8; 32];
    hex::decode_to_slice(digits, &mut mac).map_err(|_| SignatureHeaderError::NotHex)?;
    match version {
        "v1" => Ok(SignatureHeader::V1(mac)),
        "v2" => Ok(SignatureHeader::V2(mac)),
        other => Err(SignatureHeaderError::UnknownVersion(
            crate::text::clip(other, 16).to_string(),
        )),
    }
}

impl SignatureHeader {
    /// Does this signature match `req` under `secret`? (Constant time.)
    pub fn verify(&self, secret: &str, req: &SignedRequest<'_>) -> bool {
        let mut v = self.verifier(secret, req);
        v.update(req.body);
        v.finish()
    }

    /// Check this signature against a body that arrives in pieces (a large
    /// upload streamed to disk): `req`'s own body is ignored; feed the body
    /// to [`BodyVerifier::update`] and ask [`BodyVerifier::finish`].
    pub fn verifier(&self, secret: &str, req: &SignedRequest<'_>) -> BodyVerifier {
        let headers_only = SignedRequest { body: b"", ..*req };
        let mac = match self {
            SignatureHeader::V1(_) => headers_only.mac_v1(secret),
            SignatureHeader::V2(_) => headers_only.mac_v2(secret),
        };
        BodyVerifier {
            mac,
            expected: *self.mac(),
        }
    }

    pub fn version(&self) -> u8 {
        match self {
            SignatureHeader::V1(_) => 1,
            SignatureHeader::V2(_) => 2,
        }
    }

    /// The MAC bytes (what replay memory remembers a digest of).
    pub fn mac(&self) -> &[u8; 32] {
        match self {
            SignatureHeader::V1(m) | SignatureHeader::V2(m) => m,
        }
    }
}

/// A signature being checked over a body fed in pieces
/// ([`SignatureHeader::verifier`]).
pub struct BodyVerifier {
    mac: HmacSha256,
    expected: [u8; 32],
}

impl BodyVerifier {
    /// The next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        self.mac.update(bytes);
    }

    /// Does the signature match the whole body fed? (Constant time.)
    pub fn finish(self) -> bool {
        self.mac.verify_slice(&self.expected).is_ok()
    }
}

/// An `X-Nonce` is 1 to [`MAX_NONCE_LEN`] visible ASCII characters.
pub fn is_valid_nonce(nonce: &str) -> bool {
    (1..=MAX_NONCE_LEN).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(idempotency_key: &'a str, customer: &'a str) -> SignedRequest<'a> {
        SignedRequest {
            timestamp: "1700000000",
            nonce: "n-1",
            method: "POST",
            path_and_query: "/v1/payment-methods?x=1",
            idempotency_key,
            customer,
            body: br#"{"a":1}"#,
        }
    }

    #[test]
    fn v2_string_is_the_documented_lines_with_the_body_last() {
        let r = request("pm-1", "cus_1");
        assert_eq!(
            r.string_to_sign_v2(),
            b"v2\n1700000000\nn-1\nPOST\n/v1/payment-methods?x=1\npm-1\ncus_1\n{\"a\":1}".to_vec()
        );
    }

    #[test]
    fn v2_matches_what_openssl_computes_for_the_documented_recipe() {
        // printf 'v2\n%s\n%s\n%s\n%s\n%s\n%s\n%s' 1700000000 n-1 POST '/v1/payment-methods?x=1' pm-1 cus_1 '{"a":1}' \
        //   | openssl dgst -sha256 -hmac iss_testsecret
        assert_eq!(
            sign_v2("iss_testsecret", &request("pm-1", "cus_1")),
            "v2=69275f2b607975b594fa6ac36695e861612293608fd9a9eeb556d3fdf85fdf2e"
        );
    }

    #[test]
    fn v2_covers_every_field_including_idempotency_key_customer_and_nonce() {
        let secret = "iss_s";
        let base = request("pm-1", "cus_1");
        let sig = parse_signature_header(&sign_v2(secret, &base)).unwrap();
        assert!(sig.verify(secret, &base));
        let changed = [
            SignedRequest {
                idempotency_key: "pm-2",
                ..base
            },
            SignedRequest {
                idempotency_key: "",
                ..base
            },
            SignedRequest {
                customer: "cus_2",
                ..base
            },
            SignedRequest {
                nonce: "n-2",
                ..base
            },
            SignedRequest {
                timestamp: "1700000001",
                ..base
            },
            SignedRequest {
                method: "PATCH",
                ..base
            },
            SignedRequest {
                path_and_query: "/v1/payment-methods",
                ..base
            },
            SignedRequest {
                body: b"{ \"a\":1}",
                ..base
            },
        ];
        for other in changed {
            assert!(!sig.verify(secret, &other), "{other:?}");
        }
        assert!(!sig.verify("iss_other", &base));
    }

    #[test]
    fn headers_parse_by_version_and_v1_ignores_the_new_fields() {
        let secret = "iss_s";
        let bare = sign_request(secret, "1700000000", "POST", "/v1/x", b"{}");
        let v1 = parse_signature_header(&bare).unwrap();
        assert_eq!(v1.version(), 1);
        assert_eq!(parse_signature_header(&format!("v1={bare}")).unwrap(), v1);
        let r = SignedRequest {
            timestamp: "1700000000",
            nonce: "anything",
            method: "POST",
            path_and_query: "/v1/x",
            idempotency_key: "any",
            customer: "cus_any",
            body: b"{}",
        };
        assert!(v1.verify(secret, &r), "v1 does not cover the new fields");
        assert_eq!(
            parse_signature_header(&format!("v3={bare}")),
            Err(SignatureHeaderError::UnknownVersion("v3".into()))
        );
        assert_eq!(
            parse_signature_header("v2=zz"),
            Err(SignatureHeaderError::NotHex)
        );
        assert_eq!(
            parse_signature_header("v2=00ff"),
            Err(SignatureHeaderError::NotHex)
        );
    }

    #[test]
    fn nonces_are_short_visible_ascii() {
        assert!(is_valid_nonce("3f9a0c1e-7b"));
        assert!(!is_valid_nonce(""));
        assert!(!is_valid_nonce("has space"));
        assert!(!is_valid_nonce("é"));
        assert!(!is_valid_nonce(&"a".repeat(MAX_NONCE_LEN + 1)));
    }
}
