//! One message = one transaction: dedupe → classify → extract → match → route → store → outbox.
