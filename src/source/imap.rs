//! The IMAP watcher: IDLE (re-issued), catch-up `UID SEARCH` after every connect, polling
//! for servers without IDLE, reconnect with backoff. Checkpoints by UIDVALIDITY + UID,
//! never by `\Seen`; never deletes or expunges; flags or moves only after commit.
