//! The snapshot the edge syncs from the origin: one environment's flags and segments at one revision.

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::flag::{Environment, Flag};
use crate::segment::Segment;

/// `{environment, revision, flags, segments}`, as `GET /api/flags/snapshot` serves it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The environment the flags belong to.
    pub environment: Environment,
    /// Grows with every write to the environment.
    pub revision: u64,
    /// Every flag of the environment.
    pub flags: Vec<Flag>,
    /// Every segment of the environment; absent in a snapshot from before segments, so none.
    #[serde(default)]
    pub segments: Vec<Segment>,
}
