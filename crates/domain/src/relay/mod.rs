//! What the relay does with one message, decided without I/O: given the message, the lead
//! it reached (as the store has it), the team, recent traffic (for the rate cap) and `now`,
//! [`decide`] returns a [`Plan`]: history entries, lead operations, mail to send, and the
//! reason recorded on the message. The relay module (`src/relay/`) reads the facts and
//! writes the plan.
//!
//! A team member's mail is decided in two steps because its quick actions change the lead
//! before the rest is relayed: [`decide`] returns the actions to run ([`Plan::then`]); the
//! caller runs them, then asks [`relay_to_lead`] (with the lead as it is now) or
//! [`refused_action`] (when one was refused).
//!
//! The rules kept here (DESIGN.md invariants 4 and 5):
//! - recipients come only from the lead and the [`Policy`] (team emails), never from the
//!   message;
//! - a lead receives only a team member's own words: quick actions, the quoted
//!   notification and every quote are cut; HTML goes along only when no action was in it
//!   and it says no more than the trimmed text;
//! - a token routes, it does not authenticate: the sender is checked against the team
//!   (and `Authentication-Results` when asked) and the lead;
//! - nothing automatic is ever answered or relayed, and a rate cap per sender and per lead
//!   is the backstop against loops.
//!
//! Must not touch: the store, the clock, the config module (the relay fills [`Policy`]).

pub mod auth;
pub mod compose;
mod plan;
pub mod signals;
#[cfg(test)]
mod tests;

use crate::actions::parse_actions;
use crate::email::EmailAddress;
use crate::lead::{ActivityKind, LeadStatus, SYSTEM_ACTOR};
use crate::message::MessageView;
use crate::notify::{format_time, header_safe, Draft, Purpose};
use crate::ratecap::RateDecision;
use crate::route::Person;
use crate::trim::trim_reply;
use jiff::Timestamp;
pub use plan::*;

/// The purpose of mail relayed to a lead: the only mail a lead ever receives from the relay.
pub const TO_LEAD: &str = Purpose::RelayToLead.as_str();

/// Who wrote, as far as the relay is concerned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sender<'p> {
    Member(&'p Person),
    Lead,
    /// Anyone else; `claimed` when the From is a team address that failed authentication.
    Stranger {
        claimed: bool,
    },
}

/// Who wrote: a team member (authenticated when the policy asks), the lead, or a stranger.
pub fn sender<'p>(p: &Policy<'p>, view: &MessageView, lead: Option<&Lead>) -> Sender<'p> {
    let from = from_address(view);
    if let Some(person) = p.person_by_email(&from) {
        let domain = from.rsplit('@').next().unwrap_or("");
        if !p.require_authenticated_sender
            || auth::sender_authenticated(view, domain, p.authserv_id)
        {
            return Sender::Member(person);
        }
        return Sender::Stranger { claimed: true };
    }
    let from_norm = EmailAddress::parse(&from).ok().map(|e| e.normalized());
    let lead_norm = lead.and_then(Lead::email).map(|e| e.normalized());
    if from_norm.is_some() && from_norm == lead_norm {
        return Sender::Lead;
    }
    Sender::Stranger { claimed: false }
}

