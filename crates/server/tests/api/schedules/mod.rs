//! Recurring ACH debit schedules over real HTTP, on both backends: field
//! validation and scoping ([`api`]), a simulated year with the sandbox clock
//! and bank ([`year`]), and two job runners creating occurrences at once
//! ([`concurrency`]).

mod api;
mod common;
mod concurrency;
mod year;
