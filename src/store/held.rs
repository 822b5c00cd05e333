//! What a unit of work ([`super::Tx`]) holds back and writes in bulk: message rows, outbox
//! rows and history entries, which nothing in the unit of work reads back before a query
//! of their table, a savepoint or the commit. A PostgreSQL statement is a round trip, and
//! a SQLite one a hop to its worker thread: a notification costs one statement (its lead)
//! instead of four, and a batch of mail or a sweep's notices one per table.

use super::leads::{self, NewActivity};
use super::messages::{self, NewMessage};
use super::outbox::{self, NewEmail};
use super::Result;
use sqlx::AnyConnection;

/// A message row of a unit of work: written, or held until the next flush. Its row id
/// comes from [`super::Tx::message_row`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageRef(Ref);

/// An outbox row of a unit of work: written, or held until the next flush (a history
/// entry refers to it by this; [`super::Tx::email_id`] gives its id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmailRef(Ref);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ref {
    Written(i64),
    /// Its index among the rows of its table this unit of work has held.
    Held(usize),
}

impl MessageRef {
    pub(super) fn written(id: i64) -> MessageRef {
        MessageRef(Ref::Written(id))
    }
}

impl EmailRef {
    pub(super) fn written(id: i64) -> EmailRef {
        EmailRef(Ref::Written(id))
    }
}

/// Rows of one table held by a unit of work, and the ids of those written so far.
struct Rows<T> {
    /// Not written yet; the first has index `ids.len()`.
    waiting: Vec<T>,
    /// The ids of the rows held and written, by index.
    ids: Vec<i64>,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows {
            waiting: Vec::new(),
            ids: Vec::new(),
        }
    }
}

impl<T> Rows<T> {
    fn hold(&mut self, row: T) -> Ref {
        self.waiting.push(row);
        Ref::Held(self.ids.len() + self.waiting.len() - 1)
    }

    /// The id of a row, if it is written.
    fn id(&self, r: Ref) -> Option<i64> {
        match r {
            Ref::Written(id) => Some(id),
            Ref::Held(i) => self.ids.get(i).copied(),
        }
    }
}

#[derive(Default)]
pub(super) struct Held<'r> {
    messages: Rows<NewMessage<'r>>,
    emails: Rows<NewEmail>,
    /// The rendered bytes of the emails waiting: what holding costs in memory (a message
    /// row borrows its bytes from the batch).
    email_bytes: usize,
    history: Vec<NewActivity>,
}

impl<'r> Held<'r> {
    pub(super) fn message(&mut self, m: NewMessage<'r>) -> MessageRef {
        MessageRef(self.messages.hold(m))
    }

    /// Holds `e`; true when the emails waiting reach a statement's worth of bytes, which
    /// are better written now than held to the end (a batch of them would raise the heap's
    /// high-water mark, which glibc keeps for the life of the process).
    pub(super) fn email(&mut self, e: NewEmail) -> (EmailRef, bool) {
        self.email_bytes += e.raw.len();
        let r = EmailRef(self.emails.hold(e));
        (r, self.email_bytes >= super::MAX_STATEMENT_BYTES)
    }

    pub(super) fn record(&mut self, entry: NewActivity) {
        self.history.push(entry);
    }

    /// The held message with this dedupe key that is not written yet.
    pub(super) fn waiting_message(&self, dedupe_key: &str) -> Option<MessageRef> {
        let first = self.messages.ids.len();
        self.messages
            .waiting
            .iter()
            .position(|m| m.dedupe_key == dedupe_key)
            .map(|i| MessageRef(Ref::Held(first + i)))
    }

    pub(super) fn message_row(&self, r: MessageRef) -> Option<i64> {
        self.messages.id(r.0)
    }

    pub(super) fn email_id(&self, r: EmailRef) -> Option<i64> {
        self.emails.id(r.0)
    }

