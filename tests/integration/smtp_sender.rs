//! `SmtpSender` against the lab's real Postfix: delivery read back over IMAP, a permanent
//! error for a rejected recipient, a transient one for a closed port, STARTTLS with the
//! lab's CA pinned, authenticated submission, and a clear error for an untrusted certificate.

use crate::support::*;
use jiff::SignedDuration;
use leadgate::config::{SmtpSettings, TlsMode};
use leadgate::outbox::smtp::SmtpSender;
use std::time::Duration;

fn settings(port: u16, tls: TlsMode) -> SmtpSettings {
    let lab = lab();
    SmtpSettings {
        host: lab.host.clone(),
        port,
        tls,
        credentials: None,
        ca_file: None,
        timeout: SignedDuration::from_secs(10),
    }
}

async fn delivered(user: &str, message_id: &str) -> bool {
    wait_until_async(Duration::from_secs(10), || async {
        imap_messages(user)
            .await
            .iter()
            .any(|m| has_message_id(m, message_id))
    })
    .await
}

#[tokio::test]
async fn delivers_plain_smtp_to_a_lab_mailbox() {
    let sender = SmtpSender::new(&settings(lab().smtp_port, TlsMode::None)).unwrap();
    let id = unique_message_id("smtp-plain");
    let raw = message(
        &id,
        "leadgate@leads.test",
        "alice@team.test",
        "plain",
        "hello",
    );
    sender
        .send_raw("leadgate@leads.test", &["alice@team.test".into()], &raw)
        .await
        .expect("sent");
    assert!(
        delivered("alice@team.test", &id).await,
        "{id} not in alice's INBOX"
    );
}

#[tokio::test]
async fn rejected_recipient_is_permanent() {
    let sender = SmtpSender::new(&settings(lab().smtp_port, TlsMode::None)).unwrap();
    let id = unique_message_id("smtp-550");
    let raw = message(&id, "leadgate@leads.test", "eve@team.test", "nobody", "x");
    let err = sender
        .send_raw("leadgate@leads.test", &["eve@team.test".into()], &raw)
        .await
        .expect_err("eve@team.test does not exist");
    assert!(err.permanent, "expected permanent, got {err:?}");
    assert!(err.message.contains("550"), "{}", err.message);
}

#[tokio::test]
async fn closed_port_is_transient() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sender = SmtpSender::new(&settings(port, TlsMode::None)).unwrap();
    let raw = message(
        &unique_message_id("smtp-closed"),
        "a@leads.test",
        "alice@team.test",
        "x",
        "x",
    );
    let err = sender
        .send_raw("a@leads.test", &["alice@team.test".into()], &raw)
        .await
        .expect_err("nothing listens");
    assert!(!err.permanent, "expected transient, got {err:?}");
}

#[tokio::test]
async fn starttls_with_the_lab_ca_pinned() {
    let mut s = settings(lab().smtp_port, TlsMode::StartTls);
    s.ca_file = Some(lab().ca_cert.clone());
    let sender = SmtpSender::new(&s).unwrap();
    let id = unique_message_id("smtp-starttls");
    let raw = message(
        &id,
        "leadgate@leads.test",
        "bob@team.test",
        "starttls",
        "over TLS",
    );
    sender
        .send_raw("leadgate@leads.test", &["bob@team.test".into()], &raw)
        .await
        .expect("sent over STARTTLS");
    assert!(
        delivered("bob@team.test", &id).await,
        "{id} not in bob's INBOX"
    );
}

#[tokio::test]
async fn starttls_without_the_ca_fails_transiently_naming_the_certificate() {
    let sender = SmtpSender::new(&settings(lab().smtp_port, TlsMode::StartTls)).unwrap();
    let raw = message(
        &unique_message_id("smtp-badca"),
        "a@leads.test",
        "bob@team.test",
        "x",
        "x",
    );
    let err = sender
        .send_raw("a@leads.test", &["bob@team.test".into()], &raw)
        .await
        .expect_err("self-signed certificate is not trusted");
    assert!(!err.permanent, "{err:?}");
    assert!(
        err.message.to_lowercase().contains("certificate"),
        "error should name the certificate: {}",
        err.message
    );
}

#[tokio::test]
async fn authenticated_submission_with_starttls() {
    let lab = lab();
    let mut s = settings(lab.submission_port, TlsMode::StartTls);
    s.ca_file = Some(lab.ca_cert.clone());
    s.credentials = Some(("alice@team.test".into(), lab.password.clone()));
    let sender = SmtpSender::new(&s).unwrap();
    let id = unique_message_id("smtp-submission");
    let raw = message(
        &id,
        "alice@team.test",
        "dave@team.test",
        "submission",
        "with AUTH",
    );
    sender
        .send_raw("alice@team.test", &["dave@team.test".into()], &raw)
        .await
        .expect("sent with AUTH");
    assert!(
        delivered("dave@team.test", &id).await,
        "{id} not in dave's INBOX"
    );
}

#[tokio::test]
async fn reset_mailbox_empties_an_inbox() {
    // inbox@s14.test: no other test sends there or reads it (world@example.net, used
    // before, gets the relay and daemon tests' mail to leads, which this would empty).
    let user = "inbox@s14.test";
    let id = unique_message_id("reset");
    smtp_send(
        &message(&id, "a@leads.test", "jane@s14.test", "x", "x"),
        &["jane@s14.test"],
    )
    .await;
    assert!(delivered(user, &id).await);
    reset_mailbox(user).await;
    assert!(imap_messages(user).await.is_empty());
}
