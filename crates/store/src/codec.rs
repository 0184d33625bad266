//! Conversions between domain values and the portable column types
//! (times as unix microseconds, JSON as text).

use chrono::{DateTime, Utc};
use inflow_core::model::Metadata;

use crate::StoreError;

pub fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn dt(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {micros}")))
}

pub fn opt_dt(micros: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    micros.map(dt).transpose()
}

pub fn metadata_json(m: &Metadata) -> String {
    serde_json::Value::Object(m.clone()).to_string()
}

pub fn metadata_from(s: &str) -> Result<Metadata, StoreError> {
    match serde_json::from_str(s) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(StoreError::Corrupt("metadata is not a JSON object".into())),
    }
}
