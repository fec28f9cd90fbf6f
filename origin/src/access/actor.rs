//! Who acted, as an audit entry records it: the verified token, not a claim.

use super::Principal;

/// The longest `x-actor` note kept.
pub const MAX_NOTE_LEN: usize = 200;

/// The token that acted (its name and id) and the free-text note the caller may add with
/// `x-actor` ("on behalf of alice", a ticket); the note can no longer set the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub token_id: String,
    pub note: Option<String>,
}

impl Actor {
    pub fn new(principal: &Principal, note: Option<String>) -> Self {
        Self {
            name: principal.name.clone(),
            token_id: principal.id.to_string(),
            note,
        }
    }

    /// The bootstrap admin with no note, for tests of the layers below HTTP.
    #[cfg(test)]
    pub fn system() -> Self {
        Self {
            name: "admin".to_owned(),
            token_id: super::TokenId::AdminToken.to_string(),
            note: None,
        }
    }
}
