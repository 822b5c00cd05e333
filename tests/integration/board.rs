//! End to end on the real mail lab: the board. A team member asks for a magic link, reads
//! it from their Dovecot mailbox, presses the button (in headless Chromium, driven over
//! WebDriver, and with plain HTTP as a mail scanner would), sees the board, accepts a
//! lead and sets its next action; the history is the CLI's. Links are single use and
//! expire; strangers get no mail; view links see only their scope; proxy login needs an
//! allowlist and believes no one else. Run `scripts/test-env` first (it installs
//! chromium and chromium-driver).

use crate::support::app::{Daemon, TestApp, TEAM_TOML};
use crate::support::forms::Form;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use serde_json::Value;
use std::time::Duration;

/// Leads whose message says "for alice" go to alice, "for bob" to bob; others have no
/// owner (no default owner, no duty): orphans.
const ROUTES: &str = r#"
[[routes]]
name = "alices"
field.message = "(?i)for alice"
owner = "alice"

[[routes]]
name = "bobs"
field.message = "(?i)for bob"
owner = "bob"
"#;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TestApp whose daemon serves the board on a port of its own, `board` the `[board]`
/// section's keys. No inbox: leads are imported (`name` makes the relay domain).
async fn board_app(name: &str, board: &str) -> (TestApp, String) {
    let port = free_port();
    let url = format!("http://localhost:{port}");
    let extra = format!(
        "{ROUTES}\n[http]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"{url}\"\n\n[board]\n{board}\n"
    );
    (
        TestApp::without_inbox(name, TEAM_TOML, &extra, &[]).await,
        url,
    )
}

