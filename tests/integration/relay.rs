//! End to end through the relay on the real mail lab: owners and leads writing to a
//! lead's tracked address, strangers and forged tokens, BCC logging, opt-out by reply and
//! by one-click, refused relays, malformed quick actions, auto-replies, and team replies
//! that lost the tracked address (found by thread and subject tag), and a database error
//! inside a quick action (the message fails, it is not mailed back as a refusal). Run
//! `scripts/test-env` first. Mailboxes shared between runs (alice@team.test,
//! world@example.net) are read through a per-run tag, never emptied.

use crate::support::app::TestApp;
use crate::support::{imap_messages, smtp_send};
use leadgate::domain::message::MessageView;
use std::time::Duration;

const ROUTES: &str = r#"
[[routes]]
name = "org"
submitter = "example.org"
owner = "bob"

[[routes]]
name = "everyone-else"
owner = "alice"
"#;

const WAIT: Duration = Duration::from_secs(30);

/// A tag no other run uses (letters only, so it survives any encoding in a name).
fn run_tag() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        ^ u128::from(std::process::id()) << 64;
    let mut s = String::new();
    let mut n = n;
    for _ in 0..10 {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    s
}

struct Lead {
    name: String,
    email: String,
}

impl Lead {
    fn new(first: &str, domain: &str) -> Lead {
        let tag = run_tag();
        Lead {
            name: format!("{first} Q{tag}"),
            email: format!("{}.{tag}@{domain}", first.to_lowercase()),
        }
    }
}

/// A Contact-Form-7-style notification, submitter in Reply-To.
fn notification(app: &TestApp, lead: &Lead, text: &str) -> Vec<u8> {
    format!(
        "From: Acme Site <wordpress@acme.example.com>\r\n\
         To: {inbox}\r\n\
         Reply-To: {email}\r\n\
         Subject: Acme Site \"Quote request\"\r\n\
         Message-ID: <cf7-{email}@acme.example.com>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         \r\n\
         From: {name} <{email}>\r\n\
         Subject: Quote request\r\n\
         \r\n\
         Message Body:\r\n\
         {text}\r\n\
         \r\n\
         -- \r\n\
         This e-mail was sent from a contact form on Acme Site (https://acme.example.com)\r\n",
        inbox = app.inbox,
        name = lead.name,
        email = lead.email,
    )
    .into_bytes()
}

/// A plain-text mail with optional extra header lines (each ending in CRLF).
fn mail(from: &str, to: &str, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    let id = crate::support::unique_message_id("relay");
    format!(
        "Message-ID: {id}\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\nFrom: {from}\r\nTo: {to}\r\n\
         Subject: {subject}\r\n{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        body.replace('\n', "\r\n")
    )
    .into_bytes()
}

/// Everything a test may look for in a message, decoded.
fn searchable(v: &MessageView) -> String {
    let headers: Vec<String> = v.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{}\n{}\n{}", v.subject, headers.join("\n"), v.text)
}

/// Messages in `user`'s INBOX that mention `needle` (decoded), with their raw bytes.
async fn mail_about(user: &str, needle: &str) -> Vec<(MessageView, Vec<u8>)> {
    mail_with(user, &[needle]).await
}

/// Messages in `user`'s INBOX that mention every one of `needles`.
async fn mail_with(user: &str, needles: &[&str]) -> Vec<(MessageView, Vec<u8>)> {
    imap_messages(user)
        .await
        .into_iter()
        .map(|raw| (crate::support::view(&raw), raw))
        .filter(|(v, _)| {
            let text = searchable(v);
            needles.iter().all(|n| text.contains(n))
        })
        .collect()
}

async fn wait_mail(user: &str, needle: &str, n: usize) -> Vec<(MessageView, Vec<u8>)> {
    wait_mail_with(user, &[needle], n).await
}

async fn wait_mail_with(user: &str, needles: &[&str], n: usize) -> Vec<(MessageView, Vec<u8>)> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let got = mail_with(user, needles).await;
        if got.len() >= n || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Waits for the lead of `email`; returns (id, tracked address).
