//! Verifications running on this replica, and what each has said so far:
//! the console shows it while its Verify (or attach) waits for IAM. Held in
//! memory only; a replica that is not running the verification has
//! nothing to tell, and a verification's entry goes with it however it
//! ends (finished, cancelled or panicked).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// At most this many lines are kept per verification: the latest ones.
const KEEP: usize = 20;

#[derive(Default)]
pub struct Live {
    running: Mutex<HashMap<String, Vec<String>>>,
}

impl Live {
    /// Marks a verification of `integration` as running until the guard
    /// is dropped.
    pub fn begin(self: &Arc<Self>, integration: &str) -> Running {
        self.lock().insert(integration.to_string(), Vec::new());
        Running {
            live: self.clone(),
            integration: integration.to_string(),
        }
    }

    /// What the running verification of `integration` has said, if one
    /// runs here.
    pub fn lines(&self, integration: &str) -> Option<Vec<String>> {
        self.lock().get(integration).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<String>>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running verification; dropping it ends the entry.
pub struct Running {
    live: Arc<Live>,
    integration: String,
}

impl Running {
    pub fn say(&self, line: String) {
        if let Some(lines) = self.live.lock().get_mut(&self.integration) {
            if lines.len() == KEEP {
                lines.remove(0);
            }
            lines.push(line);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.live.lock().remove(&self.integration);
    }
}
