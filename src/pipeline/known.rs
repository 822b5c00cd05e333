//! What a transaction knows of the database already (dedupe keys, the latest lead per
//! address), and what it wrote of each message.

use super::*;

/// What [`Pipeline::store_one`] wrote, for the sighting and the log after commit.
pub(super) struct StoredOne {
    pub(super) row: MessageRef,
    pub(super) duplicate: bool,
    pub(super) class: &'static str,
    pub(super) lead: Option<i64>,
    pub(super) queued_mail: bool,
    pub(super) reason: String,
}

/// What the transaction knows of the database beyond [`Routing`]: which dedupe keys are
/// stored (including its own messages) and the newest lead of each address, read for a
/// group of messages at a time with one `IN (...)` statement each and kept current as it
/// writes. A miss (a key or an address of no group read so far) is read on its own.
#[derive(Default)]
pub(super) struct Known {
    /// Dedupe key → its row (`None`: not stored).
    pub(super) dedupe: HashMap<String, Option<MessageRef>>,
    /// Normalised address → its newest lead (`None`: it has none).
    pub(super) latest: HashMap<String, Option<leads::LatestLead>>,
}

impl Known {
    /// Reads what is not known yet of the messages in `group`.
    pub(super) async fn read_ahead<'r>(
        &mut self,
        tx: &mut Tx<'_>,
        desk: &str,
        group: impl Iterator<Item = &'r Read> + Clone,
    ) -> store::Result<()> {
        let keys: Vec<&str> = group
            .clone()
            .map(|r| r.dedupe_key.as_str())
            .filter(|k| !self.dedupe.contains_key(*k))
            .collect();
        if !keys.is_empty() {
            let found = messages::find_by_dedupe_keys(tx, &keys).await?;
            for k in keys {
                self.dedupe.insert(k.to_owned(), found.get(k).copied());
            }
        }
        let emails: Vec<String> = group
            .filter_map(notification_email)
            .filter(|e| !self.latest.contains_key(e))
            .collect();
        if !emails.is_empty() {
            let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
            let mut found = leads::latest_by_emails(tx, desk, &refs).await?;
            for e in emails {
                let lead = found.remove(&e);
                self.latest.insert(e, lead);
            }
        }
        Ok(())
    }

    pub(super) async fn stored(
        &mut self,
        tx: &mut Tx<'_>,
        key: &str,
    ) -> store::Result<Option<MessageRef>> {
        if let Some(row) = self.dedupe.get(key) {
            return Ok(*row);
        }
        let row = messages::find_by_dedupe_key(tx, key).await?;
        self.dedupe.insert(key.to_owned(), row);
        Ok(row)
    }

    pub(super) async fn latest(
        &mut self,
        tx: &mut Tx<'_>,
        desk: &str,
        email_norm: &str,
    ) -> store::Result<Option<leads::LatestLead>> {
        if let Some(lead) = self.latest.get(email_norm) {
            return Ok(lead.clone());
        }
        let lead = leads::latest_by_emails(tx, desk, &[email_norm])
            .await?
            .remove(email_norm);
        self.latest.insert(email_norm.to_owned(), lead.clone());
        Ok(lead)
    }
}
