//! Classification: what each kind of message is taken for, and why.

use super::*;
use crate::message::Mailbox;

fn mail(subject: &str, headers: &[(&str, &str)], text: &str) -> MessageView {
    MessageView {
        subject: subject.into(),
        from: Some(Mailbox::new(Some("Someone"), "someone@example.net")),
        to: vec![Mailbox::new(None, "leads@example.com")],
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        text: text.into(),
        has_text_part: true,
        content_type: "text/plain".into(),
        ..Default::default()
    }
}

const FORM: &str = "Name: Ann Lee\nEmail: ann@example.org\nPhone: 555 0100 111\nMessage: hi\n";

fn class(v: &MessageView) -> MessageClass {
    classify(v, &ClassifyContext::default()).class
}

#[test]
fn a_team_members_mail_in_our_threads_is_a_reply_and_other_internal_mail_is_other() {
    let ctx = ClassifyContext {
        team_addresses: vec!["alice@team.test".into()],
        message_id_domain: Some("leads.test".into()),
        ..Default::default()
    };
    let mut v = mail("Re: the quote", &[], "Thanks, sending it today.");
    v.from = Some(Mailbox::new(Some("Alice"), "alice@team.test"));
    assert_eq!(classify(&v, &ctx).class, MessageClass::Other, "internal");
    v.in_reply_to = vec!["lg.0123abcd@leads.test".into()];
    assert_eq!(
        classify(&v, &ctx).class,
        MessageClass::Reply,
        "our Message-ID"
    );
    v.in_reply_to.clear();
    v.subject = "Re: New lead: Jane Doe [LG-12]".into();
    assert_eq!(
        classify(&v, &ctx).class,
        MessageClass::Reply,
        "our subject tag"
    );
}

fn from(v: &mut MessageView, name: Option<&str>, address: &str) {
    v.from = Some(Mailbox::new(name, address));
}

fn report(v: &MessageView, ctx: &ClassifyContext) -> serde_json::Value {
    crate::report::ParseReport::new("x.eml", &classify(v, ctx)).to_json()
}

#[test]
fn a_prospects_own_mail_is_a_triage_inquiry_with_name_email_phone_and_their_words() {
    let mut v = mail(
            "Heat pumps",
            &[],
            "Hi, do you install heat pumps in Leeds? We have a 3-bed semi and would like a quote.\n\nThanks,\nTom, 07700 900123\n\nOn Mon, 30 Nov 2026 at 09:00, Someone <x@example.org> wrote:\n> an older mail\n",
        );
    from(&mut v, Some("Tom Baker"), "tom.baker@example.net");
    let c = classify(&v, &ClassifyContext::default());
    assert_eq!(
        (c.class, c.triage),
        (MessageClass::Inquiry, true),
        "{}",
        c.reason
    );
    let j = report(&v, &ClassifyContext::default());
    assert_eq!(j["kind"], "triage");
    assert_eq!(j["class"], "inquiry");
    assert_eq!(j["source"], serde_json::Value::Null);
    assert_eq!(j["fields"]["name"], "Tom Baker");
    assert_eq!(j["fields"]["email"], "tom.baker@example.net");
    assert_eq!(j["fields"]["phone"], "07700 900123");
    let message = j["fields"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("Hi, do you install heat pumps in Leeds?"));
    assert!(
        !message.contains("an older mail"),
        "quoted history is cut: {message}"
    );
}

#[test]
fn a_person_reply_to_goes_before_a_shared_from() {
    let mut v = mail("Question", &[], "Can you quote for a new boiler?");
    from(&mut v, Some("Website"), "no-reply@acme-shop.example");
    v.reply_to = vec![Mailbox::new(Some("Jo Lane"), "jo@example.org")];
    // A site's script: its no-reply sender, the submitter in Reply-To, no labels.
    let j = report(&v, &ClassifyContext::default());
    assert_eq!(
        (&j["kind"], &j["class"]),
        (&"triage".into(), &"notification".into())
    );
    assert_eq!(j["fields"]["email"], "jo@example.org");
    from(&mut v, Some("Jo"), "jo.lane@work.example");
    let j = report(&v, &ClassifyContext::default());
    assert_eq!(
        (&j["kind"], &j["class"]),
        (&"triage".into(), &"inquiry".into())
    );
    assert_eq!(j["fields"]["email"], "jo@example.org");
    assert_eq!(j["fields"]["name"], "Jo Lane");
}

