//! Read models kept in step with the log, and the one replay they are built with.

pub mod care_plans;
pub mod check;
pub mod proxies;
pub mod rebuild;
pub mod replay;
