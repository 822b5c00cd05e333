//! Trimming tests on the plain-text parts real clients send. Each fixture is a reply
//! above (or below) a quote; the reply must survive byte for byte and nothing quoted may.

use super::*;

/// leadgate's notification as an owner receives it, the thing that must never leak.
const NOTIFICATION: &str = "\
##- Reply above this line: your reply goes to Jane Doe through leadgate -##

New lead from webflow (Pricing), owner: Bob Miller
Name: Jane Doe
Email: jane@example.net
Internal note: budget approx. 5k, do not quote below 4k";

fn quoted(body: &str) -> String {
    body.lines()
        .map(|l| {
            if l.is_empty() {
                ">".to_string()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

struct Case {
    name: &'static str,
    mail: String,
    reply: &'static str,
}

fn cases() -> Vec<Case> {
    let q = quoted(NOTIFICATION);
    let lead_q = quoted("Hello Bob,\nwhat would a new roof cost?\nJane");
    vec![
        // Gmail
        Case {
            name: "gmail en",
            mail: format!("Hi Jane,\n\nThursday works for us.\n\nBob\n\nOn Mon, 23 Nov 2026 at 10:00, leadgate <reply+k3j5@leads.example.com> wrote:\n\n{q}\n"),
            reply: "Hi Jane,\n\nThursday works for us.\n\nBob",
        },
        Case {
            name: "gmail en wrapped attribution",
            mail: format!("Thanks, the quote is attached.\r\n\r\nOn Mon, 23 Nov 2026 at 10:00, Jane Doe via leadgate <\r\nreply+k3j5@leads.example.com> wrote:\r\n\r\n{lead_q}\r\n"),
            reply: "Thanks, the quote is attached.",
        },
        Case {
            name: "gmail de",
            mail: format!("Hallo Frau Doe,\n\nanbei das Angebot.\n\nViele Grüße\nBob\n\nAm Mo., 23. Nov. 2026 um 10:00 Uhr schrieb Jane Doe <jane@example.net>:\n\n{lead_q}\n"),
            reply: "Hallo Frau Doe,\n\nanbei das Angebot.\n\nViele Grüße\nBob",
        },
        Case {
            name: "gmail fr",
            mail: format!("Bonjour Jane,\n\nC'est noté pour jeudi.\n\nLe lun. 23 nov. 2026 à 10:00, Jane Doe <jane@example.net> a\u{a0}écrit\u{a0}:\n\n{lead_q}\n"),
            reply: "Bonjour Jane,\n\nC'est noté pour jeudi.",
        },
        Case {
            name: "gmail es",
            mail: format!("Hola Jane,\n\nte llamo mañana.\n\nEl lun, 23 nov 2026 a las 10:00, Jane Doe (<jane@example.net>) escribió:\n\n{q}\n"),
            reply: "Hola Jane,\n\nte llamo mañana.",
        },
        Case {
            name: "gmail da",
            mail: format!("Hej Jane\n\nTak, vi ses torsdag.\n\nDen man. 23. nov. 2026 kl. 10.00 skrev Jane Doe <jane@example.net>:\n\n{lead_q}\n"),
            reply: "Hej Jane\n\nTak, vi ses torsdag.",
        },
        Case {
            name: "gmail nl",
            mail: format!("Hoi Jane,\n\ndonderdag is prima.\n\nOp ma 23 nov 2026 om 10:00 schreef Jane Doe <jane@example.net>:\n\n{lead_q}\n"),
            reply: "Hoi Jane,\n\ndonderdag is prima.",
        },
        Case {
            name: "gmail it",
            mail: format!("Ciao Jane,\n\ngiovedì va bene.\n\nIl giorno lun 23 nov 2026 alle ore 10:00 Jane Doe <jane@example.net> ha scritto:\n\n{lead_q}\n"),
            reply: "Ciao Jane,\n\ngiovedì va bene.",
        },
        Case {
            name: "gmail sv",
            mail: format!("Hej Jane,\n\ntorsdag passar.\n\nDen mån 23 nov. 2026 kl 10:00 skrev Jane Doe <jane@example.net>:\n\n{lead_q}\n"),
            reply: "Hej Jane,\n\ntorsdag passar.",
        },
        Case {
            name: "gmail pt",
            mail: format!("Olá Jane,\n\nquinta-feira está ótimo.\n\nEm seg., 23 de nov. de 2026 às 10:00, Jane Doe <jane@example.net> escreveu:\n\n{lead_q}\n"),
            reply: "Olá Jane,\n\nquinta-feira está ótimo.",
        },
        // Outlook desktop
        Case {
            name: "outlook desktop en original message",
            mail: format!("Hi Jane,\r\nI'll send the figures tonight.\r\nBob\r\n\r\n-----Original Message-----\r\nFrom: leadgate <reply+k3j5@leads.example.com>\r\nSent: Monday, November 23, 2026 10:00 AM\r\nTo: Bob Miller <bob@acme.example.com>\r\nSubject: New lead: Jane Doe\r\n\r\n{NOTIFICATION}\r\n"),
            reply: "Hi Jane,\r\nI'll send the figures tonight.\r\nBob",
        },
        Case {
            name: "outlook desktop de",
            mail: ("Hallo Frau Doe,\n\ngerne am Donnerstag.\n\nMit freundlichen Grüßen\nBob Miller\n\nVon: Jane Doe <jane@example.net>\nGesendet: Montag, 23. November 2026 10:00\nAn: Bob Miller <bob@acme.example.com>\nBetreff: AW: Angebot Dach\n\nHallo Herr Miller,\nwas kostet das neue Dach?\n").to_string(),
            reply: "Hallo Frau Doe,\n\ngerne am Donnerstag.\n\nMit freundlichen Grüßen\nBob Miller",
        },
        Case {
            name: "outlook desktop fr",
            mail: format!("Bonjour,\n\nJe vous envoie le devis demain.\n\nDe\u{a0}: leadgate <reply+k3j5@leads.example.com>\nEnvoyé\u{a0}: lundi 23 novembre 2026 10:00\nÀ\u{a0}: Bob Miller <bob@acme.example.com>\nObjet\u{a0}: Nouveau lead : Jane Doe\n\n{NOTIFICATION}\n"),
            reply: "Bonjour,\n\nJe vous envoie le devis demain.",
        },
        Case {
            name: "outlook desktop es ursprüngliche style separator",
            mail: "Hola Jane,\n\nmañana le envío el presupuesto.\n\n-----Mensaje original-----\nDe: Jane Doe <jane@example.net>\nEnviado: lunes, 23 de noviembre de 2026 10:00\nPara: Bob Miller <bob@acme.example.com>\nAsunto: RE: Presupuesto\n\n¿Cuánto cuesta el tejado?\n".to_string(),
            reply: "Hola Jane,\n\nmañana le envío el presupuesto.",
        },
        Case {
            name: "outlook desktop da",
            mail: "Hej Jane\n\nJeg ringer i morgen.\n\nFra: Jane Doe <jane@example.net>\nSendt: 23. november 2026 10:00\nTil: Bob Miller <bob@acme.example.com>\nEmne: SV: Tilbud\n\nHvad koster et nyt tag?\n".to_string(),
            reply: "Hej Jane\n\nJeg ringer i morgen.",
        },
        // Outlook on the web and new Outlook
        Case {
            name: "outlook web en",
            mail: format!("Hi Jane, see you Thursday.\n\nBest,\nBob\n________________________________\nFrom: leadgate <reply+k3j5@leads.example.com>\nSent: Monday, November 23, 2026 10:00 AM\nTo: Bob Miller <bob@acme.example.com>\nSubject: New lead: Jane Doe\n\n{NOTIFICATION}\n"),
            reply: "Hi Jane, see you Thursday.\n\nBest,\nBob",
        },
        Case {
            name: "outlook web de bold labels",
            mail: "Passt, danke!\n\n________________________________\n*Von:* Jane Doe <jane@example.net>\n*Gesendet:* Montag, 23. November 2026 10:00\n*An:* Bob Miller\n*Betreff:* Angebot\n\nWas kostet das?\n".to_string(),
            reply: "Passt, danke!",
        },
        // Apple Mail
        Case {
            name: "apple mail macos en",
            mail: format!("Sounds good, Jane.\n\n> On 23 Nov 2026, at 10:00, Jane Doe <jane@example.net> wrote:\n> \n{lead_q}\n"),
            reply: "Sounds good, Jane.",
        },
        Case {
            name: "apple mail ios en",
            mail: format!("Will do!\n\nSent from my iPhone\n\nOn 23 Nov 2026, at 10:00, leadgate <reply+k3j5@leads.example.com> wrote:\n\n\u{feff}{q}\n"),
            reply: "Will do!\n\nSent from my iPhone",
        },
        Case {
            name: "apple mail de",
            mail: format!("Danke, ich melde mich.\n\n> Am 23.11.2026 um 10:00 schrieb Jane Doe <jane@example.net>:\n> \n{lead_q}\n"),
            reply: "Danke, ich melde mich.",
        },
        Case {
            name: "apple mail fr",
            mail: format!("Parfait.\n\n> Le 23 nov. 2026 à 10:00, Jane Doe <jane@example.net> a écrit :\n> \n{lead_q}\n"),
            reply: "Parfait.",
        },
        // Thunderbird
        Case {
            name: "thunderbird en",
            mail: format!("Hello Jane,\n\nattached.\n\n-- \nBob Miller\nAcme Roofing\n\nOn 11/23/26 10:00 AM, Jane Doe wrote:\n{lead_q}\n"),
            reply: "Hello Jane,\n\nattached.\n\n-- \nBob Miller\nAcme Roofing",
        },
        Case {
            name: "thunderbird de",
            mail: format!("Hallo Jane,\n\nanbei.\n\nAm 23.11.26 um 10:00 schrieb Jane Doe:\n{lead_q}\n"),
            reply: "Hallo Jane,\n\nanbei.",
        },
        Case {
            name: "thunderbird es",
            mail: format!("Hola,\n\nadjunto.\n\nEl 23/11/26 a las 10:00, Jane Doe escribió:\n{lead_q}\n"),
            reply: "Hola,\n\nadjunto.",
        },
        Case {
            name: "thunderbird da",
            mail: format!("Hej,\n\nvedhæftet.\n\nDen 23.11.2026 kl. 10.00 skrev Jane Doe:\n{lead_q}\n"),
            reply: "Hej,\n\nvedhæftet.",
        },
        // Yahoo quotes without `>`; its attribution has a date and an address.
        Case {
            name: "yahoo en unquoted",
            mail: "Thanks Jane.\n\nOn Monday, November 23, 2026, 10:00:00 AM GMT+1, Jane Doe <jane@example.net> wrote:\n\n\nHello Bob,\nwhat would a new roof cost?\n".to_string(),
            reply: "Thanks Jane.",
        },
        // Other layers
        Case {
            name: "marker without any client header",
            mail: format!("Call me at 10.\n\n{NOTIFICATION}\n"),
            reply: "Call me at 10.",
        },
        Case {
            name: "plain trailing quote without attribution",
            mail: format!("Yes please.\n\n{lead_q}\n"),
            reply: "Yes please.",
        },
        Case {
            name: "unknown-language attribution with address",
            mail: format!("Dziękuję!\n\nJane Doe <jane@example.net> napisał:\n{lead_q}\n"),
            reply: "Dziękuję!",
        },
        Case {
            name: "bottom-posted under the marker",
            mail: format!("{q}\n\nThursday 10:00 works.\nBob\n"),
            reply: "Thursday 10:00 works.\nBob",
        },
        Case {
            name: "bottom-posted under an attribution",
            mail: format!("On Mon, 23 Nov 2026 at 10:00, Jane Doe <jane@example.net> wrote:\n{lead_q}\n\nAbout 8000 EUR.\n"),
            reply: "About 8000 EUR.",
        },
    ]
}

#[test]
fn real_client_replies_survive_and_their_quotes_do_not() {
    let all = cases();
    assert!(all.len() >= 31, "fixtures ran");
    for case in all {
        let t = trim_reply(&case.mail);
        assert_eq!(t.reply, case.reply, "fixture {:?}", case.name);
        assert!(t.quoted, "fixture {:?} reports the cut", case.name);
        for leak in [
            "budget",
            "Internal note",
            "roof cost",
            "REPLY ABOVE",
            "Reply above",
        ] {
            assert!(
                !t.reply.contains(leak),
                "fixture {:?} leaks {leak:?}",
                case.name
            );
        }
    }
}

#[test]
fn the_marker_line_round_trips() {
    let line = marker_line("Jane\r\nDoe -##");
    assert_eq!(
        line,
        "##- Reply above this line: your reply goes to Jane Doe through leadgate -##"
    );
    assert!(line.starts_with(REPLY_MARKER));
    let t = trim_reply(&format!("ok\n{line}\nsecret"));
    assert_eq!((t.reply.as_str(), t.cut_by), ("ok", Some("marker")));
}

#[test]
fn a_mail_without_quotes_is_kept_whole() {
    let mail =
        "Hi Jane,\n\nOn Monday I wrote:\nthe plan is fine.\n\nFrom: our side, all good.\nBob\n";
    let t = trim_reply(mail);
    assert_eq!(t.reply, mail.trim_end());
    assert!(!t.quoted);
    assert_eq!(t.cut_by, None);
}

#[test]
fn sentences_that_look_like_headers_are_kept() {
    // Starts like an attribution over two lines, but ends a sentence first.
    let mail = "On Monday we can start, if the weather holds up for the crew.\nOn the 24th I wrote:\nnothing more.";
    assert_eq!(trim_reply(mail).reply, mail);
    // A From line without the rest of an Outlook header block.
    let mail = "From: Berlin, with love\nTo: the whole team\nThanks!";
    assert_eq!(trim_reply(mail).reply, mail);
    // Underscores as a divider in the reply itself.
    let mail = "Part one\n______________\nPart two";
    assert_eq!(trim_reply(mail).reply, mail);
}

#[test]
fn inline_answers_between_quotes_are_kept() {
    let mail = "> What does it cost?\nAbout 8000 EUR.\n> When can you start?\nIn March.\n";
    let t = trim_reply(mail);
    assert_eq!(t.reply, mail.trim_end());
    assert!(!t.quoted);
}

#[test]
fn a_mail_of_only_quotes_leaves_nothing() {
    let t = trim_reply(&format!("\n{}\n", quoted(NOTIFICATION)));
    assert_eq!(t.reply, "");
    assert!(t.quoted);
}

#[test]
fn signatures_go_only_when_asked() {
    let mail = "See you.\n-- \nBob Miller\n+49 30 1234567\n";
    assert_eq!(trim_reply(mail).reply, mail.trim_end());
    let t = trim_reply_with(
        mail,
        TrimOptions {
            strip_signature: true,
        },
    );
    assert_eq!(
        (t.reply.as_str(), t.cut_by),
        ("See you.", Some("signature"))
    );
}

#[test]
fn odd_input_does_not_panic() {
    for mail in [
        "",
        "\n",
        ">",
        "-- ",
        "\r\n\r\n",
        "ü\r",
        "On 😀 wrote:",
        "________________________________",
    ] {
        let _ = trim_reply_with(
            mail,
            TrimOptions {
                strip_signature: true,
            },
        );
    }
    assert_eq!(trim_reply("").reply, "");
}

fn html_case(name: &str, html: &str, keep: &[&str], gone: &[&str]) {
    let t = trim_reply_html(html);
    assert!(t.quoted, "{name}: reports the cut");
    for k in keep {
        assert!(t.html.contains(k), "{name}: lost {k:?} in {}", t.html);
    }
    for g in gone {
        assert!(!t.html.contains(g), "{name}: kept {g:?} in {}", t.html);
    }
}

#[test]
fn html_gmail_quote_is_removed() {
    html_case(
        "gmail",
        r#"<div dir="ltr">Hi Jane,<div>Thursday works.</div></div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Mon, 23 Nov 2026 at 10:00, leadgate &lt;reply+k3j5@leads.example.com&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex"><p>##- Reply above this line: your reply goes to Jane Doe through leadgate -##</p><p>Internal note: budget approx. 5k</p></blockquote></div>"#,
        &["Hi Jane,", "Thursday works."],
        &["budget", "wrote:", "Reply above"],
    );
}

#[test]
fn html_outlook_web_header_and_everything_after_are_removed() {
    html_case(
        "outlook web",
        r#"<html><body><div style="font-family:Aptos">See you Thursday.</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> leadgate &lt;reply+k3j5@leads.example.com&gt;<br><b>Sent:</b> Monday, November 23, 2026 10:00 AM<br><b>Subject:</b> New lead</div><div><p>Internal note: budget approx. 5k</p></div></body></html>"#,
        &["See you Thursday."],
        &["budget", "Sent:", "<hr"],
    );
}

#[test]
fn html_outlook_desktop_header_block_and_body_are_removed() {
    html_case(
        "outlook desktop",
        r#"<html><body><div class="WordSection1"><p class="MsoNormal">Hallo Frau Doe, gerne am Donnerstag.</p><div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>Von:</b> Jane Doe<br><b>Gesendet:</b> Montag, 23. November 2026 10:00</p></div></div><p class="MsoNormal">Was kostet das neue Dach?</p></div></body></html>"#,
        &["gerne am Donnerstag."],
        &["Gesendet", "Dach"],
    );
}

#[test]
fn html_apple_and_thunderbird_citations_are_removed() {
    html_case(
        "apple mail",
        r#"<html><body><div>Sounds good.</div><div><br><blockquote type="cite"><div>On 23 Nov 2026, at 10:00, Jane Doe &lt;jane@example.net&gt; wrote:</div><div>What would a new roof cost?</div></blockquote></div></body></html>"#,
        &["Sounds good."],
        &["roof", "wrote:"],
    );
    html_case(
        "thunderbird",
        r#"<html><body><p>Attached.</p><div class="moz-cite-prefix">On 11/23/26 10:00 AM, Jane Doe wrote:<br></div><blockquote type="cite" cite="mid:abc@example.net">What would a new roof cost?</blockquote></body></html>"#,
        &["Attached."],
        &["roof", "wrote:"],
    );
}

#[test]
fn html_marker_outside_any_container_cuts_the_rest() {
    html_case(
        "bare marker",
        "<p>Call me at 10.</p><p>##- Reply above this line: your reply goes to Jane Doe through leadgate -##</p><p>Internal note: budget</p>",
        &["Call me at 10."],
        &["budget", "Reply above"],
    );
    let plain = trim_reply_html("<p>Just text</p>");
    assert!(!plain.quoted);
    assert!(plain.html.contains("Just text"));
    let _ = trim_reply_html("<<<>>>&&&\u{0}");
}

/// Mail-shaped noise from fragments that each layer reacts to.
fn noise(seed: u64, n: usize) -> Vec<String> {
    const FRAGS: &[&str] = &[
        "> ",
        ">",
        "\n",
        "\r\n",
        "On ",
        "Am ",
        "Le ",
        " wrote:",
        " schrieb ",
        " a écrit :",
        "23 Nov 2026",
        "<j@x.example>",
        "From: a",
        "Sent: b",
        "To: c",
        "Subject: d",
        "________________",
        "-- ",
        "-----Original Message-----",
        REPLY_MARKER,
        "ü",
        "😀",
        "\u{a0}",
        "\u{feff}",
        "*",
        ":",
        "Hi",
        " ",
    ];
    let mut x = seed;
    (0..n)
        .map(|_| {
            let mut s = String::new();
            for _ in 0..(x % 40) {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(FRAGS[(x >> 33) as usize % FRAGS.len()]);
            }
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s
        })
        .collect()
}

#[test]
fn random_mail_never_panics_and_the_reply_is_always_from_the_input() {
    for mail in noise(7, 3000) {
        for strip_signature in [false, true] {
            let t = trim_reply_with(&mail, TrimOptions { strip_signature });
            assert!(mail.contains(&t.reply), "trim invented text from {mail:?}");
            assert_eq!(t.quoted, t.cut_by.is_some());
        }
    }
}
