//! Fetching in batches bounded by count and bytes, ingesting (together or one at a time),
//! and marking messages only after their transaction has committed.

use super::*;

impl<I: Ingest> Watcher<'_, I> {
    /// Fetches `uids` (ascending) in batches and ingests them in order (a batch of several
    /// as one [`Ingest::ingest_batch`] when the ingest batches); marks each batch's successes
    /// after the batch. While a batch is ingested the next one's bodies are fetched, so the
    /// server's and the database's work overlap. Shutdown is checked between transactions:
    /// a batch in hand finishes.
    pub(super) async fn process(
        &mut self,
        session: &mut Session,
        uidvalidity: u32,
        uids: &[u32],
        cursor: &mut u32,
        can_move: bool,
    ) -> anyhow::Result<Woke> {
        let mut batches = Batches {
            chunks: uids.chunks(FETCH_BATCH),
            sized: std::collections::VecDeque::new(),
        };
        let Some(mut batch) = batches.next(session).await? else {
            return Ok(Woke::Again);
        };
        if self.shutdown.is_cancelled() {
            return Ok(Woke::Shutdown);
        }
        let mut bodies = fetch_bodies(session, &batch).await?;
        loop {
            let mut done = Vec::with_capacity(batch.len());
            let mut woke = Woke::Again;
            let present: Vec<u32> = batch
                .iter()
                .copied()
                .filter(|uid| {
                    // Expunged by someone else between SEARCH and FETCH.
                    let here = bodies.contains_key(uid);
                    if !here {
                        tracing::debug!(imap.uid = uid, "message gone before fetch");
                    }
                    here
                })
                .collect();
            // The next batch: its UIDs now (sizes are a short command), its bodies while
            // this batch is ingested together (one at a time, it would only wait).
            let next = batches.next(session).await?;
            let mut prefetched = None;
            // A backlog goes in one transaction per batch; a lone new message, and any
            // batch holding a message that failed before, one message at a time.
            let together = I::BATCHES
                && present.len() > 1
                && !self.shutdown.is_cancelled()
                && !present
                    .iter()
                    .any(|&uid| self.failures.contains_key(&(uidvalidity, uid)));
            let mut rest = present.as_slice();
            if together {
                let fetch_next = async {
                    match &next {
                        Some(n) => Some(fetch_bodies(session, n).await),
                        None => None,
                    }
                };
                let (ingested, fetched) = tokio::join!(
                    self.ingest_together(uidvalidity, &present, &bodies),
                    fetch_next
                );
                prefetched = fetched;
                match ingested {
                    Ok(true) => {
                        done.extend_from_slice(&present);
                        *cursor = *present.last().expect("more than one");
                        rest = &[];
                    }
                    Ok(false) => {}
                    Err(e) => {
                        if let Err(m) = self.mark(session, &done, can_move).await {
                            tracing::warn!(error = %format!("{m:#}"), "cannot mark processed mail");
                        }
                        return Err(e);
                    }
                }
            }
            for &uid in rest {
                if self.shutdown.is_cancelled() {
                    woke = Woke::Shutdown;
                    break;
                }
                let raw = &bodies[&uid];
                let handled = match self.ingest_one(uidvalidity, uid, raw).await {
                    Ok(h) => h,
                    Err(e) => {
                        // Keep the marks of what did go through; reconnect later.
                        if let Err(m) = self.mark(session, &done, can_move).await {
                            tracing::warn!(error = %format!("{m:#}"), "cannot mark processed mail");
                        }
                        return Err(e);
                    }
                };
                match handled {
                    Some(true) => {
                        done.push(uid);
                        *cursor = uid;
                    }
                    Some(false) => *cursor = uid,
                    None => {
                        woke = Woke::Shutdown;
                        break;
                    }
                }
            }
            self.mark(session, &done, can_move).await?;
            if let Woke::Shutdown = woke {
                return Ok(woke);
            }
            let Some(next) = next else {
                return Ok(Woke::Again);
            };
            if self.shutdown.is_cancelled() {
                return Ok(Woke::Shutdown);
            }
            bodies = match prefetched {
                Some(fetched) => fetched?,
                None => fetch_bodies(session, &next).await?,
            };
            batch = next;
        }
    }

    /// Hands `uids` (ascending, all fetched) to the ingest as one batch. Ok(true): all
    /// committed; Ok(false): the batch failed (nothing of it was committed) and the caller
    /// takes its messages one at a time, so that a bad message is retried and skipped on
    /// its own and never holds up the rest; Err: the ingest as a whole is down.
    async fn ingest_together(
        &mut self,
        uidvalidity: u32,
        uids: &[u32],
        bodies: &BTreeMap<u32, Vec<u8>>,
    ) -> anyhow::Result<bool> {
        let s = self.settings;
        let batch: Vec<(&[u8], Origin)> = uids
            .iter()
            .map(|&uid| {
                let origin = Origin::Imap {
                    mailbox: s.mailbox.clone(),
                    uidvalidity,
                    uid,
                };
                (bodies[&uid].as_slice(), origin)
            })
            .collect();
        match self.ingest.ingest_batch(&batch).await {
            Ok(outcomes) => {
                tracing::debug!(
                    imap.from = uids[0],
                    imap.to = uids[uids.len() - 1],
                    messages = outcomes.len(),
                    "batch ingested"
                );
                self.status
                    .ingested
                    .fetch_add(uids.len() as u64, Ordering::SeqCst);
                Ok(true)
            }
            Err(e) => {
                if let Err(down) = self.ingest.checkpoint(&s.mailbox).await {
                    return Err(e.context(format!(
                        "ingest is unavailable (reading the checkpoint fails too: {down:#})"
                    )));
                }
                tracing::warn!(
                    imap.from = uids[0],
                    imap.to = uids[uids.len() - 1],
                    error = %format!("{e:#}"),
                    "batch failed; taking its messages one at a time"
                );
                Ok(false)
            }
        }
    }

    /// Ok(Some(true)) ingested, Ok(Some(false)) skipped after `max_attempts`, Ok(None)
    /// shutdown while waiting to retry, Err when the ingest as a whole is down (its
    /// checkpoint cannot be read either): then no attempt is counted, so a database outage
    /// does not make every message look poisoned.
    async fn ingest_one(
        &mut self,
        uidvalidity: u32,
        uid: u32,
        raw: &[u8],
    ) -> anyhow::Result<Option<bool>> {
        let s = self.settings;
        let key = (uidvalidity, uid);
        loop {
            let attempts = self.failures.get(&key).copied().unwrap_or(0);
            if attempts >= s.max_attempts {
                tracing::error!(
                    imap.mailbox = %s.mailbox, imap.uidvalidity = uidvalidity, imap.uid = uid,
                    attempts,
                    "message failed processing too often: skipped (see the quarantine)"
                );
                self.status.skipped.fetch_add(1, Ordering::SeqCst);
                self.failures.remove(&key);
                if let Err(e) = self.set_checkpoint(uidvalidity, uid).await {
                    tracing::error!(imap.uid = uid, error = %format!("{e:#}"), "cannot move the checkpoint past a skipped message");
                }
                return Ok(Some(false));
            }
            let origin = Origin::Imap {
                mailbox: s.mailbox.clone(),
                uidvalidity,
                uid,
            };
            match self.ingest.ingest(raw, origin).await {
                Ok(outcome) => {
                    tracing::debug!(imap.uid = uid, ?outcome, "ingested");
                    self.failures.remove(&key);
                    self.status.ingested.fetch_add(1, Ordering::SeqCst);
                    return Ok(Some(true));
                }
                Err(e) => {
                    if let Err(down) = self.ingest.checkpoint(&s.mailbox).await {
                        return Err(e.context(format!(
                            "ingest is unavailable (reading the checkpoint fails too: {down:#})"
                        )));
                    }
                    let attempts = attempts + 1;
                    self.failures.insert(key, attempts);
                    tracing::warn!(
                        imap.uid = uid, attempts, max_attempts = s.max_attempts,
                        error = %format!("{e:#}"),
                        "ingest failed"
                    );
                    if attempts < s.max_attempts {
                        let pause = RETRY_FIRST
                            .saturating_mul(1 << attempts.min(16))
                            .min(RETRY_CAP);
                        tokio::select! {
                            _ = self.shutdown.cancelled() => return Ok(None),
                            _ = tokio::time::sleep(pause) => {}
                        }
                    }
                }
            }
        }
    }

    /// Sets the keyword or moves the messages just ingested. Never `\Deleted`, never EXPUNGE.
    async fn mark(
        &mut self,
        session: &mut Session,
        uids: &[u32],
        can_move: bool,
    ) -> anyhow::Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        let s = self.settings;
        match &s.after {
            AfterProcessing::Nothing => {}
            AfterProcessing::Keyword => self.store_keyword(session, &set).await?,
            AfterProcessing::Move(folder) => {
                if !can_move {
                    // COPY + \Deleted + EXPUNGE would delete: keep the keyword instead.
                    if !self.warned_no_move {
                        tracing::warn!(
                            folder = %folder,
                            "the server has no MOVE: setting the keyword instead of moving"
                        );
                        self.warned_no_move = true;
                    }
                    return self.store_keyword(session, &set).await;
                }
                if let Err(e) = timed("UID MOVE", session.uid_mv(&set, folder)).await {
                    // Most likely the folder does not exist yet: create it once and retry.
                    tracing::info!(folder = %folder, error = %format!("{e:#}"), "creating the folder for processed mail");
                    if let Err(c) = timed("CREATE", session.create(folder)).await {
                        tracing::debug!(error = %format!("{c:#}"), "CREATE failed (it may exist)");
                    }
                    timed("UID MOVE", session.uid_mv(&set, folder))
                        .await
                        .with_context(|| format!("cannot move processed mail to {folder:?}"))?;
                }
            }
        }
        Ok(())
    }

    async fn store_keyword(&self, session: &mut Session, set: &str) -> anyhow::Result<()> {
        let query = format!("+FLAGS.SILENT ({})", self.settings.keyword);
        timed("UID STORE", async {
            let stream = session.uid_store(set, &query).await?;
            stream.try_for_each(|_| async { Ok(()) }).await
        })
        .await
        .context("cannot set the processed keyword")
    }

    pub(super) async fn set_checkpoint(
        &self,
        uidvalidity: u32,
        last_uid: u32,
    ) -> anyhow::Result<()> {
        self.ingest
            .set_checkpoint(
                &self.settings.mailbox,
                Checkpoint {
                    uidvalidity,
                    last_uid,
                },
            )
            .await
            .context("cannot record the IMAP checkpoint")
    }
}

