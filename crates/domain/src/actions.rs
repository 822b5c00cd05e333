//! Quick actions: `/assign`, `/next`, `/status`… lines at the very top of a team member's
//! mail to a tracked (or commands) address, modelled on GitLab's email quick actions.
//! This module only reads them; it resolves no people and changes no lead. A mail with
//! one bad action is refused whole, so the caller executes and relays nothing of it.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::lead::LeadStatus;
use crate::when::{self, WhenError, WhenOptions, WHEN_HELP};

/// Statuses a team member may set with `/status` (new and opted_out come from events).
pub const SETTABLE_STATUSES: [LeadStatus; 5] = [
    LeadStatus::Contacted,
    LeadStatus::Qualified,
    LeadStatus::Won,
    LeadStatus::Lost,
    LeadStatus::Archived,
];

/// The grammar, sent back with every refused mail.
pub const ACTIONS_HELP: &str = "\
Quick actions go at the very top of your mail, one per line, before any other text:
  /assign PERSON     hand the lead to PERSON (id, name or email); they must accept
  /accept            take ownership of the lead
  /next WHEN WHAT    set the next action and its deadline, e.g. /next tomorrow 10:00 call back
  /done              the next action is done
  /status STATUS     one of: contacted, qualified, won, lost, archived
  /note TEXT         an internal note, never sent to the lead
  /snooze WHEN       no reminders until then, e.g. /snooze 2d
  /optout            the lead asked not to be contacted
  /lead              a triage item is a lead: it becomes a new lead
  /notlead [WHY]     a triage item is not a lead: archived with the reason
  /name, /email, /phone, /company VALUE   correct the contact
Blank lines between actions are fine; the first other line ends them.";

/// A contact field a quick action may correct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactField {
    Name,
    Email,
    Phone,
    Company,
}

impl ContactField {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactField::Name => "name",
            ContactField::Email => "email",
            ContactField::Phone => "phone",
            ContactField::Company => "company",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuickAction {
    /// The raw person reference as typed; resolving it is the caller's job.
    Assign(String),
    Accept,
    Next {
        due: Timestamp,
        what: String,
    },
    Done,
    Status(LeadStatus),
    Note(String),
    Snooze {
        until: Timestamp,
    },
    OptOut,
    /// A triage item is a lead.
    Lead,
    /// A triage item is not a lead; the reason may be empty.
    NotLead(String),
    /// Corrects a contact field; an email is validated here.
    Contact {
        field: ContactField,
        value: String,
    },
}

/// The actions from the top of a mail and the text after them (the part to relay).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub actions: Vec<QuickAction>,
    /// The mail from its first non-action line on, unchanged; the whole text when there
    /// were no actions.
    pub rest: String,
}

/// A bad action line: what it was, where, and why; the mail back to the sender is written
/// from them (`templates/action_error.txt`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {text:?}: {problem}")]
pub struct ActionError {
    /// 1-based line number in the mail text.
    pub line: usize,
    pub text: String,
    pub problem: String,
    /// Extra grammar for the failing action (e.g. the WHEN formats), empty if none.
    pub detail: &'static str,
}

/// Reads the quick actions at the top of `text`; deadlines are read in `tz` as of `now`.
pub fn parse_actions(text: &str, now: Timestamp, tz: &TimeZone) -> Result<Parsed, ActionError> {
    parse_actions_with(text, now, tz, WhenOptions::default())
}

pub fn parse_actions_with(
    text: &str,
    now: Timestamp,
    tz: &TimeZone,
    opts: WhenOptions,
) -> Result<Parsed, ActionError> {
    let mut actions = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        if trimmed.is_empty() {
            offset += line.len();
            continue;
        }
        let Some((name, args)) = action_line(trimmed) else {
            break;
        };
        let fail = |problem: String, detail: &'static str| ActionError {
            line: i + 1,
            text: trimmed.to_string(),
            problem,
            detail,
        };
        actions.push(parse_one(name, args, now, tz, opts).map_err(|(p, d)| fail(p, d))?);
        offset += line.len();
    }
    let rest = if actions.is_empty() {
        text.to_string()
    } else {
        text.get(offset..).unwrap_or("").to_string()
    };
    Ok(Parsed { actions, rest })
}

