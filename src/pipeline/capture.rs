//! A notification or a triage item becomes a lead: the match with an open lead
//! (resubmission), routing, the lead row, the owner's email.

use super::*;

/// The source a route names to catch triage items (`source = "triage"`).
pub const TRIAGE_ROUTE_SOURCE: &str = "triage";
/// The stored source of a person's own mail (a triage inquiry, and the lead it becomes).
pub const TRIAGE_INQUIRY_SOURCE: &str = "inquiry";
/// The original text in a triage email, in bytes at most (the stored message keeps all).
pub(super) const MAX_ORIGINAL_IN_EMAIL: usize = 64 * 1024;

/// At most `max` bytes of `s`, cut at a character boundary.
pub(super) fn text_head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl Pipeline {
    /// A notification: a new lead routed to its owner, or a repeat submission attached to
    /// the person's open lead. A triage item (`c.triage`) the same way, with status
    /// `triage` and a triage email that asks its owner to decide it. Returns the lead id
    /// and whether mail was queued.
    pub(super) async fn capture(
        &self,
        tx: &mut Tx<'_>,
        view: &MessageView,
        c: &Classification,
        e: &Extraction,
        now: jiff::Timestamp,
        state: &mut TxState,
    ) -> anyhow::Result<(i64, bool)> {
        let s = &self.settings;
        let triage = c.triage;
        let inquiry = c.class == MessageClass::Inquiry;
        // What the lead row keeps as its source: the provider, or what kind of item it is.
        let stored_source = match (triage, e.source.is_empty(), inquiry) {
            (true, _, true) => TRIAGE_INQUIRY_SOURCE,
            (true, true, false) => "generic",
            _ => e.source.as_str(),
        };
        let now_ms = store::millis(now);
        let email = e
            .fields
            .email
            .as_deref()
            .and_then(|a| EmailAddress::parse(a).ok());
        let email_norm = email.as_ref().map(EmailAddress::normalized);
        let extra_json = serde_json::to_string(&e.extra).expect("strings serialise");

        let previous = match &email_norm {
            Some(norm) => state.known.latest(tx, &s.desk.id, norm).await?,
            None => None,
        };
        if let Some(open) = previous.as_ref().filter(|l| l.status.is_open()) {
            let detail = if triage {
                format!("wrote again: {}", notify::header_safe(&view.subject, 120))
            } else {
                format!(
                    "submitted again via {}{}",
                    e.source,
                    e.form
                        .as_ref()
                        .map(|f| format!(" / {f}"))
                        .unwrap_or_default()
                )
            };
            // The person is writing again: their wait restarts the `unanswered` clock, as a
            // mail from them does.
            leads::record_inbound(tx, open.id, now_ms).await?;
            let mut queued = false;
            if let Some(owner) = open.owner.as_deref().and_then(|o| s.person(o)) {
                let mut card = self.card(open.id, e);
                card.source = stored_source.to_owned();
                let draft = notify::owner_email(
                    &crate::templates::environment_or_bundled(s),
                    &card,
                    &owner.email,
                    notify::OwnerMail {
                        purpose: Purpose::Resubmission,
                        headline: if triage {
                            "Wrote again"
                        } else {
                            "Submitted again"
                        },
                        reason: &detail,
                        due: None,
                        context: None,
                    },
                    &s.sender(),
                );
                crate::outbox::enqueue(tx, s, &draft, Some(open.id), now, None).await?;
                queued = true;
            }
            tx.record(NewActivity::new(
                open.id,
                now_ms,
                "lead",
                ActivityKind::Resubmitted,
                detail,
            ));
            return Ok((open.id, queued));
        }

        let account_keys = email_norm
            .as_deref()
            .map(|e| account_keys(e, &s.learn))
            .unwrap_or_default();
        let no_lead_under = |key: &str| previous.is_none() && email_norm.as_deref() == Some(key);
        let routing = match &mut state.routing {
            Some(snap) => snap,
            none => {
                none.insert(store::routing::snapshot(tx, &s.desk.id, self.uses_workload).await?)
            }
        };
        store::routing::look_up(tx, &s.desk.id, routing, &account_keys, no_lead_under).await?;
        // Triage items route by `source = "triage"` only: what was detected of an unreadable
        // mail is a guess, and a wrong source sends it to the wrong person.
        let routed;
        let for_routing = if triage {
            routed = Extraction {
                source: TRIAGE_ROUTE_SOURCE.into(),
                ..e.clone()
            };
            &routed
        } else {
            e
        };
        let assignment = if triage && s.capture.triage == TriageMode::Digest {
            Assignment {
                owner: None,
                rule: None,
                reason: "[capture] triage = \"digest\": no owner; the digest lists it".into(),
                cursor: None,
            }
        } else {
            let past_owners = routing.past_owners(&account_keys);
            let ctx =
                s.routing_context(routing.cursors(), routing.open_counts(), &past_owners, now);
            route(for_routing, &s.routes, &ctx)
        };
        let due = s
            .team
            .hours
            .add(now, s.stale.first_reply_within, &s.team.timezone);
        let lead_id = leads::insert(
            tx,
            &leads::NewLead {
                desk: &s.desk.id,
                status: if triage {
                    LeadStatus::Triage
                } else {
                    LeadStatus::New
                },
                owner: assignment.owner.as_deref(),
                source: stored_source,
                form: e.form.as_deref(),
                name: e.fields.name.as_deref(),
                email: email.as_ref().map(EmailAddress::as_str),
                email_norm: email_norm.as_deref(),
                phone: e.fields.phone.as_deref(),
                company: e.fields.company.as_deref(),
                message: e.fields.message.as_deref(),
                consent: e.consent,
                extra: &extra_json,
                needs_template: email.is_none() || (triage && !inquiry),
                route_rule: assignment.rule.as_deref(),
                route_reason: &assignment.reason,
                next_action: Some(if triage {
                    crate::ops::TRIAGE_DECISION
                } else {
                    "first reply"
                }),
                next_action_due: Some(store::millis(due)),
                now: now_ms,
                previous_lead: previous.as_ref().map(|p| p.id),
            },
        )
        .await?;
        routing.created(lead_id, &assignment, &account_keys);
        if let Some(norm) = &email_norm {
            state.known.latest.insert(
                norm.clone(),
                Some(leads::LatestLead {
                    id: lead_id,
                    status: if triage {
                        LeadStatus::Triage
                    } else {
                        LeadStatus::New
                    },
                    owner: assignment.owner.clone(),
                }),
            );
        }
        let captured = match (&previous, view.subject.is_empty()) {
            _ if triage => format!(
                "triage item ({}): {}",
                if inquiry {
                    "a person's own mail"
                } else {
                    "a notification that could not be read"
                },
                c.reason
            ),
            (Some(p), _) => format!(
                "captured from {} (again: earlier lead #{} is closed)",
                e.source, p.id
            ),
            (None, true) => format!("captured from {}", e.source),
            (None, false) => format!(
                "captured from {}: {}",
                e.source,
                notify::header_safe(&view.subject, 120)
            ),
        };
        if !triage {
            metrics::counter!(crate::telemetry::LEADS_CREATED).increment(1);
        }
        metrics::counter!(crate::telemetry::ASSIGNMENTS, "rule" => crate::telemetry::rule_label(&assignment)).increment(1);
        if let Some((rule, person)) = &assignment.cursor {
            state::save_route_cursor(tx, &s.desk.id, rule, person, now_ms).await?;
        }
        let entry = |kind, detail| NewActivity::system(lead_id, now_ms, kind, detail);
        tx.record(entry(ActivityKind::Captured, captured));
        tx.record(entry(ActivityKind::Assigned, assignment.reason.clone()));
        let mut queued = false;
        if let Some(owner) = assignment
            .owner
            .as_deref()
            .and_then(|o| s.person(o))
            .filter(|_| triage)
        {
            let mut card = self.card(lead_id, e);
            card.source = stored_source.to_owned();
            let text = view.text.as_str();
            let original = notify::TriageOriginal {
                inquiry,
                subject: &view.subject,
                text: text_head(text, MAX_ORIGINAL_IN_EMAIL),
            };
            let draft = notify::triage_email(
                &crate::templates::environment_or_bundled(s),
                &card,
                &owner.email,
                &assignment.reason,
                Some(due),
                &original,
                &s.sender(),
            );
            let detail = format!("triage email to {} queued", owner.id);
            crate::outbox::enqueue_notice(tx, s, &draft, lead_id, &detail, now).await?;
            queued = true;
        } else if let Some(owner) = assignment.owner.as_deref().and_then(|o| s.person(o)) {
            let card = self.card(lead_id, e);
            let draft = notify::owner_email(
                &crate::templates::environment_or_bundled(s),
                &card,
                &owner.email,
                notify::OwnerMail {
                    purpose: Purpose::Assignment,
                    headline: "New lead",
                    reason: &assignment.reason,
                    due: Some(due),
                    context: None,
                },
                &s.sender(),
            );
            let detail = format!("assignment email to {} queued", owner.id);
            crate::outbox::enqueue_notice(tx, s, &draft, lead_id, &detail, now).await?;
            queued = true;
        }
        Ok((lead_id, queued))
    }

    pub(super) fn card(&self, lead_id: i64, e: &Extraction) -> LeadCard {
        LeadCard::new(lead_id, e, self.settings.relay.tracked_address(lead_id))
    }
}