/// Starts the daemon and waits until its HTTP endpoint answers.
async fn start(app: &TestApp, url: &str) -> Daemon {
    let daemon = app.start();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = send("GET", &format!("{url}/healthz"), &[], None).await {
            if r.status != 0 {
                return daemon;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon's HTTP endpoint did not answer:\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A notification from a free-mail address whose message routes it (see [`ROUTES`]).
fn notification(app: &TestApp, tag: &str, name: &str, message: &str) -> String {
    let form = Form {
        to: &app.inbox,
        id: &format!("board-{tag}-{}", app.run),
        name,
        email: &format!("{tag}.{}@gmail.com", app.domain.replace('.', "-")),
        message,
    };
    String::from_utf8(form.labelled()).expect("the form is text")
}

/// Imports one lead per (tag, name, message); returns the lead ids in that order.
fn import(app: &TestApp, leads: &[(&str, &str, &str)]) -> Vec<i64> {
    let mut paths = Vec::new();
    for (tag, name, message) in leads {
        let path = app.dir.path().join(format!("{tag}.eml"));
        std::fs::write(&path, notification(app, tag, name, message)).unwrap();
        paths.push(path.display().to_string());
    }
    let mut args = vec!["import"];
    args.extend(paths.iter().map(String::as_str));
    app.cli(&args);
    let all = app.leads();
    leads
        .iter()
        .map(|(tag, _, _)| {
            all.iter()
                .find(|l| l["email"].as_str().unwrap().starts_with(&format!("{tag}.")))
                .unwrap_or_else(|| panic!("no lead for {tag}: {all:?}"))["id"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

struct Reply {
    /// 0 when the connection failed.
    status: u16,
    headers: hyper::HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> String {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One plain HTTP request, as a mail scanner or a script makes it (no cookies kept).
async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    form: Option<&str>,
) -> Result<Reply, String> {
    send_from(None, method, url, headers, form).await
}

/// [`send`] from a chosen local address (127.0.0.x), for the proxy allowlist.
async fn send_from(
    local: Option<std::net::IpAddr>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    form: Option<&str>,
) -> Result<Reply, String> {
    let mut connector = HttpConnector::new();
    connector.set_local_address(local);
    let client: Client<_, Full<Bytes>> =
        Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let mut req = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if form.is_some() {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    let req = req
        .body(Full::new(Bytes::from(form.unwrap_or("").to_owned())))
        .map_err(|e| e.to_string())?;
    let res = client.request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

async fn must(method: &str, url: &str, headers: &[(&str, &str)], form: Option<&str>) -> Reply {
    send(method, url, headers, form)
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// Asks for a login link for `email` and returns the page's text.
async fn ask_for_link(url: &str, email: &str) -> Reply {
    let form = format!("email={}", email.replace('@', "%40"));
    must("POST", &format!("{url}/login"), &[], Some(&form)).await
}

/// The login links of this run mailed to `user` so far (decoded text, in order).
async fn links_in_mailbox(app: &TestApp, user: &str, url: &str) -> Vec<String> {
    let prefix = format!("{url}/login/");
    app.mine(user)
        .await
        .iter()
        .map(|raw| crate::support::view(raw))
        .filter(|v| v.subject.contains("Log in to the"))
        .filter_map(|v| {
            let text = v.text.to_string();
            let start = text.find(&prefix)?;
            let link: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || ":/.-_".contains(*c))
                .collect();
            Some(link)
        })
        .collect()
}

async fn wait_for_links(app: &TestApp, user: &str, url: &str, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let links = links_in_mailbox(app, user, url).await;
        if links.len() >= n || std::time::Instant::now() > deadline {
            return links;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The session cookie (`name=value`) a successful button press set.
fn session_cookie(r: &Reply) -> String {
    let set = r.header("set-cookie");
    set.split(';').next().unwrap().trim().to_owned()
}

/// The value of the first `name="csrf"` field in a page.
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in:\n{page}"));
    page[at + "name=\"csrf\" value=\"".len()..]
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// (actor, kind, detail) of a lead's history, oldest first.
fn history(show: &Value) -> Vec<(String, String, String)> {
    show["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["actor"].as_str().unwrap().to_owned(),
                a["kind"].as_str().unwrap().to_owned(),
                a["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn assert_security_headers(r: &Reply, what: &str) {
    let csp = r.header("content-security-policy");
    assert!(
        csp.contains("default-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && csp.contains("script-src 'none'")
            && !csp.contains("unsafe-inline"),
        "{what}: CSP {csp:?}"
    );
    assert_eq!(r.header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(r.header("x-content-type-options"), "nosniff", "{what}");
}

#[tokio::test]
async fn a_link_fetched_by_a_mail_scanner_with_get_and_head_still_logs_the_person_in_once() {
    let (app, url) = board_app("board-scanner", "").await;
    let ids = import(
        &app,
        &[
            (
                "ann",
                "Ann <script>alert(1)</script>",
                "Quote please, for alice",
            ),
            ("ben", "Ben Bobson", "Call me, for bob"),
            ("ivy", "Ivy Orphan", "Is anyone there?"),
        ],
    );
    let _daemon = start(&app, &url).await;

    let asked = ask_for_link(&url, "alice@team.test").await;
    assert_eq!(asked.status, 200);
    assert_security_headers(&asked, "the login page");
    let links = wait_for_links(&app, "alice@team.test", &url, 1).await;
    assert_eq!(links.len(), 1, "one link mailed to alice: {links:?}");
    let link = &links[0];

    // A scanner (Safe Links and friends) follows the link with GET and HEAD.
    for method in ["GET", "HEAD", "GET"] {
        let r = must(method, link, &[], None).await;
        assert_eq!(r.status, 200, "{method} {link}");
        assert!(r.header("set-cookie").is_empty(), "{method} sets no cookie");
        assert_security_headers(&r, "the link's page");
    }
    // The person presses the button: a session, with a cookie scripts cannot read.
    let pressed = must("POST", link, &[], Some("")).await;
    assert_eq!(pressed.status, 303, "{}", pressed.body);
    assert_eq!(pressed.header("location"), "/board");
    let set = pressed.header("set-cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{attr} in {set:?}");
    }
    let cookie = session_cookie(&pressed);
    // Used once: a second press (or a replay by whoever read the mail later) gets nothing.
    let again = must("POST", link, &[], Some("")).await;
    assert_eq!(again.status, 404);
    assert!(again.header("set-cookie").is_empty());
    assert_eq!(must("GET", link, &[], None).await.status, 404);

    // The board: every live lead, escaped, with its owner and why.
    let board = must("GET", &format!("{url}/board"), &[("cookie", &cookie)], None).await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert_security_headers(&board, "the board");
    assert!(
        board
            .body
            .contains("Ann &lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{}",
        board.body
    );
    assert!(!board.body.contains("<script"), "no script on the board");
    assert!(board.body.contains("Ben Bobson") && board.body.contains("rule bobs"));
    // Without the cookie, the board sends you to log in.
    let anon = must("GET", &format!("{url}/board"), &[], None).await;
    assert_eq!(
        (anon.status, anon.header("location")),
        (303, "/login".into())
    );
    // Filters are query parameters: bob's leads only.
    let bobs = must(
        "GET",
        &format!("{url}/board?owner=bob"),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert!(bobs.body.contains("Ben Bobson") && !bobs.body.contains("Ann &lt;"));
    // Orphans first; `owner=none` and a drift filter (which reads every lead's drift).
    assert!(board.body.find("Ivy Orphan").unwrap() < board.body.find("Ben Bobson").unwrap());
    for view in ["owner=none", "drift=orphaned"] {
        let r = must(
            "GET",
            &format!("{url}/board?{view}"),
            &[("cookie", &cookie)],
            None,
        )
        .await;
        assert!(r.body.contains("Ivy Orphan"), "{view}: {}", r.body);
        assert!(!r.body.contains("Ben Bobson"), "{view}");
    }
    let mine = must(
        "GET",
        &format!("{url}/board?owner=me"),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert!(mine.body.contains("Ann &lt;") && !mine.body.contains("Ben Bobson"));
    let none = must(
        "GET",
        &format!("{url}/board?status=triage"),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert!(none.body.contains("No live leads here."));

    // /board.json is `leads --json`.
    let json = must(
        "GET",
        &format!("{url}/board.json"),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    let from_board: Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(from_board, Value::Array(app.leads()));

    // The two actions, with the session's CSRF token, write what the CLI writes.
    let page = must(
        "GET",
        &format!("{url}/board/leads/{}", ids[0]),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    let csrf = csrf_of(&page.body);
    let no_csrf = must(
        "POST",
        &format!("{url}/board/leads/{}/accept", ids[0]),
        &[("cookie", &cookie)],
        Some("csrf=forged"),
    )
    .await;
    assert_eq!(no_csrf.status, 403);
    let accepted = must(
        "POST",
        &format!("{url}/board/leads/{}/accept", ids[0]),
        &[("cookie", &cookie)],
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let next = must(
        "POST",
        &format!("{url}/board/leads/{}/next", ids[0]),
        &[("cookie", &cookie)],
        Some(&format!(
            "csrf={csrf}&when=2030-01-15+10%3A00&what=send+the+quote"
        )),
    )
    .await;
    assert_eq!(next.status, 303, "{}", next.body);
    // The same by the command line, as alice, on a twin lead of hers.
    let twin = import(&app, &[("cid", "Cid Clone", "Twin, for alice")])[0];
    app.cli(&["accept", &twin.to_string(), "--as", "alice"]);
    app.cli(&[
        "next",
        &twin.to_string(),
        "2030-01-15",
        "10:00",
        "send",
        "the",
        "quote",
        "--by",
        "alice",
    ]);
    let tail = |id: i64| {
        let h = history(&app.show(id));
        h[h.len() - 2..].to_vec()
    };
    assert_eq!(
        tail(ids[0]),
        tail(twin),
        "board and CLI write the same history"
    );
    assert_eq!(tail(ids[0])[0].1, "accepted");
    assert_eq!(tail(ids[0])[1].1, "next_action_set");
    assert_eq!(tail(ids[0])[0].0, "alice");

    // Revoked: the cookie opens nothing any more.
    let sessions: Value = serde_json::from_str(&app.cli(&["sessions", "--json"])).unwrap();
    let id = sessions[0]["id"].as_i64().unwrap();
    assert_eq!(sessions[0]["person"], "alice@team.test");
    assert_eq!(sessions[0]["state"], "live");
    app.cli(&["sessions", "revoke", &id.to_string()]);
    let revoked = must("GET", &format!("{url}/board"), &[("cookie", &cookie)], None).await;
    assert_eq!(revoked.status, 303, "a revoked session is logged out");

    // The form is no way to flood a mailbox: at most three usable links at a time (the
    // used one does not count), and the page is the same.
    for _ in 0..4 {
        let again = ask_for_link(&url, "alice@team.test").await;
        assert_eq!(again.body, asked.body);
    }
    let outbox: Value = serde_json::from_str(&app.cli(&["outbox", "--json"])).unwrap();
    let to_alice = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["purpose"] == "board_login")
        .count();
    assert_eq!(to_alice, 1 + 3, "{outbox:#}");
}

#[tokio::test]
async fn a_used_or_expired_link_does_not_log_in_and_a_stranger_gets_no_mail() {
    let (app, url) = board_app("board-expiry", "link_valid = \"3s\"").await;
    let _daemon = start(&app, &url).await;

    let stranger = ask_for_link(&url, "mallory@example.net").await;
    let member = ask_for_link(&url, "bob@team.test").await;
    // The same page whoever asks: the form does not tell who is in the team.
    assert_eq!(stranger.status, member.status);
    assert_eq!(stranger.body, member.body);
    let links = wait_for_links(&app, "bob@team.test", &url, 1).await;
    assert_eq!(links.len(), 1);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let late = must("POST", &links[0], &[], Some("")).await;
    assert_eq!(late.status, 404, "an expired link does not log in");
    assert!(late.header("set-cookie").is_empty());
    assert!(late.body.contains("expired"));

    // Nothing went to the stranger; the outbox holds bob's link only.
    let outbox: Value = serde_json::from_str(&app.cli(&["outbox", "--json"])).unwrap();
    let logins: Vec<&Value> = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["purpose"] == "board_login")
        .collect();
    assert_eq!(logins.len(), 1, "{outbox:#}");
    assert!(logins[0].to_string().contains("bob@team.test"));
    assert!(app.mine("world@example.net").await.is_empty());
}

#[tokio::test]
async fn a_view_link_from_a_reminder_shows_its_owner_and_no_other_lead() {
    let (app, url) = board_app("board-view", "").await;
    let ids = import(
        &app,
        &[
            ("dia", "Dia Alison", "Hello, for alice"),
            ("eve", "Eve Bobbins", "Hello, for bob"),
        ],
    );
    let _daemon = start(&app, &url).await;
    // 90 minutes on, both owners are reminded (no first reply); each mail links their view.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(90);
    app.cli(&["sweep", "--now", &later.to_string()]);
    let view_prefix = format!("{url}/board/view/");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let link = loop {
        let found = app
            .mine("alice@team.test")
            .await
            .iter()
            .map(|raw| crate::support::view(raw).text.to_string())
            .find_map(|t| {
                let at = t.find(&view_prefix)?;
                Some(
                    t[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || ":/.-_".contains(*c))
                        .collect::<String>(),
                )
            });
        if let Some(l) = found {
            break l;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no view link in alice's reminder"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let view = must("GET", &link, &[], None).await;
    assert_eq!(view.status, 200);
    assert_security_headers(&view, "a view link");
    assert!(view.body.contains("Dia Alison") && !view.body.contains("Eve Bobbins"));
    assert!(
        !view.body.contains("name=\"csrf\""),
        "a view link cannot act"
    );
    let own = must("GET", &format!("{link}/leads/{}", ids[0]), &[], None).await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains("Dia Alison"));
    for other in [ids[1], 999_999] {
        let r = must("GET", &format!("{link}/leads/{other}"), &[], None).await;
        assert_eq!(r.status, 404, "lead {other} is not alice's");
        assert!(!r.body.contains("Eve Bobbins"));
    }
    // A forged or altered link is nothing.
    let forged = format!("{}x", link);
    assert_eq!(must("GET", &forged, &[], None).await.status, 404);
    // The digest links the whole team's board.
    let digest = app.cli(&["digest", "--print"]);
    assert!(digest.contains(&view_prefix), "{digest}");
    // A logged-in person asking for a lead that does not exist gets a 404 too.
    ask_for_link(&url, "carol@team.test").await;
    let links = wait_for_links(&app, "carol@team.test", &url, 1).await;
    let cookie = session_cookie(&must("POST", &links[0], &[], Some("")).await);
    let missing = must(
        "GET",
        &format!("{url}/board/leads/999999"),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
    // Logging out ends the session: the cookie is cleared and no longer opens the board.
    let board = must("GET", &format!("{url}/board"), &[("cookie", &cookie)], None).await;
    let csrf = csrf_of(&board.body);
    let out = must(
        "POST",
        &format!("{url}/logout"),
        &[("cookie", &cookie)],
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!((out.status, out.header("location")), (303, "/login".into()));
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let after = must("GET", &format!("{url}/board"), &[("cookie", &cookie)], None).await;
    assert_eq!(after.status, 303);
    let sessions: Value = serde_json::from_str(&app.cli(&["sessions", "--json"])).unwrap();
    assert_eq!(sessions[0]["state"], "revoked");
}

#[tokio::test]
async fn proxy_login_refuses_to_start_without_an_allowlist_and_believes_only_trusted_peers() {
    let (app, url) = board_app(
        "board-proxy",
        "login = \"proxy\"\nproxy_header = \"X-Forwarded-Email\"\ntrusted_proxies = [\"127.0.0.2/32\"]",
    )
    .await;
    import(&app, &[("fay", "Fay Proxied", "Hi, for alice")]);

    // Without the allowlist: check-config names the key, and the daemon does not start.
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    let open = config.replace("trusted_proxies = [\"127.0.0.2/32\"]", "");
    std::fs::write(&app.config_path, &open).unwrap();
    let check = app.cli_output(&["check-config"]);
    assert_eq!(check.status.code(), Some(2));
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(err.contains("board.trusted_proxies"), "{err}");
    let run = app.command(&["run"]).output().expect("run leadgate");
    assert!(!run.status.success(), "the daemon must not start");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("board.trusted_proxies"), "{err}");
    std::fs::write(&app.config_path, &config).unwrap();

    let _daemon = start(&app, &url).await;
    let board = format!("{url}/board");
    let header = [("x-forwarded-email", "alice@team.test")];
    let trusted: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let untrusted: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let from_proxy = send_from(Some(trusted), "GET", &board, &header, None)
        .await
        .unwrap();
    assert_eq!(from_proxy.status, 200, "{}", from_proxy.body);
    assert!(from_proxy.body.contains("Fay Proxied"));
    let direct = send_from(Some(untrusted), "GET", &board, &header, None)
        .await
        .unwrap();
    assert_eq!(
        direct.status, 401,
        "the header from an untrusted peer is ignored"
    );
    assert!(!direct.body.contains("Fay Proxied"));
    let json = send_from(
        Some(untrusted),
        "GET",
        &format!("{url}/board.json"),
        &header,
        None,
    )
    .await
    .unwrap();
    assert_eq!(json.status, 401);
    // Someone outside the team, named by the trusted proxy, is no one.
    let stranger = [("x-forwarded-email", "mallory@example.net")];
    let r = send_from(Some(trusted), "GET", &board, &stranger, None)
        .await
        .unwrap();
    assert_eq!(r.status, 401);
}

/// chromedriver on a free port, in a process group of its own with the Chromium it
/// starts: the whole group is killed when dropped, also when a test fails half-way.
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Driver {
    let port = free_port();
    use std::os::unix::process::CommandExt;
    let child = std::process::Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start /usr/bin/chromedriver (scripts/test-env installs chromium-driver)");
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// A headless Chromium session at `width` px, through chromedriver.
async fn browser(driver: &Driver, width: u32) -> fantoccini::Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", format!("--window-size={width},900")],
        }),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match fantoccini::ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&driver.url)
            .await
        {
            Ok(c) => return c,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("cannot start Chromium through chromedriver: {e}"),
        }
    }
}

/// Waits until the browser shows the page a form's POST redirected to (`?{query}`).
async fn arrived(c: &fantoccini::Client, query: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await.unwrap();
        if url.query() == Some(query) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the browser is at {url}, not at ?{query}:\n{}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_team_member_logs_in_by_mail_in_a_real_browser_then_accepts_a_lead_and_sets_its_next_action(
) {
    use fantoccini::Locator;
    let (app, url) = board_app("board-browser", "").await;
    let ids = import(
        &app,
        &[
            ("gus", "Gus Browser", "A quote please, for alice"),
            ("hal", "Hal Nobody", "Anyone there?"),
        ],
    );
    let _daemon = start(&app, &url).await;
    let driver = chromedriver();
    let c = browser(&driver, 390).await;

    // Ask for a link, as a person would: the form, then the mail.
    c.goto(&format!("{url}/login")).await.unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("alice@team.test")
        .await
        .unwrap();
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("sent")).await.unwrap();
    let links = wait_for_links(&app, "alice@team.test", &url, 1).await;
    assert_eq!(links.len(), 1, "alice got her link");

    // Open it: a button, pressed, and the board.
    c.goto(&links[0]).await.unwrap();
    c.find(Locator::Id("enter"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("summary")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/board");
    let board = c.source().await.unwrap();
    assert!(
        board.contains("Gus Browser") && board.contains("Hal Nobody"),
        "{board}"
    );
    assert!(
        board.find("Hal Nobody").unwrap() < board.find("Gus Browser").unwrap(),
        "orphans come first"
    );

    // Open the lead, accept it, set its next action.
    c.find(Locator::Css(&format!("#lead-{} a.name", ids[0])))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("accept")).await.unwrap();
    c.find(Locator::Id("accept"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrived(&c, "ok=accepted").await;
    let note = c.find(Locator::Id("note")).await.unwrap();
    assert!(note.text().await.unwrap().contains("Accepted"));
    c.find(Locator::Id("when"))
        .await
        .unwrap()
        .send_keys("2030-01-15 10:00")
        .await
        .unwrap();
    c.find(Locator::Id("what"))
        .await
        .unwrap()
        .send_keys("send the quote")
        .await
        .unwrap();
    c.find(Locator::Id("set-next"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrived(&c, "ok=next").await;
    let note = c.find(Locator::Id("note")).await.unwrap();
    assert!(note.text().await.unwrap().contains("Next action set"));
    let shown_history = c
        .find(Locator::Id("history"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        shown_history.contains("accepted") && shown_history.contains("send the quote"),
        "{shown_history}"
    );
    c.close().await.unwrap();

    // And the CLI sees both, by alice.
    let h = history(&app.show(ids[0]));
    let accepted = h
        .iter()
        .find(|(_, k, _)| k == "accepted")
        .expect("accepted");
    let next = h
        .iter()
        .find(|(_, k, _)| k == "next_action_set")
        .expect("next action set");
    assert_eq!(accepted.0, "alice");
    assert_eq!(next.0, "alice");
    assert!(next.2.starts_with("send the quote by "), "{next:?}");
    let shown = app.show(ids[0]);
    assert_eq!(shown["accepted"], true);
    assert_eq!(shown["next_action"]["what"], "send the quote");
}

/// A notification to `to` (a desk's inbox address), from a free-mail submitter.
fn desk_notification(app: &TestApp, tag: &str, to: &str, name: &str) -> String {
    let form = Form {
        to,
        id: &format!("board-desk-{tag}-{}", app.run),
        name,
        email: &format!("{tag}.{}@gmail.com", app.run),
        message: &format!("Hello from {tag}"),
    };
    String::from_utf8(form.labelled()).expect("the form is text")
}

#[tokio::test]
async fn a_viewer_sees_only_the_desks_they_are_on_and_another_desks_lead_is_not_found() {
    let port = free_port();
    let url = format!("http://localhost:{port}");
    let extra = format!(
        "[desks]\ndir = \"desks\"\n\n[http]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"{url}\"\n\n[board]\n"
    );
    // Alice is on both desks, Carol on South only.
    let north = "name = \"North\"\n[inbox]\naddresses = \"north@board-desks.test\"\n\n\
                 [[people]]\nid = \"alice\"\nname = \"Alice Smith\"\nemail = \"alice@team.test\"\n\n\
                 [[routes]]\nname = \"all\"\nowner = \"alice\"\n";
    let south = "name = \"South\"\n[inbox]\naddresses = \"south@board-desks.test\"\n\n\
                 [[people]]\nid = \"carol\"\nname = \"Carol White\"\nemail = \"carol@team.test\"\n\n\
                 [[people]]\nid = \"alice\"\nname = \"Alice Smith\"\nemail = \"alice@team.test\"\n\n\
                 [[routes]]\nname = \"all\"\nowner = \"carol\"\n";
    let app = TestApp::without_inbox(
        "board-desks",
        "",
        &extra,
        &[("desks/north.toml", north), ("desks/south.toml", south)],
    )
    .await;
    let mut paths = Vec::new();
    for (tag, to, name) in [
        ("nora", "north@board-desks.test", "Nora North"),
        ("sam", "south@board-desks.test", "Sam South"),
    ] {
        let path = app.dir.path().join(format!("{tag}.eml"));
        std::fs::write(&path, desk_notification(&app, tag, to, name)).unwrap();
        paths.push(path.display().to_string());
    }
    let mut args = vec!["import"];
    args.extend(paths.iter().map(String::as_str));
    app.cli(&args);
    let leads = app.leads();
    let id_on = |desk: &str| {
        leads
            .iter()
            .find(|l| l["desk"] == desk)
            .unwrap_or_else(|| panic!("no lead on {desk}: {leads:#?}"))["id"]
            .as_i64()
            .unwrap()
    };
    let (north_id, south_id) = (id_on("north"), id_on("south"));
    let _daemon = start(&app, &url).await;

    let login = async |email: &str| {
        ask_for_link(&url, email).await;
        let links = wait_for_links(&app, email, &url, 1).await;
        session_cookie(&must("POST", links.last().unwrap(), &[], Some("")).await)
    };
    let carol = login("carol@team.test").await;
    let board = must("GET", &format!("{url}/board"), &[("cookie", &carol)], None).await;
    assert!(board.body.contains("Sam South"), "{}", board.body);
    assert!(!board.body.contains("Nora North"), "carol is not on North");
    let lead = |id: i64, cookie: &str| {
        let (url, cookie) = (url.clone(), cookie.to_owned());
        async move {
            must(
                "GET",
                &format!("{url}/board/leads/{id}"),
                &[("cookie", &cookie)],
                None,
            )
            .await
        }
    };
    assert_eq!(lead(south_id, &carol).await.status, 200);
    let other = lead(north_id, &carol).await;
    assert_eq!(
        other.status, 404,
        "another desk's lead is not reachable by URL"
    );
    assert!(!other.body.contains("Nora North"));
    let page = lead(south_id, &carol).await;
    let csrf = csrf_of(&page.body);
    let act = must(
        "POST",
        &format!("{url}/board/leads/{north_id}/accept"),
        &[("cookie", &carol)],
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(act.status, 404, "nor can it be acted on");
    let json = must(
        "GET",
        &format!("{url}/board.json"),
        &[("cookie", &carol)],
        None,
    )
    .await;
    let json: Value = serde_json::from_str(&json.body).unwrap();
    let ids: Vec<i64> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [south_id]);

    // Alice is on both: she sees both, and ?desk= narrows it.
    let alice = login("alice@team.test").await;
    let all = must("GET", &format!("{url}/board"), &[("cookie", &alice)], None).await;
    assert!(all.body.contains("Nora North") && all.body.contains("Sam South"));
    let north = must(
        "GET",
        &format!("{url}/board?desk=north"),
        &[("cookie", &alice)],
        None,
    )
    .await;
    assert!(north.body.contains("Nora North") && !north.body.contains("Sam South"));
    assert_eq!(lead(north_id, &alice).await.status, 200);
}
