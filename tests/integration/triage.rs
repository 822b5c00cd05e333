//! Triage end to end on the real mail lab (DESIGN.md "Triage"): a prospect's own mail to
//! the shared inbox reaches an owner as a triage item, routed by `source = "triage"`, with
//! the original text and `Reply-To` its tracked address; `/lead`, `/notlead` and a plain
//! reply each decide one, an unknown action is still refused, and a person's reply that no
//! lead's thread claims is triaged too. Run `scripts/test-env`
//! first. Shared mailboxes (carol@team.test, world@example.net) are read through this
//! run's tag, never emptied.

use crate::support::app::TestApp;
use crate::support::{imap_messages, smtp_send};
use leadgate::domain::message::MessageView;
use std::time::{Duration, Instant};

/// Real providers' source conditions must not catch inquiries; `source = "triage"` does.
const ROUTES: &str = r#"
[[routes]]
name = "webflow"
source = "webflow"
owner = "bob"

[[routes]]
name = "triage"
source = "triage"
owner = "carol"

[[routes]]
name = "everyone-else"
owner = "alice"
"#;

const WAIT: Duration = Duration::from_secs(30);

/// Letters only, unique per run: it survives any encoding in names and subjects.
fn run_tag() -> String {
    let mut n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        ^ (u128::from(std::process::id()) << 64);
    (0..10)
        .map(|_| {
            let c = (b'a' + (n % 26) as u8) as char;
            n /= 26;
            c
        })
        .collect()
}

fn mail(from: &str, to: &str, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    let id = crate::support::unique_message_id("triage");
    format!(
        "Message-ID: {id}\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nFrom: {from}\r\nTo: {to}\r\n\
         Subject: {subject}\r\n{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        body.replace('\n', "\r\n")
    )
    .into_bytes()
}

