//! One environment's read-path state and the rules that change it: no I/O, no lock, no runtime.
//!
//! [`super::FlagSets`] keeps a [`SlotState`] per environment behind a lock and asks it, at each
//! step of a load, a write or a change message, what to do; it only performs the answer (reads the
//! store or the shared cache, fills the cache, spawns a reload). Everything decided here is decided
//! from the state alone, so it is tested without a store, a cache or a runtime.
//!
//! The rule all others serve: the **floor** is the lowest revision this origin may still install.
//! Every write this origin made and every change it heard of raises it, so that neither a load that
//! read the store before a write nor a late refill of the shared cache brings an older set back,
//! whoever loaded it and however late it arrives. The floor never goes down.

use std::sync::Arc;

use super::loaded::LoadedFlagSet;
use crate::store::{UnreadableFlag, UnreadableSegment};

/// One environment's read-path state.
#[derive(Debug, Default)]
pub struct SlotState {
    floor: u64,
    /// The set evaluations answer from (the in-process level).
    held: Option<Arc<LoadedFlagSet>>,
    /// A background reload is running (at most one per environment).
    reloading: bool,
    /// The rows the store's latest full read of the environment could not read, and the revision
    /// of that read (for `/health`; the read path never looks at it).
    unreadable: Option<(u64, UnreadableRows)>,
}

/// The flag and segment rows a full read of an environment could not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnreadableRows {
    pub flags: Vec<UnreadableFlag>,
    pub segments: Vec<UnreadableSegment>,
}

/// What a load saw of its slot when it started: the floor then and the set held. What it finds in
/// the shared cache is judged against this.
#[derive(Debug, Clone)]
pub struct LoadStart {
    floor: u64,
    held: Option<Arc<LoadedFlagSet>>,
}

/// What the set found in the shared cache is worth to a load.
#[derive(Debug)]
pub enum CachedSet {
    /// At the revision of the set held: that one, already compiled.
    Held(Arc<LoadedFlagSet>),
    /// Newer than the set held and not below the floor: compile it and try to install it.
    Newer,
    /// Below the floor (a refill that lost a race with a write this origin made or heard of), or
    /// older than the set held (a late refill): the store has the truth.
    Stale,
}

/// What hearing "the environment is at revision R" (a change message, or the store's revision on
/// a resync) did to the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    /// R is newer than anything known here (the floor and the set held).
    pub news: bool,
    /// The set held is older than R and no reload runs yet: the caller must start the background
    /// reload (the slot now counts it as running until [`SlotState::reload_finished`]).
    pub start_reload: bool,
}

impl SlotState {
    /// The set to answer with: the hot path. It may be below the floor while a background reload
    /// runs after a change message; requests keep the set in hand meanwhile rather than wait.
    pub fn held(&self) -> Option<&Arc<LoadedFlagSet>> {
        self.held.as_ref()
    }

    pub fn start_load(&self) -> LoadStart {
        LoadStart {
            floor: self.floor,
            held: self.held.clone(),
        }
    }

    /// Makes `set` the set held unless it is below the floor or older than the set held. Only a set
    /// installed here may fill the shared cache: one that was refused lost a race with a write.
    #[must_use = "only an installed set may fill the shared cache"]
    pub fn install(&mut self, set: &Arc<LoadedFlagSet>) -> bool {
        if set.revision < self.floor || self.held_revision().is_some_and(|h| h > set.revision) {
            return false;
        }
        self.held = Some(Arc::clone(set));
        true
    }

    /// This origin committed a write that put the environment at `revision`: the set held is
    /// dropped, so that the next evaluation here loads the write (read-your-writes), and the floor
    /// raised, so that no load that started before the commit can install or publish its result.
    pub fn written(&mut self, revision: u64) {
        self.floor = self.floor.max(revision);
        self.held = None;
    }

    /// Another origin (or the store) says the environment is at `revision`: the floor rises, and a
    /// set held that is older is reloaded in the background while it keeps serving.
    pub fn heard(&mut self, revision: u64) -> Heard {
        let held = self.held_revision();
        let news = revision > self.floor.max(held.unwrap_or(0));
        self.floor = self.floor.max(revision);
        let start_reload = held.is_some_and(|h| h < revision) && !self.reloading;
        if start_reload {
            self.reloading = true;
        }
        Heard { news, start_reload }
    }

    /// Whether a background reload should try again: the set held is still below the floor (a
    /// newer change arrived during the load, or the load was refused). Nothing held is not behind:
    /// the next evaluation loads.
    pub fn behind(&self) -> bool {
        self.held_revision().is_some_and(|h| h < self.floor)
    }

