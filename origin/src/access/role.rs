//! Roles, and what each may do.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a token is for. Ordered from the most to the least it may do among the people's roles;
/// `server` and `client` are the services' roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, in every environment, tokens included.
    Admin,
    /// Reads and writes flags and segments (and the kill switch), reads the audit log.
    Editor,
    /// Reads flags, segments and the audit log.
    Viewer,
    /// Reads snapshots (and the change stream): the edge worker and server-side SDKs.
    Server,
    /// Evaluates: browsers, mobile apps and anything that only asks for answers.
    Client,
}

/// What a request does, as far as access is concerned: each route belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `POST /api/evaluate` (and OFREP).
    Evaluate,
    /// The snapshot (and the change stream).
    ReadSnapshot,
    /// Flags, segments and the audit log, read.
    ReadDefinitions,
    /// Flags and segments written, the kill switch.
    WriteDefinitions,
    /// Tokens listed, created and revoked.
    ManageTokens,
    /// `GET /metrics`: counts of every environment, flag keys and variant names included, which
    /// every role but `client` (that may sit in a browser) can read elsewhere already.
    ReadMetrics,
    /// `POST /api/usage`: evaluation counts made elsewhere (the edge worker's).
    ReportUsage,
    /// `GET /api/admin/contexts`: the sample of recent evaluation contexts, personal data, for
    /// the console's impact preview of a change (so the roles that change flags).
    ReadContexts,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Editor,
        Role::Viewer,
        Role::Server,
        Role::Client,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
            Role::Server => "server",
            Role::Client => "client",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// The one table of the roles. Evaluating is open to every role ("client or higher"); a
    /// snapshot holds every flag's targeting (include lists of user ids, rules), so a client token,
    /// which may sit in a browser, does not read it.
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Editor => matches!(
                action,
                Evaluate
                    | ReadSnapshot
                    | ReadDefinitions
                    | WriteDefinitions
                    | ReadMetrics
                    | ReadContexts
            ),
            Role::Viewer => matches!(
                action,
                Evaluate | ReadSnapshot | ReadDefinitions | ReadMetrics
            ),
            Role::Server => matches!(action, Evaluate | ReadSnapshot | ReadMetrics | ReportUsage),
            Role::Client => matches!(action, Evaluate),
        }
    }
}

impl Action {
    /// What the action is, for a 403 message: "this token cannot <...>".
    pub fn describe(self) -> &'static str {
        match self {
            Action::Evaluate => "evaluate flags",
            Action::ReadSnapshot => "read snapshots",
            Action::ReadDefinitions => "read flags, segments and the audit log",
            Action::WriteDefinitions => "write flags and segments",
            Action::ManageTokens => "manage tokens",
            Action::ReadMetrics => "read metrics",
            Action::ReportUsage => "report flag usage",
            Action::ReadContexts => "read the sample of evaluation contexts",
        }
    }

    /// The roles that may, for the same message.
    pub fn roles(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |role| role.may(self))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_table() {
        use Action::*;
        let table = [
            (
                Role::Admin,
                [true, true, true, true, true, true, true, true],
            ),
            (
                Role::Editor,
                [true, true, true, true, false, true, false, true],
            ),
            (
                Role::Viewer,
                [true, true, true, false, false, true, false, false],
            ),
            (
                Role::Server,
                [true, true, false, false, false, true, true, false],
            ),
            (
                Role::Client,
                [true, false, false, false, false, false, false, false],
            ),
        ];
        let actions = [
            Evaluate,
            ReadSnapshot,
            ReadDefinitions,
            WriteDefinitions,
            ManageTokens,
            ReadMetrics,
            ReportUsage,
            ReadContexts,
        ];
        for (role, allowed) in table {
            for (action, allowed) in actions.into_iter().zip(allowed) {
                assert_eq!(role.may(action), allowed, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn names_read_back() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{role}\""));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("root"), None);
    }
}
