//! The relay's decisions, and invariants 4 (nothing internal reaches a lead) and 5 (no one
//! outside the team chooses where leadgate sends mail), without a store or a mail server.

use super::*;
use crate::actions::QuickAction;
use crate::message::Mailbox;
use crate::optout::OptOutDetector;
use crate::ratecap::RateCap;
use crate::token::{TokenKeys, TrackedAddressFormat};
use crate::trim::marker_line;
use jiff::tz::TimeZone;

const ALICE: &str = "alice@acme.example.com";
const BOB: &str = "bob@acme.example.com";
const JANE: &str = "jane@example.org";
const MALLORY: &str = "mallory@evil.example";
const VICTIM: &str = "victim@target.example";

struct World {
    people: Vec<Person>,
    tz: TimeZone,
    keys: TokenKeys,
    address: TrackedAddressFormat,
    optout: OptOutDetector,
    authenticated: bool,
}

impl World {
    fn new() -> Self {
        let person = |id: &str, name: &str, email: &str| Person {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            away_until: None,
            capacity: None,
        };
        World {
            people: vec![
                person("alice", "Alice Smith", ALICE),
                person("bob", "Bob Jones", BOB),
            ],
            tz: TimeZone::UTC,
            keys: TokenKeys::new(vec![b"relay secret".to_vec()]),
            address: TrackedAddressFormat::parse("reply+{token}@{domain}", "leads.test")
                .expect("format"),
            optout: OptOutDetector::default(),
            authenticated: false,
        }
    }

    fn policy(&self) -> Policy<'_> {
        Policy {
            people: &self.people,
            manager: Some("bob"),
            sender: crate::notify::Sender {
                name: None,
                from: "leads@acme.example.com",
                team: "Acme",
                timezone: &self.tz,
            },
            templates: crate::notify::bundled(),
            relay_domain: "leads.test",
            address: &self.address,
            keys: &self.keys,
            from_name: FromName::Member,
            public_url: Some("https://leads.acme.example.com"),
            require_authenticated_sender: self.authenticated,
            authserv_id: None,
            rate_cap: RateCap::default(),
            optout: &self.optout,
        }
    }

    /// Every address the team may be written to at.
    fn team(&self) -> Vec<String> {
        self.people.iter().map(|p| p.email.clone()).collect()
    }
}

fn jane(id: i64) -> Lead {
    Lead {
        id,
        status: "new".into(),
        owner: Some("alice".into()),
        accepted: true,
        name: Some("Jane Doe".into()),
        email: Some(JANE.into()),
        ..Lead::default()
    }
}

fn now() -> Timestamp {
    "2026-03-02T10:00:00Z".parse().expect("timestamp")
}

/// A mail from `from` to `to`, with `text`.
fn mail(from: &str, to: &str, subject: &str, text: &str) -> MessageView {
    MessageView {
        from: Some(Mailbox::new(None, from)),
        to: vec![Mailbox::new(None, to)],
        subject: subject.into(),
        text: text.into(),
        ..MessageView::default()
    }
}

/// The team's thread about a lead: the notification, whose subject is internal.
fn team_thread() -> Vec<(String, String)> {
    vec![(
        "lg.1@leads.test".into(),
        "New lead: Jane Doe (webflow / Pricing) [LG-7]".into(),
    )]
}

/// Decides mail that reached `lead` through its tracked address; a team member's quick
/// actions are taken to succeed and leave the lead as it was, and the rest is relayed.
fn through(w: &World, view: &MessageView, lead: &Lead, side: &LeadSide) -> Plan {
    let p = w.policy();
    let m = Message { view, now: now() };
    let thread = team_thread();
    let reached = Reached {
        lead,
        recent: &side.recent,
        team_thread: &thread,
    };
    let mut plan = decide(&p, &m, Case::Tracked(Some(reached)));
    if let Some(member) = plan.then.take() {
        let after = relay_to_lead(&p, &m, lead, &member, side);
        plan.steps.extend(after.steps);
        plan.reason = after.reason;
        plan.then = Some(member);
    }
    plan
}

fn sent(plan: &Plan) -> Vec<&Draft> {
    plan.steps
        .iter()
        .filter_map(|s| match s {
            Step::Send(o) => Some(&o.draft),
            _ => None,
        })
        .collect()
}

fn to_lead(plan: &Plan) -> Option<&Draft> {
    sent(plan).into_iter().find(|d| d.purpose == TO_LEAD)
}

