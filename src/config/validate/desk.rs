//! A desk's own sections: `name`, `[inbox]` (which mail is the desk's) and `[identity]`
//! (how its mail presents itself); and `[privacy]`, how far an opt-out reaches.

use super::check::Check;
use crate::config::raw::{RawIdentity, RawInbox, RawPrivacy};
use crate::config::{DeskSettings, Identity, Inbox};

/// `id`: the desk file's stem ([`crate::config::DEFAULT_DESK`] for leadgate.toml's team).
pub(super) fn validate(
    c: &mut Check,
    id: &str,
    name: &Option<String>,
    team_name: &str,
    inbox: &RawInbox,
    identity: &RawIdentity,
) -> DeskSettings {
    DeskSettings {
        id: id.to_owned(),
        name: name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(team_name)
            .to_owned(),
        inbox: self::inbox(c, inbox),
        identity: self::identity(c, identity),
    }
}

fn inbox(c: &mut Check, i: &RawInbox) -> Inbox {
    let addresses = i.addresses.to_vec();
    let given = [!addresses.is_empty(), i.folder.is_some(), i.imap.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        c.add(
            "inbox",
            "names more than one of addresses, folder and imap",
            "give a desk one way in: aliases of the shared account, a folder of it, or an account of its own",
        );
    }
    if let Some(imap) = &i.imap {
        return Inbox::Account(Box::new(super::imap::validate(c, "inbox.imap", imap)));
    }
    if let Some(folder) = &i.folder {
        let folder = folder.trim();
        if folder.is_empty() {
            c.add(
                "inbox.folder",
                "is empty",
                "name a folder of the shared [imap] account, e.g. \"Clients/A\"",
            );
        }
        return Inbox::Folder(folder.to_owned());
    }
    if addresses.is_empty() {
        return Inbox::Fallback;
    }
    let list = addresses
        .iter()
        .enumerate()
        .filter_map(|(n, a)| c.email(&format!("inbox.addresses[{n}]"), a))
        .map(|a| a.as_str().to_ascii_lowercase())
        .collect();
    Inbox::Addresses(list)
}

fn identity(c: &mut Check, i: &RawIdentity) -> Identity {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim_end)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    if let Some(d) = &i.relay_domain {
        // The address format and Message-IDs are built from it in `[relay]`.
        if d.contains('@') || !d.contains('.') || d.contains(char::is_whitespace) {
            c.add(
                "identity.relay_domain",
                format!("{d:?} is not a domain"),
                "write the client's relay domain, e.g. \"leads.client-a.example\"",
            );
        }
    }
    Identity {
        from_name: text(&i.from_name).map(|s| s.trim().to_owned()),
        signature: text(&i.signature),
        footer: text(&i.footer),
    }
}

/// `[privacy] optout_scope`: true when an opt-out holds on every desk.
pub(super) fn optout_global(c: &mut Check, p: &RawPrivacy) -> bool {
    match p.optout_scope.as_deref().map(str::trim) {
        None | Some("desk") => false,
        Some("global") => true,
        Some(other) => {
            c.add(
                "privacy.optout_scope",
                format!("{other:?} is not a scope"),
                "write \"desk\" (each desk keeps its own opt-outs) or \"global\"",
            );
            false
        }
    }
}