#[test]
fn provider_system_mail_by_kind_is_other_not_triage() {
    /// (sender, subject, text, headers)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );
    let cases: [Case; 6] = [
            (
                "no-reply@accounts.formsvc.example",
                "Reset your password",
                "Someone asked to reset the password of your account. Click the link below.",
                &[],
            ),
            (
                "billing@hostco.example",
                "Your receipt from HostCo",
                "Thanks for your payment. Amount paid: $12.00. Card ending 4242.",
                &[],
            ),
            (
                "notifications@formsvc.example",
                "You've used 90% of your monthly submissions",
                "Your account has reached 90% of its monthly limit. Upgrade your plan to keep receiving entries.",
                &[],
            ),
            (
                "team@formsvc.example",
                "Daily digest: 4 new submissions",
                "Here is your daily digest.\nContact form: 3 new entries\nQuote form: 1 new entry\nView them in your dashboard.",
                &[("Feedback-ID", "digest:formsvc")],
            ),
            (
                "security@cloudmail.example",
                "New sign-in to your account",
                "We noticed a new sign-in from Chrome on Windows. If this was you, you can ignore this.",
                &[],
            ),
            (
                "accounts@shop.example",
                "Action required: update your billing details",
                "Your subscription renews on 1 January. Please update your card.",
                &[],
            ),
        ];
    for (sender, subject, text, headers) in cases {
        let mut v = mail(subject, headers, text);
        from(&mut v, None, sender);
        let c = classify(&v, &ClassifyContext::default());
        assert!(!c.triage, "{subject}: {}", c.reason);
        assert_eq!(c.class, MessageClass::Other, "{subject}: {}", c.reason);
    }
}

#[test]
fn a_team_members_mail_is_not_triage_with_or_without_the_team_in_the_config() {
    let ctx = ClassifyContext {
        team_addresses: vec!["megan@acme.example".into()],
        ..Default::default()
    };
    let mut v = mail(
        "Callback needed - Henderson",
        &[],
        "Ruth Henderson called about her kitchen. Can someone call her back at (612) 555-0133?",
    );
    from(&mut v, Some("Megan"), "megan@acme.example");
    v.to = vec![Mailbox::new(None, "leads@acme.example")];
    assert_eq!(classify(&v, &ctx).class, MessageClass::Other);
    // A colleague not (yet) in [[people]]: the inbox's own domain says it is internal.
    let c = classify(&v, &ClassifyContext::default());
    assert_eq!(
        (c.class, c.triage),
        (MessageClass::Other, false),
        "{}",
        c.reason
    );
}

#[test]
fn a_notification_that_cannot_be_read_is_triage_with_its_provider() {
    // A provider's alert that only links to a new response is a lead to look up
    // (extract::alert_only); one whose submission is there but unreadable is triage.
    let mut alert = mail(
        "New response: Contact us",
        &[],
        "You have a new response. View it in your dashboard: https://app.typeform.example/r/1",
    );
    from(&mut alert, Some("Typeform"), "notifications@typeform.com");
    assert_eq!(report(&alert, &ClassifyContext::default())["kind"], "lead");
    let mut v = mail(
        "Form submission: Contact us",
        &[],
        "Someone filled in Contact us.\n\n=?x?B?Zm9v?= ==== 3q2+7w== ====",
    );
    from(&mut v, Some("Typeform"), "notifications@typeform.com");
    let c = classify(&v, &ClassifyContext::default());
    assert_eq!(
        (c.class, c.triage),
        (MessageClass::Notification, true),
        "{}",
        c.reason
    );
    let j = report(&v, &ClassifyContext::default());
    assert_eq!(j["kind"], "triage");
    assert_eq!(j["source"], "typeform");
}

#[test]
fn a_persons_reply_that_no_lead_claims_is_triage_and_a_colleagues_is_not() {
    let ctx = ClassifyContext {
        team_addresses: vec!["alice@team.test".into()],
        ..Default::default()
    };
    let mut v = mail(
            "Re: your quote from last spring",
            &[],
            "Is the offer still good? We would like to go ahead.\n\nOn Mon, 30 Nov 2026 at 09:00, Alice Smith <alice@team.test> wrote:\n> the quote",
        );
    from(&mut v, Some("Pat Reed"), "pat@example.org");
    let c = classify(&v, &ctx);
    assert_eq!(c.class, MessageClass::Reply, "{}", c.reason);
    let t = unclaimed_reply(&v, &c, &ctx).expect("triage");
    assert_eq!((t.class, t.triage), (MessageClass::Inquiry, true));
    let e = t.extraction.expect("fields");
    assert_eq!(e.fields.email.as_deref(), Some("pat@example.org"));
    assert_eq!(
        e.fields.message.as_deref(),
        Some("Is the offer still good? We would like to go ahead.")
    );
    from(&mut v, Some("Alice"), "alice@team.test");
    let c = classify(&v, &ctx);
    assert_eq!(unclaimed_reply(&v, &c, &ctx), None, "the team's own mail");
    let mut bulk = mail("Re: offer", &[("Precedence", "bulk")], "x");
    from(&mut bulk, None, "pat@example.org");
    let c = Classification::of(MessageClass::Reply, "a reply");
    assert_eq!(unclaimed_reply(&bulk, &c, &ctx), None, "machine mail");
}

