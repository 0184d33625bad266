//! The NACHA fields of a new ACH entry: the SEC code (given, or defaulted
//! from the account holder and the authorization, and matching the holder),
//! the payment type (WEB and TEL only), the addenda (not on TEL), the
//! company name (one the operator allowed the customer), company id and
//! entry description.

use inflow_core::bank::HolderType;
use inflow_core::collection::{AchEntryType, AuthorizationType, PaymentType, SecCode};
use inflow_core::model::{nacha_text, validate_ach_company_name, Customer};
use inflow_core::text::validate_entry_description;
use inflow_core::Refusal;

use super::source::ResolvedSource;
use super::{CollectionRules, NewAchCollection};

/// The checked NACHA fields.
pub(super) struct EntryFields {
    pub(super) sec_code: SecCode,
    pub(super) payment_type: Option<PaymentType>,
    pub(super) addenda: Option<String>,
    pub(super) company_name: String,
    pub(super) company_id: String,
    pub(super) company_entry_description: String,
}

pub(super) fn fields(
    customer: &Customer,
    req: &NewAchCollection,
    source: &ResolvedSource,
    authorization: AuthorizationType,
    rules: &CollectionRules,
) -> Result<EntryFields, Refusal> {
    let sec_code = sec_code(req.sec_code, source.holder_type, authorization)?;
    let payment_type = match (sec_code.has_payment_type(), req.payment_type) {
        (true, p) => Some(p.unwrap_or(PaymentType::Single)),
        (false, Some(_)) => {
            return Err(Refusal::invalid(
                "payment_type_not_allowed",
                "paymentType applies to WEB and TEL entries only",
                "paymentType",
            ))
        }
        (false, None) => None,
    };
    let addenda = match req.addenda.as_deref() {
        Some(_) if !sec_code.allows_addenda() => {
            return Err(Refusal::invalid(
                "addenda_not_allowed",
                "TEL entries cannot carry an addenda record",
                "addenda",
            ))
        }
        Some(a) => Some(nacha_text("addenda", a, 80)?),
        None => None,
    };
    let company_name = company_name(customer, req.company_name.as_deref(), rules)?;
    let company_id = customer
        .ach_company_id
        .clone()
        .unwrap_or_else(|| rules.default_company_id.clone());
    let company_entry_description = match req.company_entry_description.as_deref() {
        Some(d) => validate_entry_description("companyEntryDescription", d)?,
        None if req.entry_type == AchEntryType::Prenote => "PRENOTE".to_owned(),
        None => "PAYMENT".to_owned(),
    };
    Ok(EntryFields {
        sec_code,
        payment_type,
        addenda,
        company_name,
        company_id,
        company_entry_description,
    })
}

fn default_sec_code(holder: HolderType, auth: AuthorizationType) -> SecCode {
    match (holder, auth) {
        (HolderType::Business, _) => SecCode::Ccd,
        (HolderType::Individual, AuthorizationType::Online) => SecCode::Web,
        (HolderType::Individual, AuthorizationType::Phone) => SecCode::Tel,
        (HolderType::Individual, AuthorizationType::Written) => SecCode::Ppd,
    }
}

/// The requested or default SEC code, refused when it does not match the
/// account holder (CCD for a consumer, a consumer code but PPD for a business).
fn sec_code(
    requested: Option<SecCode>,
    holder: HolderType,
    auth: AuthorizationType,
) -> Result<SecCode, Refusal> {
    let sec_code = requested.unwrap_or_else(|| default_sec_code(holder, auth));
    if sec_code == SecCode::Ccd && holder == HolderType::Individual {
        return Err(Refusal::invalid(
            "sec_code_mismatch",
            "CCD is for business accounts; debiting a consumer account with CCD invites an R05 return — use PPD, WEB or TEL",
            "secCode",
        ));
    }
    if sec_code.is_consumer() && holder == HolderType::Business && sec_code != SecCode::Ppd {
        return Err(Refusal::invalid(
            "sec_code_mismatch",
            format!("{sec_code} is for consumer accounts; use CCD (or PPD)"),
            "secCode",
        ));
    }
    Ok(sec_code)
}

/// The requested company name (or the customer's, or the default), if the
/// operator allowed it for this customer.
fn company_name(
    customer: &Customer,
    requested: Option<&str>,
    rules: &CollectionRules,
) -> Result<String, Refusal> {
    let company_name = match requested {
        Some(n) => validate_ach_company_name("companyName", n)?,
        None => customer.company_name_or(&rules.default_company_name),
    };
    if !customer.may_use_company_name(&rules.default_company_name, &company_name) {
        return Err(Refusal::forbidden(
            "company_name_not_allowed",
            format!("companyName {company_name:?} is not a company name the operator allowed this customer (allowedCompanyNames)"),
        )
        .with_field("companyName"));
    }
    Ok(company_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sec_codes_follow_holder_and_authorization() {
        assert_eq!(
            default_sec_code(HolderType::Business, AuthorizationType::Online),
            SecCode::Ccd
        );
        assert_eq!(
            default_sec_code(HolderType::Individual, AuthorizationType::Online),
            SecCode::Web
        );
        assert_eq!(
            default_sec_code(HolderType::Individual, AuthorizationType::Phone),
            SecCode::Tel
        );
        assert_eq!(
            default_sec_code(HolderType::Individual, AuthorizationType::Written),
            SecCode::Ppd
        );
    }

    #[test]
    fn a_consumer_account_debited_with_ccd_is_refused_on_sec_code() {
        let r = sec_code(
            Some(SecCode::Ccd),
            HolderType::Individual,
            AuthorizationType::Online,
        )
        .unwrap_err();
        assert_eq!(
            (r.code, r.field.as_deref()),
            ("sec_code_mismatch", Some("secCode"))
        );
    }
}
