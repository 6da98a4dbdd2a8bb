//! Files the broker creates are private to its user: the file 0600 and,
//! when a missing directory is made for it, the directory 0700. The SQLite
//! store and the admin key files are made this way, so other local users
//! can read neither the registry nor a key.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Creates `path` new (never over an existing file), and its directory if
/// missing, both private to this user.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}