/// Automatic mail that classification let through as relay traffic (it only takes
/// auto-replies out): anything else marked automatic or bulk is never relayed.
pub fn automatic_signal(view: &MessageView) -> Option<String> {
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

/// Leads whose valid tracked address is among the recipients, in header order.
pub fn tracked_leads(p: &Policy<'_>, view: &MessageView) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    for a in view.recipient_addresses() {
        if let Some(id) = p.address.token_of(&a).and_then(|t| p.keys.decode(t)) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// The recipients of a BCC'd mail that may be a lead: (normalised, as written), neither a
/// team member nor on the relay's domain.
pub fn logged_recipients(p: &Policy<'_>, view: &MessageView) -> Vec<(String, String)> {
    let team: Vec<String> = p.people.iter().map(|p| p.email.to_lowercase()).collect();
    view.to
        .iter()
        .chain(view.cc.iter())
        .filter_map(|m| EmailAddress::parse(&m.address).ok())
        .filter(|a| {
            !team.contains(&a.normalized()) && !a.domain().eq_ignore_ascii_case(p.relay_domain)
        })
        .map(|a| (a.normalized(), a.as_str().to_owned()))
        .collect()
}

/// What the relay does with a message of `case`.
pub fn decide(p: &Policy<'_>, m: &Message<'_>, case: Case<'_>) -> Plan {
    let mut plan = Plan::default();
    let mut d = Decider {
        p,
        m,
        plan: &mut plan,
    };
    match case {
        Case::Tracked(None) => {
            d.reason(
                "sent to a tracked address with an unknown or forged token: recorded, not relayed",
            );
            d.plan.warning = Some("tracked address with an unknown or forged token");
        }
        Case::Tracked(Some(r)) => {
            d.plan.lead = Some(r.lead.id);
            match automatic_signal(m.view) {
                Some(why) => d.automatic(Some(r.lead.id), &why),
                None => match sender(p, m.view, Some(r.lead)) {
                    Sender::Member(member) => d.member_mail(r, member, Via::Tracked),
                    Sender::Lead => d.lead_mail(r),
                    Sender::Stranger { claimed } => d.stranger_mail(r, claimed),
                },
            }
        }
        Case::Thread {
            reached: r,
            sure,
            automatic_lead,
        } => {
            if let Some(why) = automatic_signal(m.view) {
                d.automatic(automatic_lead, &why);
                return plan;
            }
            d.plan.lead = Some(r.lead.id);
            match sender(p, m.view, Some(r.lead)) {
                Sender::Member(member) if sure => d.member_mail(r, member, Via::Thread),
                Sender::Member(member) => {
                    let detail = format!(
                        "mail from {} linked to this lead by a weak signal; not relayed (it did not reach the tracked address): {}",
                        member.id,
                        first_words(&trim_reply(&m.view.text).reply, 120)
                    );
                    d.history(r.lead.id, &member.id, ActivityKind::Logged, &detail, None);
                    d.reason("linked to a lead by a weak signal: recorded, not relayed");
                }
                Sender::Lead => d.lead_mail(r),
                Sender::Stranger { claimed } if sure => d.stranger_mail(r, claimed),
                Sender::Stranger { .. } => {
                    let detail = format!(
                        "mail from unknown sender {} linked to this lead by a weak signal: recorded only",
                        m.sender_label()
                    );
                    d.history(
                        r.lead.id,
                        SYSTEM_ACTOR,
                        ActivityKind::MessageIn,
                        &detail,
                        None,
                    );
                }
            }
        }
        Case::Automatic { lead, reason } => d.automatic(lead, reason),
        Case::Logged(found) => d.logged(found),
        Case::Bounce { lead, bounced, why } => d.bounce(lead, bounced, why),
    }
    plan
}

/// A team member's quick action `index` was refused (`why`): nothing of the mail is done
/// or relayed, and the member is told.
pub fn refused_action(
    p: &Policy<'_>,
    m: &Message<'_>,
    lead: &Lead,
    mail: &MemberMail,
    index: usize,
    why: &str,
) -> Plan {
    let mut plan = Plan {
        lead: Some(lead.id),
        ..Plan::default()
    };
    let mut d = Decider {
        p,
        m,
        plan: &mut plan,
    };
    let line = action_line(&m.view.text, index);
    let draft = compose::notice(
        p,
        Some(lead),
        &mail.member.email,
        &format!("Not done: {}", m.subject()),
        Purpose::ActionError,
        minijinja::context! {
            line => line, problem => why,
            actions_help => crate::actions::ACTIONS_HELP,
        },
    );
    d.send(lead.id, draft, false);
    d.reason(&format!("quick action \"{line}\" refused: {why}"));
    plan
}

/// A team member's words to the lead (`lead` as it is after the mail's quick actions):
/// relayed from the tracked address, unless there are none, the lead has no address or
/// opted out, got it directly already, or the rate cap refuses.
pub fn relay_to_lead(
    p: &Policy<'_>,
    m: &Message<'_>,
    lead: &Lead,
    mail: &MemberMail,
    side: &LeadSide,
) -> Plan {
    let mut plan = Plan {
        lead: Some(lead.id),
        ..Plan::default()
    };
    let mut d = Decider {
        p,
        m,
        plan: &mut plan,
    };
    d.relay_to_lead(lead, mail, side);
    plan
}

/// The `i`-th action line (0-based) of a mail's top, for error messages.
pub fn action_line(text: &str, i: usize) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .nth(i)
        .unwrap_or("")
        .to_string()
}

struct Decider<'d, 'p> {
    p: &'d Policy<'p>,
    m: &'d Message<'d>,
    plan: &'d mut Plan,
}

impl<'p> Decider<'_, 'p> {
    fn reason(&mut self, why: &str) {
        self.plan.reason = Some(header_safe(why, 300));
    }

    fn history(
        &mut self,
        lead: i64,
        actor: &str,
        kind: ActivityKind,
        detail: &str,
        mail: Option<usize>,
    ) {
        self.plan.steps.push(Step::History(Entry {
            lead,
            actor: actor.to_owned(),
            kind,
            detail: header_safe(detail, 500),
            mail,
        }));
    }

    /// Queues `draft`; its index in the steps, for the history entry that records it.
    fn send(&mut self, lead: i64, draft: Draft, with_files: bool) -> Option<usize> {
        self.plan.steps.push(Step::Send(Box::new(Outgoing {
            lead,
            draft,
            with_files,
        })));
        Some(self.plan.steps.len() - 1)
    }

    fn first_reply(&mut self, lead: i64, member: &Person) {
        self.plan.steps.push(Step::FirstReply {
            lead,
            by: member.id.clone(),
        });
    }

    /// Why the rate cap refuses this mail, if it does: per sender (`from`), and per lead
    /// (`lead`: relays written for it).
    fn capped(&self, from: &[Timestamp], lead: Option<(i64, &[Timestamp])>) -> Option<String> {
        let cap = self.p.rate_cap;
        let now = self.m.now;
        if let RateDecision::Deny { retry_after } = cap.check(from, now) {
            return Some(format!(
                "rate cap: more than {} mails from {} within {} (next allowed {retry_after})",
                cap.limit,
                self.m.sender(),
                cap.window
            ));
        }
        if let Some((lead, relays)) = lead {
            if let RateDecision::Deny { retry_after } = cap.check(relays, now) {
                return Some(format!(
                    "rate cap: more than {} relays for lead #{lead} within {} (next allowed {retry_after})",
                    cap.limit, cap.window
                ));
            }
        }
        None
    }

    /// A team member's mail about a lead: refused as a whole by the rate cap or a bad
    /// action line, else its actions and the words to relay, for the caller to run.
    fn member_mail(&mut self, r: Reached<'_>, member: &Person, via: Via) {
        let (m, lead) = (self.m, r.lead);
        if let Some(why) = self.capped(&r.recent.from_sender_about_lead, None) {
            let detail = format!("mail from {} not processed: {why}", member.id);
            self.history(lead.id, &member.id, ActivityKind::Logged, &detail, None);
            return self.reason(&why);
        }
        let parsed = match parse_actions(&m.view.text, m.now, self.p.sender.timezone) {
            Ok(parsed) => parsed,
            Err(e) => {
                let detail = format!(
                    "mail from {} refused: {e}; nothing executed or relayed",
                    member.id
                );
                self.history(lead.id, &member.id, ActivityKind::Logged, &detail, None);
                let draft = compose::notice(
                    self.p,
                    Some(lead),
                    &member.email,
                    &format!("Not done: {}", m.subject()),
                    Purpose::ActionError,
                    minijinja::context! {
                        line_number => e.line, line => e.text, problem => e.problem,
                        detail => e.detail,
                        actions_help => crate::actions::ACTIONS_HELP,
                    },
                );
                self.send(lead.id, draft, false);
                return self.reason(&format!("quick action refused: {e}"));
            }
        };
        self.plan.then = Some(MemberMail {
            lead: lead.id,
            member: member.clone(),
            via,
            text: trim_reply(&parsed.rest).reply.trim().to_string(),
            actions: parsed.actions,
        });
    }

    fn relay_to_lead(&mut self, lead: &Lead, mail: &MemberMail, side: &LeadSide) {
        let (p, m, member) = (self.p, self.m, &mail.member);
        if mail.text.is_empty() {
            return self.reason(if mail.actions.is_empty() {
                "an empty mail: nothing to relay"
            } else {
                "quick actions only: not relayed"
            });
        }
        let name = compose::lead_name(lead);
        let refuse = |why: String| {
            compose::notice(
                p,
                Some(lead),
                &member.email,
                &format!("Not relayed: {}", m.subject()),
                Purpose::RelayRefused,
                minijinja::context! { name => name, why => why, lead_id => lead.id },
            )
        };
        let Some(email) = lead.email() else {
            self.send(
                lead.id,
                refuse("the lead has no email address.".into()),
                false,
            );
            let detail = format!(
                "mail from {} not relayed: the lead has no email address",
                member.id
            );
            self.history(lead.id, &member.id, ActivityKind::Logged, &detail, None);
            return self.reason("not relayed: the lead has no email address");
        };
        let direct = m
            .view
            .to
            .iter()
            .chain(m.view.cc.iter())
            .any(|a| a.address.eq_ignore_ascii_case(email.as_str()));
        if direct {
            // The lead got it from the member's own server already: log, never send twice.
            let detail = format!(
                "{} wrote to {} directly (copy to the tracked address): {}",
                member.id,
                email.as_str(),
                m.subject()
            );
            self.history(lead.id, &member.id, ActivityKind::MessageOut, &detail, None);
            self.first_reply(lead.id, member);
            return self.reason("the lead was a recipient already: logged, not relayed");
        }
        if side.opted_out.is_some() || lead.status == LeadStatus::OptedOut.as_str() {
            let when = side
                .opted_out
                .as_ref()
                .map(|(at, how)| format!(" on {} ({how})", format_time(*at, p.sender.timezone)))
                .unwrap_or_default();
            let why = format!(
                "{name} <{}> asked not to be contacted{when}, and leadgate relays nothing to an address that opted out. If they write to you again, their own mail reaches you as usual.",
                email.as_str()
            );
            let sent = self.send(lead.id, refuse(why), false);
            let detail = format!("mail from {} not relayed: the address opted out", member.id);
            self.history(lead.id, &member.id, ActivityKind::Logged, &detail, sent);
            return self.reason("not relayed: the lead opted out");
        }
        let recent = &side.recent;
        if let Some(why) = self.capped(
            &recent.from_sender_about_lead,
            Some((lead.id, &recent.relays_for_lead)),
        ) {
            let detail = format!("mail from {} not relayed: {why}", member.id);
            self.history(lead.id, &member.id, ActivityKind::Logged, &detail, None);
            return self.reason(&why);
        }
        let token = p.keys.encode(lead.id);
        let tracked = p.tracked_address(lead.id);
        let internal: Vec<String> = side.team_thread.iter().map(|(_, s)| s.clone()).collect();
        let subject =
            compose::subject_for_lead(m.subject(), &internal, &side.lead_thread, p.sender.team);
        let html = if mail.actions.is_empty() {
            m.view.html_part().and_then(|h| safe_html(h, &mail.text))
        } else {
            None
        };
        let draft = compose::to_lead(
            p,
            compose::ToLead {
                lead,
                lead_email: email.as_str(),
                member,
                tracked: &tracked,
                token: &token,
                subject,
                text: format!("{}\n", mail.text),
                html,
                thread: &side.lead_thread,
                attachments: Vec::new(),
            },
        );
        let sent = self.send(lead.id, draft, true);
        let how = match mail.via {
            Via::Tracked => "",
            Via::Thread => " (found by its thread; the tracked address was missing)",
        };
        let detail = format!(
            "{} replied to {name}{how}: {}",
            member.id,
            first_words(&mail.text, 160)
        );
        self.history(lead.id, &member.id, ActivityKind::MessageOut, &detail, sent);
        self.first_reply(lead.id, member);
        self.reason(&format!("relayed to lead #{} from {}", lead.id, member.id));
    }

    /// The lead wrote: recorded, the reply clock restarts, relayed to the owner.
    fn lead_mail(&mut self, r: Reached<'_>) {
        let (p, m, lead) = (self.p, self.m, r.lead);
        let name = compose::lead_name(lead);
        if let Some(why) = self.capped(
            &r.recent.from_sender,
            Some((lead.id, &r.recent.relays_for_lead)),
        ) {
            let detail = format!("{name} wrote, not relayed: {why}");
            self.history(lead.id, "lead", ActivityKind::MessageIn, &detail, None);
            return self.reason(&why);
        }
        self.plan.steps.push(Step::RecordInbound { lead: lead.id });
        let trimmed = trim_reply(&m.view.text);
        let opt_out = if signals::is_unsubscribe_subject(m.subject()) {
            Some((
                "mailto (List-Unsubscribe)".to_string(),
                "unsubscribed".to_string(),
            ))
        } else {
            p.optout.detect(&trimmed.reply).map(|o| {
                (
                    format!("reply: \"{}\"", o.phrase),
                    format!(
                        "asked not to be contacted (\"{}\" on line {})",
                        o.phrase, o.line
                    ),
                )
            })
        };
        let mut banner = None;
        if let (Some((how, what)), Some(email)) = (opt_out, lead.email()) {
            self.plan.steps.push(Step::OptOut {
                lead: lead.id,
                email_norm: email.normalized(),
                how,
            });
            banner = Some(compose::Banner::OptedOut {
                what,
                email: email.as_str().to_owned(),
            });
        }
        let owner = p.owner_of(lead);
        let mut sent = None;
        if let Some(owner) = owner {
            let tracked = p.tracked_address(lead.id);
            let draft = compose::to_owner(
                p,
                compose::ToOwner {
                    lead,
                    owner_email: &owner.email,
                    tracked: &tracked,
                    from_name: format!("{name} via leadgate"),
                    banner,
                    subject: m.subject(),
                    text: &m.view.text,
                    html: m.view.html_part(),
                    thread: r.team_thread,
                    purpose: Purpose::RelayToOwner,
                    attachments: Vec::new(),
                },
            );
            sent = self.send(lead.id, draft, true);
        }
        let to = owner.map_or("nobody (no owner, no manager)".to_string(), |o| {
            o.id.clone()
        });
        let detail = format!(
            "{name} wrote (relayed to {to}): {}",
            first_words(&trimmed.reply, 160)
        );
        self.history(lead.id, "lead", ActivityKind::MessageIn, &detail, sent);
        self.reason(&format!("from lead #{}, relayed to {to}", lead.id));
    }

    /// Neither the lead nor the team: recorded and shown to the owner, never relayed to
    /// the lead, never answered.
    fn stranger_mail(&mut self, r: Reached<'_>, claimed: bool) {
        let (p, m, lead) = (self.p, self.m, r.lead);
        let who = m.sender_label();
        if let Some(why) = self.capped(
            &r.recent.from_sender,
            Some((lead.id, &r.recent.relays_for_lead)),
        ) {
            let detail = format!("mail from unknown sender {who} not forwarded: {why}");
            self.history(
                lead.id,
                SYSTEM_ACTOR,
                ActivityKind::MessageIn,
                &detail,
                None,
            );
            return self.reason(&why);
        }
        let banner = compose::Banner::UnknownSender {
            who: who.to_string(),
            claimed,
        };
        let mut sent = None;
        if let Some(owner) = p.owner_of(lead) {
            let tracked = p.tracked_address(lead.id);
            let draft = compose::to_owner(
                p,
                compose::ToOwner {
                    lead,
                    owner_email: &owner.email,
                    tracked: &tracked,
                    from_name: "Unknown sender via leadgate".into(),
                    banner: Some(banner),
                    subject: &format!("[unknown sender] {}", m.subject()),
                    text: &m.view.text,
                    html: None,
                    thread: r.team_thread,
                    purpose: Purpose::UnknownSender,
                    attachments: Vec::new(),
                },
            );
            sent = self.send(lead.id, draft, false);
        }
        let detail = format!(
            "mail from unknown sender {who}{}: not relayed to the lead",
            if claimed {
                " (unauthenticated team address)"
            } else {
                ""
            }
        );
        self.history(
            lead.id,
            SYSTEM_ACTOR,
            ActivityKind::MessageIn,
            &detail,
            sent,
        );
        self.reason(&format!(
            "unknown sender to lead #{}: shown to the owner, not relayed",
            lead.id
        ));
    }

    /// A team member's mail to a lead's own address, BCC'd to the logging address.
    fn logged(&mut self, found: Option<(&Lead, &str)>) {
        let m = self.m;
        let Sender::Member(member) = sender(self.p, m.view, None) else {
            return self
                .reason("sent to the logging address, but not by a team member: not logged");
        };
        let Some((lead, to)) = found else {
            return self.reason("BCC to the logging address: no open lead among its recipients");
        };
        self.plan.lead = Some(lead.id);
        let detail = format!(
            "{} wrote to {to} (BCC to the logging address): {}",
            member.id,
            first_words(&trim_reply(&m.view.text).reply, 160)
        );
        self.history(lead.id, &member.id, ActivityKind::Logged, &detail, None);
        self.first_reply(lead.id, member);
        self.reason(&format!("logged on lead #{} (BCC)", lead.id));
    }

    /// An auto-reply (or other automatic mail) about a lead: recorded if the lead can be
    /// found, never relayed, never answered.
    fn automatic(&mut self, lead: Option<i64>, why: &str) {
        self.plan.lead = lead;
        let Some(lead) = lead else {
            return;
        };
        let detail = format!(
            "automatic mail from {} ({why}): recorded, not relayed, not answered",
            self.m.sender_label()
        );
        self.history(lead, SYSTEM_ACTOR, ActivityKind::MessageIn, &detail, None);
        self.reason(&format!(
            "automatic ({why}): recorded on lead #{lead}, not relayed"
        ));
    }

    /// A bounce of one of our mails: recorded; the owner hears of a bounced relay only.
    fn bounce(&mut self, lead: &Lead, bounced: Bounced<'_>, why: &str) {
        self.plan.lead = Some(lead.id);
        let to = bounced.recipients.join(", ");
        let detail = format!("{} mail to {to} bounced: {why}", bounced.purpose);
        let mut sent = None;
        // A bounced notice is not answered with another notice (no loops).
        if bounced.purpose == TO_LEAD {
            if let Some(owner) = self.p.owner_of(lead) {
                let name = compose::lead_name(lead);
                let draft = compose::notice(
                    self.p,
                    Some(lead),
                    &owner.email,
                    &format!("Undeliverable: mail to {name}"),
                    Purpose::BounceNotice,
                    minijinja::context! { name => name, to => to, why => why, lead_id => lead.id },
                );
                sent = self.send(lead.id, draft, false);
            }
        }
        self.history(lead.id, SYSTEM_ACTOR, ActivityKind::Bounce, &detail, sent);
        self.reason(&format!(
            "bounce of {} (lead #{})",
            bounced.message_id, lead.id
        ));
    }
}

fn from_address(view: &MessageView) -> String {
    view.from
        .as_ref()
        .map(|m| m.address.trim().to_lowercase())
        .unwrap_or_default()
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
pub fn safe_html(html: &str, text: &str) -> Option<String> {
    let (doc, _) = crate::trim::trim_html_document(html);
    let trimmed = doc.to_html();
    if trimmed.contains(crate::trim::REPLY_MARKER) {
        return None;
    }
    let as_text = doc.text_content();
    let words = |s: &str| {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_lowercase)
            .collect::<std::collections::HashSet<_>>()
    };
    let allowed = words(text);
    let extra = words(&as_text).difference(&allowed).count();
    (extra <= 3).then_some(trimmed)
}
