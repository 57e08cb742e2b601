//! Read models kept in step with the log.

pub mod care_plans;
