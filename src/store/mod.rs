//! The database behind one type: SQLite (WAL) by default, PostgreSQL by URL.
