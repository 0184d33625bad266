//! The resources of the foundation: customers, API keys, destination
//! accounts, counterparties and bank-account payment methods, as the domain
//! sees them (the API's JSON shapes live in the server crate).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::bank::{string_enum, AccountType, HolderType, RoutingNumber};
use crate::ids::{AccountId, ApiKeyId, CounterpartyId, CustomerId, PaymentMethodId};
use crate::ValidationError;

pub type Metadata = Map<String, Value>;

/// Metadata rules: at most 50 keys, keys ≤ 40 chars, string values ≤ 500 chars.
pub fn validate_metadata(field: &str, m: &Metadata) -> Result<(), ValidationError> {
    if m.len() > 50 {
        return Err(ValidationError::new(
            field,
            "too_many_keys",
            "metadata may have at most 50 keys",
        ));
    }
    for (k, v) in m {
        if k.is_empty() || k.chars().count() > 40 {
            return Err(ValidationError::new(
                format!("{field}.{}", crate::text::clip(k, 40)),
                "invalid_metadata_key",
                "metadata keys must be 1 to 40 characters",
            ));
        }
        match v {
            Value::String(s) if s.chars().count() <= 500 => {}
            _ => {
                return Err(ValidationError::new(
                    format!("{field}.{k}"),
                    "invalid_metadata_value",
                    "metadata values must be strings of at most 500 characters",
                ))
            }
        }
    }
    Ok(())
}

string_enum!(
    /// Whether a customer is a person or an organisation; one-time sources are
    /// only ever allowed for businesses.
    CustomerKind, "customer kind" { Individual => "individual", Business => "business" });
string_enum!(CustomerStatus, "customer status" { Active => "active", Suspended => "suspended" });
string_enum!(
    /// Operator keys manage customers and act for any customer; customer keys
    /// see only their own customer's objects.
    ApiKeyRole, "key role" { Admin => "admin", Customer => "customer" });
string_enum!(AccountStatus, "account status" { Active => "active", Blocked => "blocked", Closed => "closed" });
string_enum!(CounterpartyKind, "counterparty kind" { Individual => "individual", Business => "business" });
string_enum!(
    PaymentMethodStatus, "payment method status" { Active => "active", Inactive => "inactive", Blocked => "blocked" });
string_enum!(PaymentMethodType, "payment method type" { UsBankAccount => "us_bank_account", Card => "card" });
string_enum!(
    /// Whether a saved bank account is known to exist: `pending` while its
    /// prenote is out, `failed` when the prenote came back returned.
    ValidationStatus, "validation status" {
        Unvalidated => "unvalidated", Pending => "pending", Validated => "validated", Failed => "failed" });
string_enum!(
    /// How an account was validated.
    ValidationMethod, "validation method" { Prenote => "prenote", Operator => "operator" });

/// What a customer requires before its payers' accounts are debited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AchPolicy {
    /// Live debits need a prenote that cleared first; debits made while
    /// the prenote is out are held until it clears.
    pub require_prenote: bool,
    /// WEB debits need a validated account (prenote or operator).
    pub web_requires_validated_account: bool,
    /// Used when a collection request carries no `authorization` (for
    /// instance a master agreement signed at onboarding).
    pub default_authorization: Option<crate::collection::Authorization>,
}

/// Account validation of a saved bank account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountValidation {
    pub status: ValidationStatus,
    pub method: Option<ValidationMethod>,
    /// The prenote that validated (or is validating) the account.
    pub prenote_id: Option<crate::ids::CollectionId>,
    pub validated_at: Option<DateTime<Utc>>,
}