/// Everything a plan sends goes to the lead or to the team, and nowhere else.
fn assert_recipients_are_ours(w: &World, plan: &Plan, lead: &Lead) {
    let mut allowed = w.team();
    allowed.extend(lead.email.clone());
    for d in sent(plan) {
        for to in &d.to {
            assert!(
                allowed.iter().any(|a| a.eq_ignore_ascii_case(to)),
                "{to} is neither the lead nor the team: {d:?}"
            );
        }
    }
}

fn tracked(w: &World, lead: i64) -> String {
    w.policy().tracked_address(lead)
}

// Invariant 5: no one outside the team chooses where leadgate sends mail.

#[test]
fn a_stranger_writing_to_a_tracked_address_never_gets_mail_sent_to_an_address_they_chose() {
    let w = World::new();
    let lead = jane(7);
    let mut view = mail(
        MALLORY,
        &tracked(&w, 7),
        "Invoice",
        "/assign mallory\nPlease forward this to victim@target.example and reply to me.",
    );
    view.reply_to = vec![Mailbox::new(None, VICTIM)];
    view.cc = vec![Mailbox::new(None, VICTIM)];
    let plan = through(&w, &view, &lead, &LeadSide::default());
    assert_recipients_are_ours(&w, &plan, &lead);
    let drafts = sent(&plan);
    assert_eq!(
        drafts.len(),
        1,
        "only the owner is shown the mail: {plan:?}"
    );
    assert_eq!(drafts[0].to, vec![ALICE.to_string()]);
    assert_eq!(drafts[0].purpose, "unknown_sender");
    assert!(
        to_lead(&plan).is_none(),
        "a stranger's mail never reaches the lead"
    );
    assert!(
        plan.then.is_none(),
        "a stranger's quick actions are never taken"
    );
}

#[test]
fn a_strangers_quick_actions_are_never_taken() {
    let w = World::new();
    let view = mail(
        MALLORY,
        &tracked(&w, 7),
        "x",
        "/status won\n/email mallory@evil.example\nhi",
    );
    let plan = through(&w, &view, &jane(7), &LeadSide::default());
    assert!(plan.then.is_none());
    assert!(plan
        .steps
        .iter()
        .all(|s| matches!(s, Step::Send(_) | Step::History(_))));
}

#[test]
fn a_forged_team_from_is_a_stranger_when_senders_must_be_authenticated() {
    let mut w = World::new();
    w.authenticated = true;
    let lead = jane(7);
    let mut view = mail(ALICE, &tracked(&w, 7), "Quote", "/status won\nHi Jane");
    view.reply_to = vec![Mailbox::new(None, VICTIM)];
    let plan = through(&w, &view, &lead, &LeadSide::default());
    assert!(plan.then.is_none(), "no quick actions from a forged From");
    assert!(
        to_lead(&plan).is_none(),
        "a forged From never writes to the lead"
    );
    assert_recipients_are_ours(&w, &plan, &lead);
    assert!(sent(&plan)[0]
        .text
        .contains("claims a team member's address"));

    // The same mail, authenticated, is Alice's.
    view.headers.push((
        "Authentication-Results".into(),
        "mx.acme.example.com; dmarc=pass header.from=acme.example.com".into(),
    ));
    let plan = through(&w, &view, &lead, &LeadSide::default());
    assert!(plan.then.is_some());
    assert_eq!(
        to_lead(&plan).map(|d| d.to.clone()),
        Some(vec![JANE.into()])
    );
}

#[test]
fn reply_to_and_copies_never_choose_where_a_relay_goes() {
    let w = World::new();
    let lead = jane(7);
    let mut from_member = mail(ALICE, &tracked(&w, 7), "Quote", "Hi Jane, the quote.");
    from_member.reply_to = vec![Mailbox::new(None, MALLORY)];
    from_member.cc = vec![Mailbox::new(None, VICTIM)];
    let plan = through(&w, &from_member, &lead, &LeadSide::default());
    assert_recipients_are_ours(&w, &plan, &lead);
    assert_eq!(
        to_lead(&plan).map(|d| d.to.clone()),
        Some(vec![JANE.into()])
    );

    let mut from_lead = mail(JANE, &tracked(&w, 7), "Re: Quote", "Thanks!");
    from_lead.reply_to = vec![Mailbox::new(None, MALLORY)];
    let plan = through(&w, &from_lead, &lead, &LeadSide::default());
    assert_recipients_are_ours(&w, &plan, &lead);
    let drafts = sent(&plan);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].to, vec![ALICE.to_string()]);
    assert_eq!(drafts[0].reply_to.as_deref(), Some(tracked(&w, 7).as_str()));
}

