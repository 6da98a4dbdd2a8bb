//! A local OIDC issuer for tests: its discovery document and key set served
//! over HTTPS on loopback (a test CA the broker is told to trust), RS256
//! and ES256 signing keys that can be rotated, and tokens shaped exactly
//! like GitHub Actions' (header and claims). It can also play GitHub's
//! token service (`ACTIONS_ID_TOKEN_REQUEST_URL`), over plain HTTP on
//! loopback as the runner's own service.
//!
//! The HTTP it speaks is the least a client needs: one request per
//! connection, `Connection: close`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

struct SigningKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    public: Jwk,
}

impl SigningKey {
    fn generate(kid: &str, alg: Algorithm) -> SigningKey {
        let (pair, encoding) = match alg {
            Algorithm::RS256 => {
                let pair = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
                let key = EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()).unwrap();
                (pair, key)
            }
            Algorithm::ES256 => {
                let pair = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
                let key = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
                (pair, key)
            }
            other => panic!("the test issuer signs with RS256 or ES256, not {other:?}"),
        };
        drop(pair);
        let mut public = Jwk::from_encoding_key(&encoding, alg).unwrap();
        public.common.key_id = Some(kid.to_string());
        public.common.key_algorithm = Some(match alg {
            Algorithm::RS256 => KeyAlgorithm::RS256,
            _ => KeyAlgorithm::ES256,
        });
        SigningKey {
            kid: kid.to_string(),
            alg,
            encoding,
            public,
        }
    }
}

#[derive(Default)]
struct State {
    keys: Vec<SigningKey>,
    /// The job the token service mints tokens for: repository, event, ref.
    job: (String, String, String),
}

pub struct OidcIssuer {
    /// `https://127.0.0.1:PORT`: the `iss` of its tokens.
    pub url: String,
    /// The test CA's certificate (PEM file), for `--oidc-ca-file`.
    pub ca_file: PathBuf,
    /// `http://127.0.0.1:PORT/token?api-version=2.0`, GitHub's token
    /// service's stand-in, and the request token it wants.
    pub token_service_url: String,
    pub token_service_secret: String,
    state: Arc<Mutex<State>>,
    /// How many times the key set was fetched.
    key_fetches: Arc<AtomicUsize>,
    /// How the issuer misbehaves: milliseconds to wait before answering,
    /// and whether it is down (answers 404 to everything), and how many
    /// requests it was sent over HTTPS.
    stall_ms: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

impl OidcIssuer {
    /// An issuer with an RS256 key `rsa-1` and an ES256 key `ec-1`.
    pub async fn start() -> OidcIssuer {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "deputy test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).unwrap();

        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let state = Arc::new(Mutex::new(State {
            keys: vec![
                SigningKey::generate("rsa-1", Algorithm::RS256),
                SigningKey::generate("ec-1", Algorithm::ES256),
            ],
            job: ("acme/net".into(), "push".into(), "refs/heads/main".into()),
        }));
        let key_fetches = Arc::new(AtomicUsize::new(0));
        let (stall_ms, down, requests) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
        );
        let https = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", https.local_addr().unwrap());
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let token_service_url = format!(
            "http://{}/token?api-version=2.0",
            http.local_addr().unwrap()
        );
        let token_service_secret = "request-token-of-the-job".to_string();
        let issuer = OidcIssuer {
            url: url.clone(),
            ca_file,
            token_service_url,
            token_service_secret: token_service_secret.clone(),
            state: state.clone(),
            key_fetches: key_fetches.clone(),
            stall_ms: stall_ms.clone(),
            down: down.clone(),
            requests: requests.clone(),
            _dir: dir,
        };
        {
            let (state, fetches, url) = (state.clone(), key_fetches.clone(), url.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((tcp, _)) = https.accept().await else {
                        return;
                    };
                    let (acceptor, state, fetches, url) = (
                        acceptor.clone(),
                        state.clone(),
                        fetches.clone(),
                        url.clone(),
                    );
                    let (stall_ms, down, requests) =
                        (stall_ms.clone(), down.clone(), requests.clone());
                    tokio::spawn(async move {
                        let Ok(stream) = acceptor.accept(tcp).await else {
                            return;
                        };
                        requests.fetch_add(1, Ordering::SeqCst);
                        let stall = stall_ms.load(Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(stall)).await;
                        let down = down.load(Ordering::SeqCst);
                        serve_one(stream, |path, _| match path {
                            _ if down => None,
                            "/.well-known/openid-configuration" => Some(json!({
                                "issuer": url,
                                "jwks_uri": format!("{url}/keys"),
                                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                            })),
                            "/keys" => {
                                fetches.fetch_add(1, Ordering::SeqCst);
                                let keys = state
                                    .lock()
                                    .unwrap()
                                    .keys
                                    .iter()
                                    .map(|k| k.public.clone())
                                    .collect();
                                Some(serde_json::to_value(JwkSet { keys }).unwrap())
                            }
                            _ => None,
                        })
                        .await;
                    });
                }
            });
        }
        {
            let minter = issuer.minter();
            tokio::spawn(async move {
                loop {
                    let Ok((tcp, _)) = http.accept().await else {
                        return;
                    };
                    let (minter, secret) = (minter.clone(), token_service_secret.clone());
                    tokio::spawn(async move {
                        serve_one(tcp, |path, headers| {
                            let authorized = headers.get("authorization").map(String::as_str)
                                == Some(&format!("Bearer {secret}"));
                            let url = reqwest::Url::parse(&format!("http://x{path}")).ok()?;
                            let audience = url
                                .query_pairs()
                                .find(|(k, _)| k == "audience")
                                .map(|(_, v)| v.to_string())?;
                            (url.path() == "/token" && authorized).then(
                                || json!({"count": 1, "value": minter.github_token(&audience)}),
                            )
                        })
                        .await;
                    });
                }
            });
        }
        issuer
    }

    fn minter(&self) -> Minter {
        Minter {
            url: self.url.clone(),
            state: self.state.clone(),
        }
    }

    /// A token signed with key `kid` carrying exactly `claims`.
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        self.minter().sign(kid, claims)
    }

    /// GitHub Actions' claims for a job of `repository` run by `event` on
    /// `git_ref`, issued now, for `audience`.
    pub fn github_claims(
        &self,
        repository: &str,
        event: &str,
        git_ref: &str,
        audience: &str,
    ) -> Value {
        github_claims(&self.url, repository, event, git_ref, audience)
    }

    /// Adds key `kid` and retires every other key of its algorithm, as an
    /// issuer rotating its signing key does.
    pub fn rotate(&self, kid: &str, alg: Algorithm) {
        let mut state = self.state.lock().unwrap();
        state.keys.retain(|k| k.alg != alg);
        state.keys.push(SigningKey::generate(kid, alg));
    }

    /// The public key `kid` as the issuer publishes it (its JWK's JSON).
    pub fn public_key_text(&self, kid: &str) -> String {
        let state = self.state.lock().unwrap();
        let key = state.keys.iter().find(|k| k.kid == kid).unwrap();
        serde_json::to_string(&key.public).unwrap()
    }

    pub fn key_fetches(&self) -> usize {
        self.key_fetches.load(Ordering::SeqCst)
    }

    /// Requests made to the issuer over HTTPS (discovery and key set).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// From now on, answers only after `stall`.
    pub fn stall(&self, stall: std::time::Duration) {
        self.stall_ms
            .store(stall.as_millis() as u64, Ordering::SeqCst);
    }

    /// Takes the issuer down (every request answered 404) or back up.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// What the token service will mint: GitHub claims for this job.
    pub fn set_job(&self, repository: &str, event: &str, git_ref: &str) {
        self.state.lock().unwrap().job = (repository.into(), event.into(), git_ref.into());
    }
}

