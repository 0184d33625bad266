//! Recurring ACH debit schedules: creating and changing one and creating its
//! occurrences ([`create`], the use cases), the job that turns occurrences
//! into collections ([`materialise`]), the lifecycle steps the
//! API and the workers share ([`lifecycle`]), what returns do to a schedule
//! ([`returns`]: stop, retry, pause) and the resource's rendering ([`view`]).
//! The domain (recurrence, statuses, retry policy) is in
//! `inflow_core::schedule`.

pub mod create;
pub mod lifecycle;
pub mod materialise;
pub mod returns;
pub mod view;

use inflow_core::calendar::TimingError;
use inflow_core::collection::TransitionError;
use inflow_core::schedule::ScheduleTransitionError;
use inflow_core::Refusal;
use inflow_store::StoreError;

use crate::usecase::UseCaseError;

pub use create::{
    build_schedule, create_occurrence, insert_schedule, patch_schedule, NewSchedule, SchedulePatch,
};
pub use lifecycle::{end_in_tx, pause_in_tx, resume_in_tx, schedule_event};
pub use materialise::{
    materialise_due, materialise_without_lease, MaterialiseReport, LEAD_DAYS, SCHEDULES_LEASE,
};
pub use returns::{after_return, AppliedReturn};
pub use view::{schedule_view, ScheduleView};

/// What can go wrong changing a schedule.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// A rule refused the change; nothing changed.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transition(#[from] ScheduleTransitionError),
    #[error(transparent)]
    Collection(#[from] TransitionError),
    #[error(transparent)]
    Timing(#[from] TimingError),
    /// Another transaction changed the schedule between read and write.
    #[error("schedule {0} was changed concurrently")]
    Concurrent(String),
    #[error("job {0} is running on another node; try again later")]
    Busy(String),
}

impl From<UseCaseError> for ScheduleError {
    fn from(e: UseCaseError) -> Self {
        match e {
            UseCaseError::Refused(r) => Self::Refused(r),
            UseCaseError::Store(s) => Self::Store(s),
        }
    }
}