pub(super) async fn highest_uid(session: &mut Session) -> anyhow::Result<u32> {
    Ok(timed("UID SEARCH", session.uid_search("UID *"))
        .await?
        .into_iter()
        .max()
        .unwrap_or(0))
}

/// `UID FETCH set (UID BODY.PEEK[])`: PEEK so that `\Seen` is never set.
async fn fetch_bodies(
    session: &mut Session,
    uids: &[u32],
) -> anyhow::Result<BTreeMap<u32, Vec<u8>>> {
    let set = uid_set(uids);
    let wanted: std::collections::HashSet<u32> = uids.iter().copied().collect();
    // Each response is copied out and dropped as it arrives: a response owns async-imap's
    // whole read buffer of its time (often far more than its body), and holding a batch of
    // them at once would set the heap's high-water mark, which glibc keeps after an import.
    tokio::time::timeout(FETCH_TIMEOUT, async {
        let mut stream = session.uid_fetch(&set, "(UID BODY.PEEK[])").await?;
        let mut out = BTreeMap::new();
        while let Some(f) = stream.try_next().await? {
            // Unsolicited FETCH responses (another client changing flags) carry no body.
            if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                if wanted.contains(&uid) {
                    out.insert(uid, body.to_vec());
                }
            }
        }
        Ok::<_, async_imap::error::Error>(out)
    })
    .await
    .map_err(|_| anyhow!("UID FETCH timed out after {}s", FETCH_TIMEOUT.as_secs()))?
    .context("UID FETCH failed")
}

