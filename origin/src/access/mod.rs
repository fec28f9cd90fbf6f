//! Who may do what: roles, the environments a token acts in, the caller a request was verified as,
//! the secrets of stored tokens, the stream tickets made from them, and the actor an audit entry names.
//!
//! A leaf of pure values and decisions: no I/O and nothing of the store's or the HTTP layer's, so
//! the store (which keeps tokens and writes the actor), the token verifier (`crate::tokens`) and
//! the handlers all share these shapes without reaching into each other.

mod actor;
mod environments;
mod principal;
mod role;
mod secret;
pub mod ticket;

pub use self::actor::{Actor, MAX_NOTE_LEN};
pub use self::environments::EnvironmentSet;
pub use self::principal::{Denied, Principal, TokenId};
pub use self::role::{Action, Role};
pub use self::secret::{SecretHash, TokenSecret, SECRET_PREFIX};
pub use self::ticket::{Ticket, TicketError};
