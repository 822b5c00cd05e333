//! Start-up: config → store → the daemon's tasks.