/// `/word args` with an ASCII-letter name; anything else ("/usr/bin", "// note") is text.
fn action_line(line: &str) -> Option<(String, &str)> {
    let body = line.strip_prefix('/')?;
    let end = body.find(char::is_whitespace).unwrap_or(body.len());
    let name = &body[..end];
    let is_name = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_');
    is_name.then(|| (name.to_ascii_lowercase(), body[end..].trim()))
}

type Problem = (String, &'static str);

fn parse_one(
    name: String,
    args: &str,
    now: Timestamp,
    tz: &TimeZone,
    opts: WhenOptions,
) -> Result<QuickAction, Problem> {
    let no_args = |action: QuickAction| {
        if args.is_empty() {
            Ok(action)
        } else {
            Err((format!("/{name} takes nothing after it"), ""))
        }
    };
    let needs = |what: &str| (format!("/{name} needs {what}"), "");
    match name.as_str() {
        "assign" => {
            if args.is_empty() {
                return Err(needs("a person: an id, a name or an email"));
            }
            Ok(QuickAction::Assign(args.to_string()))
        }
        "accept" => no_args(QuickAction::Accept),
        "done" => no_args(QuickAction::Done),
        "optout" | "opt-out" | "opt_out" => no_args(QuickAction::OptOut),
        "lead" => no_args(QuickAction::Lead),
        "notlead" | "not-lead" | "not_lead" => Ok(QuickAction::NotLead(args.to_string())),
        "name" | "email" | "phone" | "company" => {
            let field = match name.as_str() {
                "name" => ContactField::Name,
                "email" => ContactField::Email,
                "phone" => ContactField::Phone,
                _ => ContactField::Company,
            };
            if args.is_empty() {
                return Err(needs(&format!("the {}", field.as_str())));
            }
            let value = if field == ContactField::Email {
                crate::email::EmailAddress::parse(args)
                    .map_err(|e| (e.to_string(), ""))?
                    .as_str()
                    .to_owned()
            } else {
                crate::notify::header_safe(args, 200)
            };
            Ok(QuickAction::Contact { field, value })
        }
        "next" => {
            if args.is_empty() {
                return Err(needs(
                    "a deadline and what to do, e.g. /next tomorrow call back",
                ));
            }
            let (due, what) =
                when::split_when(args, now, tz, opts).map_err(|e| when_problem(&name, e))?;
            if what.is_empty() {
                return Err(needs(
                    "what to do after the deadline, e.g. /next tomorrow call back",
                ));
            }
            Ok(QuickAction::Next {
                due,
                what: what.to_string(),
            })
        }
        "status" => {
            let settable = SETTABLE_STATUSES
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            match LeadStatus::parse(args) {
                Some(s) if SETTABLE_STATUSES.contains(&s) => Ok(QuickAction::Status(s)),
                Some(s) => Err((
                    format!(
                        "status {} is set by leadgate, not by hand; use one of {settable}",
                        s.as_str()
                    ),
                    "",
                )),
                None if args.is_empty() => Err(needs(&format!("one of {settable}"))),
                None => Err((
                    format!("{args:?} is not a status; use one of {settable}"),
                    "",
                )),
            }
        }
        "note" => {
            if args.is_empty() {
                return Err(needs("the note's text"));
            }
            Ok(QuickAction::Note(args.to_string()))
        }
        "snooze" => {
            if args.is_empty() {
                return Err(needs("how long or until when, e.g. /snooze 2d"));
            }
            let until =
                when::parse_when_exact(args, now, tz, opts).map_err(|e| when_problem(&name, e))?;
            Ok(QuickAction::Snooze { until })
        }
        _ => Err((format!("/{name} is not a quick action"), "")),
    }
}

fn when_problem(name: &str, e: WhenError) -> Problem {
    (format!("/{name}: {e}"), WHEN_HELP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::DateTime;

    fn tz() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    /// Monday 2026-11-23 14:00 in Berlin.
    fn now() -> Timestamp {
        "2026-11-23T14:00"
            .parse::<DateTime>()
            .unwrap()
            .to_zoned(tz())
            .unwrap()
            .timestamp()
    }

    fn berlin(wall: &str) -> Timestamp {
        wall.parse::<DateTime>()
            .unwrap()
            .to_zoned(tz())
            .unwrap()
            .timestamp()
    }

    fn parse(text: &str) -> Result<Parsed, ActionError> {
        parse_actions(text, now(), &tz())
    }

    #[test]
    fn reads_every_action_and_keeps_the_rest() {
        let mail = "/assign Bob Smith\n/accept\n\n/next 2026-11-27 10:00 send the quote\n/done\n\
                    /status won\n/note paid upfront\n/snooze 2d\n/optout\n\nHi Jane,\nthanks!\n";
        let p = parse(mail).unwrap();
        assert_eq!(
            p.actions,
            vec![
                QuickAction::Assign("Bob Smith".into()),
                QuickAction::Accept,
                QuickAction::Next {
                    due: berlin("2026-11-27T10:00"),
                    what: "send the quote".into()
                },
                QuickAction::Done,
                QuickAction::Status(LeadStatus::Won),
                QuickAction::Note("paid upfront".into()),
                QuickAction::Snooze {
                    until: berlin("2026-11-25T14:00")
                },
                QuickAction::OptOut,
            ]
        );
        assert_eq!(p.rest, "Hi Jane,\nthanks!\n");
    }

    #[test]
    fn relative_next_forms() {
        let due = |line: &str| match &parse(line).unwrap().actions[0] {
            QuickAction::Next { due, what } => (*due, what.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            due("/next tomorrow call back"),
            (berlin("2026-11-24T09:00"), "call back".into())
        );
        assert_eq!(
            due("/next 3d follow up"),
            (berlin("2026-11-26T14:00"), "follow up".into())
        );
        assert_eq!(
            due("/next mon 9:00 call"),
            (berlin("2026-11-30T09:00"), "call".into())
        );
    }

    #[test]
    fn a_mail_without_actions_is_untouched() {
        let mail = "\n  Hi Jane,\n/assign is not read here\n";
        let p = parse(mail).unwrap();
        assert!(p.actions.is_empty());
        assert_eq!(p.rest, mail);
    }

    #[test]
    fn actions_after_text_are_text() {
        let p = parse("/accept\nHello\n/done\n").unwrap();
        assert_eq!(p.actions, vec![QuickAction::Accept]);
        assert_eq!(p.rest, "Hello\n/done\n");
    }

    #[test]
    fn a_mail_of_only_actions_leaves_nothing_to_relay() {
        let p = parse("\r\n/accept\r\n/next 2h call\r\n\r\n").unwrap();
        assert_eq!(p.actions.len(), 2);
        assert_eq!(p.rest, "");
    }

    #[test]
    fn names_are_case_insensitive_and_tolerate_leading_space() {
        let p = parse("\u{feff} /ACCEPT\n\u{a0}/Status Qualified\n").unwrap();
        assert_eq!(
            p.actions,
            vec![
                QuickAction::Accept,
                QuickAction::Status(LeadStatus::Qualified)
            ]
        );
    }

    #[test]
    fn paths_and_comments_are_not_actions() {
        for text in [
            "/usr/share/doc is where it is",
            "// thanks",
            "/ spaced",
            "/1st",
        ] {
            let p = parse(text).unwrap();
            assert!(p.actions.is_empty(), "{text:?}");
            assert_eq!(p.rest, text);
        }
    }

    #[test]
    fn unknown_action_names_the_line() {
        let e = parse("/accept\n\n/nxt tomorrow call\nHi").unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.text, "/nxt tomorrow call");
        assert!(
            e.problem.contains("/nxt is not a quick action"),
            "{}",
            e.problem
        );
    }

    #[test]
    fn malformed_actions_are_refused_with_the_reason() {
        let problem = |text: &str| parse(text).unwrap_err().problem;
        assert!(problem("/assign").contains("needs a person"));
        assert!(problem("/accept now please").contains("takes nothing"));
        assert!(problem("/next").contains("needs a deadline"));
        assert!(problem("/next tomorrow").contains("what to do"));
        assert!(problem("/next whenever call").contains("not a time"));
        assert!(problem("/next 2026-11-01 call").contains("not in the future"));
        assert!(problem("/status done").contains("not a status"));
        assert!(problem("/status opted_out").contains("set by leadgate"));
        assert!(problem("/status new").contains("set by leadgate"));
        assert!(problem("/status").contains("contacted, qualified, won, lost, archived"));
        assert!(problem("/note").contains("needs the note"));
        assert!(problem("/snooze").contains("needs how long"));
        assert!(problem("/snooze 2d please").contains("not a time"));
    }

    #[test]
    fn triage_decisions_and_contact_corrections() {
        let p = parse("/lead\n/name Tom Baker\n/email Tom@Example.net\n/phone 07700 900123\n/company Baker Heating\n\nHi Tom,\n").unwrap();
        assert_eq!(
            p.actions,
            vec![
                QuickAction::Lead,
                QuickAction::Contact {
                    field: ContactField::Name,
                    value: "Tom Baker".into()
                },
                QuickAction::Contact {
                    field: ContactField::Email,
                    value: "Tom@example.net".into()
                },
                QuickAction::Contact {
                    field: ContactField::Phone,
                    value: "07700 900123".into()
                },
                QuickAction::Contact {
                    field: ContactField::Company,
                    value: "Baker Heating".into()
                },
            ]
        );
        assert_eq!(p.rest, "Hi Tom,\n");
        let p = parse("/notlead a supplier's sales call\n").unwrap();
        assert_eq!(
            p.actions,
            vec![QuickAction::NotLead("a supplier's sales call".into())]
        );
        assert_eq!(
            parse("/notlead").unwrap().actions,
            vec![QuickAction::NotLead(String::new())]
        );
    }

    #[test]
    fn bad_triage_lines_are_refused_and_unknown_actions_still_are() {
        let problem = |text: &str| parse(text).unwrap_err().problem;
        assert!(problem("/lead now").contains("takes nothing"));
        assert!(problem("/email not-an-address").contains("not an email address"));
        assert!(problem("/name").contains("needs the name"));
        assert!(problem("/leads").contains("/leads is not a quick action"));
        assert!(problem("/lead\n/triage").contains("/triage is not a quick action"));
    }

    #[test]
    fn when_errors_carry_the_when_grammar() {
        let e = parse("/next someday call").unwrap_err();
        assert_eq!(e.detail, WHEN_HELP);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in ["", "/", "/é", "/next ü", "/assign 😀", "\u{0}/done"] {
            let _ = parse(text);
        }
        assert_eq!(
            parse("/assign 😀").unwrap().actions,
            vec![QuickAction::Assign("😀".into())]
        );
    }
}

#[cfg(test)]
mod noise_tests {
    use super::*;

    #[test]
    fn random_action_lines_never_panic_and_errors_name_a_real_line() {
        const FRAGS: &[&str] = &[
            "/next ",
            "/assign ",
            "/status ",
            "/snooze ",
            "/done",
            "/x",
            "\n",
            "tomorrow ",
            "3d ",
            "mon ",
            "10:00 ",
            "12pm ",
            "27.11. ",
            "2026-11-27 ",
            "in ",
            "next ",
            "week ",
            "ü",
            "😀",
            " ",
            "won",
            "at ",
            "99999y ",
            "31.02.2027 ",
        ];
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let now: Timestamp = "2026-11-23T13:00:00Z".parse().unwrap();
        let mut x: u64 = 11;
        for _ in 0..3000 {
            let mut s = String::new();
            for _ in 0..(x % 12) {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(FRAGS[(x >> 33) as usize % FRAGS.len()]);
            }
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match parse_actions(&s, now, &tz) {
                Ok(p) => assert!(s.ends_with(&p.rest), "rest is the tail of {s:?}"),
                Err(e) => {
                    let line = s.split_inclusive('\n').nth(e.line - 1).unwrap_or("");
                    assert!(line.contains(e.text.as_str()), "{e} names a line of {s:?}");
                }
            }
        }
    }
}