#[test]
fn a_forged_token_routes_nowhere_and_sends_nothing() {
    let w = World::new();
    let p = w.policy();
    let forged = "reply+aaaaaaaaaaaaaaaaaaaaaaaaaa@leads.test";
    let view = mail(MALLORY, forged, "hi", "send this on");
    assert!(tracked_leads(&p, &view).is_empty());
    let m = Message {
        view: &view,
        now: now(),
    };
    let plan = decide(&p, &m, Case::Tracked(None));
    assert!(plan.steps.is_empty());
    assert_eq!(plan.lead, None);
    assert!(plan.warning.is_some());

    let good = mail(MALLORY, &tracked(&w, 7), "hi", "x");
    assert_eq!(tracked_leads(&p, &good), vec![7]);
}

#[test]
fn another_lead_writing_to_this_leads_address_is_a_stranger_to_it() {
    let w = World::new();
    let lead = jane(7);
    // John is lead #8; he writes to Jane's tracked address.
    let view = mail(
        "john@example.net",
        &tracked(&w, 7),
        "Hello",
        "Hi Jane, it's John",
    );
    let plan = through(&w, &view, &lead, &LeadSide::default());
    assert!(to_lead(&plan).is_none());
    assert_eq!(sent(&plan)[0].purpose, "unknown_sender");
}

#[test]
fn a_bcc_to_the_logging_address_from_a_stranger_records_nothing() {
    let w = World::new();
    let p = w.policy();
    let lead = jane(7);
    let view = mail(MALLORY, JANE, "hi", "x");
    let m = Message {
        view: &view,
        now: now(),
    };
    let plan = decide(&p, &m, Case::Logged(Some((&lead, JANE))));
    assert!(plan.steps.is_empty());
    assert_eq!(plan.lead, None);
    let view = mail(ALICE, JANE, "hi", "Hi Jane");
    let m = Message {
        view: &view,
        now: now(),
    };
    let plan = decide(&p, &m, Case::Logged(Some((&lead, JANE))));
    assert!(sent(&plan).is_empty(), "a log is recorded, never sent");
    assert_eq!(plan.lead, Some(7));
}

#[test]
fn automatic_mail_is_never_answered_nor_relayed() {
    let w = World::new();
    let lead = jane(7);
    for (name, value) in [
        ("Auto-Submitted", "auto-replied"),
        ("Precedence", "bulk"),
        ("List-Id", "<x.example>"),
    ] {
        let mut view = mail(JANE, &tracked(&w, 7), "Out of office", "I am away");
        view.headers.push((name.into(), value.into()));
        let plan = through(&w, &view, &lead, &LeadSide::default());
        assert!(sent(&plan).is_empty(), "{name}: {plan:?}");
        assert_eq!(plan.lead, Some(7));
    }
}

#[test]
fn the_rate_cap_stops_a_stranger_loop_before_anything_is_sent() {
    let w = World::new();
    let side = LeadSide {
        recent: Recent {
            from_sender: vec![now(); 20],
            ..Recent::default()
        },
        ..LeadSide::default()
    };
    let view = mail(MALLORY, &tracked(&w, 7), "x", "again");
    let plan = through(&w, &view, &jane(7), &side);
    assert!(sent(&plan).is_empty());
    assert!(plan.reason.is_some_and(|r| r.starts_with("rate cap")));
}

#[test]
fn only_a_bounced_relay_to_the_lead_tells_the_owner() {
    let w = World::new();
    let p = w.policy();
    let lead = jane(7);
    let view = mail(
        "mailer-daemon@mx.example",
        "leads@acme.example.com",
        "x",
        "",
    );
    let m = Message {
        view: &view,
        now: now(),
    };
    let recipients = vec![JANE.to_string()];
    let bounce = |purpose| Case::Bounce {
        lead: &lead,
        bounced: Bounced {
            message_id: "lg.1@leads.test",
            purpose,
            recipients: &recipients,
        },
        why: "550 no such user",
    };
    let plan = decide(&p, &m, bounce("relay_to_owner"));
    assert!(sent(&plan).is_empty(), "a bounced notice is not answered");
    let plan = decide(&p, &m, bounce(TO_LEAD));
    assert_eq!(sent(&plan)[0].to, vec![ALICE.to_string()]);
}

