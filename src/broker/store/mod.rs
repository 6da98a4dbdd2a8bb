//! The system of record, on SQLite (embedded, the default) or PostgreSQL
//! (several broker replicas sharing state), through one `sqlx::AnyPool` and
//! one set of portable SQL, so both stores behave the same by construction.
//!
//! Integrity lives in the schema (`migrations/`): unique names, foreign keys,
//! and the `stack_phases` constraint that allows one integration serving
//! each stack's phase (and one waiting to take it over). Multi-row changes run in a transaction. Handlers never check a
//! rule the database can check; they translate its refusals into 409s.

pub mod attachments;
mod audit;
mod backup;
mod former_trust;
mod health;
mod idempotency;
mod integrations;
mod keys;
mod page;
mod pending;
mod runner_trusts;
mod schema;
mod sessions;
mod spaces;
mod stacks;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

pub use backup::Backup;
pub use idempotency::Once;
pub use integrations::{Reverified, VendTarget};
pub use keys::StoredKey;
pub use page::Page;
pub use pending::Pending;
pub use schema::Schema;

/// Numbered migrations, embedded in the binary (see [`schema`]).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    sqlite: bool,
    /// Whether the store answered its last health check ([`Store::watch`]).
    up: Arc<AtomicBool>,
    /// Whether it writes ([`Store::can_write`]).
    writes: Arc<health::WriteHealth>,
}

/// How the broker uses its store's connections.
#[derive(Clone, Copy, Debug)]
pub struct StoreOptions {
    /// How long a request waits for a connection before it is answered 503
    /// `store_unavailable`: a store that is down is said at once, not
    /// after a long hang.
    pub acquire_timeout: Duration,
    /// Connections per replica; `None`: 16 on PostgreSQL, 8 on SQLite.
    pub max_connections: Option<u32>,
    /// Whether a SQLite file that does not exist is created (a broker's
    /// first start) or refused (maintenance, where it means a wrong path).
    pub create_missing: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            acquire_timeout: Duration::from_secs(2),
            max_connections: None,
            create_missing: true,
        }
    }
}

impl Store {
    /// Opens (creating if needed) the store at `url` — `postgres://...`, or
    /// `sqlite://PATH` or a plain file path — and brings its schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        let store = Self::connect(url, StoreOptions::default()).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to the store at `url` (see [`Store::open`]) with `options`,
    /// leaving its schema as it is.
    pub async fn connect(url: &str, options: StoreOptions) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let url = if postgres {
            let url = postgres_url(url)?;
            let mut parsed = url::Url::parse(&url)?;
            check_files(&parsed)?;
            // So the database's operator sees whose connections these are
            // (pg_stat_activity, its logs), unless the URL names them.
            if !parsed.query_pairs().any(|(k, _)| k == "application_name") {
                parsed
                    .query_pairs_mut()
                    .append_pair("application_name", "deputy");
            }
            parsed.to_string()
        } else {
            sqlite_url(url, options.create_missing)?
        };
        let connect = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let is_sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            // SQLite has one writer at a time; more connections only add
            // lock contention for writes while reads use WAL snapshots.
            .max_connections(
                options
                    .max_connections
                    .unwrap_or(if is_sqlite { 8 } else { 16 }),
            )
            .acquire_timeout(options.acquire_timeout)
            // A transaction whose COMMIT failed may have been rolled back by
            // the database itself (SQLite does on a full disk), and then the
            // driver's own ROLLBACK fails and it still counts one open:
            // every later BEGIN on that connection would fail. Such a
            // connection is closed instead of handed out (its release
            // already flushed the rollback, so the count is current).
            .before_acquire(|conn, _| {
                Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
            })
            .connect_with(connect)
            .await
            .map_err(|e| {
                if postgres {
                    postgres_connect_error(&url, &e)
                } else {
                    e.into()
                }
            })?;
        if is_sqlite {
            // Persistent in the file: readers work from snapshots and never
            // block the single writer.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        Ok(Store {
            pool,
            sqlite: is_sqlite,
            up: Arc::new(AtomicBool::new(true)),
            writes: Arc::default(),
        })
    }

    /// A transaction that writes. SQLite must take its write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then
    /// writes fails with "database is locked" when another writer committed
    /// in between, instead of waiting its turn.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        let begun = self
            .pool
            .begin_with(if self.sqlite {
                "BEGIN IMMEDIATE"
            } else {
                "BEGIN"
            })
            .await;
        if begun.is_err() {
            self.note_write(&begun);
        }
        begun
    }

    /// Commits a [`Store::write_tx`], noting whether the store took it.
    async fn commit(&self, tx: sqlx::Transaction<'static, sqlx::Any>) -> Result<(), sqlx::Error> {
        let committed = tx.commit().await;
        self.note_write(&committed);
        committed
    }

    /// The database's clock. Leases and claims compare instants that
    /// different replicas wrote, so they all read one clock: a replica
    /// whose own clock is off must not see another's lease as run out.
    pub async fn clock(&self) -> Result<time::OffsetDateTime, sqlx::Error> {
        let sql = if self.sqlite {
            "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        } else {
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        };
        let text: String = sqlx::query_scalar(sql).fetch_one(&self.pool).await?;
        crate::model::timestamp::parse(&text)
            .ok_or_else(|| sqlx::Error::Protocol(format!("the database's clock answered {text:?}")))
    }

    /// Connections open and, of those, idle (for `/metrics`).
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// The most connections the pool opens.
    pub fn pool_max(&self) -> u32 {
        self.pool.options().get_max_connections()
    }
}

