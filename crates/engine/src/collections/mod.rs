//! Use cases that create collections, called by the API and the schedules
//! job alike: [`ach`] (every rule an ACH debit or prenote must pass, and its
//! insert) and [`destination`] (the account a collection pays into, shared
//! with card collections). They refuse with [`inflow_core::Refusal`] and
//! fail with [`crate::usecase::UseCaseError`]; no HTTP here.

pub mod ach;
pub mod destination;
