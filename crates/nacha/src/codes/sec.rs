//! Standard Entry Class codes (batch header positions 51-53).

use std::fmt;

/// A three-letter SEC code. Well-known codes have their own variant; any
/// other three bytes are kept in [`SecCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum SecCode {
    Ppd,
    Ccd,
    Web,
    Tel,
    Cor,
    Ctx,
    Iat,
    Adv,
    Arc,
    Boc,
    Pop,
    Pos,
    Shr,
    Mte,
    Rck,
    Cie,
    Trc,
    Trx,
    Xck,
    Ack,
    Atx,
    Dne,
    Enr,
    /// Any other three bytes.
    Other([u8; 3]),
}

impl SecCode {
    /// Parses three bytes.
    pub fn from_bytes(b: &[u8]) -> SecCode {
        let mut a = [b' '; 3];
        let n = b.len().min(3);
        a[..n].copy_from_slice(&b[..n]);
        match &a {
            b"PPD" => SecCode::Ppd,
            b"CCD" => SecCode::Ccd,
            b"WEB" => SecCode::Web,
            b"TEL" => SecCode::Tel,
            b"COR" => SecCode::Cor,
            b"CTX" => SecCode::Ctx,
            b"IAT" => SecCode::Iat,
            b"ADV" => SecCode::Adv,
            b"ARC" => SecCode::Arc,
            b"BOC" => SecCode::Boc,
            b"POP" => SecCode::Pop,
            b"POS" => SecCode::Pos,
            b"SHR" => SecCode::Shr,
            b"MTE" => SecCode::Mte,
            b"RCK" => SecCode::Rck,
            b"CIE" => SecCode::Cie,
            b"TRC" => SecCode::Trc,
            b"TRX" => SecCode::Trx,
            b"XCK" => SecCode::Xck,
            b"ACK" => SecCode::Ack,
            b"ATX" => SecCode::Atx,
            b"DNE" => SecCode::Dne,
            b"ENR" => SecCode::Enr,
            _ => SecCode::Other(a),
        }
    }

    /// The three bytes of the code.
    pub fn as_bytes(&self) -> [u8; 3] {
        let s: &[u8; 3] = match self {
            SecCode::Ppd => b"PPD",
            SecCode::Ccd => b"CCD",
            SecCode::Web => b"WEB",
            SecCode::Tel => b"TEL",
            SecCode::Cor => b"COR",
            SecCode::Ctx => b"CTX",
            SecCode::Iat => b"IAT",
            SecCode::Adv => b"ADV",
            SecCode::Arc => b"ARC",
            SecCode::Boc => b"BOC",
            SecCode::Pop => b"POP",
            SecCode::Pos => b"POS",
            SecCode::Shr => b"SHR",
            SecCode::Mte => b"MTE",
            SecCode::Rck => b"RCK",
            SecCode::Cie => b"CIE",
            SecCode::Trc => b"TRC",
            SecCode::Trx => b"TRX",
            SecCode::Xck => b"XCK",
            SecCode::Ack => b"ACK",
            SecCode::Atx => b"ATX",
            SecCode::Dne => b"DNE",
            SecCode::Enr => b"ENR",
            SecCode::Other(a) => a,
        };
        *s
    }

    /// True for codes this crate knows the rules of.
    pub fn is_known(&self) -> bool {
        !matches!(self, SecCode::Other(_))
    }

    /// Codes whose batches the [`crate::FileBuilder`] can originate.
    pub fn is_originatable(&self) -> bool {
        matches!(
            self,
            SecCode::Ppd | SecCode::Ccd | SecCode::Web | SecCode::Tel
        )
    }
}

impl fmt::Display for SecCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.as_bytes()))
    }
}

impl serde::Serialize for SecCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