/// A PostgreSQL URL with libpq's `sslmode` semantics (`disable`, `prefer`,
/// `require`, `verify-ca`, `verify-full`; `sslrootcert`, `sslcert` and
/// `sslkey` for a private CA and client certificates). Without `sslmode`,
/// the connection gets `verify-full`: the registry (key hashes, role ARNs)
/// must not cross a network in clear or to an impostor. Only a Unix socket
/// or a loopback address keeps libpq's default, `prefer`; the name
/// `localhost` does not, since a resolver or `/etc/hosts` decides where it
/// goes.
fn postgres_url(url: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url).map_err(|e| {
        anyhow::anyhow!("the store URL is not a PostgreSQL URL: {e}. {PERCENT_ENCODE}")
    })?;
    check_parameters(&parsed)?;
    if parsed.query_pairs().any(|(k, _)| k == "sslmode") {
        return Ok(url.to_string());
    }
    if !exempt_from_verify_full(&parsed) {
        parsed
            .query_pairs_mut()
            .append_pair("sslmode", "verify-full");
    }
    Ok(parsed.to_string())
}

/// What to do when a URL is misread: the usual cause, said without
/// repeating anything of the URL.
const PERCENT_ENCODE: &str = "If the user name or password holds any of @ : / ? # % & = + or a \
     space, percent-encode it (p@ss?1 is written p%40ss%3F1)";

/// The connection parameters the PostgreSQL driver understands. It skips
/// any other with a log line that repeats the parameter, value included.
const KNOWN_PARAMETERS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

/// Refuses a URL the driver would misread: a parameter it does not know
/// or a `#` part. Both come, most often, from a password with an
/// unencoded `?` or `#`, which ends the credentials early and turns the
/// rest of the password into the query or the fragment, where the driver
/// would log it and drop what follows (`sslmode` included). The message
/// repeats nothing of the URL.
fn check_parameters(url: &url::Url) -> anyhow::Result<()> {
    if url.fragment().is_some() {
        anyhow::bail!(
            "the store URL has a `#` part, which PostgreSQL URLs never have. {PERCENT_ENCODE}."
        );
    }
    for (n, (key, _)) in url.query_pairs().enumerate() {
        if KNOWN_PARAMETERS.contains(&key.as_ref()) {
            continue;
        }
        // Not even a name that looks like one: `p@ss?word=1` puts "word"
        // there.
        anyhow::bail!(
            "the store URL's parameter number {} (not shown: it may hold part of a password) \
             is not one deputy's PostgreSQL driver knows ({}). {PERCENT_ENCODE}.",
            n + 1,
            KNOWN_PARAMETERS.join(", ")
        );
    }
    Ok(())
}

/// The URL's certificate and key files, read now so a wrong path is said
/// once with its name (the driver says "No such file or directory" at
/// every connection attempt, naming nothing). Paths are no secret.
fn check_files(url: &url::Url) -> anyhow::Result<()> {
    for (key, path) in url.query_pairs() {
        let what = match key.as_ref() {
            "sslrootcert" | "ssl-root-cert" | "ssl-ca" => "the CA certificate (PEM) of the server",
            "sslcert" | "ssl-cert" => "the client certificate (PEM)",
            "sslkey" | "ssl-key" => "the client certificate's key (PEM)",
            _ => continue,
        };
        if let Err(e) = std::fs::File::open(path.as_ref()) {
            anyhow::bail!(
                "the store URL's {key} names {path}, which cannot be read ({e}): give the path of \
                 {what}, readable by this user (under the systemd unit, a LoadCredential= copy in \
                 /run/credentials/deputy.service/)"
            );
        }
    }
    Ok(())
}

