//! `[console]`: how long a console session lives and the time zone the
//! operator reads times in.

use serde::{Deserialize, Serialize};

/// The console's settings (`[console]`, `INFLOW_CONSOLE__<FIELD>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsoleSettings {
    /// A session not used for this long is over (default 8 hours).
    pub session_idle_secs: u64,
    /// A session ends this long after sign-in however active (default 12 hours).
    pub session_max_secs: u64,
    /// The IANA time zone times are shown in (default `America/New_York`).
    /// Cutoff times are always labelled in US/Eastern, the banks' clock.
    pub time_zone: String,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            session_idle_secs: 8 * 3600,
            session_max_secs: 12 * 3600,
            time_zone: "America/New_York".to_owned(),
        }
    }
}

impl ConsoleSettings {
    /// Refuse settings the console cannot run with, naming the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.session_idle_secs == 0 || self.session_max_secs == 0 {
            anyhow::bail!(
                "console.session_idle_secs and console.session_max_secs must be at least 1"
            );
        }
        self.tz()?;
        Ok(())
    }

    /// The operator's time zone.
    pub fn tz(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.time_zone.parse().map_err(|_| {
            anyhow::anyhow!(
                "console.time_zone `{}` is not an IANA time zone (e.g. America/Chicago)",
                self.time_zone
            )
        })
    }
}
