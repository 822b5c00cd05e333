//! Tracked-address traffic: verify the sender → quick actions → trim → rewrite → outbox.
//! Also BCC logging, replies that lost the tracked address, bounces of relayed mail and
//! auto-replies (recorded, never answered).
//!
//! Everything runs inside the message's transaction (see the pipeline): the history
//! entries, the lead changes made by quick actions (through [`crate::ops`]) and the outbox
//! rows commit with the message row or not at all.
//!
//! Rules this module keeps (DESIGN.md invariants 4 and 5):
//! - recipients come only from the lead row (its email) and the settings (team emails),
//!   never from the message;
//! - a lead receives only a team member's own words: quick actions, the quoted
//!   notification and every quote are cut; HTML goes along only when no action was in it;
//! - a token routes, it does not authenticate: the sender is checked against the team
//!   (and `Authentication-Results` when asked) and the lead;
//! - nothing automatic is ever answered or relayed, and a rate cap per sender and per lead
//!   is the backstop against loops.

pub mod auth;
pub mod compose;
pub mod signals;

use crate::config::Settings;
use crate::domain::actions::{parse_actions, QuickAction};
use crate::domain::classify::{MessageClass, LOOP_HEADER};
use crate::domain::email::EmailAddress;
use crate::domain::handling::{Handled, Incoming};
use crate::domain::lead::SYSTEM_ACTOR;
use crate::domain::lead::{ActivityKind, LeadStatus};
use crate::domain::notify::{header_safe, Attachment, Draft};
use crate::domain::ratecap::RateDecision;
use crate::domain::route::Person;
use crate::domain::trim::{trim_reply, trim_reply_html};
use crate::ops;
use crate::store::leads::{self, Lead};
use crate::store::{self, messages, relay as q, Store, Tx};
use anyhow::Context;
use jiff::Timestamp;
use signals::{Evidence, Verdict};

/// Attached files relayed with a message, in bytes at most (the original keeps them all).
const MAX_ATTACHED: usize = 15 * 1024 * 1024;

/// Handles relay, bcc_log, reply, bounce and auto_reply messages inside the message's
/// transaction.
pub async fn handle(
    tx: &mut Tx,
    settings: &Settings,
    msg: &Incoming<'_>,
    now: Timestamp,
) -> anyhow::Result<Handled> {
    if msg.view.header(LOOP_HEADER).is_some() {
        // Our own mail coming back (a forward, a misrouted copy): never processed again.
        return Ok(Handled::default());
    }
    let mut run = Run {
        s: settings,
        msg,
        now,
        queued: false,
    };
    let lead = match msg.classification.class {
        MessageClass::Relay => run.tracked(tx).await?,
        MessageClass::BccLog => run.bcc_log(tx).await?,
        MessageClass::Reply => run.reply(tx).await?,
        MessageClass::Bounce => run.bounce(tx).await?,
        MessageClass::AutoReply => {
            let reason = msg.classification.reason.clone();
            run.automatic(tx, &reason).await?
        }
        _ => None,
    };
    Ok(Handled {
        lead,
        queued_mail: run.queued,
    })
}

/// The one-click unsubscribe of RFC 8058 (`POST /unsubscribe/{token}`): the lead's address
/// is opted out. False when the token is not ours or its lead has no address.
pub async fn one_click_unsubscribe(
    store: &Store,
    s: &Settings,
    token: &str,
    now: Timestamp,
) -> anyhow::Result<bool> {
    let Some(lead_id) = s.relay.keys.decode(token) else {
        return Ok(false);
    };
    let mut tx = store
        .begin()
        .await
        .context("Failed to begin the unsubscribe")?;
    let Some(lead) = leads::get(&mut tx, lead_id).await? else {
        return Ok(false);
    };
    let Some(email) = lead_email(&lead) else {
        return Ok(false);
    };
    ops::opt_out(&mut tx, s, &email.normalized(), "one-click", "lead", now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit()
        .await
        .context("Failed to commit the unsubscribe")?;
    tracing::info!(lead.id = lead_id, "one-click unsubscribe");
    Ok(true)
}

/// Who wrote, as far as the relay is concerned.
enum Who<'s> {
    Member(&'s Person),
    Lead,
    /// Anyone else; `claimed` when the From is a team address that failed authentication.
    Stranger {
        claimed: bool,
    },
}

/// Where a team member's mail came in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Tracked,
    /// A reply whose lead was found by [`Evidence`], not by the tracked address.
    Thread,
}

struct Run<'a> {
    s: &'a Settings,
    msg: &'a Incoming<'a>,
    now: Timestamp,
    /// Whether outbox rows were written.
    queued: bool,
}

fn lead_email(lead: &Lead) -> Option<EmailAddress> {
    lead.email.clone()
}