// Invariant 4: nothing internal reaches a lead.

#[test]
fn an_owner_note_never_reaches_the_lead() {
    let w = World::new();
    let view = mail(
        ALICE,
        &tracked(&w, 7),
        "Quote",
        "/note margin is 40%, do not go below 30k\nHi Jane, the quote is attached.",
    );
    let plan = through(&w, &view, &jane(7), &LeadSide::default());
    let actions = &plan.then.as_ref().expect("a member's mail").actions;
    assert!(matches!(actions.as_slice(), [QuickAction::Note(n)] if n.contains("margin")));
    let d = to_lead(&plan).expect("relayed");
    assert_eq!(d.text, "Hi Jane, the quote is attached.\n");
    assert!(!d.text.contains("margin") && !d.subject.contains("margin"));
}

#[test]
fn quick_actions_are_stripped_from_what_the_lead_receives() {
    let w = World::new();
    let view = mail(
        ALICE,
        &tracked(&w, 7),
        "Quote",
        "/next tomorrow call back\n/status contacted\n\nHello Jane",
    );
    let plan = through(&w, &view, &jane(7), &LeadSide::default());
    assert_eq!(plan.then.as_ref().map(|m| m.actions.len()), Some(2));
    let d = to_lead(&plan).expect("relayed");
    assert_eq!(d.text, "Hello Jane\n");
}

#[test]
fn a_mail_made_only_of_quick_actions_is_not_relayed() {
    let w = World::new();
    let view = mail(ALICE, &tracked(&w, 7), "x", "/status won\n/note signed");
    let plan = through(&w, &view, &jane(7), &LeadSide::default());
    assert!(sent(&plan).is_empty());
    assert_eq!(
        plan.reason.as_deref(),
        Some("quick actions only: not relayed")
    );
}

#[test]
fn a_malformed_action_stops_the_whole_mail_and_answers_only_the_member() {
    let w = World::new();
    let view = mail(
        ALICE,
        &tracked(&w, 7),
        "x",
        "/status maybe\nHi Jane, secret pricing",
    );
    let plan = through(&w, &view, &jane(7), &LeadSide::default());
    assert!(plan.then.is_none());
    let drafts = sent(&plan);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].to, vec![ALICE.to_string()]);
    assert_eq!(drafts[0].purpose, "action_error");
}

#[test]
fn a_refused_action_relays_nothing_and_answers_only_the_member() {
    let w = World::new();
    let p = w.policy();
    let view = mail(ALICE, &tracked(&w, 7), "x", "/assign zed\nHi Jane");
    let m = Message {
        view: &view,
        now: now(),
    };
    let lead = jane(7);
    let member = through(&w, &view, &lead, &LeadSide::default())
        .then
        .expect("member mail");
    let plan = refused_action(&p, &m, &lead, &member, 0, "no such person: zed");
    let drafts = sent(&plan);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].to, vec![ALICE.to_string()]);
    assert!(drafts[0].text.contains("\"/assign zed\" could not be done"));
}

#[test]
fn the_quoted_notification_is_not_relayed() {
    let w = World::new();
    let text = format!(
        "Hi Jane, happy to help.\n\n{}\n\nNew lead: Jane Doe\nBudget: 50000\nRouted to alice by rule pricing\n",
        marker_line("Jane Doe")
    );
    let mut view = mail(ALICE, &tracked(&w, 7), "Re: x", &text);
    view.html = Some(format!(
        "<html><body><p>Hi Jane, happy to help.</p><p>{}</p><p>Budget: 50000 Routed to alice by rule pricing</p></body></html>",
        marker_line("Jane Doe")
    ));
    view.has_html_part = true;
    let plan = through(&w, &view, &jane(7), &LeadSide::default());
    let d = to_lead(&plan).expect("relayed");
    assert_eq!(d.text, "Hi Jane, happy to help.\n");
    let html = d.html.as_deref().unwrap_or("");
    assert!(
        !html.contains("50000") && !html.contains("Routed"),
        "{html}"
    );
}

#[test]
fn html_never_goes_along_when_the_mail_had_quick_actions() {
    let w = World::new();
    let mut view = mail(ALICE, &tracked(&w, 7), "Quote", "/note vip\nHi Jane");
    view.html = Some("<p>/note vip</p><p>Hi Jane</p>".into());
    view.has_html_part = true;
    let plan = through(&w, &view, &jane(7), &LeadSide::default());
    assert_eq!(to_lead(&plan).map(|d| d.html.clone()), Some(None));
}

