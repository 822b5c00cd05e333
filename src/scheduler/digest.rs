//! The daily digest (orphaned and drifting leads, grouped by owner) and the weekly review
//! (figures, the five checks and the 1-5 score, a chart), as models, as drafts from the
//! templates, and on their schedule.

use super::{age, describe, display_name, scan, templates, Scanned};
use crate::board::links::ViewScope;
use crate::config::Settings;
use crate::domain::drift::DriftKind;
use crate::domain::lead::LeadStatus;
use crate::domain::notify::{self, Draft, Purpose};
use crate::domain::review::{ownership_score, OwnershipScore, ReviewFigures, ScoreTargets};
use crate::store::leads::Lead;
use crate::store::{self, drift as drift_store, Db, Store};
use anyhow::Context;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::Serialize;
use std::collections::BTreeMap;

/// One drifting lead in the digest.
#[derive(Clone, Debug, Serialize)]
pub struct DigestLine {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub owner: Option<String>,
    pub owner_text: String,
    pub kinds: Vec<DriftKind>,
    /// What is missing, in words.
    pub missing: String,
    pub age: String,
    pub tracked: String,
    pub mailto: String,
    #[serde(skip)]
    created_ms: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct OwnerGroup {
    pub owner: String,
    pub owner_name: String,
    pub lines: Vec<DigestLine>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Count {
    pub label: String,
    pub n: usize,
    pub urgent: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Digest {
    pub title: String,
    pub counts_line: String,
    pub counts: Vec<Count>,
    pub live: u64,
    pub drifting: usize,
    pub clean: bool,
    /// Triage items waiting for a decision (a person's mail, an unreadable notification),
    /// oldest first: the digest's first section.
    pub triage: Vec<DigestLine>,
    /// Orphaned and unaccepted leads, oldest first.
    pub need_owner: Vec<DigestLine>,
    /// Everything else that drifts, by owner, the worst first.
    pub groups: Vec<OwnerGroup>,
    pub date: String,
    pub team: String,
    /// A signed read-only link to the team's board (`[http] public_url` set).
    pub board: Option<String>,
}

/// The order the digest lists problems in: ownership first, then deadlines.
pub(crate) fn rank(k: DriftKind) -> u8 {
    match k {
        DriftKind::Orphaned => 0,
        DriftKind::Unaccepted => 1,
        DriftKind::Overdue => 2,
        DriftKind::NoNextAction => 3,
        DriftKind::NoFirstReply => 4,
        DriftKind::Unanswered => 5,
        DriftKind::Idle => 6,
        DriftKind::Untriaged => 0,
    }
}

pub(crate) fn label(k: DriftKind) -> &'static str {
    match k {
        DriftKind::Orphaned => "orphaned",
        DriftKind::Unaccepted => "not accepted",
        DriftKind::Overdue => "overdue",
        DriftKind::NoNextAction => "no next action",
        DriftKind::NoFirstReply => "no first reply",
        DriftKind::Unanswered => "unanswered",
        DriftKind::Idle => "idle",
        DriftKind::Untriaged => "untriaged",
    }
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if s.chars().nth(1).is_some_and(char::is_lowercase) => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s.to_owned(),
    }
}

/// Adds the triage items in `waiting` (every undecided one) that [`build`] did not list
/// because they do not drift yet: the digest lists every item waiting for a decision, the
/// newest too, so that an item with no owner (`[capture] triage = "digest"`) is seen.
pub fn with_waiting_triage(
    mut d: Digest,
    waiting: &[Lead],
    s: &Settings,
    now: Timestamp,
) -> Digest {
    let before = d.triage.len();
    for row in waiting {
        if d.triage.iter().any(|l| l.id == row.id) {
            continue;
        }
        let (tracked, mailto) = reply_link(s, row);
        let owner_text = match &row.owner {
            None => "nobody owns it".to_owned(),
            Some(o) => format!("with {}", person_name(s, o)),
        };
        d.triage.push(DigestLine {
            id: row.id,
            name: display_name(row),
            email: row.email.as_ref().map(|e| e.to_string()),
            owner: row.owner.clone(),
            owner_text,
            kinds: Vec::new(),
            missing: "waiting for a decision: /lead or /notlead".into(),
            age: age(row.created_at, now),
            tracked,
            mailto,
            created_ms: row.created_at.as_millisecond(),
        });
    }
    if d.triage.len() == before {
        return d;
    }
    d.triage.sort_by_key(|l| (l.created_ms, l.id));
    let added = d.triage.len() - before;
    d.drifting += added;
    d.clean = false;
    let n = d.triage.len();
    d.title = if before == 0 && d.title.starts_with("All ") {
        format!("{n} to triage")
    } else if before == 0 {
        format!("{n} to triage, {}", lowercase_first(&d.title))
    } else {
        d.title
            .replacen(&format!("{before} to triage"), &format!("{n} to triage"), 1)
    };
    d
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The digest of `leads` (as [`scan`] returns them) at `now`. Pure.
pub fn build(leads: &[Scanned], live: u64, s: &Settings, now: Timestamp) -> Digest {
    let mut need_owner = Vec::new();
    let mut triage = Vec::new();
    let mut by_owner: BTreeMap<String, Vec<DigestLine>> = BTreeMap::new();
    let mut per_kind: BTreeMap<DriftKind, usize> = BTreeMap::new();
    for l in leads.iter().filter(|l| !l.drift.is_empty()) {
        let mut drift = l.drift.clone();
        if drift.iter().any(|d| d.kind == DriftKind::NoFirstReply) {
            // The overdue "first reply" action is the missing first reply.
            drift.retain(|d| d.kind != DriftKind::Overdue);
        }
        drift.sort_by_key(|d| rank(d.kind));
        for d in &drift {
            *per_kind.entry(d.kind).or_default() += 1;
        }
        let name = display_name(&l.row);
        let (tracked, mailto) = reply_link(s, &l.row);
        let owner_text = match (&l.row.owner, l.facts.owner_active, l.row.accepted) {
            (None, _, _) => "nobody owns it".to_owned(),
            (Some(o), false, _) => format!("{o} left the team"),
            (Some(o), true, false) => format!("proposed to {}, not accepted", person_name(s, o)),
            (Some(o), true, true) => format!("owned by {}", person_name(s, o)),
        };
        let line = DigestLine {
            id: l.row.id,
            name,
            email: l.row.email.as_ref().map(|e| e.to_string()),
            owner: l.row.owner.clone(),
            owner_text,
            kinds: drift.iter().map(|d| d.kind).collect(),
            missing: drift
                .iter()
                .map(|d| describe(d.kind, d, &l.facts, s))
                .collect::<Vec<_>>()
                .join("; "),
            age: age(l.facts.created_at, now),
            mailto,
            tracked,
            created_ms: l.row.created_at.as_millisecond(),
        };
        let ownerless = drift
            .iter()
            .any(|d| matches!(d.kind, DriftKind::Orphaned | DriftKind::Unaccepted));
        if l.row.status == LeadStatus::Triage {
            triage.push(line);
        } else if ownerless {
            need_owner.push(line);
        } else {
            let owner = l.row.owner.clone().unwrap_or_default();
            by_owner.entry(owner).or_default().push(line);
        }
    }
    need_owner.sort_by_key(|l| (rank(l.kinds[0]), l.created_ms, l.id));
    triage.sort_by_key(|l| (l.created_ms, l.id));
    let mut groups: Vec<OwnerGroup> = by_owner
        .into_iter()
        .map(|(owner, mut lines)| {
            lines.sort_by_key(|l| (rank(l.kinds[0]), l.created_ms, l.id));
            OwnerGroup {
                owner_name: person_name(s, &owner),
                owner,
                lines,
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        b.lines
            .len()
            .cmp(&a.lines.len())
            .then(a.owner.cmp(&b.owner))
    });
    // Counts in the digest's order: ownership first, then deadlines.
    let mut per_kind: Vec<(DriftKind, usize)> = per_kind.into_iter().collect();
    per_kind.sort_by_key(|(k, _)| rank(*k));
    let rest: usize = groups.iter().map(|g| g.lines.len()).sum();
    let drifting = triage.len() + need_owner.len() + rest;
    let title = if !need_owner.is_empty() {
        let n = need_owner.len();
        let head = format!(
            "{} {} an owner",
            plural(n, "lead", "leads"),
            if n == 1 { "needs" } else { "need" }
        );
        if rest > 0 {
            format!("{head}, {rest} more drifting")
        } else {
            head
        }
    } else if rest > 0 {
        format!(
            "{} drifting: {}",
            plural(rest, "lead", "leads"),
            per_kind
                .iter()
                .map(|(k, n)| format!("{n} {}", label(*k)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else if triage.is_empty() {
        format!(
            "All {} owned and timed",
            plural(live as usize, "live lead", "live leads")
        )
    } else {
        String::new()
    };
    let title = match (triage.len(), title.is_empty()) {
        (0, _) => title,
        (n, true) => format!("{n} to triage"),
        (n, false) => format!("{n} to triage, {}", lowercase_first(&title)),
    };
    let mut counts = vec![Count {
        label: "live".into(),
        n: live as usize,
        urgent: false,
    }];
    counts.extend(per_kind.iter().map(|(k, n)| Count {
        label: label(*k).into(),
        n: *n,
        urgent: matches!(
            k,
            DriftKind::Orphaned | DriftKind::Unaccepted | DriftKind::Overdue
        ),
    }));
    let counts_line = counts
        .iter()
        .map(|c| format!("{} {}", c.n, c.label))
        .collect::<Vec<_>>()
        .join(" · ");
    Digest {
        title,
        counts_line,
        counts,
        live,
        drifting,
        clean: drifting == 0,
        triage,
        need_owner,
        groups,
        date: now
            .to_zoned(s.team.timezone.clone())
            .strftime("%A %d %B %Y")
            .to_string(),
        team: s.team.name.clone(),
        board: desk_view_link(s, now),
    }
}

/// The team's board, read-only, for the digest and the review.
fn desk_view_link(s: &Settings, now: Timestamp) -> Option<String> {
    let desk = ViewScope::Desk(s.desk.id.clone());
    crate::board::links::url(s, &desk, now)
}

fn person_name(s: &Settings, id: &str) -> String {
    s.person(id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| id.to_owned())
}

/// The lead's tracked address and a `mailto:` link to it whose subject carries the
/// lead's `[LG-n]` tag, so a reply written from the link finds the lead.
pub(crate) fn reply_link(s: &Settings, row: &Lead) -> (String, String) {
    let tracked = s.relay.tracked_address(row.id);
    let subject = format!("Re: {} [LG-{}]", display_name(row), row.id);
    let mailto = format!("mailto:{tracked}?subject={}", percent(&subject));
    (tracked, mailto)
}

/// Enough of RFC 3986 for a mailto subject.
fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Who reads digests: `[digest] to`, else the manager.
fn readers(s: &Settings) -> Vec<String> {
    if !s.digest.to.is_empty() {
        return s.digest.to.iter().map(|a| a.to_string()).collect();
    }
    s.team
        .manager
        .as_deref()
        .and_then(|m| s.person(m))
        .map(|p| vec![p.email.clone()])
        .unwrap_or_default()
}

pub async fn daily(conn: &mut impl Db, s: &Settings, now: Timestamp) -> anyhow::Result<Digest> {
    let leads = scan(conn, s, now).await?;
    let live = store::leads::live_count(conn, &s.desk.id).await?;
    let waiting = crate::store::leads::list(
        conn,
        &crate::store::leads::LeadFilter {
            status: Some(LeadStatus::Triage.as_str().into()),
            desk: Some(s.desk.id.clone()),
            ..Default::default()
        },
    )
    .await?;
    Ok(with_waiting_triage(
        build(&leads, live, s, now),
        &waiting,
        s,
        now,
    ))
}

/// The digest email, or None when nothing drifts (unless `send_when_clean`).
pub fn daily_draft(d: &Digest, s: &Settings) -> anyhow::Result<Option<Draft>> {
    if d.clean && !s.digest.send_when_clean {
        return Ok(None);
    }
    let env = templates::environment(s)?;
    let ctx = minijinja::Value::from_serialize(d);
    Ok(Some(Draft {
        auto_submitted: true,
        ..s.sender().draft(
            Purpose::Digest,
            readers(s),
            &d.title,
            templates::body(&env, "digest", &ctx)?,
        )
    }))
}

/// Queues the daily digest; with a once-key, at most once per key.
pub async fn send_daily(
    store: &Store,
    s: &Settings,
    now: Timestamp,
    once_key: Option<&str>,
) -> anyhow::Result<Option<i64>> {
    let mut tx = store.begin().await?;
    let d = daily(&mut tx, s, now).await?;
    let Some(draft) = daily_draft(&d, s)? else {
        return Ok(None);
    };
    if draft.to.is_empty() {
        tracing::warn!("the digest has no readers: set [digest] to or [team] manager");
        return Ok(None);
    }
    let queued = crate::outbox::enqueue(&mut tx, s, &draft, None, now, once_key).await?;
    let id = match queued {
        Some(email) => Some(tx.email_id(email).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(id)
}

/// One day of drift: episodes open at the end of `day`.
#[derive(Clone, Debug, Serialize)]
pub struct DayCount {
    pub day: String,
    pub open: u32,
}

/// One lead captured in the period that got a first reply.
#[derive(Clone, Debug, Serialize)]
pub struct FirstReply {
    pub lead: i64,
    /// Business hours from capture to the first reply.
    pub hours: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Review {
    pub title: String,
    pub since: String,
    pub until: String,
    pub period: String,
    pub figures: ReviewFigures,
    pub score: OwnershipScore,
    pub median_first_reply: String,
    pub target: String,
    pub first_replies: Vec<FirstReply>,
    pub drift_per_day: Vec<DayCount>,
    /// A signed read-only link to the team's board (`[http] public_url` set).
    pub board: Option<String>,
}

fn hm(d: SignedDuration) -> String {
    let mins = d.as_secs().max(0) / 60;
    match (mins / 60, mins % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// The review of `[since, now)`: the week's figures, judged by `domain::review`.
pub async fn review(
    conn: &mut impl Db,
    s: &Settings,
    since: Timestamp,
    now: Timestamp,
) -> anyhow::Result<Review> {
    let tz = &s.team.timezone;
    let (since_ms, now_ms) = (store::millis(since), store::millis(now));
    // The period includes `now`: a sweep at this very moment counts.
    let w = drift_store::week_facts(conn, &s.desk.id, since_ms, now_ms + 1)
        .await
        .context("Failed to count the week's figures")?;
    let handoffs_in_time = w
        .proposals
        .iter()
        .filter(|(_, at, accepted)| {
            accepted.is_some_and(|a| {
                let deadline = s.team.hours.add(*at, s.stale.accept_within, tz);
                a <= deadline
            })
        })
        .count() as u32;
    let mut first_replies: Vec<FirstReply> = Vec::new();
    let mut durations: Vec<SignedDuration> = Vec::new();
    for (lead, created, reply) in &w.new_leads {
        if let Some(r) = reply {
            let d = s.team.hours.between(*created, *r, tz);
            durations.push(d);
            first_replies.push(FirstReply {
                lead: *lead,
                hours: d.as_secs_f64() / 3600.0,
            });
        }
    }
    durations.sort();
    let median = match durations.len() {
        0 => None,
        n if n % 2 == 1 => Some(durations[n / 2]),
        n => Some((durations[n / 2 - 1] + durations[n / 2]) / 2),
    };
    let figures = ReviewFigures {
        live_leads: w.live,
        live_with_accepted_owner: w.live_accepted,
        live_with_future_deadline: w.live_future_deadline,
        handoffs: w.proposals.len() as u32,
        handoffs_accepted_in_time: handoffs_in_time,
        new_leads: w.new_leads.len() as u32,
        median_first_reply: median,
        first_reply_target: s.stale.first_reply_within,
        drift_opened: w.drift_opened,
        drift_closed: w.drift_closed,
    };
    let score = ownership_score(&figures, &ScoreTargets::default());

    // Drift open at the end of each local day of the period.
    let mut drift_per_day = Vec::new();
    let mut day = since.to_zoned(tz.clone()).date();
    let last = now.to_zoned(tz.clone()).date();
    while day <= last && drift_per_day.len() < 62 {
        let end = day
            .checked_add(1.day())
            .ok()
            .and_then(|d| d.to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp())
            .unwrap_or(now)
            .min(now);
        let open = w
            .episodes
            .iter()
            .filter(|(o, c)| *o <= end && c.is_none_or(|c| c > end))
            .count() as u32;
        drift_per_day.push(DayCount {
            day: day.strftime("%a %d").to_string(),
            open,
        });
        match day.tomorrow() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    let fmt_day = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%a %d %b %Y").to_string();
    Ok(Review {
        title: format!("Weekly ownership review: score {} of 5", score.score),
        since: since.to_string(),
        until: now.to_string(),
        period: format!("{} to {}", fmt_day(since), fmt_day(now)),
        median_first_reply: median.map(hm).unwrap_or_else(|| "none yet".into()),
        target: hm(s.stale.first_reply_within),
        figures,
        score,
        first_replies,
        drift_per_day,
        board: desk_view_link(s, now),
    })
}

/// The review as an email: text, HTML, and the chart inline by `cid:`.
pub fn review_mail(r: &Review, s: &Settings, chart: Option<&[u8]>) -> anyhow::Result<Draft> {
    let env = templates::environment(s)?;
    let ctx = minijinja::context! {
        title => r.title, period => r.period, team => s.team.name,
        score => r.score.score, checks => r.score.checks, explanation => r.score.explanation,
        f => r.figures, median_first_reply => r.median_first_reply, target => r.target,
        drift_per_day => r.drift_per_day,
        chart_cid => chart.map(|_| CHART_CID),
    };
    Ok(Draft {
        auto_submitted: true,
        inline: chart
            .map(|png| notify::Inline {
                content_id: CHART_CID.into(),
                content_type: "image/png".into(),
                bytes: png.to_vec(),
            })
            .into_iter()
            .collect(),
        ..s.sender().draft(
            Purpose::Review,
            readers(s),
            &r.title,
            templates::body(&env, "review", &ctx)?,
        )
    })
}

pub const CHART_CID: &str = "review-chart@leadgate";

/// Queues the weekly review for the seven days before `now`.
pub async fn send_weekly(
    store: &Store,
    s: &Settings,
    now: Timestamp,
    once_key: Option<&str>,
) -> anyhow::Result<Option<i64>> {
    let mut tx = store.begin().await?;
    let since = now
        .checked_sub(SignedDuration::from_hours(24 * 7))
        .unwrap_or(now);
    let r = review(&mut tx, s, since, now).await?;
    let png = super::chart::review_chart(&r).ok();
    let draft = review_mail(&r, s, png.as_deref())?;
    if draft.to.is_empty() {
        tracing::warn!("the weekly review has no readers: set [digest] to or [team] manager");
        return Ok(None);
    }
    let queued = crate::outbox::enqueue(&mut tx, s, &draft, None, now, once_key).await?;
    let id = match queued {
        Some(email) => Some(tx.email_id(email).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(id)
}

/// The once-keys of the digests due at `now` in the team's time zone (a desk's carry its
/// id: each desk's digest goes once).
pub fn due_keys(s: &Settings, now: Timestamp) -> (Option<String>, Option<String>) {
    let local = now.to_zoned(s.team.timezone.clone());
    let desk = match s.desk.id.as_str() {
        crate::config::DEFAULT_DESK => String::new(),
        id => format!("{id}:"),
    };
    let daily = s
        .digest
        .daily
        .filter(|t| local.time() >= *t)
        .map(|_| format!("digest:{desk}daily:{}", local.date()));
    let weekly = s.digest.weekly.and_then(|(day, t)| {
        // The week's slot: this week's `day` at `t`; due once we are past it.
        let offset = i64::from(local.weekday().to_monday_zero_offset())
            - i64::from(day.to_monday_zero_offset());
        let past = offset > 0 || (offset == 0 && local.time() >= t);
        past.then(|| {
            let week = local.date().iso_week_date();
            format!("digest:{desk}weekly:{}-W{:02}", week.year(), week.week())
        })
    });
    (daily, weekly)
}

/// Sends whatever digest is due and not yet sent; true when mail was queued.
pub async fn scheduled(store: &Store, s: &Settings, now: Timestamp) -> anyhow::Result<bool> {
    let (daily, weekly) = due_keys(s, now);
    let mut queued = false;
    for (key, weekly) in [(daily, false), (weekly, true)] {
        let Some(key) = key else { continue };
        {
            let mut conn = store.acquire().await?;
            if drift_store::run_done(&mut conn, &key).await?
                || drift_store::once_key_used(&mut conn, &key).await?
            {
                continue;
            }
        }
        let sent = if weekly {
            send_weekly(store, s, now, Some(&key)).await?
        } else {
            send_daily(store, s, now, Some(&key)).await?
        };
        // Sent or clean, this slot is done: a clean day is not re-examined every minute.
        mark_done(store, now, &key).await?;
        queued |= sent.is_some();
    }
    Ok(queued)
}

async fn mark_done(store: &Store, now: Timestamp, key: &str) -> anyhow::Result<()> {
    let mut conn = store.acquire().await?;
    drift_store::mark_run(&mut conn, key, store::millis(now)).await?;
    Ok(())
}

#[cfg(test)]
mod tests;