// `string_enum!` cannot mark a `#[default]` variant.
#[allow(clippy::derivable_impls)]
impl Default for ValidationStatus {
    fn default() -> Self {
        ValidationStatus::Unvalidated
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub kind: CustomerKind,
    pub email: Option<String>,
    pub status: CustomerStatus,
    pub allow_one_time_source: bool,
    pub require_signed_requests: bool,
    /// Company name written in the NACHA batch header (16 chars).
    pub ach_company_name: Option<String>,
    /// Company identification written in the NACHA batch header (10 chars).
    pub ach_company_id: Option<String>,
    /// Other company names the operator lets this customer put on a
    /// collection (`companyName`), validated and upper-cased. Its own
    /// `ach_company_name` (or the configured default) is always allowed.
    pub allowed_company_names: Vec<String>,
    pub ach_policy: AchPolicy,
    /// The most one card may be charged per US/Eastern day for this
    /// customer, in USD minor units.
    pub card_daily_limit: i64,
    /// Limits on this customer's ACH debits; `None` fields take the
    /// operator's defaults (`[ach]` configuration).
    pub ach_limits: AchLimits,
    /// The customer's own keys may issue API keys (operator-granted).
    pub can_manage_api_keys: bool,
    /// The `[[odfi]]` profile whose files carry this customer's entries
    /// (`None`: the default ODFI).
    pub odfi_id: Option<String>,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Customer {
    /// The company name of this customer's NACHA batches: its own
    /// `ach_company_name`, or `default` (the configuration's) without one.
    pub fn company_name_or(&self, default: &str) -> String {
        self.ach_company_name
            .clone()
            .unwrap_or_else(|| default.to_owned())
    }

    /// May `name` (validated, upper case) stand as the originator's name in
    /// this customer's batch header? Its own name (or `default`) and the
    /// names the operator allowed may; anything else would let a customer
    /// pose as another company to the bank and the payer.
    pub fn may_use_company_name(&self, default: &str, name: &str) -> bool {
        self.company_name_or(default)
            .trim()
            .eq_ignore_ascii_case(name)
            || self.allowed_company_names.iter().any(|a| a == name)
    }
}

/// Limits on a customer's ACH debits, in USD minor units. On a customer a
/// `None` field means "the operator's default"; in the defaults (and once
/// resolved with [`AchLimits::or`]) it means "no limit".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AchLimits {
    /// The largest single debit.
    pub per_entry_max: Option<i64>,
    /// The most the debits created in one US/Eastern day may add up to.
    pub daily_debit_max: Option<i64>,
    /// The most the debits created in one US/Eastern calendar month may add up to.
    pub monthly_debit_max: Option<i64>,
}

impl AchLimits {
    /// Each limit of `self`, or else of `defaults`.
    pub fn or(self, defaults: AchLimits) -> AchLimits {
        AchLimits {
            per_entry_max: self.per_entry_max.or(defaults.per_entry_max),
            daily_debit_max: self.daily_debit_max.or(defaults.daily_debit_max),
            monthly_debit_max: self.monthly_debit_max.or(defaults.monthly_debit_max),
        }
    }
}

/// The largest value a debit limit may be set to, in minor units (15
/// digits; a daily or monthly total may be far above one entry's maximum).
pub const MAX_ACH_LIMIT: i64 = 999_999_999_999_999;

/// A new customer's per-card daily limit: $24,999.99, the cap the first
/// reference system puts on one card per day.
pub const DEFAULT_CARD_DAILY_LIMIT: i64 = 2_499_999;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub customer_id: Option<CustomerId>,
    pub role: ApiKeyRole,
    pub name: String,
    /// The first characters of the key, for people to tell keys apart.
    pub prefix: String,
    pub key_hash: Vec<u8>,
    pub signing_secret_sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Unsigned requests with this key are refused.
    pub require_signed_requests: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: AccountId,
    pub customer_id: CustomerId,
    pub name: String,
    pub currency: crate::money::Currency,
    pub status: AccountStatus,
    pub external_id: Option<String>,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The `[[odfi]]` profile whose files carry the entries crediting this
    /// account; `None`: its customer's ODFI. Set by the operator.
    pub odfi_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Counterparty {
    pub id: CounterpartyId,
    pub customer_id: CustomerId,
    pub name: String,
    pub kind: CounterpartyKind,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A saved US bank account. The account number exists here only sealed;
/// `account_last4` and `fingerprint` are what the API shows.
#[derive(Debug, Clone, PartialEq)]
pub struct BankPaymentMethod {
    pub id: PaymentMethodId,
    pub customer_id: CustomerId,
    pub counterparty_id: Option<CounterpartyId>,
    pub status: PaymentMethodStatus,
    pub status_reason: Option<String>,
    pub external_id: Option<String>,
    pub routing_number: RoutingNumber,
    pub account_number_sealed: Vec<u8>,
    pub account_last4: String,
    pub fingerprint: String,
    pub account_type: AccountType,
    pub holder_name: String,
    pub holder_type: HolderType,
    pub validation: AccountValidation,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl BankPaymentMethod {
    /// Validated by a cleared prenote or by the operator.
    pub fn is_validated(&self) -> bool {
        self.validation.status == ValidationStatus::Validated
    }
}

/// Validate an external id (the customer's own reference): 1–128 printable characters.
pub fn validate_external_id(field: &str, s: &str) -> Result<String, ValidationError> {
    if s.is_empty() || s.len() > 128 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ValidationError::new(
            field,
            "invalid_external_id",
            "externalId must be 1 to 128 printable ASCII characters without spaces",
        ));
    }
    Ok(s.to_owned())
}

/// A loose email check: one `@`, something on each side, a dot in the domain.
pub fn validate_email(field: &str, s: &str) -> Result<String, ValidationError> {
    let s = s.trim();
    let ok = s.len() <= 254
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(ValidationError::new(
            field,
            "invalid_email",
            "email must be a valid address like name@example.com",
        ))
    }
}

/// NACHA company name: 1–16 characters from the NACHA alphanumeric set, not
/// all zeros (a mandatory field), stored upper case.
pub fn validate_ach_company_name(field: &str, s: &str) -> Result<String, ValidationError> {
    let name = nacha_text(field, s, 16)?;
    if name.bytes().all(|b| b == b'0' || b == b' ') {
        return Err(ValidationError::new(
            field,
            "invalid_company_name",
            format!("{field} must not be all zeros or spaces"),
        ));
    }
    Ok(name)
}