/// The fetch batches of a list of UIDs, sized a chunk of [`FETCH_BATCH`] UIDs at a time.
struct Batches<'u> {
    chunks: std::slice::Chunks<'u, u32>,
    sized: std::collections::VecDeque<Vec<u32>>,
}

impl Batches<'_> {
    async fn next(&mut self, session: &mut Session) -> anyhow::Result<Option<Vec<u32>>> {
        while self.sized.is_empty() {
            let Some(chunk) = self.chunks.next() else {
                return Ok(None);
            };
            self.sized
                .extend(size_batches(chunk, &fetch_sizes(session, chunk).await?));
        }
        Ok(self.sized.pop_front())
    }
}

/// `UID FETCH set (UID RFC822.SIZE)`: sizes first, so a batch of bodies stays bounded.
async fn fetch_sizes(session: &mut Session, uids: &[u32]) -> anyhow::Result<HashMap<u32, u64>> {
    let set = uid_set(uids);
    let fetched = timed("UID FETCH RFC822.SIZE", async {
        let stream = session.uid_fetch(&set, "(UID RFC822.SIZE)").await?;
        stream.try_collect::<Vec<_>>().await
    })
    .await?;
    Ok(fetched
        .into_iter()
        .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
        .collect())
}

/// Splits ascending `uids` into runs whose bodies add up to at most [`FETCH_BYTES`] (a
/// message larger than that gets a batch of its own). Unknown sizes count as zero.
fn size_batches(uids: &[u32], sizes: &HashMap<u32, u64>) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0u64;
    for &uid in uids {
        let size = sizes.get(&uid).copied().unwrap_or(0);
        if !current.is_empty() && bytes.saturating_add(size) > FETCH_BYTES {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(uid);
        bytes = bytes.saturating_add(size);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `1,2,3,7,9,10` → `1:3,7,9:10` (ascending input).
fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// An IMAP atom: what a keyword may be (RFC 3501 `flag-keyword`).
pub(super) fn is_atom(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
    }

    #[test]
    fn batches_are_bounded_by_bytes() {
        let sizes: HashMap<u32, u64> = [(1, 10), (2, FETCH_BYTES), (3, 5), (4, 5)]
            .into_iter()
            .collect();
        assert_eq!(
            size_batches(&[1, 2, 3, 4, 5], &sizes),
            vec![vec![1], vec![2], vec![3, 4, 5]]
        );
        assert!(size_batches(&[], &sizes).is_empty());
    }

    #[test]
    fn keywords_must_be_atoms() {
        assert!(is_atom("$LeadgateDone"));
        assert!(!is_atom("two words"));
        assert!(!is_atom("(x)"));
        assert!(!is_atom(""));
    }
}