/// Whether the connection a PostgreSQL URL makes stays on this machine,
/// judged where libpq takes the target from: `hostaddr` (the address
/// connected to) over `host` (a name, or a socket directory when it starts
/// with `/`) over the URL's authority (none: the default socket). Every
/// value counts when a parameter lists several hosts.
fn exempt_from_verify_full(url: &url::Url) -> bool {
    let param = |name: &str| -> Vec<String> {
        url.query_pairs()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|h| h.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let loopback_address = |h: &str| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    };
    let hostaddr = param("hostaddr");
    if !hostaddr.is_empty() {
        return hostaddr.iter().all(|h| loopback_address(h));
    }
    let host = param("host");
    if !host.is_empty() {
        return host
            .iter()
            .all(|h| h.starts_with('/') || loopback_address(h));
    }
    // `postgres:` is not a scheme the URL standard knows, so its host
    // comes back as text, IP addresses included.
    match url.host_str() {
        None | Some("") => true,
        Some(h) => loopback_address(h),
    }
}

/// A failed connection to PostgreSQL, with what to change when TLS is
/// what failed. The URL's password is never repeated.
fn postgres_connect_error(url: &str, e: &sqlx::Error) -> anyhow::Error {
    let text = format!("{e}");
    let chain = {
        let mut all = text.clone();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            all.push_str(": ");
            all.push_str(&s.to_string());
            source = s.source();
        }
        all
    };
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    // BadSignature: a CA of the trusted one's name that did not sign it.
    let fix = if ["UnknownIssuer", "unknown issuer", "BadSignature"]
        .iter()
        .any(|s| chain.contains(s))
    {
        "the server's certificate is not signed by a CA deputy trusts: add \
         sslrootcert=/path/to/ca.pem to the store URL (for RDS, the region's certificate bundle)"
    } else if chain.contains("NotValidForName") || chain.contains("not valid for name") {
        "the server's certificate does not name this host: connect with a host name the \
         certificate names (listed above)"
    } else if chain.contains("does not support TLS") || chain.contains("not support SSL") {
        "the server does not offer TLS: turn on ssl in its configuration, or, on a network \
         you trust, use sslmode=prefer"
    } else {
        "check the host, port, credentials and sslmode in the store URL"
    };
    anyhow::anyhow!("cannot connect to PostgreSQL at {host}: {chain}. Fix: {fix}")
}

/// `sqlite://PATH`, creating the file (and its directory) on first start.
/// sqlx's SQLite defaults are the ones deputy relies on: foreign keys
/// enforced, `synchronous=FULL` (an acknowledged write survives a crash),
/// and a busy timeout instead of instant "database is locked" errors.
///
/// What deputy creates is private to its user: the directory 0700, the
/// database 0600 (SQLite gives its `-wal` and `-shm` files the database's
/// mode), so other local users cannot read the registry or the audit
/// trail. Existing files keep the mode their operator chose.
fn sqlite_url(url: &str, create_missing: bool) -> anyhow::Result<String> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if !path.is_empty() && !Path::new(path).exists() {
        if !create_missing {
            anyhow::bail!("there is no store at {path}: check --store (or DEPUTY_STORE)");
        }
        // An empty file is an empty SQLite database.
        super::files::create_private(Path::new(path))
            .map_err(|e| cannot_write(Path::new(path), &e))?;
    }
    writable(Path::new(path))?;
    Ok(format!("sqlite://{path}?mode=rwc"))
}

/// Checks that SQLite can use the store at `path`: the file readable and
/// writable, and its directory writable, where SQLite keeps the `-wal`
/// and `-shm` files beside it even to read. Otherwise the driver says
/// "attempt to write a readonly database" or "unable to open database
/// file", naming nothing.
fn writable(path: &Path) -> anyhow::Result<()> {
    use nix::unistd::{AccessFlags, access};
    if path.as_os_str().is_empty() {
        return Ok(());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    access(path, AccessFlags::R_OK | AccessFlags::W_OK)
        .map_err(|e| cannot_write(path, &std::io::Error::from(e)))?;
    access(dir, AccessFlags::W_OK | AccessFlags::X_OK)
        .map_err(|e| cannot_write(dir, &std::io::Error::from(e)))
}

/// What to do when the SQLite store's file or directory cannot be
/// written: which path, why, and the usual fixes.
fn cannot_write(path: &Path, e: &std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "the SQLite store cannot write {} ({e}). deputy writes the database and its -wal and \
         -shm files in one directory: give the user deputy runs as write access to it (the \
         systemd unit's is /var/lib/deputy; in the container, mount a writable volume at \
         /var/lib/deputy), or point --store (DEPUTY_STORE) at a writable directory",
        path.display()
    )
}