/// Automatic mail that classification let through as relay traffic (it only takes
/// auto-replies out): anything else marked automatic or bulk is never relayed.
fn automatic_signal(view: &crate::domain::message::MessageView) -> Option<String> {
    if let Some(v) = view.header("Auto-Submitted") {
        if !v.trim().eq_ignore_ascii_case("no") {
            return Some(format!("Auto-Submitted: {}", v.trim()));
        }
    }
    if let Some(v) = view.header("Precedence") {
        let v = v.trim().to_ascii_lowercase();
        if ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()) {
            return Some(format!("Precedence: {v}"));
        }
    }
    ["X-Autoreply", "X-Autorespond", "List-Id"]
        .into_iter()
        .find(|h| view.header(h).is_some())
        .map(|h| format!("{h} header"))
}

impl<'a> Run<'a> {
    fn view(&self) -> &'a crate::domain::message::MessageView {
        self.msg.view
    }

    fn now_ms(&self) -> i64 {
        store::millis(self.now)
    }

    /// The From address, lowercase.
    fn sender(&self) -> String {
        self.view()
            .from
            .as_ref()
            .map(|m| m.address.trim().to_lowercase())
            .unwrap_or_default()
    }

    fn sender_label(&self) -> String {
        match self.view().from.as_ref() {
            Some(m) => match &m.name {
                Some(n) => format!("{} <{}>", header_safe(n, 80), m.address),
                None => m.address.clone(),
            },
            None => "(no sender)".into(),
        }
    }

    /// The message's attached files, to carry over, up to [`MAX_ATTACHED`] bytes in all
    /// (the rest stays in the stored original).
    fn files(&self) -> Vec<Attachment> {
        if self.view().attachments.is_empty() {
            return Vec::new();
        }
        let mut total = 0;
        crate::parse::attachment_files(self.msg.raw)
            .into_iter()
            .filter(|(_, _, bytes)| {
                total += bytes.len();
                total <= MAX_ATTACHED
            })
            .map(|(name, content_type, bytes)| Attachment {
                filename: name.unwrap_or_else(|| "attachment".into()),
                content_type,
                bytes,
            })
            .collect()
    }

    fn subject(&self) -> &str {
        &self.view().subject
    }

    fn who(&self, lead: Option<&Lead>) -> Who<'a> {
        let from = self.sender();
        if let Some(p) = self.s.person_by_email(&from) {
            let domain = from.rsplit('@').next().unwrap_or("");
            if !self.s.relay.require_authenticated_sender
                || auth::sender_authenticated(
                    self.view(),
                    domain,
                    self.s.relay.authserv_id.as_deref(),
                )
            {
                return Who::Member(p);
            }
            return Who::Stranger { claimed: true };
        }
        let from_norm = EmailAddress::parse(&from).ok().map(|e| e.normalized());
        let lead_norm = lead.and_then(lead_email).map(|e| e.normalized());
        if from_norm.is_some() && from_norm == lead_norm {
            return Who::Lead;
        }
        Who::Stranger { claimed: false }
    }

    async fn note_reason(&self, tx: &mut Tx, reason: &str) -> anyhow::Result<()> {
        messages::set_reason(tx, self.msg.row, &header_safe(reason, 300)).await?;
        Ok(())
    }

    async fn activity(
        &self,
        tx: &mut Tx,
        lead: i64,
        actor: &str,
        kind: ActivityKind,
        detail: &str,
        outbox: Option<i64>,
    ) -> anyhow::Result<()> {
        tx.record(
            store::NewActivity::new(lead, self.now_ms(), actor, kind, header_safe(detail, 500))
                .message(Some(self.msg.row))
                .outbox(outbox),
        );
        leads::touch(tx, lead, self.now_ms()).await?;
        Ok(())
    }

    async fn send(
        &mut self,
        tx: &mut Tx,
        draft: &Draft,
        lead: Option<i64>,
    ) -> anyhow::Result<Option<i64>> {
        let id = crate::outbox::enqueue(tx, self.s, draft, lead, self.now, None).await?;
        self.queued = true;
        Ok(id)
    }

    /// Why the rate cap refuses this mail, if it does: per sender (a team member's mail
    /// counts per lead, `member_lead`), and per lead (`lead`: relays written for it).
    async fn capped(
        &self,
        tx: &mut Tx,
        member_lead: Option<i64>,
        lead: Option<i64>,
    ) -> anyhow::Result<Option<String>> {
        let cap = self.s.relay.rate_cap;
        let since = self
            .now
            .checked_sub(cap.window)
            .map(store::millis)
            .unwrap_or(i64::MIN);
        let to_ts = |v: Vec<i64>| v.into_iter().map(store::timestamp).collect::<Vec<_>>();
        let from_sender =
            q::mail_from_sender(tx, &self.sender(), since, self.msg.row, member_lead).await?;
        if let RateDecision::Deny { retry_after } = cap.check(&to_ts(from_sender), self.now) {
            return Ok(Some(format!(
                "rate cap: more than {} mails from {} within {} (next allowed {retry_after})",
                cap.limit,
                self.sender(),
                cap.window
            )));
        }
        if let Some(lead) = lead {
            let relays = q::relays_for_lead(tx, lead, since).await?;
            if let RateDecision::Deny { retry_after } = cap.check(&to_ts(relays), self.now) {
                return Ok(Some(format!(
                    "rate cap: more than {} relays for lead #{lead} within {} (next allowed {retry_after})",
                    cap.limit, cap.window
                )));
            }
        }
        Ok(None)
    }

    /// Leads whose valid tracked address is among the recipients, in header order.
    fn tracked_leads(&self) -> Vec<(i64, String)> {
        let mut out: Vec<(i64, String)> = Vec::new();
        for a in self.view().recipient_addresses() {
            if let Some(token) = self.s.relay.address.token_of(&a) {
                if let Some(id) = self.s.relay.keys.decode(token) {
                    if !out.iter().any(|(l, _)| *l == id) {
                        out.push((id, token.to_ascii_lowercase()));
                    }
                }
            }
        }
        out
    }

    /// Mail to a tracked address.
    async fn tracked(&mut self, tx: &mut Tx) -> anyhow::Result<Option<i64>> {
        let mut found = None;
        for (id, _) in self.tracked_leads() {
            if let Some(lead) = leads::get(tx, id).await? {
                found = Some(lead);
                break;
            }
        }
        let Some(lead) = found else {
            self.note_reason(
                tx,
                "sent to a tracked address with an unknown or forged token: recorded, not relayed",
            )
            .await?;
            tracing::warn!(message.row = self.msg.row, sender = %self.sender(), "tracked address with an unknown or forged token");
            return Ok(None);
        };
        if let Some(reason) = automatic_signal(self.view()) {
            return self.automatic(tx, &reason).await;
        }
        match self.who(Some(&lead)) {
            Who::Member(p) => self.member_mail(tx, &lead, p, Via::Tracked).await?,
            Who::Lead => self.lead_mail(tx, &lead).await?,
            Who::Stranger { claimed } => self.stranger_mail(tx, &lead, claimed).await?,
        }
        Ok(Some(lead.id))
    }

    /// A team member's mail about `lead`: quick actions, then the rest to the lead.
    async fn member_mail(
        &mut self,
        tx: &mut Tx,
        lead: &Lead,
        member: &Person,
        via: Via,
    ) -> anyhow::Result<()> {
        let view = self.view();
        if let Some(why) = self.capped(tx, Some(lead.id), None).await? {
            self.activity(
                tx,
                lead.id,
                &member.id,
                ActivityKind::Logged,
                &format!("mail from {} not processed: {why}", member.id),
                None,
            )
            .await?;
            return self.note_reason(tx, &why).await;
        }
        let parsed = match parse_actions(&view.text, self.now, &self.s.team.timezone) {
            Ok(p) => p,
            Err(e) => {
                let detail = format!(
                    "mail from {} refused: {e}; nothing executed or relayed",
                    member.id
                );
                self.activity(tx, lead.id, &member.id, ActivityKind::Logged, &detail, None)
                    .await?;
                let draft = compose::notice(
                    self.s,
                    Some(lead),
                    &member.email,
                    &format!("Not done: {}", self.subject()),
                    e.reply_text(),
                    "action_error",
                );
                self.send(tx, &draft, Some(lead.id)).await?;
                return self
                    .note_reason(tx, &format!("quick action refused: {e}"))
                    .await;
            }
        };
        if !parsed.actions.is_empty() {
            // All or nothing: a refused action undoes the ones before it.
            let sp = tx.savepoint().await?;
            let mut failed = None;
            for (i, action) in parsed.actions.iter().enumerate() {
                match self.execute(tx, lead, member, action).await {
                    Ok(queued) => self.queued |= queued,
                    Err(why) if why.is_refusal() => {
                        failed = Some((i, why));
                        break;
                    }
                    // Not the sender's to fix: the message fails (the transaction rolls
                    // back), so it is retried and set aside after `max_attempts` like any
                    // message whose processing fails.
                    Err(e) => {
                        let line = action_line(&view.text, i);
                        return Err(anyhow::Error::new(e).context(format!(
                            "quick action \"{line}\" on lead #{} from {} failed",
                            lead.id, member.id
                        )));
                    }
                }
            }
            if let Some((i, why)) = failed {
                tx.rollback_to(sp).await?;
                let line = action_line(&view.text, i);
                let text = format!(
                    "leadgate did not act on your mail, and did not relay it: \"{line}\" could not be done: {why}.\n\n{}\n",
                    crate::domain::actions::ACTIONS_HELP
                );
                let draft = compose::notice(
                    self.s,
                    Some(lead),
                    &member.email,
                    &format!("Not done: {}", self.subject()),
                    text,
                    "action_error",
                );
                self.send(tx, &draft, Some(lead.id)).await?;
                return self
                    .note_reason(tx, &format!("quick action \"{line}\" refused: {why}"))
                    .await;
            }
            tx.release(sp).await?;
        }
        // Actions may have changed the lead (`/lead`, a corrected `/email`): relay with its
        // row as it is now.
        let fresh;
        let lead = if parsed.actions.is_empty() {
            lead
        } else {
            fresh = leads::get(tx, lead.id)
                .await?
                .unwrap_or_else(|| lead.clone());
            &fresh
        };
        let trimmed = trim_reply(&parsed.rest);
        let text = trimmed.reply.trim().to_string();
        if text.is_empty() {
            let what = if parsed.actions.is_empty() {
                "an empty mail: nothing to relay"
            } else {
                "quick actions only: not relayed"
            };
            return self.note_reason(tx, what).await;
        }
        self.relay_to_lead(tx, lead, member, via, &text, parsed.actions.is_empty())
            .await
    }

    /// One quick action through the lead operations. Ok(queued mail) or why not.
    async fn execute(
        &self,
        tx: &mut Tx,
        lead: &Lead,
        member: &Person,
        action: &QuickAction,
    ) -> Result<bool, ops::OpError> {
        ops::apply(tx, self.s, lead.id, action, &member.id, self.now)
            .await
            .map(|o| o.queued_mail)
    }

    async fn relay_to_lead(
        &mut self,
        tx: &mut Tx,
        lead: &Lead,
        member: &Person,
        via: Via,
        text: &str,
        html_allowed: bool,
    ) -> anyhow::Result<()> {
        let view = self.view();
        let name = compose::lead_name(lead);
        let refuse = |why: String| {
            compose::notice(
                self.s,
                Some(lead),
                &member.email,
                &format!("Not relayed: {}", self.subject()),
                format!(
                    "leadgate did not relay your mail to {name}: {why}\n\nNothing of it was sent to {name}; any quick actions at its top were done. Your mail is kept in lead #{}'s history.\n",
                    lead.id
                ),
                "relay_refused",
            )
        };
        let Some(email) = lead_email(lead) else {
            let draft = refuse("the lead has no email address.".into());
            self.send(tx, &draft, Some(lead.id)).await?;
            self.activity(
                tx,
                lead.id,
                &member.id,
                ActivityKind::Logged,
                &format!(
                    "mail from {} not relayed: the lead has no email address",
                    member.id
                ),
                None,
            )
            .await?;
            return self
                .note_reason(tx, "not relayed: the lead has no email address")
                .await;
        };
        let norm = email.normalized();
        let direct = view
            .to
            .iter()
            .chain(view.cc.iter())
            .any(|m| m.address.eq_ignore_ascii_case(email.as_str()));
        if direct {
            // The lead got it from the member's own server already: log, never send twice.
            let detail = format!(
                "{} wrote to {} directly (copy to the tracked address): {}",
                member.id,
                email.as_str(),
                self.subject()
            );
            self.activity(
                tx,
                lead.id,
                &member.id,
                ActivityKind::MessageOut,
                &detail,
                None,
            )
            .await?;
            self.first_reply(tx, lead, member).await?;
            return self
                .note_reason(tx, "the lead was a recipient already: logged, not relayed")
                .await;
        }
        let opted = q::opt_out_of(tx, &norm).await?;
        if opted.is_some() || lead.status == LeadStatus::OptedOut {
            let when = opted
                .as_ref()
                .map(|(at, how)| {
                    format!(
                        " on {} ({how})",
                        crate::domain::notify::format_time(
                            store::timestamp(*at),
                            &self.s.team.timezone
                        )
                    )
                })
                .unwrap_or_default();
            let why = format!(
                "{name} <{}> asked not to be contacted{when}, and leadgate relays nothing to an address that opted out. If they write to you again, their own mail reaches you as usual.",
                email.as_str()
            );
            let draft = refuse(why);
            let outbox = self.send(tx, &draft, Some(lead.id)).await?;
            self.activity(
                tx,
                lead.id,
                &member.id,
                ActivityKind::Logged,
                &format!("mail from {} not relayed: the address opted out", member.id),
                outbox,
            )
            .await?;
            return self
                .note_reason(tx, "not relayed: the lead opted out")
                .await;
        }
        if let Some(why) = self.capped(tx, Some(lead.id), Some(lead.id)).await? {
            self.activity(
                tx,
                lead.id,
                &member.id,
                ActivityKind::Logged,
                &format!("mail from {} not relayed: {why}", member.id),
                None,
            )
            .await?;
            return self.note_reason(tx, &why).await;
        }
        let token = self.s.relay.keys.encode(lead.id);
        let tracked = self.s.relay.tracked_address(lead.id);
        let thread = q::lead_thread(tx, lead.id, &norm).await?;
        let internal: Vec<String> = q::team_thread(tx, lead.id)
            .await?
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        let subject =
            compose::subject_for_lead(self.subject(), &internal, &thread, &self.s.team.name);
        let html = if html_allowed {
            view.html_part().and_then(|h| safe_html(h, text))
        } else {
            None
        };
        let draft = compose::to_lead(
            self.s,
            compose::ToLead {
                lead,
                lead_email: email.as_str(),
                member,
                tracked: &tracked,
                token: &token,
                subject,
                text: format!("{text}\n"),
                html,
                thread: &thread,
                attachments: self.files(),
            },
        );
        let outbox = self.send(tx, &draft, Some(lead.id)).await?;
        let how = match via {
            Via::Tracked => "",
            Via::Thread => " (found by its thread; the tracked address was missing)",
        };
        let detail = format!(
            "{} replied to {name}{how}: {}",
            member.id,
            first_words(text, 160)
        );
        self.activity(
            tx,
            lead.id,
            &member.id,
            ActivityKind::MessageOut,
            &detail,
            outbox,
        )
        .await?;
        self.first_reply(tx, lead, member).await?;
        self.note_reason(
            tx,
            &format!("relayed to lead #{} from {}", lead.id, member.id),
        )
        .await
    }

    async fn first_reply(&self, tx: &mut Tx, lead: &Lead, member: &Person) -> anyhow::Result<()> {
        ops::record_first_reply(tx, self.s, lead.id, &member.id, self.now)
            .await
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("recording the first reply on lead #{}: {e}", lead.id))
    }

    /// Whom the lead's side reaches: the owner, or the manager while nobody owns the lead.
    fn owner_of(&self, lead: &Lead) -> Option<&'a Person> {
        lead.owner
            .as_deref()
            .and_then(|o| self.s.person(o))
            .or_else(|| {
                self.s
                    .team
                    .manager
                    .as_deref()
                    .and_then(|m| self.s.person(m))
            })
    }

    /// The lead wrote: recorded, the reply clock restarts, relayed to the owner.
    async fn lead_mail(&mut self, tx: &mut Tx, lead: &Lead) -> anyhow::Result<()> {
        let view = self.view();
        let name = compose::lead_name(lead);
        if let Some(why) = self.capped(tx, None, Some(lead.id)).await? {
            self.activity(
                tx,
                lead.id,
                "lead",
                ActivityKind::MessageIn,
                &format!("{name} wrote, not relayed: {why}"),
                None,
            )
            .await?;
            return self.note_reason(tx, &why).await;
        }
        ops::record_inbound(tx, lead.id, self.now)
            .await
            .map_err(|e| anyhow::anyhow!("recording the lead's mail on lead #{}: {e}", lead.id))?;
        let mut banner = None;
        let trimmed = trim_reply(&view.text);
        let opt_out = if signals::is_unsubscribe_subject(self.subject()) {
            Some((
                "mailto (List-Unsubscribe)".to_string(),
                "unsubscribed".to_string(),
            ))
        } else {
            self.s.relay.optout.detect(&trimmed.reply).map(|m| {
                (
                    format!("reply: \"{}\"", m.phrase),
                    format!(
                        "asked not to be contacted (\"{}\" on line {})",
                        m.phrase, m.line
                    ),
                )
            })
        };
        if let (Some((how, what)), Some(email)) = (opt_out, lead_email(lead)) {
            let out = ops::opt_out(tx, self.s, &email.normalized(), &how, "lead", self.now)
                .await
                .map_err(|e| anyhow::anyhow!("opting out lead #{}: {e}", lead.id))?;
            self.queued |= out.queued_mail;
            banner = Some(format!(
                "{name} {what}. leadgate recorded the opt-out: nothing more will be relayed to {}.",
                email.as_str()
            ));
        }
        let owner = self.owner_of(lead);
        let mut outbox = None;
        if let Some(owner) = owner {
            let tracked = self.s.relay.tracked_address(lead.id);
            let thread = q::team_thread(tx, lead.id).await?;
            let draft = compose::to_owner(
                self.s,
                compose::ToOwner {
                    lead,
                    owner_email: &owner.email,
                    tracked: &tracked,
                    from_name: format!("{name} via leadgate"),
                    banner,
                    subject: self.subject(),
                    text: &view.text,
                    html: view.html_part(),
                    thread: &thread,
                    purpose: "relay_to_owner",
                    attachments: self.files(),
                },
            );
            outbox = self.send(tx, &draft, Some(lead.id)).await?;
        }
        let to = owner.map_or("nobody (no owner, no manager)".to_string(), |p| {
            p.id.clone()
        });
        let detail = format!(
            "{name} wrote (relayed to {to}): {}",
            first_words(&trimmed.reply, 160)
        );
        self.activity(
            tx,
            lead.id,
            "lead",
            ActivityKind::MessageIn,
            &detail,
            outbox,
        )
        .await?;
        self.note_reason(tx, &format!("from lead #{}, relayed to {to}", lead.id))
            .await
    }

    /// Neither the lead nor the team: recorded and shown to the owner, never relayed to
    /// the lead, never answered.
    async fn stranger_mail(
        &mut self,
        tx: &mut Tx,
        lead: &Lead,
        claimed: bool,
    ) -> anyhow::Result<()> {
        let view = self.view();
        let name = compose::lead_name(lead);
        let who = self.sender_label();
        if let Some(why) = self.capped(tx, None, Some(lead.id)).await? {
            self.activity(
                tx,
                lead.id,
                SYSTEM_ACTOR,
                ActivityKind::MessageIn,
                &format!("mail from unknown sender {who} not forwarded: {why}"),
                None,
            )
            .await?;
            return self.note_reason(tx, &why).await;
        }
        let claim = if claimed {
            " It claims a team member's address, but its Authentication-Results do not confirm it."
        } else {
            ""
        };
        let banner = format!(
            "[!] From an unknown sender: {who} is neither {name} nor a team member.{claim} leadgate did not relay it to {name} and did not answer the sender. Replying to this email writes to {name}, not to this sender."
        );
        let mut outbox = None;
        if let Some(owner) = self.owner_of(lead) {
            let tracked = self.s.relay.tracked_address(lead.id);
            let thread = q::team_thread(tx, lead.id).await?;
            let draft = compose::to_owner(
                self.s,
                compose::ToOwner {
                    lead,
                    owner_email: &owner.email,
                    tracked: &tracked,
                    from_name: "Unknown sender via leadgate".into(),
                    banner: Some(banner),
                    subject: &format!("[unknown sender] {}", self.subject()),
                    text: &view.text,
                    html: None,
                    thread: &thread,
                    purpose: "unknown_sender",
                    attachments: Vec::new(),
                },
            );
            outbox = self.send(tx, &draft, Some(lead.id)).await?;
        }
        let detail = format!(
            "mail from unknown sender {who}{}: not relayed to the lead",
            if claimed {
                " (unauthenticated team address)"
            } else {
                ""
            }
        );
        self.activity(
            tx,
            lead.id,
            SYSTEM_ACTOR,
            ActivityKind::MessageIn,
            &detail,
            outbox,
        )
        .await?;
        self.note_reason(
            tx,
            &format!(
                "unknown sender to lead #{}: shown to the owner, not relayed",
                lead.id
            ),
        )
        .await
    }

    /// A team member's mail to a lead's own address, BCC'd to the logging address.
    async fn bcc_log(&mut self, tx: &mut Tx) -> anyhow::Result<Option<i64>> {
        let view = self.view();
        let Who::Member(member) = self.who(None) else {
            self.note_reason(
                tx,
                "sent to the logging address, but not by a team member: not logged",
            )
            .await?;
            return Ok(None);
        };
        let team: Vec<String> = self
            .s
            .people
            .iter()
            .map(|p| p.email.to_lowercase())
            .collect();
        let mut best: Option<(i64, String)> = None;
        for m in view.to.iter().chain(view.cc.iter()) {
            let Ok(addr) = EmailAddress::parse(&m.address) else {
                continue;
            };
            let norm = addr.normalized();
            if team.contains(&norm) || addr.domain().eq_ignore_ascii_case(&self.s.relay.domain) {
                continue;
            }
            if let Some(id) = q::latest_open_lead(tx, &norm).await? {
                if best.as_ref().is_none_or(|(b, _)| id > *b) {
                    best = Some((id, addr.as_str().to_owned()));
                }
            }
        }
        let Some((lead_id, to)) = best else {
            self.note_reason(
                tx,
                "BCC to the logging address: no open lead among its recipients",
            )
            .await?;
            return Ok(None);
        };
        let Some(lead) = leads::get(tx, lead_id).await? else {
            return Ok(None);
        };
        let detail = format!(
            "{} wrote to {to} (BCC to the logging address): {}",
            member.id,
            first_words(&trim_reply(&view.text).reply, 160)
        );
        self.activity(tx, lead.id, &member.id, ActivityKind::Logged, &detail, None)
            .await?;
        self.first_reply(tx, &lead, member).await?;
        self.note_reason(tx, &format!("logged on lead #{lead_id} (BCC)"))
            .await?;
        Ok(Some(lead_id))
    }

    /// What points at a lead in a message without a tracked address.
    async fn evidence(&self, tx: &mut Tx, team_sender: bool) -> anyhow::Result<Evidence> {
        let view = self.view();
        let ids: Vec<String> = view
            .in_reply_to
            .iter()
            .chain(view.references.iter())
            .cloned()
            .collect();
        let mut e = Evidence::default();
        let own = q::own_messages(tx, &ids).await?;
        e.strong(own.iter().filter_map(|m| m.lead));
        e.weak(q::leads_of_stored(tx, &ids, self.msg.row).await?);
        e.strong(signals::body_tokens(
            &view.text,
            &self.s.relay.address,
            &self.s.relay.keys,
        ));
        e.weak(signals::body_refs(&view.text));
        if team_sender {
            e.weak(signals::subject_tags(&view.subject));
        }
        Ok(e)
    }

    /// A reply in a thread that did not reach a tracked address.
    async fn reply(&mut self, tx: &mut Tx) -> anyhow::Result<Option<i64>> {
        let team_sender = matches!(self.who(None), Who::Member(_));
        let verdict = self.evidence(tx, team_sender).await?.verdict();
        let (lead_id, sure) = match verdict {
            Verdict::Unknown => return Ok(None),
            Verdict::Likely(l) => (l, false),
            Verdict::Sure(l) => (l, true),
        };
        let Some(lead) = leads::get(tx, lead_id).await? else {
            return Ok(None);
        };
        if automatic_signal(self.view()).is_some() {
            let reason = automatic_signal(self.view()).unwrap_or_default();
            return self.automatic(tx, &reason).await;
        }
        match self.who(Some(&lead)) {
            Who::Member(p) if sure => self.member_mail(tx, &lead, p, Via::Thread).await?,
            Who::Member(p) => {
                let detail = format!(
                    "mail from {} linked to this lead by a weak signal; not relayed (it did not reach the tracked address): {}",
                    p.id,
                    first_words(&trim_reply(&self.view().text).reply, 120)
                );
                self.activity(tx, lead.id, &p.id, ActivityKind::Logged, &detail, None)
                    .await?;
                self.note_reason(
                    tx,
                    "linked to a lead by a weak signal: recorded, not relayed",
                )
                .await?;
            }
            Who::Lead => self.lead_mail(tx, &lead).await?,
            Who::Stranger { claimed } if sure => self.stranger_mail(tx, &lead, claimed).await?,
            Who::Stranger { .. } => {
                let detail = format!(
                    "mail from unknown sender {} linked to this lead by a weak signal: recorded only",
                    self.sender_label()
                );
                self.activity(
                    tx,
                    lead.id,
                    SYSTEM_ACTOR,
                    ActivityKind::MessageIn,
                    &detail,
                    None,
                )
                .await?;
            }
        }
        Ok(Some(lead.id))
    }

    /// An auto-reply (or other automatic mail) about a lead: recorded if the lead can be
    /// found, never relayed, never answered.
    async fn automatic(&mut self, tx: &mut Tx, reason: &str) -> anyhow::Result<Option<i64>> {
        let mut lead = None;
        for (id, _) in self.tracked_leads() {
            if leads::get(tx, id).await?.is_some() {
                lead = Some(id);
                break;
            }
        }
        if lead.is_none() {
            let view = self.view();
            let ids: Vec<String> = view
                .in_reply_to
                .iter()
                .chain(view.references.iter())
                .cloned()
                .collect();
            lead = q::own_messages(tx, &ids)
                .await?
                .into_iter()
                .find_map(|m| m.lead);
        }
        let Some(lead) = lead else {
            return Ok(None);
        };
        let detail = format!(
            "automatic mail from {} ({reason}): recorded, not relayed, not answered",
            self.sender_label()
        );
        self.activity(
            tx,
            lead,
            SYSTEM_ACTOR,
            ActivityKind::MessageIn,
            &detail,
            None,
        )
        .await?;
        self.note_reason(
            tx,
            &format!("automatic ({reason}): recorded on lead #{lead}, not relayed"),
        )
        .await?;
        Ok(Some(lead))
    }

    /// A bounce: of which of our emails, and for which lead.
    async fn bounce(&mut self, tx: &mut Tx) -> anyhow::Result<Option<i64>> {
        let view = self.view();
        let raw = String::from_utf8_lossy(self.msg.raw);
        let mut ids: Vec<String> = our_message_ids(&raw, &self.s.relay.domain);
        ids.extend(view.in_reply_to.iter().cloned());
        ids.extend(view.references.iter().cloned());
        ids.extend(
            view.attached_messages
                .iter()
                .filter_map(|m| m.message_id.clone()),
        );
        let own = q::own_messages(tx, &ids).await?;
        let Some(original) = own.into_iter().find(|m| m.lead.is_some()) else {
            return Ok(None);
        };
        let lead_id = original.lead.expect("filtered above");
        let Some(lead) = leads::get(tx, lead_id).await? else {
            return Ok(None);
        };
        let why = dsn_reason(&raw);
        let to = original.recipients.join(", ");
        let detail = format!("{} mail to {to} bounced: {why}", original.purpose);
        let mut outbox = None;
        // Only a bounced relay to the lead is news for the owner; a bounced notice is not
        // answered with another notice (no loops).
        if original.purpose == q::TO_LEAD {
            if let Some(owner) = self.owner_of(&lead) {
                let name = compose::lead_name(&lead);
                let text = format!(
                    "Your mail to {name} <{to}>, relayed by leadgate, could not be delivered:\n\n  {why}\n\nThe address may be wrong or no longer in use. The bounce is kept in lead #{}'s history.\n",
                    lead.id
                );
                let draft = compose::notice(
                    self.s,
                    Some(&lead),
                    &owner.email,
                    &format!("Undeliverable: mail to {name}"),
                    text,
                    "bounce_notice",
                );
                outbox = self.send(tx, &draft, Some(lead.id)).await?;
            }
        }
        self.activity(
            tx,
            lead.id,
            SYSTEM_ACTOR,
            ActivityKind::Bounce,
            &detail,
            outbox,
        )
        .await?;
        self.note_reason(
            tx,
            &format!("bounce of {} (lead #{lead_id})", original.message_id),
        )
        .await?;
        Ok(Some(lead_id))
    }
}

