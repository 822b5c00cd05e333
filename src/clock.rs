//! Time is injected: this is the only module that reads the wall clock.

use jiff::Timestamp;
use std::sync::{Arc, Mutex};

/// Where "now" comes from. Production uses [`Clock::system`]; tests and `--now` use a fixed one.
#[derive(Clone, Debug)]
pub struct Clock(Inner);

#[derive(Clone, Debug)]
enum Inner {
    System,
    // Shared so a test can move time forward while the code under test holds a clone.
    Fixed(Arc<Mutex<Timestamp>>),
}

impl Clock {
    pub fn system() -> Self {
        Clock(Inner::System)
    }

    pub fn fixed(at: Timestamp) -> Self {
        Clock(Inner::Fixed(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> Timestamp {
        match &self.0 {
            Inner::System => Timestamp::now(),
            Inner::Fixed(at) => *at.lock().expect("clock lock poisoned"),
        }
    }

    /// Moves a fixed clock; a system clock ignores it.
    pub fn set(&self, to: Timestamp) {
        if let Inner::Fixed(at) = &self.0 {
            *at.lock().expect("clock lock poisoned") = to;
        }
    }
}