/// Reads a text column through a `model` type. A stored value that breaks
/// the rule means the database was changed behind the broker's back: an
/// internal error naming the column, not a silently wrong answer.
fn parsed<T: FromStr<Err = crate::model::Invalid>>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> crate::broker::error::ApiResult<T> {
    use sqlx::Row;
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e: crate::model::Invalid| {
        crate::broker::error::ApiError::Internal(format!("stored {column}: {e}"))
    })
}

/// Reads a label map (JSON text; see the first migration).
fn labels_from(row: &sqlx::any::AnyRow) -> crate::broker::error::ApiResult<crate::wire::Labels> {
    use sqlx::Row;
    let text: String = row.try_get("labels")?;
    serde_json::from_str(&text)
        .map_err(|e| crate::broker::error::ApiError::Internal(format!("stored labels: {e}")))
}

/// A label map as stored.
fn labels_to_text(labels: &crate::wire::Labels) -> String {
    serde_json::to_string(labels).expect("string map serializes")
}

/// Reads a 0/1 column as a bool (see the migration for why not BOOLEAN).
fn flag(row: &sqlx::any::AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(column)? != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_the_driver_would_misread_is_refused_without_repeating_the_password() {
        for (url, secret) in [
            // `?` ends the authority: the rest of the password becomes a
            // parameter (here after an `@` that made "s3cr3t" the host).
            (
                "postgres://deputy:p@s3cr3t?x@db.example.com/deputy",
                "s3cr3t",
            ),
            (
                "postgres://deputy:p@ss?s3cr3t=1@db.example.com/d?sslmode=verify-full",
                "s3cr3t",
            ),
            // ... or a port that is no number.
            ("postgres://deputy:s3cr3t?x@db.example.com/d", "s3cr3t"),
            // `#` makes the rest a fragment.
            ("postgres://deputy:p@s3#cr3t@db.example.com/deputy", "cr3t"),
        ] {
            let e = postgres_url(url).unwrap_err().to_string();
            assert!(e.contains("percent-encode"), "{e}");
            assert!(!e.contains(secret), "{e}");
        }
        let typo = postgres_url("postgres://db.example.com/d?sslrootcert=/ca.pem&sslmod=disable")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("parameter number 2"), "{typo}");
        // Percent-encoded, the same password is fine.
        let fine = postgres_url("postgres://deputy:pass%3Fword%40%26%25@db.example.com/d").unwrap();
        assert!(fine.ends_with("sslmode=verify-full"), "{fine}");
    }

    #[test]
    fn remote_postgresql_defaults_to_verify_full_and_an_explicit_sslmode_is_kept() {
        let remote = postgres_url("postgres://u:p@db.example.com/deputy").unwrap();
        assert_eq!(
            remote,
            "postgres://u:p@db.example.com/deputy?sslmode=verify-full"
        );
        let with_ca = postgres_url("postgres://db.example.com/d?sslrootcert=/ca.pem").unwrap();
        assert!(
            with_ca.ends_with("sslrootcert=/ca.pem&sslmode=verify-full"),
            "{with_ca}"
        );
        for kept in [
            "postgres://db.example.com/d?sslmode=disable",
            "postgres://127.0.0.1:5432/d",
            "postgres://[::1]/d",
            "postgresql:///d?host=/run/postgresql",
            "postgres://db.example.com/d?host=/run/postgresql",
            "postgres://db.example.com/d?hostaddr=127.0.0.1",
            "postgres:///d",
        ] {
            assert_eq!(postgres_url(kept).unwrap(), kept);
        }
        // libpq connects where `hostaddr` or `host` says, whatever the
        // authority: those decide. A name is never taken for loopback.
        for verified in [
            "postgres://localhost/d",
            "postgres://127.0.0.1/d?host=db.example.com",
            "postgres://127.0.0.1/d?hostaddr=10.0.0.5",
            "postgres:///d?host=db.example.com",
            "postgres:///d?host=/run/postgresql,db.example.com",
            "postgres://localhost/d?hostaddr=127.0.0.1,10.0.0.5",
        ] {
            assert!(
                postgres_url(verified)
                    .unwrap()
                    .ends_with("sslmode=verify-full"),
                "{verified}"
            );
        }
    }
}
