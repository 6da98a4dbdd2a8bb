//! Work on a store with the broker stopped or beside it, from the machine
//! that holds the store: `deputy migrate`, `deputy backup` and `deputy
//! recover-admin-key`. Each opens the store with its own credentials,
//! which is already full control of the broker.

use std::path::Path;

use super::server::{admin_key, write_key_file};
use super::store::{Store, StoreOptions};

/// Exit code of `deputy migrate --check` when migrations are pending (1
/// is an error: the store unreachable, a newer schema).
const PENDING: i32 = 2;

/// `deputy migrate`: with `check`, reports the schema's version and the
/// migrations pending, changing no data (exit [`PENDING`] when some are);
/// else applies them. Both refuse a schema a newer deputy wrote.
pub async fn migrate(store_url: &str, check: bool) -> anyhow::Result<i32> {
    let store = existing(store_url).await?;
    let schema = store.schema().await?;
    if let Some(refusal) = schema.refusal() {
        anyhow::bail!(refusal);
    }
    if check {
        println!("{}", schema.summary());
        return Ok(if schema.pending.is_empty() {
            0
        } else {
            PENDING
        });
    }
    let applied = store.migrate().await?;
    for (version, what) in &applied {
        println!("applied migration {version} ({what})");
    }
    println!("{}", store.schema().await?.summary());
    Ok(0)
}

/// `deputy backup`: a consistent copy of a SQLite store, taken while the
/// broker serves.
pub async fn backup(store_url: &str, to: &Path) -> anyhow::Result<()> {
    let store = existing(store_url).await?;
    let backup = store.backup_to(to).await?;
    println!(
        "backed up the store to {} ({} bytes, schema version {}, {} stacks, {} integrations; \
         integrity checked)",
        to.display(),
        backup.bytes,
        backup.schema_version,
        backup.stacks,
        backup.integrations
    );
    Ok(())
}

/// The store at `store_url`, which must exist: a mistyped SQLite path is
/// refused, not created empty.
async fn existing(store_url: &str) -> anyhow::Result<Store> {
    Store::connect(
        store_url,
        StoreOptions {
            create_missing: false,
            ..StoreOptions::default()
        },
    )
    .await
}

/// `deputy recover-admin-key`: a new admin key minted straight into the
/// store, for when no usable admin key is left (the last one expired, or
/// was lost). Only whoever can open the store (its file, or its database
/// credentials) can do this, which is already full control of the broker;
/// audited as `key.recover`.
pub async fn recover_admin_key(
    store_url: &str,
    path: &Path,
    lifetime: Option<u64>,
) -> anyhow::Result<()> {
    let store = existing(store_url).await?;
    let schema = store.schema().await?;
    if let Some(refusal) = schema.refusal() {
        anyhow::bail!(refusal);
    }
    if !schema.pending.is_empty() {
        anyhow::bail!(
            "{}: run `deputy migrate` (or start the broker) first, then recover",
            schema.summary()
        );
    }
    let minted = admin_key("recovery admin key (deputy recover-admin-key)", lifetime);
    write_key_file(path, &minted.token).map_err(|e| {
        anyhow::anyhow!(
            "cannot write the recovery key to {} ({e}): name a new file",
            path.display()
        )
    })?;
    let audit = crate::wire::AuditEvent::new(
        None,
        crate::model::audit::KEY_RECOVER,
        &format!("key/{}", minted.stored.key.id),
    );
    if let Err(e) = store.insert_key(&minted.stored, &audit, None).await {
        let _ = std::fs::remove_file(path);
        anyhow::bail!("cannot store the recovery key: {e}");
    }
    eprintln!(
        "deputy: minted admin key {} into the store and wrote it to {} (mode 0600); use it with \
         `export DEPUTY_TOKEN_FILE={}`, create named admin keys, then revoke it",
        minted.stored.key.id,
        path.display(),
        path.display()
    );
    Ok(())
}
