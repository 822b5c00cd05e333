//! Messages from files: single `.eml` files, maildirs (`cur/` and `new/`), mbox files.
