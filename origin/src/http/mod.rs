//! The HTTP layer: the serve loop and its limits (`server`), what every request passes through
//! around the router (`frame`: request id, span, `nosniff`, body limit), the routes and their handlers
//! (`routes`), token checks (`auth`), request bodies (`body`), the one error type of the boundary
//! (`error`), the state every handler shares (`state`) and the OpenAPI document built from the
//! routes (`openapi`), and the web console's embedded files (`console`). Below it: the admin service
//! (`crate::admin`, every write), the read path (`crate::flagset`) and the store (`crate::store`).

pub(crate) mod auth;
pub(crate) mod body;
pub(crate) mod console;
pub(crate) mod error;
pub(crate) mod frame;
pub(crate) mod openapi;
pub(crate) mod rate_limit;
pub(crate) mod routes;
pub(crate) mod server;
pub(crate) mod state;
