//! Tracked-address traffic: verify the sender → quick actions → trim → rewrite → outbox.
//! Also BCC logging, replies that lost the tracked address, bounces of relayed mail and
//! auto-replies (recorded, never answered).
//!
//! This module does what [`crate::domain::relay`] decides: it reads the facts the decision
//! needs ([`facts`]), calls [`relay::decide`], and writes the [`Plan`]: history entries,
//! outbox rows, lead operations through [`crate::ops`] (the quick actions too), and the
//! message's reason. The rules of invariants 4 and 5 live, and are tested, in the domain.
//!
//! Everything runs inside the message's transaction (see the pipeline): the history
//! entries, the lead changes made by quick actions and the outbox rows commit with the
//! message row or not at all.

pub mod facts;

use crate::config::{FromMode, Settings};
use crate::domain::classify::{MessageClass, LOOP_HEADER};
use crate::domain::handling::{Handled, Incoming};
use crate::domain::notify::Attachment;
use crate::domain::relay::signals::{self, Verdict};
use crate::domain::relay::{
    self, Bounced, Case, FromName, Lead, MemberMail, Message, Outgoing, Plan, Policy, Reached,
    Sender, Step,
};
use crate::ops;
use crate::store::{self, leads, messages, NewActivity, Store, Tx};
use anyhow::Context;
use jiff::Timestamp;

/// Attached files relayed with a message, in bytes at most (the original keeps them all).
const MAX_ATTACHED: usize = 15 * 1024 * 1024;

/// The relay's part of the settings, as the domain takes it.
pub fn policy<'a>(s: &'a Settings, templates: &'a minijinja::Environment<'a>) -> Policy<'a> {
    Policy {
        people: &s.people,
        manager: s.team.manager.as_deref(),
        sender: s.sender(),
        templates,
        relay_domain: &s.relay.domain,
        address: &s.relay.address,
        keys: &s.relay.keys,
        from_name: match s.relay.from_mode {
            FromMode::Member => FromName::Member,
            FromMode::Team => FromName::Team,
        },
        public_url: s.http.public_url.as_deref(),
        require_authenticated_sender: s.relay.require_authenticated_sender,
        authserv_id: s.relay.authserv_id.as_deref(),
        rate_cap: s.relay.rate_cap,
        optout: &s.relay.optout,
    }
}

/// Handles relay, bcc_log, reply, bounce and auto_reply messages inside the message's
/// transaction.
pub async fn handle(
    tx: &mut Tx<'_>,
    settings: &Settings,
    msg: &Incoming<'_>,
    now: Timestamp,
) -> anyhow::Result<Handled> {
    if msg.view.header(LOOP_HEADER).is_some() {
        // Our own mail coming back (a forward, a misrouted copy): never processed again.
        return Ok(Handled::default());
    }
    let templates = crate::templates::environment_or_bundled(settings);
    let mut run = Run {
        s: settings,
        p: policy(settings, &templates),
        msg,
        m: Message {
            view: msg.view,
            now,
        },
        queued: false,
    };
    let lead = match msg.classification.class {
        MessageClass::Relay => run.tracked(tx).await?,
        MessageClass::BccLog => run.logged(tx).await?,
        MessageClass::Reply => run.reply(tx).await?,
        MessageClass::Bounce => run.bounce(tx).await?,
        MessageClass::AutoReply => {
            let lead = facts::automatic_lead(tx, &run.s.desk.id, &run.p, msg).await?;
            let reason = msg.classification.reason.as_str();
            run.decided(tx, Case::Automatic { lead, reason }, None)
                .await?
        }
        _ => None,
    };
    Ok(Handled {
        lead,
        queued_mail: run.queued,
    })
}

/// The one-click unsubscribe of RFC 8058 (`POST /unsubscribe/{token}`, the HTTP handler's
/// only path): the lead's address is opted out (also when it already was), and the outcome
/// is returned. None when the token is not ours, its lead is gone or has no address.
pub async fn one_click_unsubscribe(
    store: &Store,
    desks: &crate::config::Desks,
    token: &str,
    now: Timestamp,
) -> anyhow::Result<Option<String>> {
    // Every desk signs with the one `[relay]` secret; the lead says whose desk it is.
    let Some(lead_id) = desks.shared().relay.keys.decode(token) else {
        return Ok(None);
    };
    let mut tx = store
        .begin()
        .await
        .context("Failed to begin the unsubscribe")?;
    let Some(row) = leads::get(&mut tx, lead_id).await? else {
        return Ok(None);
    };
    let Some(s) = desks.get(&row.desk) else {
        return Ok(None);
    };
    let s: &Settings = s;
    let lead = facts::lead_view(&row);
    let Some(email) = lead.email() else {
        return Ok(None);
    };
    let outcome = ops::opt_out(
        &mut tx,
        s,
        &email.normalized(),
        "one-click",
        "one-click unsubscribe",
        now,
    )
    .await?;
    tx.commit()
        .await
        .context("Failed to commit the unsubscribe")?;
    tracing::info!(lead.id = lead_id, summary = %outcome.summary, "one-click unsubscribe");
    Ok(Some(outcome.summary))
}