/// The `i`-th action line (0-based) of a mail's top, for error messages.
fn action_line(text: &str, i: usize) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .nth(i)
        .unwrap_or("")
        .to_string()
}

fn first_words(text: &str, max: usize) -> String {
    let flat = header_safe(text, max);
    if flat.is_empty() {
        "(no text)".into()
    } else {
        format!("\"{flat}\"")
    }
}

/// The trimmed HTML, when it says no more than the trimmed text: quoted HTML that trimming
/// missed would carry internal text to the lead, so then the lead gets the text alone.
fn safe_html(html: &str, text: &str) -> Option<String> {
    let t = trim_reply_html(html);
    if t.html.contains(crate::domain::trim::REPLY_MARKER) {
        return None;
    }
    let as_text = html2text::from_read(t.html.as_bytes(), 10_000);
    let words = |s: &str| {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_lowercase)
            .collect::<std::collections::HashSet<_>>()
    };
    let allowed = words(text);
    let extra = words(&as_text).difference(&allowed).count();
    (extra <= 3).then_some(t.html)
}

/// Message-IDs of our own (`lg.<hex>@<domain>`) anywhere in a raw message.
fn our_message_ids(raw: &str, domain: &str) -> Vec<String> {
    let re = regex::Regex::new(&format!(
        r"(?i)lg\.[0-9a-f]{{32}}@{}",
        regex::escape(domain)
    ))
    .expect("escaped regex");
    let mut out: Vec<String> = Vec::new();
    for m in re.find_iter(raw) {
        let id = m.as_str().to_ascii_lowercase();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// The DSN's reason: `Diagnostic-Code`, else `Status`, else a generic line.
fn dsn_reason(raw: &str) -> String {
    for field in ["Diagnostic-Code:", "Status:"] {
        if let Some(line) = raw
            .lines()
            .find(|l| l.len() > field.len() && l[..field.len()].eq_ignore_ascii_case(field))
        {
            return header_safe(line, 200);
        }
    }
    "delivery failed (no reason given)".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_message_ids_and_dsn_reasons() {
        let raw = "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\nMessage-ID: <lg.0123456789abcdef0123456789ABCDEF@Leads.test>\r\nIn-Reply-To: <lg.0123456789abcdef0123456789abcdef@other.test>";
        assert_eq!(
            our_message_ids(raw, "leads.test"),
            vec!["lg.0123456789abcdef0123456789abcdef@leads.test"]
        );
        assert_eq!(
            dsn_reason(raw),
            "Diagnostic-Code: smtp; 550 5.1.1 no such user"
        );
        assert_eq!(dsn_reason("x"), "delivery failed (no reason given)");
    }

    #[test]
    fn html_that_says_more_than_the_text_is_dropped() {
        let text = "Hi Jane, the quote is attached.";
        let ok = "<html><body><p>Hi Jane, the quote is attached.</p><div class=\"gmail_quote\">On Mon alice wrote: secret internal note about pricing margins</div></body></html>";
        assert!(safe_html(ok, text).is_some_and(|h| !h.contains("secret")));
        let leaky = "<html><body><p>Hi Jane, the quote is attached.</p><p>From the notification: budget 50000 consent internal routing reason</p></body></html>";
        assert_eq!(safe_html(leaky, text), None);
        let marker = "<p>Hi</p><p>##- Reply above this line: x -##</p>";
        assert!(safe_html(marker, "Hi").is_some_and(|h| !h.contains("Reply above")));
    }

    #[test]
    fn automatic_signals_beyond_auto_replies() {
        let mut v = crate::domain::message::MessageView::default();
        assert_eq!(automatic_signal(&v), None);
        v.headers.push(("Auto-Submitted".into(), "no".into()));
        assert_eq!(automatic_signal(&v), None);
        v.headers.push(("Precedence".into(), "bulk".into()));
        assert_eq!(automatic_signal(&v).as_deref(), Some("Precedence: bulk"));
    }

    #[test]
    fn action_lines_are_counted_without_blank_lines() {
        assert_eq!(action_line("/note a\n\n/next x y\nhello", 1), "/next x y");
    }
}
