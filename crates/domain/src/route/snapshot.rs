//! What routing knows of the team besides the settings, in one value: the round-robin
//! cursors, the open leads per owner, and the account owners looked up so far. The store
//! loads it once; capture, the sweep's hand-on and orphan reassignment keep it current as
//! they give leads out or move them, so the three can never count differently.

use super::{AccountKey, Assignment, PastOwner};
use std::collections::HashMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Per rule, the last person its round robin gave a lead to.
    cursors: HashMap<String, String>,
    /// Open leads per person; empty until [`Snapshot::set_open_counts`] (counting is a scan over
    /// every open lead, done only when routing weighs workload).
    open_counts: HashMap<String, u32>,
    counted: bool,
    /// Account key → its newest lead with an owner (`None`: there is none), for the keys
    /// looked up so far.
    past_owners: HashMap<String, Option<PastOwner>>,
}

impl Snapshot {
    pub fn new(cursors: HashMap<String, String>) -> Snapshot {
        Snapshot {
            cursors,
            ..Snapshot::default()
        }
    }

    /// The open leads per person, as counted now.
    pub fn set_open_counts(&mut self, open_counts: HashMap<String, u32>) {
        self.open_counts = open_counts;
        self.counted = true;
    }

    pub fn is_counted(&self) -> bool {
        self.counted
    }

    pub fn cursors(&self) -> &HashMap<String, String> {
        &self.cursors
    }

    pub fn open_counts(&self) -> &HashMap<String, u32> {
        &self.open_counts
    }

    /// The keys of `keys` whose past owner has not been looked up yet.
    pub fn unknown<'k>(&'k self, keys: &'k [AccountKey]) -> impl Iterator<Item = &'k AccountKey> {
        keys.iter()
            .filter(|k| !self.past_owners.contains_key(&k.key))
    }

    /// What the store found for `key`: its newest lead with an owner, or none.
    pub fn learn(&mut self, key: &str, owner: Option<PastOwner>) {
        self.past_owners.insert(key.to_owned(), owner);
    }

    /// The known past owners under `keys`, as [`super::RoutingContext::past_owners`] takes
    /// them.
    pub fn past_owners(&self, keys: &[AccountKey]) -> HashMap<String, PastOwner> {
        keys.iter()
            .filter_map(|k| Some((k.key.clone(), self.past_owners.get(&k.key)?.clone()?)))
            .collect()
    }

    /// Lead `id`, new, under `keys`, was given out by `assignment`.
    pub fn created(&mut self, id: i64, assignment: &Assignment, keys: &[AccountKey]) {
        if let Some(owner) = &assignment.owner {
            self.count(None, Some(owner));
            // The newest lead under its keys now; keys that count only customers' leads
            // (a status list) do not count a new one.
            for key in keys.iter().filter(|k| k.statuses.is_empty()) {
                let past = PastOwner {
                    owner: owner.clone(),
                    lead: id,
                    status: "new".into(),
                };
                self.past_owners.insert(key.key.clone(), Some(past));
            }
        }
        self.advance(assignment.cursor.as_ref());
    }

    /// Open lead `id` moved from `from` to `to` (hand-on, reassignment), the round robin
    /// at `cursor` when a rule picked `to`.
    pub fn moved(
        &mut self,
        id: i64,
        from: Option<&str>,
        to: Option<&str>,
        cursor: Option<&(String, String)>,
    ) {
        self.count(from, to);
        // Where this lead was the newest owned one under a key, the key's owner moves
        // with it; without an owner an older lead is the newest: looked up again.
        self.past_owners.retain(|_, past| match past {
            Some(p) if p.lead == id => match to {
                Some(to) => {
                    p.owner = to.to_owned();
                    true
                }
                None => false,
            },
            _ => true,
        });
        self.advance(cursor);
    }

    fn count(&mut self, from: Option<&str>, to: Option<&str>) {
        if !self.counted {
            return;
        }
        if let Some(n) = from.and_then(|f| self.open_counts.get_mut(f)) {
            *n = n.saturating_sub(1);
        }
        if let Some(to) = to {
            *self.open_counts.entry(to.to_owned()).or_default() += 1;
        }
    }

    fn advance(&mut self, cursor: Option<&(String, String)>) {
        if let Some((rule, person)) = cursor {
            self.cursors.insert(rule.clone(), person.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::LeadStatus;

    fn keys() -> Vec<AccountKey> {
        vec![
            AccountKey {
                key: "ann@acme.test".into(),
                statuses: Vec::new(),
            },
            AccountKey {
                key: "acme.test".into(),
                statuses: vec![LeadStatus::Won],
            },
        ]
    }

    fn given(owner: &str, cursor: Option<(&str, &str)>) -> Assignment {
        Assignment {
            owner: Some(owner.into()),
            rule: None,
            reason: String::new(),
            cursor: cursor.map(|(r, p)| (r.into(), p.into())),
        }
    }

    #[test]
    fn a_new_lead_counts_for_its_owner_advances_the_rotation_and_makes_the_account() {
        let mut s = Snapshot::new(HashMap::new());
        s.set_open_counts([("bob".to_owned(), 2)].into());
        s.created(7, &given("bob", Some(("web", "bob"))), &keys());
        assert_eq!(s.open_counts()["bob"], 3);
        assert_eq!(s.cursors()["web"], "bob");
        let past = s.past_owners(&keys());
        assert_eq!(past["ann@acme.test"].lead, 7);
        // The domain counts customers only: a new lead is none.
        assert!(!past.contains_key("acme.test"));
        assert_eq!(s.unknown(&keys()).count(), 1);
    }

    #[test]
    fn a_moved_lead_leaves_one_count_for_another_and_takes_its_account_along() {
        let mut s = Snapshot::new(HashMap::new());
        s.set_open_counts([("bob".to_owned(), 1), ("cat".to_owned(), 4)].into());
        s.created(7, &given("bob", None), &keys());
        s.moved(
            7,
            Some("bob"),
            Some("cat"),
            Some(&("web".into(), "cat".into())),
        );
        assert_eq!((s.open_counts()["bob"], s.open_counts()["cat"]), (1, 5));
        assert_eq!(s.cursors()["web"], "cat");
        assert_eq!(s.past_owners(&keys())["ann@acme.test"].owner, "cat");
        // Unowned: an older lead is the account's newest owned one; looked up again.
        s.moved(7, Some("cat"), None, None);
        assert_eq!(s.open_counts()["cat"], 4);
        assert_eq!(s.unknown(&keys()).count(), 2);
    }

    #[test]
    fn without_a_count_nothing_is_counted() {
        let mut s = Snapshot::new(HashMap::new());
        s.created(1, &given("bob", None), &[]);
        s.moved(1, Some("bob"), Some("cat"), None);
        assert!(!s.is_counted());
        assert!(s.open_counts().is_empty());
    }
}