/// Signs tokens; shared with the token service task.
#[derive(Clone)]
struct Minter {
    url: String,
    state: Arc<Mutex<State>>,
}

impl Minter {
    fn sign(&self, kid: &str, claims: &Value) -> String {
        let state = self.state.lock().unwrap();
        let key = state
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .unwrap_or_else(|| panic!("the test issuer has no key {kid}"));
        // GitHub's header: typ, alg, x5t and kid.
        let mut header = Header::new(key.alg);
        header.typ = Some("JWT".into());
        header.kid = Some(kid.into());
        header.x5t = Some("dGVzdC10aHVtYnByaW50".into());
        jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
    }

    fn github_token(&self, audience: &str) -> String {
        let (repository, event, git_ref) = self.state.lock().unwrap().job.clone();
        let kid = self.state.lock().unwrap().keys[0].kid.clone();
        self.sign(
            &kid,
            &github_claims(&self.url, &repository, &event, &git_ref, audience),
        )
    }
}

fn github_claims(
    issuer: &str,
    repository: &str,
    event: &str,
    git_ref: &str,
    audience: &str,
) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    let owner = repository.split('/').next().unwrap();
    let subject = if event == "pull_request" {
        format!("repo:{repository}:pull_request")
    } else {
        format!("repo:{repository}:ref:{git_ref}")
    };
    json!({
        "jti": ulid::Ulid::new().to_string().to_lowercase(),
        "sub": subject,
        "aud": audience,
        "ref": git_ref,
        "sha": "6b1fd6b4c0a0c9e5e3d07f2a8e1e0f1e2d3c4b5a",
        "repository": repository,
        "repository_owner": owner,
        "repository_owner_id": "1342004",
        "run_id": "9467104523",
        "run_number": "42",
        "run_attempt": "1",
        "repository_visibility": "private",
        "repository_id": "702312894",
        "actor_id": "583231",
        "actor": "octocat",
        "workflow": "terraform",
        "head_ref": if event == "pull_request" { "feature" } else { "" },
        "base_ref": if event == "pull_request" { "main" } else { "" },
        "event_name": event,
        "ref_protected": if git_ref == "refs/heads/main" { "true" } else { "false" },
        "ref_type": "branch",
        "workflow_ref": format!("{repository}/.github/workflows/terraform.yml@{git_ref}"),
        "workflow_sha": "6b1fd6b4c0a0c9e5e3d07f2a8e1e0f1e2d3c4b5a",
        "job_workflow_ref": format!("{repository}/.github/workflows/terraform.yml@{git_ref}"),
        "job_workflow_sha": "6b1fd6b4c0a0c9e5e3d07f2a8e1e0f1e2d3c4b5a",
        "runner_environment": "github-hosted",
        "iss": issuer,
        "nbf": now - 5,
        "exp": now + 300,
        "iat": now,
    })
}

/// Answers one HTTP/1.1 GET with `answer(path, headers)` as JSON, or 404.
async fn serve_one<S, F>(mut stream: S, answer: F)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&str, &HashMap<String, String>) -> Option<Value>,
{
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let mut lines = text.lines();
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    let (status, body) = match answer(&path, &headers) {
        Some(v) => ("200 OK", v.to_string()),
        None => ("404 Not Found", "{}".to_string()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