struct Run<'a> {
    s: &'a Settings,
    p: Policy<'a>,
    msg: &'a Incoming<'a>,
    m: Message<'a>,
    /// Whether outbox rows were written.
    queued: bool,
}

impl Run<'_> {
    /// Mail to a tracked address.
    async fn tracked(&mut self, tx: &mut Tx<'_>) -> anyhow::Result<Option<i64>> {
        let ids = relay::tracked_leads(&self.p, self.msg.view);
        let Some(lead) = facts::first_lead(tx, &self.s.desk.id, &ids).await? else {
            return self.decided(tx, Case::Tracked(None), None).await;
        };
        let (recent, team_thread) = self.reached(tx, &lead).await?;
        let reached = Reached {
            lead: &lead,
            recent: &recent,
            team_thread: &team_thread,
        };
        self.decided(tx, Case::Tracked(Some(reached)), Some(&lead))
            .await
    }

    /// A reply in a thread that did not reach a tracked address.
    async fn reply(&mut self, tx: &mut Tx<'_>) -> anyhow::Result<Option<i64>> {
        let team_sender = matches!(
            relay::sender(&self.p, self.msg.view, None),
            Sender::Member(_)
        );
        let (lead_id, sure) =
            match facts::thread_verdict(tx, &self.p, self.msg, team_sender).await? {
                Verdict::Unknown => return Ok(None),
                Verdict::Likely(l) => (l, false),
                Verdict::Sure(l) => (l, true),
            };
        let Some(lead) = facts::lead(tx, &self.s.desk.id, lead_id).await? else {
            return Ok(None);
        };
        let automatic_lead = match relay::automatic_signal(self.msg.view) {
            Some(_) => facts::automatic_lead(tx, &self.s.desk.id, &self.p, self.msg).await?,
            None => None,
        };
        let (recent, team_thread) = self.reached(tx, &lead).await?;
        let case = Case::Thread {
            reached: Reached {
                lead: &lead,
                recent: &recent,
                team_thread: &team_thread,
            },
            sure,
            automatic_lead,
        };
        self.decided(tx, case, Some(&lead)).await
    }

    /// A team member's mail to a lead's own address, BCC'd to the logging address.
    async fn logged(&mut self, tx: &mut Tx<'_>) -> anyhow::Result<Option<i64>> {
        let mut best: Option<(i64, String)> = None;
        for (norm, addr) in relay::logged_recipients(&self.p, self.msg.view) {
            if let Some(id) = facts::latest_worked_lead(tx, &self.s.desk.id, &norm).await? {
                if best.as_ref().is_none_or(|(b, _)| id > *b) {
                    best = Some((id, addr));
                }
            }
        }
        let found = match best {
            Some((id, to)) => match facts::lead(tx, &self.s.desk.id, id).await? {
                Some(lead) => Some((lead, to)),
                None => return Ok(None),
            },
            None => None,
        };
        let case = Case::Logged(found.as_ref().map(|(l, to)| (l, to.as_str())));
        self.decided(tx, case, None).await
    }

    /// A bounce: of which of our emails, and for which lead.
    async fn bounce(&mut self, tx: &mut Tx<'_>) -> anyhow::Result<Option<i64>> {
        let view = self.msg.view;
        let raw = String::from_utf8_lossy(self.msg.raw);
        let mut ids = signals::our_message_ids(&raw, self.p.relay_domain);
        ids.extend(view.in_reply_to.iter().cloned());
        ids.extend(view.references.iter().cloned());
        ids.extend(
            view.attached_messages
                .iter()
                .filter_map(|m| m.message_id.clone()),
        );
        let own = facts::own_messages(tx, &ids).await?;
        let Some((original, lead_id)) = own.iter().find_map(|m| Some((m, m.lead?))) else {
            return Ok(None);
        };
        let Some(lead) = facts::lead(tx, &self.s.desk.id, lead_id).await? else {
            return Ok(None);
        };
        let why = signals::dsn_reason(&raw);
        let case = Case::Bounce {
            lead: &lead,
            bounced: Bounced {
                message_id: &original.message_id,
                purpose: &original.purpose,
                recipients: &original.recipients,
            },
            why: &why,
        };
        self.decided(tx, case, None).await
    }

    /// Recent traffic and the team's thread of a lead the message reached.
    async fn reached(
        &self,
        tx: &mut Tx<'_>,
        lead: &Lead,
    ) -> anyhow::Result<(relay::Recent, Vec<(String, String)>)> {
        let sender = self.m.sender();
        let recent = facts::recent(tx, &self.p, self.msg, &sender, lead.id, self.m.now).await?;
        Ok((recent, facts::team_thread(tx, lead.id).await?))
    }

    /// Decides `case` and writes the plan; a team member's mail goes on to its quick
    /// actions and the relay to `lead`. The lead the message belongs to.
    async fn decided(
        &mut self,
        tx: &mut Tx<'_>,
        case: Case<'_>,
        lead: Option<&Lead>,
    ) -> anyhow::Result<Option<i64>> {
        let plan = relay::decide(&self.p, &self.m, case);
        let id = plan.lead;
        if let Some(mail) = self.write(tx, plan).await? {
            let lead = lead.context("a team member's mail without its lead")?;
            self.member_mail(tx, lead, mail).await?;
        }
        Ok(id)
    }

    /// Runs a team member's quick actions (all or nothing), then relays the rest to the
    /// lead as it is now.
    async fn member_mail(
        &mut self,
        tx: &mut Tx<'_>,
        lead: &Lead,
        mail: MemberMail,
    ) -> anyhow::Result<()> {
        if !mail.actions.is_empty() {
            let sp = tx.savepoint().await?;
            let mut failed = None;
            for (i, action) in mail.actions.iter().enumerate() {
                match ops::apply(tx, self.s, lead.id, action, &mail.member.id, self.m.now).await {
                    Ok(o) => self.queued |= o.queued_mail,
                    Err(why) if why.is_refusal() => {
                        failed = Some((i, why));
                        break;
                    }
                    // Not the sender's to fix: the message fails (the transaction rolls
                    // back), so it is retried and set aside after `max_attempts` like any
                    // message whose processing fails.
                    Err(e) => {
                        let line = relay::action_line(&self.msg.view.text, i);
                        return Err(anyhow::Error::new(e).context(format!(
                            "quick action \"{line}\" on lead #{} from {} failed",
                            lead.id, mail.member.id
                        )));
                    }
                }
            }
            if let Some((i, why)) = failed {
                tx.rollback_to(sp).await?;
                let plan =
                    relay::refused_action(&self.p, &self.m, lead, &mail, i, &why.to_string());
                self.write(tx, plan).await?;
                return Ok(());
            }
            tx.release(sp).await?;
        }
        // Actions may have changed the lead (`/lead`, a corrected `/email`).
        let fresh = match mail.actions.is_empty() {
            true => None,
            false => facts::lead(tx, &self.s.desk.id, lead.id).await?,
        };
        let lead = fresh.as_ref().unwrap_or(lead);
        let side = facts::lead_side(
            tx,
            self.s.optout_scope(),
            &self.p,
            self.msg,
            &self.m.sender(),
            lead,
            self.m.now,
        )
        .await?;
        let plan = relay::relay_to_lead(&self.p, &self.m, lead, &mail, &side);
        self.write(tx, plan).await?;
        Ok(())
    }

    /// Writes a plan's steps in order, then its reason; what it leaves for the caller.
    async fn write(&mut self, tx: &mut Tx<'_>, plan: Plan) -> anyhow::Result<Option<MemberMail>> {
        let now = self.m.now;
        let mut outbox: Vec<Option<store::EmailRef>> = Vec::with_capacity(plan.steps.len());
        for step in plan.steps {
            let mut sent = None;
            match step {
                Step::Send(o) => {
                    let Outgoing {
                        lead,
                        mut draft,
                        with_files,
                    } = *o;
                    if with_files {
                        draft.attachments = self.files();
                    }
                    sent =
                        crate::outbox::enqueue(tx, self.s, &draft, Some(lead), now, None).await?;
                    self.queued = true;
                }
                Step::History(e) => {
                    let outbox_id = e.mail.and_then(|i| outbox.get(i).copied().flatten());
                    let at = store::millis(now);
                    tx.record(
                        NewActivity::new(e.lead, at, &e.actor, e.kind, e.detail)
                            .message(Some(self.msg.row))
                            .outbox(outbox_id),
                    );
                    leads::touch(tx, e.lead, at).await?;
                }
                Step::FirstReply { lead, by } => {
                    ops::record_first_reply(tx, self.s, lead, &by, now)
                        .await
                        .with_context(|| format!("recording the first reply on lead #{lead}"))?;
                }
                Step::RecordInbound { lead } => {
                    ops::record_inbound(tx, lead, now)
                        .await
                        .with_context(|| format!("recording the lead's mail on lead #{lead}"))?;
                }
                Step::OptOut {
                    lead,
                    email_norm,
                    how,
                } => {
                    let out = ops::opt_out(tx, self.s, &email_norm, &how, "lead", now)
                        .await
                        .with_context(|| format!("opting out lead #{lead}"))?;
                    self.queued |= out.queued_mail;
                }
            }
            outbox.push(sent);
        }
        if let Some(reason) = &plan.reason {
            messages::set_reason(tx, self.msg.row, reason).await?;
        }
        if let Some(warning) = plan.warning {
            tracing::warn!(message.row = self.msg.row, sender = %self.m.sender(), "{warning}");
        }
        Ok(plan.then)
    }

    /// The message's attached files, to carry over, up to [`MAX_ATTACHED`] bytes in all
    /// (the rest stays in the stored original).
    fn files(&self) -> Vec<Attachment> {
        if self.msg.view.attachments.is_empty() {
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
}
