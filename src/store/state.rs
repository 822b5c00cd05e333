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

pub async fn route_cursors(db: &mut impl Db) -> Result<HashMap<String, String>> {
    let rows = sqlx::query("SELECT route, last_person FROM route_state")
        .fetch_all(db.raw())
        .await?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn save_route_cursor(db: &mut impl Db, route: &str, person: &str, at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO route_state (route, last_person, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (route) DO UPDATE SET last_person = excluded.last_person, updated_at = excluded.updated_at",
    )
    .bind(route)
    .bind(person)
    .bind(at)
    .execute(db.raw())
    .await?;
    Ok(())
}

/// Makes the people table match the config: listed people active, everyone else inactive
/// (their leads are then orphaned, not lost).
pub async fn sync_people(db: &mut impl Db, people: &[Person], at: i64) -> Result<()> {
    sqlx::query("UPDATE people SET active = 0")
        .execute(db.raw())
        .await?;
    for p in people {
        sqlx::query(
            "INSERT INTO people (id, name, email, active, synced_at) VALUES ($1, $2, $3, 1, $4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email,
                 active = 1, synced_at = excluded.synced_at",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.email)
        .bind(at)
        .execute(db.raw())
        .await?;
    }
    Ok(())
}

pub async fn is_opted_out(db: &mut impl Db, email_norm: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM opt_outs WHERE email_norm = $1")
        .bind(email_norm)
        .fetch_optional(db.raw())
        .await?
        .is_some())
}

/// Records that `email_norm` asked not to be contacted; `false` if it already had.
pub async fn add_opt_out(db: &mut impl Db, email_norm: &str, how: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO opt_outs (email_norm, at, how) VALUES ($1, $2, $3)
         ON CONFLICT (email_norm) DO NOTHING",
    )
    .bind(email_norm)
    .bind(at)
    .bind(how)
    .execute(db.raw())
    .await?;
    Ok(done.rows_affected() > 0)
}