#[test]
fn cold_outreach_is_spam_and_triage_off_stores_other() {
    let mut v = mail(
            "Quick question",
            &[],
            "I came across your site. We help agencies like yours add white-label chat. Open to a 15-minute call? Not the right person? I won't follow up.",
        );
    from(&mut v, Some("Nadia"), "nadia@outreach.example");
    assert_eq!(class(&v), MessageClass::Spam);
    let mut v = mail("Boiler", &[], "Can you service my boiler next week?");
    from(&mut v, Some("Al"), "al@example.org");
    let off = ClassifyContext {
        triage_off: true,
        ..Default::default()
    };
    let c = classify(&v, &off);
    assert_eq!((c.class, c.triage), (MessageClass::Other, false));
    assert!(c.reason.contains("triage = \"off\""), "{}", c.reason);
}

#[test]
fn out_of_office_in_several_languages() {
    for s in [
        "Out of Office: Re: quote",
        "Abwesenheitsnotiz: Ihre Anfrage",
        "Réponse automatique : devis",
        "Respuesta automática: presupuesto",
        "Automatisch antwoord: offerte",
        "Risposta automatica: preventivo",
        "Automatisk svar: tilbud",
        "Absent du bureau jusqu'au 3",
    ] {
        assert_eq!(class(&mail(s, &[], FORM)), MessageClass::AutoReply, "{s}");
    }
    let lead = mail("New Entry: Dog sitting while on vacation", &[], FORM);
    assert_eq!(class(&lead), MessageClass::Notification);
}

#[test]
fn header_signals() {
    let v = mail("x", &[("Auto-Submitted", "auto-replied")], FORM);
    assert_eq!(class(&v), MessageClass::AutoReply);
    let v = mail("x", &[("X-Autorespond", "yes")], FORM);
    assert_eq!(class(&v), MessageClass::AutoReply);
    let v = mail("Hello", &[("Precedence", "bulk")], "Some news for you.");
    assert_eq!(class(&v), MessageClass::AutoReply);
    let v = mail("Hello", &[("List-Id", "<news.example.net>")], FORM);
    assert_eq!(class(&v), MessageClass::Newsletter);
    let v = mail("x", &[(LOOP_HEADER, "1")], FORM);
    assert_eq!(class(&v), MessageClass::Other);
    let mut v = mail("x", &[], FORM);
    v.return_path = Some(String::new());
    assert_eq!(class(&v), MessageClass::Bounce);
    let v = mail("Undeliverable: quote", &[], FORM);
    assert_eq!(class(&v), MessageClass::Bounce);
}

#[test]
fn context_addresses() {
    let mut ctx = ClassifyContext {
        log_address: Some("log@leads.example.com".into()),
        team_addresses: vec!["someone@example.net".into()],
        ..Default::default()
    };
    let mut v = mail("Re: your quote", &[], "Hi Ann, see attached.");
    v.cc.push(Mailbox::new(None, "log@leads.example.com"));
    assert_eq!(classify(&v, &ctx).class, MessageClass::BccLog);
    ctx.log_address = None;
    let v = mail("Callback", &[], FORM);
    assert_eq!(classify(&v, &ctx).class, MessageClass::Other);
}

#[test]
fn notifications_without_contact_need_a_template() {
    // Unreadable, yet a notification by its subject and layout: triage, not `other`.
    let v = mail("New lead", &[], "Name: Ann Lee\nService: Roof\n");
    let c = classify(&v, &ClassifyContext::default());
    assert_eq!((c.class, c.triage), (MessageClass::Notification, true));
    let mut v = mail(
        "New submission",
        &[],
        "Name: Ann\nWhat do you need: a roof\n",
    );
    v.from = Some(Mailbox::new(Some("Webflow"), "no-reply@webflow.com"));
    let c = classify(&v, &ClassifyContext::default());
    assert_eq!(c.class, MessageClass::Notification);
    assert!(c.extraction.is_some_and(|e| e.needs_template()));
}
