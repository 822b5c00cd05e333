//! Small state tables: mailbox checkpoints, round-robin cursors, people, opt-outs.

use super::{Db, Result};
use crate::domain::route::Person;
use crate::source::Checkpoint;
use sqlx::Row;
use std::collections::HashMap;

pub async fn checkpoint(db: &mut impl Db, mailbox: &str) -> Result<Option<Checkpoint>> {
    let row = sqlx::query("SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = $1")
        .bind(mailbox)
        .fetch_optional(db.raw())
        .await?;
    Ok(row.map(|r| Checkpoint {
        uidvalidity: r.get::<i64, _>(0) as u32,
        last_uid: r.get::<i64, _>(1) as u32,
    }))
}

/// Moves a mailbox's checkpoint forward (or to a new UIDVALIDITY); never backwards
/// within the same UIDVALIDITY, so a late writer cannot undo progress.
pub async fn save_checkpoint(
    db: &mut impl Db,
    mailbox: &str,
    cp: Checkpoint,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,
             last_uid = CASE WHEN mailbox_state.uidvalidity = excluded.uidvalidity
                             AND mailbox_state.last_uid > excluded.last_uid
                        THEN mailbox_state.last_uid ELSE excluded.last_uid END,
             updated_at = excluded.updated_at",
    )
    .bind(mailbox)
    .bind(cp.uidvalidity as i64)
    .bind(cp.last_uid as i64)
    .bind(at)
    .execute(db.raw())
    .await?;
    Ok(())
}

pub async fn route_cursors(db: &mut impl Db, desk: &str) -> Result<HashMap<String, String>> {
    let rows = sqlx::query("SELECT route, last_person FROM route_state WHERE desk = $1")
        .bind(desk)
        .fetch_all(db.raw())
        .await?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn save_route_cursor(
    db: &mut impl Db,
    desk: &str,
    route: &str,
    person: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO route_state (route, last_person, updated_at, desk) VALUES ($1, $2, $3, $4)
         ON CONFLICT (desk, route) DO UPDATE SET last_person = excluded.last_person, updated_at = excluded.updated_at",
    )
    .bind(route)
    .bind(person)
    .bind(at)
    .bind(desk)
    .execute(db.raw())
    .await?;
    Ok(())
}

/// Makes `desk`'s people in the table match the config: listed people active, everyone
/// else of the desk inactive (their leads are then orphaned, not lost).
pub async fn sync_people(db: &mut impl Db, desk: &str, people: &[Person], at: i64) -> Result<()> {
    sqlx::query("UPDATE people SET active = 0 WHERE desk = $1")
        .bind(desk)
        .execute(db.raw())
        .await?;
    for p in people {
        sqlx::query(
            "INSERT INTO people (id, name, email, active, synced_at, desk)
             VALUES ($1, $2, $3, 1, $4, $5)
             ON CONFLICT (desk, id) DO UPDATE SET name = excluded.name, email = excluded.email,
                 active = 1, synced_at = excluded.synced_at",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.email)
        .bind(at)
        .bind(desk)
        .execute(db.raw())
        .await?;
    }
    Ok(())
}

/// Whether `email_norm` opted out on the desk `scope` names (every desk's opt-outs count
/// when it is [`OptOutScope::Global`]).
pub use crate::domain::optout::Scope as OptOutScope;

pub async fn is_opted_out(
    db: &mut impl Db,
    scope: OptOutScope<'_>,
    email_norm: &str,
) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 FROM opt_outs WHERE email_norm = $1 AND ($2 = 1 OR desk = $3) LIMIT 1",
    )
    .bind(email_norm)
    .bind(scope.is_global() as i64)
    .bind(scope.desk())
    .fetch_optional(db.raw())
    .await?
    .is_some())
}

/// Records that `email_norm` asked `desk` not to contact them; `false` if it already had.
pub async fn add_opt_out(
    db: &mut impl Db,
    desk: &str,
    email_norm: &str,
    how: &str,
    at: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO opt_outs (email_norm, at, how, desk) VALUES ($1, $2, $3, $4)
         ON CONFLICT (desk, email_norm) DO NOTHING",
    )
    .bind(email_norm)
    .bind(at)
    .bind(how)
    .bind(desk)
    .execute(db.raw())
    .await?;
    Ok(done.rows_affected() > 0)
}
