//! What routing reads of the database, as one [`Snapshot`] (see there): loaded once by
//! capture, the sweep's hand-on and orphan reassignment, and kept current by them.

use super::{leads, state, Db, Result};
use crate::domain::route::{AccountKey, Snapshot};

/// The round-robin cursors, and the open leads per person when `counted` (a scan over
/// every open lead: only when routing weighs workload).
pub async fn snapshot(db: &mut impl Db, desk: &str, counted: bool) -> Result<Snapshot> {
    let mut snap = Snapshot::new(state::route_cursors(db, desk).await?);
    if counted {
        snap.set_open_counts(leads::open_counts(db, desk).await?);
    }
    Ok(snap)
}

/// Looks up the newest owned lead under each of `keys` that `snap` does not know yet;
/// `no_lead_under(key)`: the caller knows there is no lead under it at all.
pub async fn look_up(
    db: &mut impl Db,
    desk: &str,
    snap: &mut Snapshot,
    keys: &[AccountKey],
    no_lead_under: impl Fn(&str) -> bool,
) -> Result<()> {
    let unknown: Vec<AccountKey> = snap.unknown(keys).cloned().collect();
    for key in unknown {
        let owner = if no_lead_under(&key.key) {
            None
        } else {
            leads::past_owner(db, desk, &key, i64::MAX).await?
        };
        snap.learn(&key.key, owner);
    }
    Ok(())
}
