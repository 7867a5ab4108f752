//! Background workers (Kafka consumers, relays) that live and stop with the server.
//!
//! Each worker gets a [`CancellationToken`] that is cancelled at shutdown; it should
//! return promptly then. Stopping awaits every worker, so a process exits only when
//! its consumers have let go of their in-flight message.

use std::future::Future;

use tokio::task::JoinHandle;
pub use tokio_util::sync::CancellationToken;

/// A set of spawned workers sharing one shutdown token.
#[derive(Default)]
pub struct Workers {
    token: CancellationToken,
    tasks: Vec<(String, JoinHandle<()>)>,
}

impl Workers {
    /// No workers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns `worker` with the shared token; `name` appears in logs.
    pub fn spawn<F, Fut>(&mut self, name: impl Into<String>, worker: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let task = tokio::spawn(worker(self.token.clone()));
        self.tasks.push((name.into(), task));
    }

    /// How many workers were spawned.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when none were spawned.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Cancels the token without waiting (for `Drop` impls).
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Cancels the token and waits for every worker to return.
    pub async fn stop(self) {
        self.token.cancel();
        for (name, task) in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(worker = %name, %error, "worker panicked");
            }
        }
    }
}
