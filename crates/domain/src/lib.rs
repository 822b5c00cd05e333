//! Pure domain logic: nothing here does I/O or reads the wall clock.
//! Callers pass in parsed messages, settings and `now`.

pub mod acceptance;
pub mod actions;
pub mod classify;
pub mod desk;
pub mod drift;
pub mod email;
pub mod extract;
pub mod handling;
pub mod hours;
pub mod identity;
pub mod lead;
pub mod message;
pub mod notify;
pub mod optout;
pub mod ratecap;
pub mod relay;
pub mod report;
pub mod review;
pub mod route;
pub mod token;
pub mod trim;
pub mod when;
