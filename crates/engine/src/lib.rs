//! Inflow's engine: the work that happens between API calls.
//!
//! - [`config`]: the ODFI and scheduling settings the workers need.
//! - [`view`]: the collection resource as the API shows it (also the
//!   `data.object` of every `collection.*` event).
//! - Use cases: [`collections`] (creating an ACH collection: every rule,
//!   then the insert; the API and the schedules job call the same function)
//!   and [`schedules`] (creating and changing a schedule). They refuse with
//!   `inflow_core::Refusal` and fail with [`usecase::UseCaseError`]
//!   (refused, or the store failed); the server maps both to HTTP.
//! - [`events`]: writing outbox events in the caller's transaction.
//! - Inbound ACH: [`inbound`] (return/NOC files applied to collections and
//!   payment methods, the watched inbound folder) and [`sandbox_bank`] (the
//!   simulated bank answering outbound files for magic account numbers).
//! - Outbound ACH: [`release`] (scheduled → pending), [`cutoff`] (pending →
//!   submitted, split into as many files as the
//!   NACHA fields and `max_entries_per_file` need; an entry that cannot be
//!   filed fails alone), [`files`] (NACHA bytes, atomic
//!   writes), [`settlement`] (submitted → processing → completed),
//!   [`leases`] (multi-node job leases) and [`scheduler`] (the tick that
//!   runs them all in time order).
//! - Bank connectivity: [`delivery`] (the delivery state of every outbound
//!   file, the leased job uploading it to the ODFI, the inbound pickup).
//! - [`credits`]: refunds of ACH collections by credit entry and NACHA
//!   reversals, filed by the cutoff in credit files of their own.
//! - [`limits`]: a customer's ACH debit limits (per entry, daily, monthly).
//! - Account validation: [`prenotes`] (a cleared prenote validates the
//!   account, a returned one fails it) and [`holds`] (what releases or
//!   fails an `on_hold` collection).
//! - Eligibility: [`eligibility`] (may an unfiled collection move toward a
//!   file, given its customer, destination account, payment method and
//!   schedule; also checked inside the cutoff) and [`status_changes`] (what
//!   a status change of one of those does to its collections and schedules).
//! - [`webhooks`]: the dispatcher that delivers events to webhook endpoints
//!   (signed, retried with backoff, ordered per object).
//!
//! - Recurring debits: [`schedules`] (occurrences created as collections by a
//!   leased job; pause/resume/cancel; stop and retry rules on returns).
//!
//! - [`daily_files`]: the daily reconciliation files (per day: operator,
//!   customer and destination account), generated on demand or by a leased
//!   job once the day is over.
//!
//! - [`private_fs`]: folders `0700` and files `0600` under the data directory.
//!
//! - [`audit`]: the audit trail's hook (who, what, from where; masked
//!   before/after) recorded in the transaction of each change.
//! - [`alerts`]: alerts as operator events (return rates over the NACHA
//!   thresholds, stalled jobs, a failed ledger check), raised once and
//!   re-armed when the condition ends.
//!
//! Workers talk to `core`, `store` and `nacha` only; the server calls them.

pub mod alerts;
pub mod audit;
pub mod cards;
pub mod collections;
pub mod config;
pub mod credits;
pub mod cutoff;
pub mod daily_files;
pub mod delivery;
pub mod eligibility;
pub mod events;
pub mod files;
pub mod holds;
pub mod inbound;
pub mod leases;
pub mod ledger;
pub mod limits;
pub mod metrics;
pub mod odfi_windows;
pub mod prenotes;
pub mod private_fs;
pub mod release;
pub mod sandbox_bank;
pub mod scheduler;
pub mod schedules;
pub mod settlement;
pub mod status_changes;
pub mod usecase;
pub mod view;
pub mod webhooks;
