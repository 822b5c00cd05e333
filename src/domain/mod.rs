//! Pure domain logic: nothing here does I/O or reads the wall clock.
//! Callers pass in parsed messages, settings and `now`.

pub mod classify;
pub mod email;
pub mod extract;
pub mod hours;
pub mod lead;
pub mod message;
pub mod notify;
pub mod report;
pub mod route;
pub mod token;