/// The most company names an operator may allow one customer.
pub const MAX_ALLOWED_COMPANY_NAMES: usize = 20;

/// Company names a customer may use besides its own: each a valid
/// [`validate_ach_company_name`] (the error names its index), at most
/// [`MAX_ALLOWED_COMPANY_NAMES`], duplicates dropped, order kept.
pub fn validate_allowed_company_names(
    field: &str,
    names: &[String],
) -> Result<Vec<String>, ValidationError> {
    if names.len() > MAX_ALLOWED_COMPANY_NAMES {
        return Err(ValidationError::new(
            field,
            "too_many_company_names",
            format!("{field} may list at most {MAX_ALLOWED_COMPANY_NAMES} names"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        let name = validate_ach_company_name(&format!("{field}[{i}]"), n)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// NACHA company identification: exactly 10 characters (commonly `1` + EIN).
pub fn validate_ach_company_id(field: &str, s: &str) -> Result<String, ValidationError> {
    if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ValidationError::new(
            field,
            "invalid_company_id",
            "ACH company identification must be exactly 10 letters or digits, commonly `1` followed by the EIN",
        ));
    }
    if crate::text::zeros_or_spaces(s) {
        return Err(ValidationError::new(
            field,
            "invalid_company_id",
            format!("{field} must not be all zeros"),
        ));
    }
    Ok(s.to_ascii_uppercase())
}

/// Text that will be written into a NACHA field of `max` characters:
/// printable ASCII only, upper-cased.
pub fn nacha_text(field: &str, s: &str, max: usize) -> Result<String, ValidationError> {
    let s = s.trim();
    if s.is_empty() || s.len() > max {
        return Err(ValidationError::new(
            field,
            "invalid_length",
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    if !s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(ValidationError::new(
            field,
            "invalid_characters",
            format!("{field} may contain only printable ASCII characters (NACHA character set)"),
        ));
    }
    Ok(s.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_limits_name_the_offending_key() {
        let mut m = Metadata::new();
        m.insert("order".into(), Value::String("42".into()));
        assert!(validate_metadata("metadata", &m).is_ok());
        m.insert("n".into(), Value::from(5));
        assert_eq!(
            validate_metadata("metadata", &m).unwrap_err().field,
            "metadata.n"
        );
        let many: Metadata = (0..51)
            .map(|i| (format!("k{i}"), Value::String(String::new())))
            .collect();
        assert_eq!(
            validate_metadata("metadata", &many).unwrap_err().code,
            "too_many_keys"
        );
    }

    #[test]
    fn nacha_text_is_upper_cased_and_limited_to_printable_ascii() {
        assert_eq!(
            validate_ach_company_name("achCompanyName", "Acme Corp").unwrap(),
            "ACME CORP"
        );
        assert!(validate_ach_company_name("achCompanyName", "Acme Corporation Inc").is_err());
        assert!(validate_ach_company_name("achCompanyName", "Café").is_err());
        assert_eq!(
            validate_ach_company_name("achCompanyName", "0000")
                .unwrap_err()
                .code,
            "invalid_company_name"
        );
        assert_eq!(
            validate_ach_company_id("achCompanyId", "1234567890").unwrap(),
            "1234567890"
        );
        assert!(validate_ach_company_id("achCompanyId", "123").is_err());
        assert_eq!(
            validate_ach_company_id("achCompanyId", "0000000000")
                .unwrap_err()
                .message,
            "achCompanyId must not be all zeros"
        );
    }

    #[test]
    fn emails_and_external_ids_are_checked() {
        assert!(validate_email("email", "a@b.co").is_ok());
        for bad in ["a", "a@b", "@b.co", "a b@c.co", "a@.co"] {
            assert!(validate_email("email", bad).is_err(), "{bad}");
        }
        assert!(validate_external_id("externalId", "INV-1").is_ok());
        assert!(validate_external_id("externalId", "has space").is_err());
        assert!(validate_external_id("externalId", "").is_err());
    }

    #[test]
    fn allowed_company_names_are_each_validated_and_deduplicated() {
        let names = [
            "Acme Billing".to_owned(),
            "ACME BILLING".into(),
            "acme".into(),
        ];
        assert_eq!(
            validate_allowed_company_names("allowedCompanyNames", &names).unwrap(),
            ["ACME BILLING", "ACME"]
        );
        let bad = ["ok".to_owned(), "far too long a company name".into()];
        assert_eq!(
            validate_allowed_company_names("allowedCompanyNames", &bad)
                .unwrap_err()
                .field,
            "allowedCompanyNames[1]"
        );
        let zeros = ["000".to_owned()];
        assert!(validate_allowed_company_names("allowedCompanyNames", &zeros).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("NAME {i}")).collect();
        assert_eq!(
            validate_allowed_company_names("allowedCompanyNames", &many)
                .unwrap_err()
                .code,
            "too_many_company_names"
        );
    }
}