    /// The newest revision this origin knows the environment to be at: the floor (its writes, the
    /// changes it heard of) or the set held, whichever is newer; 0 before anything is known. It
    /// never goes down. What the change streams announce (`crate::stream`).
    pub fn known(&self) -> u64 {
        self.floor.max(self.held_revision().unwrap_or(0))
    }

    pub fn reload_finished(&mut self) {
        self.reloading = false;
    }

    /// Remembers what a full read of the store at `revision` found unreadable, unless a newer read
    /// did already.
    pub fn record_unreadable(&mut self, revision: u64, unreadable: UnreadableRows) {
        if self.unreadable.as_ref().is_none_or(|(r, _)| *r <= revision) {
            self.unreadable = Some((revision, unreadable));
        }
    }

    /// The revision of the last full read of the store, if this origin made one.
    pub fn unreadable_as_of(&self) -> Option<u64> {
        self.unreadable.as_ref().map(|(r, _)| *r)
    }

    /// What the last full read of the store found unreadable (nothing before the first read).
    pub fn unreadable(&self) -> Option<&UnreadableRows> {
        self.unreadable.as_ref().map(|(_, rows)| rows)
    }

    pub fn held_revision(&self) -> Option<u64> {
        self.held.as_ref().map(|set| set.revision)
    }
}

impl LoadStart {
    /// The set held, when it is not below the floor: a load that finished while this one waited
    /// for its turn. Nothing left to load.
    pub fn done(&self) -> Option<&Arc<LoadedFlagSet>> {
        self.held.as_ref().filter(|set| set.revision >= self.floor)
    }

    /// The shared cache holds the environment's set at `revision`.
    pub fn judge_cached(&self, revision: u64) -> CachedSet {
        if revision < self.floor {
            return CachedSet::Stale;
        }
        match &self.held {
            Some(held) if held.revision == revision => CachedSet::Held(Arc::clone(held)),
            Some(held) if held.revision > revision => CachedSet::Stale,
            _ => CachedSet::Newer,
        }
    }

