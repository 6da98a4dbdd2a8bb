//! The store on PostgreSQL over TLS, against a real PostgreSQL started
//! with `ssl=on` and a certificate for `localhost` from a test CA: libpq's
//! `sslmode` semantics, and a failure that says what to fix for each way
//! TLS goes wrong.

use deputy::broker::store::Store;

use crate::support::{postgres, postgres_tls, test_ca};

async fn open(url: &str) -> Result<(), String> {
    Store::open(url)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_postgresql_verifies_what_it_is_asked_to() {
    let pg = postgres_tls();
    let ca = pg.ca_file.as_ref().unwrap().display().to_string();
    let db = pg.fresh_database();
    let on = |host: &str, params: &str| format!("{}?{params}", db.replace("127.0.0.1", host));

    // The right CA and the name the certificate carries: connected.
    open(&on(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await
    .unwrap();
    // `require` encrypts without checking the certificate, as in libpq.
    open(&on("127.0.0.1", "sslmode=require")).await.unwrap();
    // `verify-ca` checks the CA; unlike libpq, sqlx with this rustls also
    // checks the name, so it is as strict as verify-full.
    open(&on(
        "localhost",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .await
    .unwrap();

    // Another CA.
    let other = tempfile::tempdir().unwrap();
    let wrong_ca = test_ca(other.path()).display().to_string();
    let e = open(&on(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={wrong_ca}"),
    ))
    .await
    .unwrap_err();
    assert!(
        e.contains("not signed by a CA deputy trusts") && e.contains("sslrootcert"),
        "{e}"
    );
    // A host name the certificate does not carry.
    let e = open(&on(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await
    .unwrap_err();
    assert!(e.contains("does not name this host"), "{e}");
    // A CA file that is not there: named, once, before any connection.
    let missing = other.path().join("no-such-ca.pem");
    let e = open(&on(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", missing.display()),
    ))
    .await
    .unwrap_err();
    assert!(
        e.contains(&format!("sslrootcert names {}", missing.display()))
            && e.matches("No such file").count() == 1,
        "{e}"
    );
    // `require` against a server without TLS.
    let plain = postgres().fresh_database();
    let e = open(&format!("{plain}?sslmode=require")).await.unwrap_err();
    assert!(e.contains("does not offer TLS"), "{e}");
}

/// A password with characters URLs reserve: percent-encoded it connects
/// (the test server trusts loopback, so the password is not checked, but
/// the URL is read as meant); written raw, the URL is refused before any
/// connection with what to do, and no part of the password is repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_with_reserved_characters_must_be_percent_encoded() {
    let db = postgres().fresh_database();
    let with = |password: &str| db.replacen("postgres@", &format!("postgres:{password}@"), 1);
    open(&with("p%40ss%3Fw%26rd%251")).await.unwrap();
    for raw in ["p@ss?w&rd%1", "p@ss#w&rd%1", "p@ss?word=1"] {
        let e = open(&with(raw)).await.unwrap_err();
        assert!(e.contains("percent-encode"), "{raw}: {e}");
        for part in ["w&rd", "rd%1", "word="] {
            assert!(!e.contains(part), "{raw}: a part of the password in {e}");
        }
    }
}

/// The broker's connections name themselves `deputy` to PostgreSQL (its
/// `pg_stat_activity` and logs), unless the store URL names them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_named_deputy_unless_the_url_says_otherwise() {
    sqlx::any::install_default_drivers();
    for (params, name) in [("", "deputy"), ("?application_name=deputy-eu", "deputy-eu")] {
        let db = postgres().fresh_database();
        let store = Store::open(&format!("{db}{params}")).await.unwrap();
        assert!(store.ping().await);
        let watcher = sqlx::AnyPool::connect(&db).await.unwrap();
        let named: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE application_name = $1 AND datname = current_database()",
        )
        .bind(name)
        .fetch_one(&watcher)
        .await
        .unwrap();
        assert!(named >= 1, "no connection named {name}");
    }
}
