//! The caller a request was verified as, and why it may not do something.

use std::fmt;

use evaluator::Environment;
use uuid::Uuid;

use super::{Action, EnvironmentSet, Role};

/// Which token acted: a stored one, or one of the two configured at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenId {
    Stored(Uuid),
    /// `ADMIN_TOKEN`: the bootstrap root.
    AdminToken,
    /// `EDGE_TOKEN`: a `server` token for every environment.
    EdgeToken,
}

impl fmt::Display for TokenId {
    /// As the audit log records it: the token's id, or the variable that configured it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenId::Stored(id) => write!(f, "{id}"),
            TokenId::AdminToken => f.write_str("ADMIN_TOKEN"),
            TokenId::EdgeToken => f.write_str("EDGE_TOKEN"),
        }
    }
}

/// A verified token: who it is, its role and where it acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: TokenId,
    pub name: String,
    pub role: Role,
    pub environments: EnvironmentSet,
}

/// A valid token asked for what it may not do: a 403, the message naming what it lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Principal {
    /// `ADMIN_TOKEN`: acts as `admin`, and the audit log names it so.
    pub fn bootstrap_admin() -> Self {
        Self {
            id: TokenId::AdminToken,
            name: "admin".to_owned(),
            role: Role::Admin,
            environments: EnvironmentSet::ALL,
        }
    }

    /// `EDGE_TOKEN`: what the edge worker has always sent.
    pub fn bootstrap_edge() -> Self {
        Self {
            id: TokenId::EdgeToken,
            name: "edge".to_owned(),
            role: Role::Server,
            environments: EnvironmentSet::ALL,
        }
    }

    /// May this token do `action` at all (in some environment)?
    pub fn require(&self, action: Action) -> Result<(), Denied> {
        if self.role.may(action) {
            return Ok(());
        }
        let roles: Vec<&str> = action.roles().map(Role::as_str).collect();
        Err(Denied(format!(
            "this token (role {}) cannot {}; that needs the role {}",
            self.role,
            action.describe(),
            roles.join(" or ")
        )))
    }

    /// May this token do `action` in `environment`?
    pub fn require_in(&self, action: Action, environment: Environment) -> Result<(), Denied> {
        self.require_all(action, [environment].into_iter().collect())
    }

    /// May this token do `action` in every one of `environments`? The message names those it lacks.
    pub fn require_all(&self, action: Action, environments: EnvironmentSet) -> Result<(), Denied> {
        self.require(action)?;
        let missing: EnvironmentSet = environments
            .iter()
            .filter(|e| !self.environments.contains(*e))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let noun = if missing.iter().count() == 1 {
            "environment"
        } else {
            "environments"
        };
        Err(Denied(format!(
            "this token cannot act in the {noun} {missing}; it acts in: {}",
            self.environments
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(role: Role, environments: &[Environment]) -> Principal {
        Principal {
            id: TokenId::Stored(Uuid::nil()),
            name: "t".into(),
            role,
            environments: environments.iter().copied().collect(),
        }
    }

    #[test]
    fn a_role_outside_its_actions_is_denied_naming_the_roles_that_may() {
        let viewer = token(Role::Viewer, &[Environment::Prod]);
        assert!(viewer.require(Action::ReadDefinitions).is_ok());
        let denied = viewer.require(Action::WriteDefinitions).unwrap_err();
        assert_eq!(
            denied.0,
            "this token (role viewer) cannot write flags and segments; that needs the role admin or editor"
        );
    }

    #[test]
    fn an_environment_outside_the_token_is_denied_naming_both() {
        let editor = token(Role::Editor, &[Environment::Dev, Environment::Staging]);
        assert!(editor
            .require_in(Action::WriteDefinitions, Environment::Dev)
            .is_ok());
        let denied = editor
            .require_in(Action::WriteDefinitions, Environment::Prod)
            .unwrap_err();
        assert_eq!(
            denied.0,
            "this token cannot act in the environment prod; it acts in: dev, staging"
        );
        let denied = editor
            .require_all(Action::WriteDefinitions, EnvironmentSet::ALL)
            .unwrap_err();
        assert_eq!(
            denied.0,
            "this token cannot act in the environment prod; it acts in: dev, staging"
        );
        let client = token(Role::Client, &[Environment::Dev]);
        assert_eq!(
            client
                .require_all(Action::Evaluate, EnvironmentSet::ALL)
                .unwrap_err()
                .0,
            "this token cannot act in the environments staging, prod; it acts in: dev"
        );
        // The role is checked first: a client is told about its role, not the environment.
        let client = token(Role::Client, &[Environment::Dev]);
        assert!(client
            .require_in(Action::ReadSnapshot, Environment::Dev)
            .unwrap_err()
            .0
            .starts_with("this token (role client) cannot read snapshots"));
    }

    #[test]
    fn the_bootstrap_tokens() {
        let admin = Principal::bootstrap_admin();
        assert_eq!(admin.id.to_string(), "ADMIN_TOKEN");
        assert!(admin
            .require_all(Action::ManageTokens, EnvironmentSet::ALL)
            .is_ok());
        let edge = Principal::bootstrap_edge();
        assert_eq!(edge.id.to_string(), "EDGE_TOKEN");
        assert!(edge
            .require_in(Action::ReadSnapshot, Environment::Prod)
            .is_ok());
        assert!(edge.require(Action::ReadDefinitions).is_err());
    }
}