    /// Writes what waits: emails first (history refers to them), then messages, then
    /// history.
    pub(super) async fn write(&mut self, conn: &mut AnyConnection) -> Result<()> {
        if !self.emails.waiting.is_empty() {
            let ids = outbox::insert_many(conn, &self.emails.waiting).await?;
            self.emails.ids.extend(ids);
            self.emails.waiting.clear();
            self.email_bytes = 0;
        }
        if !self.messages.waiting.is_empty() {
            let ids = messages::insert_many(conn, &self.messages.waiting).await?;
            self.messages.ids.extend(ids);
            self.messages.waiting.clear();
        }
        if !self.history.is_empty() {
            let emails = &self.emails;
            leads::insert_history(conn, &self.history, |r| emails.id(r.0)).await?;
            self.history.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lead::{ActivityKind, LeadStatus};
    use crate::store::tx::sealed::Sealed as _;
    use crate::store::{leads, messages, outbox, Db, Store};
    use sqlx::Row;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        (dir, store)
    }

    /// The rows of a table as the database has them, without writing what is held.
    async fn written(db: &mut impl Db, table: &str) -> i64 {
        sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(db.raw())
            .await
            .unwrap()
            .get(0)
    }

    fn message<'r>(key: &str, raw: &'r [u8]) -> NewMessage<'r> {
        NewMessage {
            dedupe_key: key.to_owned(),
            raw_sha256: format!("sha-{key}"),
            message_id: Some(format!("{key}@mail.test")),
            received_at: 1,
            origin: "test".into(),
            class: "notification",
            reason: "test".into(),
            sender: None,
            subject: "Hello".into(),
            lead_id: None,
            quarantined: false,
            raw,
        }
    }

    fn email(n: usize, bytes: usize) -> NewEmail {
        NewEmail {
            purpose: "assignment",
            lead_id: None,
            message_id: format!("m{n}@leads.test"),
            envelope_from: "leadgate@leads.test".into(),
            recipients: vec!["alice@team.test".into()],
            subject: "New lead".into(),
            raw: vec![b'x'; bytes],
            now: 1,
        }
    }

    #[tokio::test]
    async fn a_held_message_is_found_by_its_dedupe_key_without_being_written() {
        let (_dir, store) = store().await;
        let raw = b"Subject: Hello\r\n\r\nHi".to_vec();
        let mut tx = store.begin().await.unwrap();
        let held = tx.hold_message(message("k1", &raw));
        let found = messages::find_by_dedupe_keys(&mut tx, &["k1", "k2"])
            .await
            .unwrap();
        assert_eq!(found.get("k1"), Some(&held));
        assert_eq!(found.get("k2"), None);
        assert_eq!(
            written(&mut tx, "messages").await,
            0,
            "a lookup writes nothing"
        );
        // A read of the table writes what is held first.
        let listed = messages::list(&mut tx, None, 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(tx.message_row(held).await.unwrap(), listed[0].id);
        // Written now: the lookup answers with the row from the database.
        let again = messages::find_by_dedupe_key(&mut tx, "k1").await.unwrap();
        assert_eq!(again, Some(MessageRef::written(listed[0].id)));
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn history_names_the_email_it_was_held_with_and_both_commit() {
        let (_dir, store) = store().await;
        let mut tx = store.begin().await.unwrap();
        let lead = leads::insert(
            &mut tx,
            &leads::NewLead {
                desk: crate::config::DEFAULT_DESK,
                status: LeadStatus::New,
                owner: None,
                source: "test",
                form: None,
                name: None,
                email: None,
                email_norm: None,
                phone: None,
                company: None,
                message: None,
                consent: None,
                extra: "{}",
                needs_template: false,
                route_rule: None,
                route_reason: "",
                next_action: None,
                next_action_due: None,
                now: 1,
                previous_lead: None,
            },
        )
        .await
        .unwrap();
        let first = tx.hold_email(email(1, 10)).await.unwrap();
        let second = tx.hold_email(email(2, 10)).await.unwrap();
        tx.record(
            leads::NewActivity::system(lead, 1, ActivityKind::Notified, "second")
                .outbox(Some(second)),
        );
        assert_eq!(written(&mut tx, "outbox").await, 0);
        assert_eq!(written(&mut tx, "activities").await, 0);
        tx.commit().await.unwrap();

        let mut conn = store.acquire().await.unwrap();
        assert_eq!(outbox::list(&mut conn).await.unwrap().len(), 2);
        let linked: String = sqlx::query(
            "SELECT o.message_id FROM activities a JOIN outbox o ON o.id = a.outbox_id
             WHERE a.lead_id = $1",
        )
        .bind(lead)
        .fetch_one(conn.raw())
        .await
        .unwrap()
        .get(0);
        assert_eq!(linked, "m2@leads.test");
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn a_statements_worth_of_held_emails_is_written_at_once() {
        let (_dir, store) = store().await;
        let mut tx = store.begin().await.unwrap();
        let big = crate::store::MAX_STATEMENT_BYTES / 2;
        tx.hold_email(email(1, big)).await.unwrap();
        assert_eq!(written(&mut tx, "outbox").await, 0);
        tx.hold_email(email(2, big)).await.unwrap();
        assert_eq!(written(&mut tx, "outbox").await, 2);
        tx.rollback().await.unwrap();
    }

    #[tokio::test]
    async fn what_is_held_is_gone_with_a_rollback() {
        let (_dir, store) = store().await;
        let raw = b"x".to_vec();
        let mut tx = store.begin().await.unwrap();
        tx.hold_message(message("k1", &raw));
        tx.hold_email(email(1, 10)).await.unwrap();
        drop(tx);
        let mut conn = store.acquire().await.unwrap();
        assert_eq!(written(&mut conn, "messages").await, 0);
        assert_eq!(written(&mut conn, "outbox").await, 0);
    }
}
