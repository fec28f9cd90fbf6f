//! Pushing each committed change to the edge (`EDGE_PUSH_URL`): after a write commits, the
//! environment's new snapshot (the exact body the snapshot endpoint serves, and its
//! `Pennon-Signature` when the origin signs) is POSTed to the worker's
//! `/api/edge/push?environment=<env>` with `x-edge-token`, which hands it to the environment's hub
//! (`edge-worker/src/hub.rs`).
//!
//! Asynchronous and latest-wins: a write only records "environment E changed" (no I/O, no await)
//! and one task per environment sends whatever snapshot is current when it gets to it, so a burst
//! of writes costs one push per round trip, never a queue, and a slow or failing worker never
//! delays or fails a write. A failed push is logged and counted (`pennon_edge_pushes_total`) and
//! not retried: the hub revalidates against the origin every few seconds, and the next write
//! pushes again. The hub keeps versions moving forward only, so pushes that arrive twice or out of
//! order are harmless.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use evaluator::Environment;
use tokio::sync::watch;

use crate::config::{EdgePushTarget, Secret};
use crate::flagset::FlagSets;
use crate::revision::Revision;
use crate::signing::SnapshotSigner;

/// How long one push may take before it is given up (and counted as failed).
const PUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Pushes, by outcome, for `/metrics`.
#[derive(Debug, Default)]
pub struct PushCounts {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
}

/// The push side of the admin writes: [`EdgePush::changed`] wakes the environment's task.
#[derive(Debug)]
pub struct EdgePush {
    /// Per environment (`Environment::ALL`'s order), the latest revision written.
    written: [watch::Sender<u64>; 3],
    pub counts: Arc<PushCounts>,
}

fn index(environment: Environment) -> usize {
    match environment {
        Environment::Dev => 0,
        Environment::Staging => 1,
        Environment::Prod => 2,
    }
}

impl EdgePush {
    /// Starts one task per environment (they end with the runtime). Fails only when the HTTP
    /// client cannot be built (the system's TLS roots cannot be loaded).
    pub fn start(
        target: EdgePushTarget,
        flags: Arc<FlagSets>,
        signer: Option<Arc<SnapshotSigner>>,
    ) -> Result<Arc<Self>, reqwest::Error> {
        let counts = Arc::new(PushCounts::default());
        let mut client = reqwest::Client::builder().timeout(PUSH_TIMEOUT);
        if let Some(ca) = &target.ca {
            client = client.tls_certs_merge(ca.certificates.iter().cloned());
        }
        let client = client.build()?;
        let (url, token) = (target.url, target.token);
        let written = Environment::ALL.map(|environment| {
            let (sender, receiver) = watch::channel(0);
            tokio::spawn(push_changes(Pusher {
                environment,
                url: url.push_url(environment),
                token: token.clone(),
                client: client.clone(),
                flags: Arc::clone(&flags),
                signer: signer.clone(),
                counts: Arc::clone(&counts),
                receiver,
            }));
            sender
        });
        tracing::info!(
            url = url.base(),
            "each write's snapshot is pushed to the edge"
        );
        Ok(Arc::new(Self { written, counts }))
    }

    /// A write committed these revisions: their environments' tasks push (without waiting).
    pub fn changed(&self, revisions: &[Revision]) {
        for change in revisions {
            self.written[index(change.environment)].send_if_modified(|latest| {
                let newer = change.revision > *latest;
                if newer {
                    *latest = change.revision;
                }
                newer
            });
        }
    }
}

struct Pusher {
    environment: Environment,
    url: String,
    token: Secret,
    client: reqwest::Client,
    flags: Arc<FlagSets>,
    signer: Option<Arc<SnapshotSigner>>,
    counts: Arc<PushCounts>,
    receiver: watch::Receiver<u64>,
}

/// Waits for a change, pushes the environment's current snapshot, and again; changes made during
/// a push are coalesced into the next one.
async fn push_changes(mut pusher: Pusher) {
    while pusher.receiver.changed().await.is_ok() {
        let written = *pusher.receiver.borrow_and_update();
        match push_once(&pusher).await {
            Ok(revision) => {
                pusher.counts.sent.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(environment = %pusher.environment, revision, written, "pushed to the edge");
            }
            Err(err) => {
                pusher.counts.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(environment = %pusher.environment, written, %err, "push to the edge failed; its hub revalidates on its own");
            }
        }
    }
}

async fn push_once(pusher: &Pusher) -> Result<u64, String> {
    let set = pusher
        .flags
        .get(pusher.environment)
        .await
        .map_err(|err| format!("snapshot not loaded: {err}"))?;
    let mut request = pusher
        .client
        .post(&pusher.url)
        .header("content-type", "application/json")
        .header("x-edge-token", pusher.token.expose())
        .body(set.snapshot_json.clone());
    if let Some(signer) = &pusher.signer {
        let header = signer.header(pusher.environment, set.revision, &set.snapshot_json);
        request = request.header(http_contract::signature::HEADER, header);
    }
    let response = request.send().await.map_err(|err| err.to_string())?;
    let status = response.status();
    if status.is_success() {
        Ok(set.revision)
    } else {
        let body = response.text().await.unwrap_or_default();
        let body: String = body.chars().take(200).collect();
        Err(format!("the edge answered {status}: {body}"))
    }
}
