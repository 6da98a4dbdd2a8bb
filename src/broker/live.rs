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
    /// By integration: the verification that began last (its number) and
    /// its lines. An earlier one still running says nothing more, and its
    /// end does not remove the later one's entry.
    running: Mutex<HashMap<String, (u64, Vec<String>)>>,
    started: std::sync::atomic::AtomicU64,
}

impl Live {
    /// Marks a verification of `integration` as running until the guard
    /// is dropped.
    pub fn begin(self: &Arc<Self>, integration: &str) -> Running {
        let run = self
            .started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock()
            .insert(integration.to_string(), (run, Vec::new()));
        Running {
            live: self.clone(),
            integration: integration.to_string(),
            run,
        }
    }

    /// What the running verification of `integration` has said, if one
    /// runs here.
    pub fn lines(&self, integration: &str) -> Option<Vec<String>> {
        self.lock().get(integration).map(|(_, lines)| lines.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, Vec<String>)>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running verification; dropping it ends the entry.
pub struct Running {
    live: Arc<Live>,
    integration: String,
    run: u64,
}

impl Running {
    pub fn say(&self, line: String) {
        if let Some((run, lines)) = self.live.lock().get_mut(&self.integration)
            && *run == self.run
        {
            if lines.len() == KEEP {
                lines.remove(0);
            }
            lines.push(line);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut running = self.live.lock();
        if running
            .get(&self.integration)
            .is_some_and(|(run, _)| *run == self.run)
        {
            running.remove(&self.integration);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_verification_speaks_and_each_ends_only_itself() {
        let live = Arc::new(Live::default());
        assert_eq!(live.lines("i"), None);
        let first = live.begin("i");
        first.say("one".into());
        assert_eq!(live.lines("i"), Some(vec!["one".to_string()]));
        let second = live.begin("i");
        first.say("stale".into());
        second.say("two".into());
        drop(first);
        assert_eq!(live.lines("i"), Some(vec!["two".to_string()]));
        for n in 0..KEEP + 5 {
            second.say(n.to_string());
        }
        let lines = live.lines("i").unwrap();
        assert_eq!(lines.len(), KEEP);
        assert_eq!(lines.last().unwrap(), &(KEEP + 4).to_string());
        drop(second);
        assert_eq!(live.lines("i"), None);
    }
}