/// Messages in `user`'s INBOX whose subject, headers or text contain every needle.
async fn wait_mail(user: &str, needles: &[&str], n: usize) -> Vec<MessageView> {
    let deadline = Instant::now() + WAIT;
    loop {
        let got: Vec<MessageView> = imap_messages(user)
            .await
            .iter()
            .map(|raw| crate::support::view(raw))
            .filter(|v| {
                let headers: Vec<String> =
                    v.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                let text = format!("{}\n{}\n{}", v.subject, headers.join("\n"), v.text);
                needles.iter().all(|n| text.contains(n))
            })
            .collect();
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until lead `id` satisfies `done`; returns it as `show --json` prints it.
async fn wait_show(
    app: &TestApp,
    id: i64,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let lead = app.show(id);
        if done(&lead) || Instant::now() > deadline {
            return lead;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn threading(v: &MessageView) -> String {
    let id = v.message_id.clone().unwrap_or_default();
    format!("In-Reply-To: <{id}>\r\nReferences: <{id}>\r\n")
}

/// A reply from carol to her triage email: `body` on top, the email quoted below.
fn carol_replies(email: &MessageView, body: &str) -> Vec<u8> {
    let tracked = email.header("Reply-To").unwrap_or("").trim().to_owned();
    let quoted: Vec<String> = email.text.lines().map(|l| format!("> {l}")).collect();
    mail(
        "Carol White <carol@team.test>",
        &tracked,
        &format!("Re: {}", email.subject),
        &threading(email),
        &format!(
            "{body}\n\nOn Tue, 1 Dec 2026, Test Team leads wrote:\n{}",
            quoted.join("\n")
        ),
    )
}

fn history_has(lead: &serde_json::Value, kind: &str, detail: &str) -> bool {
    lead["history"].as_array().is_some_and(|h| {
        h.iter()
            .any(|a| a["kind"] == kind && a["detail"].as_str().unwrap_or("").contains(detail))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prospects_own_mail_reaches_an_owner_as_triage_and_lead_notlead_and_a_reply_decide_it() {
    let app = TestApp::new(22, ROUTES).await;
    let _daemon = app.start();
    let tag = run_tag();
    // Three prospects write to the shared inbox directly; none uses a form.
    let people = ["Tom", "Una", "Vic"].map(|first| {
        (
            format!("{first} Q{tag}"),
            format!("{}.{tag}@example.net", first.to_lowercase()),
        )
    });
    for (name, email) in &people {
        let body = format!(
            "Hi, do you install heat pumps in Leeds? Asking for {name}.\n\nThanks,\n{name}, 07700 900123\n"
        );
        smtp_send(
            &mail(
                &format!("{name} <{email}>"),
                &app.inbox,
                "Heat pumps",
                "",
                &body,
            ),
            &[&app.inbox],
        )
        .await;
    }

    let deadline = Instant::now() + WAIT;
    let items = loop {
        let items: Vec<serde_json::Value> =
            serde_json::from_str(&app.cli(&["triage", "--json"])).expect("triage --json");
        if items.len() == 3 || Instant::now() > deadline {
            break items;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(items.len(), 3, "three triage items; log:\n{}", app.log());
    for item in &items {
        assert_eq!(item["status"], "triage");
        assert_eq!(item["class"], "inquiry");
        assert_eq!(
            item["owner"], "carol",
            "routed by source = \"triage\": {item}"
        );
        assert_eq!(item["phone"], "07700 900123");
    }
    let listed = app.cli(&["leads", "--status", "triage", "--json"]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        listed.len(),
        3,
        "`leads --status triage` lists the same items"
    );

    // Each reached carol with the original text, Reply-To its tracked address.
    let mut emails = Vec::new();
    for (name, email) in &people {
        let item = items.iter().find(|i| i["email"] == *email).expect("item");
        let got = wait_mail("carol@team.test", &["Triage:", name], 1).await;
        assert_eq!(
            got.len(),
            1,
            "carol's triage email for {name}; log:\n{}",
            app.log()
        );
        let v = got.into_iter().next().unwrap();
        assert_eq!(
            v.header("Reply-To").map(str::trim),
            item["tracked_address"].as_str()
        );
        assert!(v.text.contains(&format!(
            "do you install heat pumps in Leeds? Asking for {name}"
        )));
        assert!(v.text.contains("/lead") && v.text.contains("/notlead"));
        emails.push((item["id"].as_i64().unwrap(), v));
    }

    // An unknown action is refused whole: carol is told, the item stays undecided.
    let (tom, tom_email) = &emails[0];
    smtp_send(
        &carol_replies(tom_email, "/promote\nHello Tom"),
        &[tom_email.header("Reply-To").unwrap().trim()],
    )
    .await;
    let refused = wait_mail("carol@team.test", &["Not done:", &people[0].0], 1).await;
    assert_eq!(refused.len(), 1, "carol hears why; log:\n{}", app.log());
    assert!(refused[0].text.contains("/promote is not a quick action"));
    assert_eq!(app.show(*tom)["status"], "triage");

    // /lead (with a corrected phone) makes it a lead, carol's.
    smtp_send(
        &carol_replies(tom_email, "/lead\n/phone 0113 496 0000"),
        &[tom_email.header("Reply-To").unwrap().trim()],
    )
    .await;
    let lead = wait_show(&app, *tom, |l| l["status"] != "triage").await;
    assert_eq!(lead["status"], "new", "log:\n{}", app.log());
    assert_eq!(
        (&lead["owner"], &lead["accepted"]),
        (&"carol".into(), &true.into())
    );
    assert_eq!(lead["phone"], "0113 496 0000");
    assert_eq!(lead["next_action"]["what"], "first reply");
    assert!(history_has(&lead, "status", "triage → new"));

    // /notlead archives the second with the reason.
    let (una, una_email) = &emails[1];
    smtp_send(
        &carol_replies(una_email, "/notlead asks about a different town"),
        &[una_email.header("Reply-To").unwrap().trim()],
    )
    .await;
    let item = wait_show(&app, *una, |l| l["status"] != "triage").await;
    assert_eq!(item["status"], "archived");
    assert!(history_has(&item, "status", "asks about a different town"));

    // A plain answer goes to the sender through leadgate and decides the third as a lead.
    let (vic, vic_email) = &emails[2];
    let answer = format!("Hello {}, yes we do: when can we visit?", people[2].0);
    smtp_send(
        &carol_replies(vic_email, &answer),
        &[vic_email.header("Reply-To").unwrap().trim()],
    )
    .await;
    let got = wait_mail("world@example.net", &[&answer], 1).await;
    assert_eq!(
        got.len(),
        1,
        "the sender got the answer; log:\n{}",
        app.log()
    );
    let relayed = &got[0];
    assert_eq!(
        relayed
            .to
            .iter()
            .map(|m| m.address.as_str())
            .collect::<Vec<_>>(),
        [people[2].1.as_str()],
        "only the stored sender"
    );
    assert!(!relayed.text.contains("/notlead") && !relayed.text.contains("Triage #"));
    let lead = wait_show(&app, *vic, |l| l["status"] == "contacted").await;
    assert_eq!(lead["status"], "contacted", "a reply is a first reply");
    assert_eq!(
        lead["next_action"],
        serde_json::Value::Null,
        "first reply done"
    );
    assert!(history_has(&lead, "status", "triage → new"));
    let waiting: Vec<serde_json::Value> =
        serde_json::from_str(&app.cli(&["triage", "--json"])).unwrap();
    assert!(waiting.is_empty(), "all three decided: {waiting:?}");

    // A person's reply in a thread leadgate never saw (the owner once wrote from their own
    // mailbox) is a reply no lead claims: triage too, not a stored `reply` nobody owns.
    let pat = format!("pat.{tag}@example.org");
    smtp_send(
        &mail(
            &format!("Pat Q{tag} <{pat}>"),
            &app.inbox,
            "Re: your quote from last spring",
            &format!("In-Reply-To: <old-quote-{tag}@elsewhere.example>\r\n"),
            "Is the offer still good? We would like to go ahead.\n",
        ),
        &[&app.inbox],
    )
    .await;
    let deadline = Instant::now() + WAIT;
    let item = loop {
        let items: Vec<serde_json::Value> =
            serde_json::from_str(&app.cli(&["triage", "--json"])).unwrap();
        if let Some(i) = items.into_iter().find(|i| i["email"] == pat) {
            break i;
        }
        assert!(
            Instant::now() < deadline,
            "no triage item for {pat}; log:\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        (&item["class"], &item["owner"]),
        (&"inquiry".into(), &"carol".into())
    );
}
