//! `CONTEXT_SAMPLE_SIZE`: a bounded, in-memory sample of recent evaluation contexts per
//! environment, which the console's impact preview evaluates a flag change against
//! (`GET /api/admin/contexts`). Off (0) by default: the contexts are personal data (ids, emails,
//! whatever attributes the apps send), held in memory only, never stored or logged.
//!
//! Each environment has `size` slots; a user's slot is chosen by a hash of its id, so a slot holds
//! the latest distinct user that hashed there: the sample is spread over recent users, and a user
//! who evaluates a thousand times takes one slot, not a thousand. Offering a context costs a hash
//! and an atomic load when the slot already holds that user; a slot is replaced at most once a
//! second, and only when its lock is free (an evaluation never waits for the sample).

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use evaluator::{Environment, User};
use serde::Serialize;
use serde_json::{Map, Value};

/// Slots per environment, at most.
pub const MAX_SIZE: usize = 100_000;

/// How long a slot keeps a user before another that hashes there may take it.
const SLOT_HOLD_MS: i64 = 1_000;

/// A context as the sample holds it: the user in the API's shape, and when it was seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SampledContext {
    pub user: Value,
    /// RFC 3339, UTC, milliseconds.
    pub seen_at: String,
}

#[derive(Debug, Default)]
struct Slot {
    /// The hash of the held user's id (0: empty).
    id_hash: AtomicU64,
    written_ms: AtomicI64,
    context: Mutex<Option<Arc<SampledContext>>>,
}

#[derive(Debug)]
pub struct ContextSample {
    slots: [Box<[Slot]>; 3],
}

fn index(environment: Environment) -> usize {
    match environment {
        Environment::Dev => 0,
        Environment::Staging => 1,
        Environment::Prod => 2,
    }
}

/// The user as `POST /api/evaluate` takes it.
fn user_json(user: &User) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), Value::String(user.id.clone()));
    if let Some(email) = &user.email {
        object.insert("email".into(), Value::String(email.clone()));
    }
    if let Some(country) = &user.country {
        object.insert("country".into(), Value::String(country.clone()));
    }
    if !user.attributes.is_empty() {
        object.insert(
            "attributes".into(),
            serde_json::to_value(&user.attributes).unwrap_or(Value::Null),
        );
    }
    Value::Object(object)
}

impl ContextSample {
    /// `size` slots per environment; `None` for 0 (off).
    pub fn new(size: usize) -> Option<Self> {
        if size == 0 {
            return None;
        }
        let size = size.min(MAX_SIZE);
        let slots = || (0..size).map(|_| Slot::default()).collect::<Box<[Slot]>>();
        Some(Self {
            slots: [slots(), slots(), slots()],
        })
    }

    /// Slots per environment.
    pub fn size(&self) -> usize {
        self.slots[0].len()
    }

    /// Offers a context just evaluated; kept or not, never waited for.
    #[inline]
    pub fn offer(&self, environment: Environment, user: &User) {
        let slots = &self.slots[index(environment)];
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(user.id.as_str()) | 1;
        let Some(slot) = usize::try_from(hash % slots.len() as u64)
            .ok()
            .and_then(|i| slots.get(i))
        else {
            return;
        };
        if slot.id_hash.load(Ordering::Relaxed) == hash {
            return;
        }
        self.replace(slot, hash, user);
    }

    #[cold]
    fn replace(&self, slot: &Slot, hash: u64, user: &User) {
        let now = chrono::Utc::now().timestamp_millis();
        if now - slot.written_ms.load(Ordering::Relaxed) < SLOT_HOLD_MS {
            return;
        }
        let Ok(mut held) = slot.context.try_lock() else {
            return;
        };
        let seen_at = chrono::DateTime::from_timestamp_millis(now)
            .map(crate::store::timestamp)
            .unwrap_or_default();
        *held = Some(Arc::new(SampledContext {
            user: user_json(user),
            seen_at,
        }));
        slot.id_hash.store(hash, Ordering::Relaxed);
        slot.written_ms.store(now, Ordering::Relaxed);
    }

    /// Up to `limit` contexts of `environment`, the most recently seen first.
    pub fn read(&self, environment: Environment, limit: usize) -> Vec<SampledContext> {
        let mut held: Vec<(i64, Arc<SampledContext>)> = self.slots[index(environment)]
            .iter()
            .filter_map(|slot| {
                let context = slot
                    .context
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone()?;
                Some((slot.written_ms.load(Ordering::Relaxed), context))
            })
            .collect();
        held.sort_by_key(|(written, _)| std::cmp::Reverse(*written));
        held.into_iter()
            .take(limit)
            .map(|(_, context)| SampledContext::clone(&context))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> User {
        let mut user = User::new(id);
        user.country = Some("DE".into());
        user
    }

    #[test]
    fn off_is_none() {
        assert!(ContextSample::new(0).is_none());
        assert_eq!(ContextSample::new(MAX_SIZE + 1).unwrap().size(), MAX_SIZE);
    }

    #[test]
    fn a_user_takes_one_slot_however_often_it_evaluates() {
        let sample = ContextSample::new(64).unwrap();
        for _ in 0..10 {
            sample.offer(Environment::Prod, &user("u1"));
        }
        let read = sample.read(Environment::Prod, 100);
        assert_eq!(read.len(), 1);
        assert_eq!(
            read[0].user,
            serde_json::json!({"id": "u1", "country": "DE"})
        );
        assert!(
            sample.read(Environment::Dev, 100).is_empty(),
            "per environment"
        );
    }

    #[test]
    fn distinct_users_fill_distinct_slots_up_to_the_size() {
        let sample = ContextSample::new(1_000).unwrap();
        for i in 0..200 {
            sample.offer(Environment::Dev, &user(&format!("user-{i}")));
        }
        let read = sample.read(Environment::Dev, 10_000);
        // Users that hash to a slot taken less than a second ago are not kept.
        assert!(read.len() > 150 && read.len() <= 200, "{}", read.len());
        assert_eq!(sample.read(Environment::Dev, 5).len(), 5);
        let small = ContextSample::new(4).unwrap();
        for i in 0..100 {
            small.offer(Environment::Dev, &user(&format!("user-{i}")));
        }
        assert!(small.read(Environment::Dev, 100).len() <= 4);
    }
}
