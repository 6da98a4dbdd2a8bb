//! Whether the store can serve, as `/readyz` and `deputy_store_up` tell
//! it: whether it answers (checked every second in the background, so a
//! probe never waits on a store that hangs) and whether it can write (a
//! full disk, a read-only file or a read-only replica answer reads but
//! refuse every change).
//!
//! A refused write marks the store unwritable. From then on the background
//! check writes one row itself, so the mark clears once writing works
//! again even when `/readyz` has taken the broker out of rotation and no
//! request writes; it also stays for [`UNWRITABLE_HOLD`] after the last
//! refusal, since a small write can fit where the refused one did not.

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Store;
use crate::broker::error::refuses_writes;

/// How often, and how long at most, [`Store::watch`] checks the store.
const HEALTH_EVERY: Duration = Duration::from_secs(1);
const HEALTH_TIMEOUT: Duration = Duration::from_millis(900);

/// How long after a refused write the store counts as unwritable at least.
pub const UNWRITABLE_HOLD: Duration = Duration::from_secs(5);

/// The last refused write, if writing has not worked since.
#[derive(Default)]
pub(super) struct WriteHealth {
    refused_at: Mutex<Option<Instant>>,
}

impl WriteHealth {
    fn refused(&self) -> Option<Instant> {
        *self.refused_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, at: Option<Instant>) {
        *self.refused_at.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Store {
    /// Checks every second, until `stop`, whether the store answers within
    /// a second and, while a write was refused, whether it writes again.
    pub async fn watch(&self, stop: impl std::future::Future<Output = ()>) {
        let checks = async {
            loop {
                let answered = tokio::time::timeout(HEALTH_TIMEOUT, self.ping())
                    .await
                    .unwrap_or(false);
                let was = self.up.swap(answered, Ordering::SeqCst);
                match (was, answered) {
                    (true, false) => tracing::warn!(
                        "the store does not answer; requests that need it get 503 until it does"
                    ),
                    (false, true) => tracing::info!("the store answers again"),
                    _ => {}
                }
                if answered && self.writes.refused().is_some() {
                    let _ = tokio::time::timeout(HEALTH_TIMEOUT, self.write_probe()).await;
                }
                tokio::time::sleep(HEALTH_EVERY).await;
            }
        };
        tokio::select! {
            () = checks => {}
            () = stop => {}
        }
    }

    /// Whether the store answered its last health check.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    /// Whether writes work: none refused, or one has worked since and
    /// the last refusal is [`UNWRITABLE_HOLD`] old.
    pub fn can_write(&self) -> bool {
        self.writes.refused().is_none()
    }

    /// Records how a write ended, for [`Store::can_write`].
    pub(super) fn note_write<T>(&self, result: &Result<T, sqlx::Error>) {
        match result {
            Err(e) if refuses_writes(e) => {
                if self.writes.refused().is_none() {
                    tracing::warn!(
                        error = %e,
                        "the store refuses writes (full disk, read-only file or replica?); \
                         /readyz answers 503 until it writes again"
                    );
                }
                self.writes.set(Some(Instant::now()));
            }
            Ok(_) => {
                if let Some(at) = self.writes.refused()
                    && at.elapsed() >= UNWRITABLE_HOLD
                {
                    self.writes.set(None);
                    tracing::info!("the store writes again");
                }
            }
            Err(_) => {}
        }
    }

    /// One committed write of one row, to learn whether writing works.
    async fn write_probe(&self) {
        let result = async {
            let mut tx = self.write_tx().await?;
            sqlx::query(
                "INSERT INTO store_probe (id, written_at) VALUES (1, ?) \
                 ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at",
            )
            .bind(crate::model::timestamp::now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        }
        .await;
        self.note_write(&result);
    }

    /// Whether the store answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}
