//! Logging set-up: human-readable or JSON.