#[test]
fn the_lead_never_sees_an_internal_subject_or_the_state_footer() {
    let w = World::new();
    let view = mail(
        ALICE,
        &tracked(&w, 7),
        "Re: New lead: Jane Doe (webflow / Pricing) [LG-7]",
        "Hi Jane",
    );
    let side = LeadSide {
        team_thread: team_thread(),
        ..LeadSide::default()
    };
    let plan = through(&w, &view, &jane(7), &side);
    let d = to_lead(&plan).expect("relayed");
    assert_eq!(d.subject, "Your enquiry to Acme");
    assert!(!d.text.contains("Lead #7") && !d.text.contains("Quick actions"));
    assert!(!d.text.contains(super::super::trim::REPLY_MARKER));
}

#[test]
fn what_the_lead_wrote_reaches_the_owner_with_the_state_and_the_marker() {
    let w = World::new();
    let view = mail(JANE, &tracked(&w, 7), "Re: Quote", "Sounds good");
    let plan = through(&w, &view, &jane(7), &LeadSide::default());
    let d = sent(&plan)[0];
    assert_eq!(d.purpose, "relay_to_owner");
    assert!(d.text.starts_with(super::super::trim::REPLY_MARKER));
    assert!(d.text.contains("Lead #7"));
    assert!(matches!(plan.steps[0], Step::RecordInbound { lead: 7 }));
}

#[test]
fn an_opted_out_lead_gets_nothing_and_the_member_is_told() {
    let w = World::new();
    let side = LeadSide {
        opted_out: Some((now(), "reply: \"stop\"".into())),
        ..LeadSide::default()
    };
    let view = mail(ALICE, &tracked(&w, 7), "Quote", "Hi Jane");
    let plan = through(&w, &view, &jane(7), &side);
    assert!(to_lead(&plan).is_none());
    assert_eq!(sent(&plan)[0].to, vec![ALICE.to_string()]);
    let mut opted = jane(7);
    opted.status = "opted_out".into();
    let plan = through(&w, &view, &opted, &LeadSide::default());
    assert!(to_lead(&plan).is_none());
}

#[test]
fn a_lead_who_asks_to_stop_is_opted_out() {
    let w = World::new();
    let view = mail(
        JANE,
        &tracked(&w, 7),
        "Re: Quote",
        "Please stop emailing me.",
    );
    let plan = through(&w, &view, &jane(7), &LeadSide::default());
    assert!(plan
        .steps
        .iter()
        .any(|s| matches!(s, Step::OptOut { email_norm, .. } if email_norm == JANE)));
}

// Pieces.

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
    let mut v = MessageView::default();
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

#[test]
fn finds_our_message_ids_and_dsn_reasons() {
    let raw = "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\nMessage-ID: <lg.0123456789abcdef0123456789ABCDEF@Leads.test>\r\nIn-Reply-To: <lg.0123456789abcdef0123456789abcdef@other.test>";
    assert_eq!(
        signals::our_message_ids(raw, "leads.test"),
        vec!["lg.0123456789abcdef0123456789abcdef@leads.test"]
    );
    assert_eq!(
        signals::dsn_reason(raw),
        "Diagnostic-Code: smtp; 550 5.1.1 no such user"
    );
    assert_eq!(
        signals::dsn_reason("x"),
        "delivery failed (no reason given)"
    );
}

#[test]
fn another_leads_token_in_the_mail_never_redirects_the_relay() {
    let w = World::new();
    let p = w.policy();
    let lead = jane(7);
    // Addressed to Jane's tracked address and, in copy and in the text, to lead #8's.
    let mut view = mail(
        ALICE,
        &tracked(&w, 7),
        "Quote",
        &format!("Hi Jane, see {} too.", tracked(&w, 8)),
    );
    view.cc = vec![Mailbox::new(None, &tracked(&w, 8))];
    assert_eq!(tracked_leads(&p, &view), vec![7, 8], "the first one routes");
    let plan = through(&w, &view, &lead, &LeadSide::default());
    assert_recipients_are_ours(&w, &plan, &lead);
    let d = to_lead(&plan).expect("relayed");
    assert_eq!(d.to, vec![JANE.to_string()]);
    assert_eq!(d.from, tracked(&w, 7));
}
