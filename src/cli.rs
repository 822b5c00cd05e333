//! The `leadgate` command line.
