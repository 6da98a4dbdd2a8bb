//! Whether the store can serve, as `/readyz` and `deputy_store_up` tell
//! it: whether it answers (checked every second in the background, so a
//! probe never waits on a store that hangs) and whether it can write (a
//! full disk, a read-only file or a read-only replica answer reads but
//! refuse every change).
//!
//! A refused write marks the store unwritable, wherever it was refused:
//! in the store's own transactions, or in any request whose answer says
//! so. From then on the background
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
const UNWRITABLE_HOLD: Duration = Duration::from_secs(5);

/// The last refused write, if writing has not worked since. Each change
/// is one step under the lock: a refusal that lands while a success is
/// being recorded is never wiped out by it.
#[derive(Default)]
pub(super) struct WriteHealth {
    refused_at: Mutex<Option<Instant>>,
}

impl WriteHealth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.refused_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_marked(&self) -> bool {
        self.lock().is_some()
    }

    /// Marks a refusal; true when it is the first since writes worked.
    fn refused(&self) -> bool {
        self.lock().replace(Instant::now()).is_none()
    }

    /// Records a write that worked; true when it clears the mark.
    fn worked(&self) -> bool {
        let mut refused_at = self.lock();
        match *refused_at {
            Some(at) if at.elapsed() >= UNWRITABLE_HOLD => {
                *refused_at = None;
                true
            }
            _ => false,
        }
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
                if answered && self.writes.is_marked() {
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
        !self.writes.is_marked()
    }

    /// Marks the store unwritable: a write was refused, here or where an
    /// answer said so (the app layer reports every
    /// [`crate::broker::error::RefusedWrite`]).
    pub fn refused_write(&self) {
        if self.writes.refused() {
            tracing::warn!(
                "the store refuses writes (full disk, read-only file or standby?); /readyz \
                 answers 503 until it writes again"
            );
        }
    }

    /// Records how a write ended, for [`Store::can_write`].
    pub(super) fn note_write<T>(&self, result: &Result<T, sqlx::Error>) {
        match result {
            Err(e) if refuses_writes(e) => self.refused_write(),
            Ok(_) => {
                if self.writes.worked() {
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
                "INSERT INTO store_probe (id, written_at) VALUES (1, $1) \
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