async fn wait_lead(app: &TestApp, email: &str) -> (i64, String) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(l) = app.leads().into_iter().find(|l| l["email"] == email) {
            return (
                l["id"].as_i64().unwrap(),
                l["tracked_address"].as_str().unwrap().to_owned(),
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no lead for {email}; log:\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn history(app: &TestApp, id: i64) -> Vec<(String, String)> {
    app.show(id)["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_owned(),
                a["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits until the lead's history has an entry of `kind` whose detail has `detail`.
async fn wait_history(app: &TestApp, id: i64, kind: &str, detail: &str) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let h = history(app, id);
        if h.iter().any(|(k, d)| k == kind && d.contains(detail))
            || std::time::Instant::now() > deadline
        {
            return h;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The owner's assignment email for `lead`, and a reply to it quoting it whole.
async fn assignment(owner: &str, lead: &Lead) -> MessageView {
    let got = wait_mail(owner, &lead.name, 1).await;
    assert_eq!(
        got.len(),
        1,
        "{owner} got the assignment email for {}",
        lead.name
    );
    got.into_iter().next().unwrap().0
}

fn quoted(v: &MessageView) -> String {
    let q: Vec<String> = v.text.lines().map(|l| format!("> {l}")).collect();
    format!(
        "On Mon, 23 Nov 2026 at 10:00, Test Team leads <leadgate@example.com> wrote:\n{}",
        q.join("\n")
    )
}

fn threading_headers(v: &MessageView) -> String {
    let id = v.message_id.clone().unwrap_or_default();
    format!("In-Reply-To: <{id}>\r\nReferences: <{id}>\r\n")
}

fn header<'a>(v: &'a MessageView, name: &str) -> &'a str {
    v.header(name).unwrap_or("").trim()
}

/// Owner reply with quick actions and the quoted notification: the lead gets only the
/// reply text, from the tracked address, threaded; the history has actions and message;
/// the lead's answer reaches the owner; the owner's next reply threads into it.
#[tokio::test(flavor = "multi_thread")]
async fn owner_reply_reaches_the_lead_trimmed_and_the_lead_reaches_the_owner() {
    let app = TestApp::new(8, ROUTES).await;
    let _daemon = app.start();
    // Let the daemon create the database before the CLI reads it (concurrent first
    // migrations on a fresh SQLite file race).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let jane = Lead::new("Jane", "example.net");
    let other = Lead::new("Otto", "example.org");
    smtp_send(
        &notification(
            &app,
            &jane,
            "Please quote a roof repair. Secret-budget-4711.",
        ),
        &[&app.inbox],
    )
    .await;
    smtp_send(
        &notification(&app, &other, "Other lead's private request."),
        &[&app.inbox],
    )
    .await;
    let (id, tracked) = wait_lead(&app, &jane.email).await;
    let notice = assignment("alice@team.test", &jane).await;
    assert_eq!(header(&notice, "Reply-To"), tracked);

    let body = format!(
        "/note internal-note-xyz budget is tight\n/next tomorrow call\n\nHello Jane, thanks for your request.\nI will call you tomorrow.\n\nAlice\n\n{}",
        quoted(&notice)
    );
    smtp_send(
        &mail(
            "Alice Smith <alice@team.test>",
            &tracked,
            &format!("Re: {}", notice.subject),
            &threading_headers(&notice),
            &body,
        ),
        &[&tracked],
    )
    .await;

    let got = wait_mail("world@example.net", &jane.email, 1).await;
    assert_eq!(got.len(), 1, "the lead got one mail; log:\n{}", app.log());
    let (relayed, raw) = &got[0];
    assert_eq!(
        relayed.text.replace("\r\n", "\n").trim(),
        "Hello Jane, thanks for your request.\nI will call you tomorrow.\n\nAlice"
    );
    assert!(
        !relayed.has_html_part,
        "a text-only reply goes out text-only: {:?}",
        relayed.html
    );
    let from = relayed.from.clone().unwrap();
    assert_eq!(from.address, tracked);
    assert_eq!(from.name.as_deref(), Some("Alice Smith"));
    assert_eq!(header(relayed, "Reply-To"), tracked);
    assert!(header(relayed, "List-Unsubscribe").contains("mailto:"));
    let raw = String::from_utf8_lossy(raw);
    for internal in [
        "internal-note-xyz",
        "/note",
        "/next",
        "Reply above this line",
        "Secret-budget-4711",
        "New lead",
        "Why you",
        &other.name,
        &other.email,
        "alice@team.test",
        "LG-",
    ] {
        assert!(
            !raw.contains(internal) && !relayed.text.contains(internal),
            "{internal:?} reached the lead:\n{raw}"
        );
    }

    let h = wait_history(&app, id, "message_out", "").await;
    let kinds: Vec<&str> = h.iter().map(|(k, _)| k.as_str()).collect();
    for k in ["note", "next_action_set", "message_out", "accepted"] {
        assert!(kinds.contains(&k), "{k} in {h:?}");
    }
    assert!(h
        .iter()
        .any(|(k, d)| k == "note" && d.contains("internal-note-xyz")));
    let lead = app.show(id);
    assert_eq!(lead["status"], "contacted");
    assert_eq!(lead["accepted"], true);
    assert_eq!(lead["next_action"]["what"], "call");

    // The lead answers; the owner gets it from "<lead> via leadgate", tagged, marker on top.
    let lead_reply = format!(
        "Great, call me at 3pm, {}.\n\nOn Mon, 23 Nov 2026, Alice Smith <{tracked}> wrote:\n> Hello Jane",
        jane.name
    );
    let lead_mail = mail(
        &format!("{} <{}>", jane.name, jane.email),
        &tracked,
        &format!("Re: {}", relayed.subject),
        &threading_headers(relayed),
        &lead_reply,
    );
    let lead_mid = leadgate::parse::view(&lead_mail).message_id.unwrap();
    smtp_send(&lead_mail, &[&tracked]).await;
    let got = wait_mail(
        "alice@team.test",
        &format!("Great, call me at 3pm, {}", jane.name),
        1,
    )
    .await;
    assert_eq!(
        got.len(),
        1,
        "alice got the lead's reply; log:\n{}",
        app.log()
    );
    let (to_owner, _) = &got[0];
    assert_eq!(
        to_owner.from.as_ref().unwrap().name.as_deref(),
        Some(format!("{} via leadgate", jane.name).as_str())
    );
    assert_eq!(to_owner.from.as_ref().unwrap().address, tracked);
    assert_eq!(header(to_owner, "Reply-To"), tracked);
    assert!(
        to_owner.subject.contains(&format!("[LG-{id}]")),
        "{}",
        to_owner.subject
    );
    assert!(to_owner.text.starts_with("##- Reply above this line"));
    assert!(
        !to_owner.has_html_part,
        "the lead's text-only reply reaches the owner text-only: {:?}",
        to_owner.html
    );
    assert!(wait_history(&app, id, "message_in", "")
        .await
        .iter()
        .any(|(k, _)| k == "message_in"));

    // The owner answers that: the lead's second mail threads into the lead's own message.
    smtp_send(
        &mail(
            "Alice Smith <alice@team.test>",
            &tracked,
            &format!("Re: {}", to_owner.subject),
            &threading_headers(to_owner),
            &format!("3pm it is.\n\n{}", quoted(to_owner)),
        ),
        &[&tracked],
    )
    .await;
    let got = wait_mail("world@example.net", &jane.email, 2).await;
    assert_eq!(got.len(), 2, "log:\n{}", app.log());
    let second = got
        .iter()
        .map(|(v, _)| v)
        .find(|v| v.text.contains("3pm it is"))
        .expect("the second relay");
    assert_eq!(second.text.replace("\r\n", "\n").trim(), "3pm it is.");
    assert_eq!(second.in_reply_to, vec![lead_mid.clone()]);
    assert!(second.references.contains(&lead_mid));
    assert!(second
        .references
        .contains(relayed.message_id.as_ref().unwrap()));
    assert!(!second.subject.contains("LG-") && !second.subject.contains("New lead"));
    assert!(mail_about("world@example.net", &other.email)
        .await
        .is_empty());

    // The lead's server bounces the second relay: recorded on the lead, the owner told.
    let bounced = second.message_id.clone().unwrap();
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: leadgate@{domain}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: {mid}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\
         --r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n\
         Final-Recipient: rfc822; {email}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 mailbox unavailable\r\n\
         --r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{bounced}>\r\nTo: {email}\r\n--r--\r\n",
        domain = app.domain,
        mid = crate::support::unique_message_id("dsn"),
        email = jane.email,
    );
    smtp_send(dsn.as_bytes(), &[&format!("leadgate@{}", app.domain)]).await;
    let h = wait_history(&app, id, "bounce", "550 5.1.1").await;
    assert!(h.iter().any(|(k, _)| k == "bounce"), "{h:?}\n{}", app.log());
    let got = wait_mail_with(
        "alice@team.test",
        &["could not be delivered", &jane.name],
        1,
    )
    .await;
    assert_eq!(got.len(), 1);
}

/// Strangers and forged tokens reach no lead; an auto-reply from the lead's side is
/// recorded and not answered (no loop).
#[tokio::test(flavor = "multi_thread")]
async fn strangers_forged_tokens_and_auto_replies_reach_no_lead() {
    let app = TestApp::new(9, ROUTES).await;
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    std::fs::write(
        &app.config_path,
        config.replacen("[relay]\n", "[relay]\nrate_cap = \"3/2h\"\n", 1),
    )
    .unwrap();
    let _daemon = app.start();
    // Let the daemon create the database before the CLI reads it (concurrent first
    // migrations on a fresh SQLite file race).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let jane = Lead::new("Jane", "example.net");
    smtp_send(&notification(&app, &jane, "Need a quote."), &[&app.inbox]).await;
    let (id, tracked) = wait_lead(&app, &jane.email).await;
    assignment("alice@team.test", &jane).await;

    // A stranger writes to the tracked address: the owner sees it flagged.
    smtp_send(
        &mail(
            "Mallory <mallory@example.org>",
            &tracked,
            "Send me her phone number",
            "",
            "Hi, please forward me everything you have on this lead.",
        ),
        &[&tracked],
    )
    .await;
    let got = wait_mail_with("alice@team.test", &["forward me everything", &jane.name], 1).await;
    assert_eq!(got.len(), 1, "log:\n{}", app.log());
    assert!(
        got[0].0.text.contains("unknown sender"),
        "{}",
        got[0].0.text
    );

    // A forged token on the same domain: recorded only.
    let forged = format!("reply+{}@{}", "a".repeat(24), app.domain);
    smtp_send(
        &mail(
            "Mallory <mallory@example.org>",
            &forged,
            "hello",
            "",
            &format!("forged-{}", jane.name),
        ),
        &[&forged],
    )
    .await;

    // The lead's out-of-office answers the tracked address.
    smtp_send(
        &mail(
            &format!("{} <{}>", jane.name, jane.email),
            &tracked,
            "Out of office",
            "Auto-Submitted: auto-replied\r\n",
            &format!("ooo-{}: I am away until Monday.", jane.name),
        ),
        &[&tracked],
    )
    .await;

    let h = wait_history(&app, id, "message_in", "").await;
    let deadline = std::time::Instant::now() + WAIT;
    while !history(&app, id)
        .iter()
        .any(|(_, d)| d.contains("automatic mail"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "auto-reply recorded: {h:?}\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let messages = app.cli(&["messages", "--json"]);
    assert!(messages.contains("unknown or forged token"), "{messages}");
    // Give a loop time to show itself.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        mail_about("world@example.net", &jane.email)
            .await
            .is_empty(),
        "nothing reached the lead"
    );
    // Mallory's address (example.org) is delivered there too: nothing about Jane went out.
    assert!(mail_about("world@example.net", &jane.name).await.is_empty());
    assert!(
        mail_about("world@example.net", &format!("forged-{}", jane.name))
            .await
            .is_empty()
    );
    let alice = mail_about("alice@team.test", &jane.name).await;
    assert_eq!(
        alice.len(),
        2,
        "assignment and the flagged stranger mail only: {:?}",
        alice.iter().map(|(v, _)| &v.subject).collect::<Vec<_>>()
    );
    assert_eq!(app.show(id)["status"], "new", "nothing counted as a reply");

    // The rate cap (3 in 2 hours per sender): Mallory's third mail is shown, the rest not.
    for n in 3..=5 {
        smtp_send(
            &mail(
                "Mallory <mallory@example.org>",
                &tracked,
                "again",
                "",
                &format!("capped-{n}-{}", jane.name),
            ),
            &[&tracked],
        )
        .await;
    }
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let h = history(&app, id);
        let capped = h.iter().filter(|(_, d)| d.contains("rate cap")).count();
        if capped == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{h:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let flagged = wait_mail_with("alice@team.test", &["capped-3", &jane.name], 1).await;
    assert_eq!(flagged.len(), 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(mail_with("alice@team.test", &["capped-4", &jane.name])
        .await
        .is_empty());
    assert!(mail_with("alice@team.test", &["capped-5", &jane.name])
        .await
        .is_empty());

    // The List-Unsubscribe mailto: the tracked address with the subject "unsubscribe".
    smtp_send(
        &mail(&jane.email, &tracked, "unsubscribe", "", ""),
        &[&tracked],
    )
    .await;
    let got = wait_mail_with("alice@team.test", &["unsubscribed", &jane.name], 1).await;
    assert_eq!(got.len(), 1, "log:\n{}", app.log());
    assert_eq!(app.show(id)["status"], "opted_out");
}

/// A malformed quick action gets its error email; a BCC'd mail is logged as the first
/// reply; an opt-out by reply reaches the owner; a later relay is refused with the reason.
#[tokio::test(flavor = "multi_thread")]
async fn bcc_logging_malformed_actions_and_opt_out_by_reply() {
    let app = TestApp::new(10, ROUTES).await;
    let _daemon = app.start();
    // Let the daemon create the database before the CLI reads it (concurrent first
    // migrations on a fresh SQLite file race).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let jane = Lead::new("Jane", "example.net");
    smtp_send(&notification(&app, &jane, "Need a quote."), &[&app.inbox]).await;
    let (id, tracked) = wait_lead(&app, &jane.email).await;
    let notice = assignment("alice@team.test", &jane).await;

    smtp_send(
        &mail(
            "Alice Smith <alice@team.test>",
            &tracked,
            &format!("Re: {}", notice.subject),
            "",
            &format!("/next whenever call\n\nHello Jane, malformed-{}", jane.name),
        ),
        &[&tracked],
    )
    .await;
    let got = wait_mail_with(
        "alice@team.test",
        &["did not act on your mail", &jane.name],
        1,
    )
    .await;
    assert_eq!(got.len(), 1, "log:\n{}", app.log());
    assert!(
        got[0].0.text.contains("/next whenever call"),
        "{}",
        got[0].0.text
    );
    assert!(got[0].0.text.contains("/assign PERSON"));

    // BCC to the logging address: logged, the first reply, not sent again.
    let log = format!("log@{}", app.domain);
    let direct = mail(
        "Alice Smith <alice@team.test>",
        &jane.email,
        "Your quote",
        "",
        &format!("Hi Jane, here is your quote. bcc-direct {}", jane.name),
    );
    // The member's server delivers to each domain's MX on its own (one LMTP recipient
    // per transaction here too, so Dovecot writes Delivered-To).
    smtp_send(&direct, &[&jane.email]).await;
    smtp_send(&direct, &[&log]).await;
    let h = wait_history(&app, id, "logged", "BCC").await;
    assert!(
        h.iter().any(|(k, d)| k == "logged" && d.contains("BCC")),
        "{h:?}\n{}",
        app.cli(&["messages", "--json"])
    );
    let lead = app.show(id);
    assert_eq!(lead["status"], "contacted");
    assert_eq!(lead["accepted"], true);
    assert_eq!(
        mail_about("world@example.net", &format!("bcc-direct {}", jane.name))
            .await
            .len(),
        1,
        "the lead has the member's own copy only"
    );
    assert!(
        mail_about("world@example.net", &format!("malformed-{}", jane.name))
            .await
            .is_empty()
    );

    // An HTML reply (Gmail-style quote): the lead gets the trimmed HTML too, and nothing of
    // the quote in either part.
    let html_mail = format!(
        "Message-ID: {id}\r\nFrom: Alice Smith <alice@team.test>\r\nTo: {tracked}\r\n\
         Subject: Re: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"a1\"\r\n\r\n\
         --a1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello Jane, html-{name} here.\r\n\r\n\
         On Mon, 23 Nov 2026 at 10:00, Test Team leads <leadgate@example.com> wrote:\r\n\
         > ##- Reply above this line: your reply goes to {name} through leadgate -##\r\n\
         > internal-html-secret\r\n\
         --a1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><div dir=\"ltr\">Hello Jane, html-{name} here.</div><br>\
         <div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, 23 Nov 2026 at 10:00, Test Team leads \
         &lt;leadgate@example.com&gt; wrote:<br></div><blockquote class=\"gmail_quote\">\
         ##- Reply above this line: your reply goes to {name} through leadgate -##<br>\
         internal-html-secret</blockquote></div></body></html>\r\n--a1--\r\n",
        id = crate::support::unique_message_id("html"),
        subject = notice.subject,
        name = jane.name,
    );
    smtp_send(html_mail.as_bytes(), &[&tracked]).await;
    let needle = format!("html-{}", jane.name);
    let got = wait_mail("world@example.net", &needle, 1).await;
    assert_eq!(got.len(), 1, "log:\n{}", app.log());
    let (v, raw) = &got[0];
    assert_eq!(
        v.text.replace("\r\n", "\n").trim(),
        format!("Hello Jane, {needle} here.")
    );
    let html = v.html.as_deref().expect("the HTML part goes along");
    assert!(html.contains(&needle), "{html}");
    let raw = String::from_utf8_lossy(raw);
    assert!(
        !raw.contains("internal-html-secret") && !raw.contains("Reply above"),
        "{raw}"
    );
    assert!(!html.contains("internal-html-secret"), "{html}");

    // The lead asks to stop.
    smtp_send(
        &mail(
            &format!("{} <{}>", jane.name, jane.email),
            &tracked,
            "Re: Your quote",
            "",
            "Please unsubscribe me, I am not interested any more.",
        ),
        &[&tracked],
    )
    .await;
    let got = wait_mail_with(
        "alice@team.test",
        &["not interested any more", &jane.name],
        1,
    )
    .await;
    assert_eq!(got.len(), 1, "log:\n{}", app.log());
    assert!(got[0].0.text.contains("opt-out"), "{}", got[0].0.text);
    let deadline = std::time::Instant::now() + WAIT;
    while app.show(id)["status"] != "opted_out" {
        assert!(std::time::Instant::now() < deadline, "{}", app.show(id));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // A later relay is refused, and alice is told why.
    smtp_send(
        &mail(
            "Alice Smith <alice@team.test>",
            &tracked,
            &format!("Re: {}", notice.subject),
            "",
            &format!("Hello Jane, one more offer: refused-{}", jane.name),
        ),
        &[&tracked],
    )
    .await;
    let got = wait_mail_with(
        "alice@team.test",
        &["did not relay your mail", &jane.name],
        1,
    )
    .await;
    assert_eq!(got.len(), 1, "log:\n{}", app.log());
    assert!(
        got[0].0.text.contains("asked not to be contacted"),
        "{}",
        got[0].0.text
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        mail_about("world@example.net", &format!("refused-{}", jane.name))
            .await
            .is_empty()
    );
}

/// One-click unsubscribe (the function the HTTP endpoint calls): List-Unsubscribe carries
/// the URL; after it, a relay is refused with the explanation to the owner.
#[tokio::test(flavor = "multi_thread")]
async fn one_click_unsubscribe_then_a_refused_relay() {
    let app = TestApp::new(
        11,
        &format!("{ROUTES}\n[http]\npublic_url = \"https://leads.s11.test\"\n"),
    )
    .await;
    let _daemon = app.start();
    // Let the daemon create the database before the CLI reads it (concurrent first
    // migrations on a fresh SQLite file race).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let jane = Lead::new("Jane", "example.net");
    smtp_send(&notification(&app, &jane, "Need a quote."), &[&app.inbox]).await;
    let (id, tracked) = wait_lead(&app, &jane.email).await;
    let notice = assignment("alice@team.test", &jane).await;

    // A reply with a file: the file goes along.
    let with_file = format!(
        "Message-ID: {id}\r\nFrom: Alice Smith <alice@team.test>\r\nTo: {tracked}\r\n\
         Subject: Re: {subject}\r\n{threading}MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello Jane, first-xyz, the quote is attached.\r\n\r\n{quote}\r\n\
         --b1\r\nContent-Type: application/pdf; name=\"quote.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"quote.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQgZmFrZQ==\r\n--b1--\r\n",
        id = crate::support::unique_message_id("file"),
        subject = notice.subject,
        threading = threading_headers(&notice),
        quote = quoted(&notice).replace('\n', "\r\n"),
    );
    smtp_send(with_file.as_bytes(), &[&tracked]).await;
    let got = wait_mail("world@example.net", &jane.email, 1).await;
    assert_eq!(got.len(), 1, "log:\n{}", app.log());
    let relayed = &got[0].0;
    assert_eq!(
        relayed.text.replace("\r\n", "\n").trim(),
        "Hello Jane, first-xyz, the quote is attached."
    );
    assert_eq!(relayed.attachments.len(), 1, "{relayed:?}");
    assert_eq!(
        relayed.attachments[0].filename.as_deref(),
        Some("quote.pdf")
    );
    assert_eq!(relayed.attachments[0].content_type, "application/pdf");
    let token = tracked
        .strip_prefix("reply+")
        .and_then(|t| t.split('@').next())
        .unwrap()
        .to_owned();
    let raw = String::from_utf8_lossy(&got[0].1).replace("\r\n ", " ");
    assert!(
        raw.contains(&format!("<https://leads.s11.test/unsubscribe/{token}>")),
        "{raw}"
    );
    assert!(
        raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{raw}"
    );

    let desks = leadgate::config::load_desks(&app.config_path).unwrap();
    let store = leadgate::store::Store::open(&app.database_url)
        .await
        .unwrap();
    let now = jiff::Timestamp::now();
    assert!(leadgate::relay::one_click_unsubscribe(
        &store,
        &desks,
        "aaaaaaaaaaaaaaaaaaaaaaaa",
        now
    )
    .await
    .unwrap()
    .is_none());
    assert!(
        leadgate::relay::one_click_unsubscribe(&store, &desks, &token, now)
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
    assert_eq!(app.show(id)["status"], "opted_out");

    smtp_send(
        &mail(
            "Alice Smith <alice@team.test>",
            &tracked,
            "Re: your quote",
            "",
            &format!("Hello Jane, second-{}", jane.name),
        ),
        &[&tracked],
    )
    .await;
    let got = wait_mail_with(
        "alice@team.test",
        &["did not relay your mail", &jane.name],
        1,
    )
    .await;
    assert_eq!(got.len(), 1, "log:\n{}", app.log());
    assert!(got[0].0.text.contains("one-click"), "{}", got[0].0.text);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        mail_about("world@example.net", &format!("second-{}", jane.name))
            .await
            .is_empty()
    );
}

/// A team member's reply that lost the tracked address (sent to the shared inbox, as a
/// client that ignores Reply-To does): threaded to the owner email and tagged `[LG-n]`, it
/// is found and relayed to the lead; a mail with only the subject tag is recorded on the
/// lead and never relayed.
#[tokio::test(flavor = "multi_thread")]
async fn replies_that_lost_the_tracked_address_are_found_by_thread_and_tag() {
    let app = TestApp::new(23, ROUTES).await;
    let _daemon = app.start();
    let jane = Lead::new("Jane", "example.net");
    smtp_send(
        &notification(&app, &jane, "Please quote a garden fence."),
        &[&app.inbox],
    )
    .await;
    let (id, tracked) = wait_lead(&app, &jane.email).await;
    let notice = assignment("alice@team.test", &jane).await;
    let tag = format!("[LG-{id}]");
    assert!(notice.subject.contains(&tag), "{}", notice.subject);

    // Only the subject tag (a weak signal): recorded, not relayed.
    let weak_words = format!("weak-signal-note-{}", run_tag());
    smtp_send(
        &mail(
            "Alice Smith <alice@team.test>",
            &app.inbox,
            &format!("About {tag}"),
            "",
            &format!("{weak_words}: I will look at this one."),
        ),
        &[&app.inbox],
    )
    .await;
    let h = wait_history(&app, id, "logged", &weak_words).await;
    assert!(
        h.iter()
            .any(|(k, d)| k == "logged" && d.contains("weak signal") && d.contains(&weak_words)),
        "{h:?}\nlog:\n{}",
        app.log()
    );

    // Threaded to the owner email and tagged: relayed to the lead from the tracked address.
    let words = format!("thread-found-reply-{}", run_tag());
    smtp_send(
        &mail(
            "Alice Smith <alice@team.test>",
            &app.inbox,
            &format!("Re: {}", notice.subject),
            &threading_headers(&notice),
            &format!("Hello Jane, {words}. The fence can be done next week.\n\nAlice"),
        ),
        &[&app.inbox],
    )
    .await;
    let got = wait_mail("world@example.net", &words, 1).await;
    assert_eq!(got.len(), 1, "the lead got the reply; log:\n{}", app.log());
    let (relayed, _) = &got[0];
    assert!(
        header(relayed, "From").contains(&tracked),
        "{}",
        header(relayed, "From")
    );
    assert!(!relayed.text.contains(&weak_words));
    let to_lead: Vec<_> = mail_about("world@example.net", &weak_words).await;
    assert!(
        to_lead.is_empty(),
        "the weak-signal mail never reaches the lead"
    );
}

/// Makes the test database refuse (or again accept) any change of a lead's owner: a real
/// error from the real database inside `/assign`.
async fn refuse_owner_changes(url: &str, refuse: bool) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(url).await.unwrap();
    let pg = !url.starts_with("sqlite:");
    let sql = match (pg, refuse) {
        (false, true) => {
            "CREATE TRIGGER test_refuse_owner BEFORE UPDATE OF owner ON leads \
             BEGIN SELECT RAISE(ABORT, 'owner changes refused by the test'); END;"
        }
        (false, false) => "DROP TRIGGER test_refuse_owner;",
        (true, true) => {
            "CREATE FUNCTION test_refuse_owner() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'owner changes refused by the test'; END $$; \
             CREATE TRIGGER test_refuse_owner BEFORE UPDATE OF owner ON leads \
             FOR EACH ROW EXECUTE FUNCTION test_refuse_owner();"
        }
        (true, false) => "DROP TRIGGER test_refuse_owner ON leads;",
    };
    sqlx::raw_sql(sql).execute(&mut db).await.unwrap();
    db.close().await.unwrap();
}

/// A database error inside a quick action is ours, not the sender's: the message fails
/// (retried, then set aside after `max_attempts` like any message whose processing
/// fails), nothing is mailed back as a refusal, and the log keeps the error chain. A
/// refusal (an unknown person) is still mailed back.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_error_in_a_quick_action_fails_the_message_instead_of_refusing_it() {
    let app = TestApp::new(24, ROUTES).await;
    let daemon = app.start();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let jane = Lead::new("Jane", "example.net");
    smtp_send(&notification(&app, &jane, "Need a quote."), &[&app.inbox]).await;
    let (id, tracked) = wait_lead(&app, &jane.email).await;
    let notice = assignment("alice@team.test", &jane).await;

    refuse_owner_changes(&app.database_url, true).await;
    smtp_send(
        &mail(
            "Alice Smith <alice@team.test>",
            &tracked,
            &format!("Re: {}", notice.subject),
            "",
            &format!("/assign bob\n\nstore-error-{}", jane.name),
        ),
        &[&tracked],
    )
    .await;
    let deadline = std::time::Instant::now() + WAIT;
    while !app.log().contains("message failed processing too often")
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = app.log();
    assert!(
        log.contains("message failed processing too often"),
        "the message failed, was retried and set aside:\n{log}"
    );
    assert!(
        log.contains("/assign bob")
            && log.contains(&format!("on lead #{id} from alice failed"))
            && log.contains("owner changes refused by the test"),
        "the log keeps the error chain:\n{log}"
    );
    assert!(
        mail_with("alice@team.test", &["did not act on your mail", &jane.name])
            .await
            .is_empty(),
        "a database error is not mailed back as a refusal"
    );
    let lead = app.show(id);
    assert_eq!(lead["owner"], "alice", "nothing of the mail was done");
    assert!(
        mail_about("world@example.net", &format!("store-error-{}", jane.name))
            .await
            .is_empty(),
        "nothing relayed"
    );

    refuse_owner_changes(&app.database_url, false).await;
    smtp_send(
        &mail(
            "Alice Smith <alice@team.test>",
            &tracked,
            &format!("Re: {}", notice.subject),
            "",
            "/assign nobody-of-this-team\n",
        ),
        &[&tracked],
    )
    .await;
    let got = wait_mail_with(
        "alice@team.test",
        &["did not act on your mail", &jane.name],
        1,
    )
    .await;
    assert_eq!(got.len(), 1, "a refusal is mailed back:\n{}", app.log());
    drop(daemon);
}