    /// What to answer when the store cannot be reached: the last set held, even below the floor,
    /// since this origin knows nothing newer it could serve.
    pub fn fallback(self) -> Option<Arc<LoadedFlagSet>> {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FlagSnapshot;
    use evaluator::Environment;

    fn set(revision: u64) -> Arc<LoadedFlagSet> {
        let snapshot = FlagSnapshot {
            environment: Environment::Prod,
            revision,
            flags: vec![],
            segments: vec![],
        };
        Arc::new(LoadedFlagSet::from_store(&snapshot).unwrap())
    }

    fn holding(revision: u64) -> SlotState {
        let mut slot = SlotState::default();
        assert!(slot.install(&set(revision)));
        slot
    }

    fn held(slot: &SlotState) -> Option<u64> {
        slot.held().map(|s| s.revision)
    }

    #[test]
    fn a_set_is_installed_unless_below_the_floor_or_older_than_the_one_held() {
        let mut slot = holding(3);
        assert!(!slot.install(&set(2)), "older than the set held");
        assert_eq!(held(&slot), Some(3));
        assert!(slot.install(&set(3)), "the same revision again");
        assert!(slot.install(&set(4)));
        assert_eq!(held(&slot), Some(4));
        slot.written(6);
        assert!(!slot.install(&set(5)), "below the floor a write raised");
        assert_eq!(held(&slot), None);
        assert!(slot.install(&set(6)));
        assert_eq!(held(&slot), Some(6));
    }

    #[test]
    fn a_write_drops_the_set_held_and_never_lowers_the_floor() {
        let mut slot = holding(5);
        slot.written(7);
        assert_eq!(held(&slot), None, "the next evaluation loads the write");
        slot.written(4);
        assert!(
            !slot.install(&set(6)),
            "an older write does not lower the floor"
        );
        assert!(slot.install(&set(7)));
    }

    #[test]
    fn a_load_that_overtook_a_write_fills_nothing() {
        // The load read revision 1, then a write committed revision 2 here before it finished.
        let mut slot = SlotState::default();
        let start = slot.start_load();
        slot.written(2);
        assert!(start.done().is_none());
        assert!(!slot.install(&set(1)), "neither installed nor cached");
        // The load after the write installs (and so fills) what it read.
        assert!(slot.install(&set(2)));
    }

    #[test]
    fn a_change_message_is_news_only_when_newer_than_anything_known() {
        let mut slot = holding(5);
        assert_eq!(
            slot.heard(5),
            Heard {
                news: false,
                start_reload: false
            },
            "the set held is that revision already"
        );
        assert!(!slot.heard(3).news, "an old message");
        let heard = slot.heard(6);
        assert!(heard.news && heard.start_reload);
        assert!(
            !slot.heard(6).news,
            "a repeated message (Redis and NOTIFY both carry it)"
        );
        // Nothing held: the floor still rises, and the next evaluation loads.
        let mut empty = SlotState::default();
        assert_eq!(
            empty.heard(2),
            Heard {
                news: true,
                start_reload: false
            }
        );
        assert!(!empty.install(&set(1)));
    }

    #[test]
    fn one_background_reload_at_a_time_while_the_set_held_keeps_serving() {
        let mut slot = holding(5);
        assert!(slot.heard(6).start_reload);
        assert_eq!(held(&slot), Some(5), "requests keep the set in hand");
        assert!(slot.behind());
        let again = slot.heard(7);
        assert!(again.news && !again.start_reload, "one reload already runs");
        // The reload read 6 before 7 was heard: refused, still behind, so it tries again.
        assert!(!slot.install(&set(6)));
        assert!(slot.behind());
        assert!(slot.install(&set(7)));
        assert!(!slot.behind());
        slot.reload_finished();
        assert!(
            slot.heard(8).start_reload,
            "the next change starts a new one"
        );
    }

    #[test]
    fn nothing_held_is_not_behind() {
        let mut slot = SlotState::default();
        slot.written(3);
        assert!(!slot.behind());
    }

    #[test]
    fn a_load_that_waited_for_another_reuses_its_set() {
        let slot = holding(4);
        assert_eq!(slot.start_load().done().map(|s| s.revision), Some(4));
        let mut slot = holding(4);
        let _ = slot.heard(5);
        assert!(slot.start_load().done().is_none(), "below the floor: load");
    }

    #[test]
    fn a_cached_set_is_judged_against_the_floor_and_the_set_held() {
        let empty = SlotState::default().start_load();
        assert!(matches!(empty.judge_cached(1), CachedSet::Newer));

        let mut slot = holding(4);
        let _ = slot.heard(6);
        let start = slot.start_load();
        assert!(
            matches!(start.judge_cached(5), CachedSet::Stale),
            "below the floor"
        );
        assert!(matches!(start.judge_cached(6), CachedSet::Newer));
        assert!(matches!(start.judge_cached(7), CachedSet::Newer));

        let start = holding(4).start_load();
        assert!(
            matches!(start.judge_cached(3), CachedSet::Stale),
            "a late refill"
        );
        assert!(matches!(start.judge_cached(5), CachedSet::Newer));
        match start.judge_cached(4) {
            CachedSet::Held(set) => assert_eq!(set.revision, 4),
            other => panic!("expected the set held, got {other:?}"),
        }
    }

    #[test]
    fn with_the_store_down_the_last_set_held_serves_even_below_the_floor() {
        let mut slot = holding(4);
        let _ = slot.heard(9);
        assert_eq!(slot.start_load().fallback().map(|s| s.revision), Some(4));
        assert!(SlotState::default().start_load().fallback().is_none());
    }

    fn unreadable(id: &str) -> UnreadableRows {
        UnreadableRows {
            flags: vec![UnreadableFlag {
                id: id.into(),
                environment: "prod".into(),
                key: "k".into(),
                reason: "test".into(),
            }],
            segments: vec![UnreadableSegment {
                id: format!("s-{id}"),
                environment: "prod".into(),
                key: "s".into(),
                reason: "test".into(),
            }],
        }
    }

    #[test]
    fn the_unreadable_rows_are_those_of_the_newest_full_read() {
        let mut slot = SlotState::default();
        assert_eq!(slot.unreadable_as_of(), None);
        assert_eq!(slot.unreadable(), None);
        slot.record_unreadable(3, unreadable("a"));
        assert_eq!(slot.unreadable_as_of(), Some(3));
        slot.record_unreadable(2, UnreadableRows::default());
        assert_eq!(
            slot.unreadable(),
            Some(&unreadable("a")),
            "an older read finished late"
        );
        slot.record_unreadable(3, unreadable("b"));
        assert_eq!(
            slot.unreadable(),
            Some(&unreadable("b")),
            "the same revision read again"
        );
        slot.record_unreadable(4, UnreadableRows::default());
        assert_eq!(slot.unreadable(), Some(&UnreadableRows::default()));
        assert_eq!(slot.unreadable_as_of(), Some(4));
    }

    #[test]
    fn the_known_revision_is_the_newest_of_floor_and_set_held_and_never_goes_down() {
        let mut slot = SlotState::default();
        assert_eq!(slot.known(), 0);
        assert!(slot.install(&set(3)));
        assert_eq!(slot.known(), 3);
        slot.heard(5);
        assert_eq!(slot.known(), 5);
        slot.written(7);
        assert_eq!(slot.known(), 7);
        assert!(!slot.install(&set(6)));
        slot.heard(4);
        assert_eq!(slot.known(), 7);
        assert!(slot.install(&set(8)));
        assert_eq!(slot.known(), 8);
    }
}
