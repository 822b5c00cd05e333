//! Delivery of what the pipeline decided to send: leasing, retries with backoff, dead letters.

pub mod smtp;
pub mod transport;
