//! The `provider "deputy"` block: where the broker is, how to reach it and
//! how to authenticate, with `DEPUTY_*` environment fallbacks so CI can
//! inject them without touching configuration.
//!
//! Nothing here is required: provider functions are pure and work without a
//! broker. Resources and data sources that need one say so when they run.

use crate::client::Transport;
use crate::model::AccountName;
use crate::model::{api_key, trust_policy};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub const ENDPOINT_ENV: &str = "DEPUTY_ENDPOINT";
pub const TOKEN_ENV: &str = api_key::ENV;
pub const TOKEN_FILE_ENV: &str = api_key::FILE_ENV;
pub const CA_FILE_ENV: &str = "DEPUTY_CA_FILE";
pub const INSECURE_ENV: &str = "DEPUTY_INSECURE";

pub fn schema() -> Schema {
    Schema::new(
        0,
        "Manages deputy stacks, AWS integrations and attachments, and builds \
         confused-deputy-safe AWS trust policies.",
        vec![
            Attribute::optional(
                "endpoint",
                Type::String,
                "URL of the deputy broker, for example `https://deputy.example.com`. Defaults to \
                 the `DEPUTY_ENDPOINT` environment variable.",
            ),
            Attribute::optional(
                "token",
                Type::String,
                "API key for the broker: an admin key in a stack that manages deputy objects, the \
                 stack's runner key in a workload stack that only reads `deputy_aws_credentials`. \
                 The key comes from the first of `token`, `token_file`, the `DEPUTY_TOKEN_FILE` \
                 environment variable and `DEPUTY_TOKEN` that is set, as for the `deputy` CLI. \
                 Prefer a file or a variable: a key written here ends up in plan files.",
            )
            .sensitive(),
            Attribute::optional(
                "token_file",
                Type::String,
                "Path of a file whose first line is the API key, for example a CI secret mounted \
                 as a file. Used when `token` is not set; defaults to the `DEPUTY_TOKEN_FILE` \
                 environment variable.",
            ),
            Attribute::optional(
                "id_token",
                Type::String,
                "A CI job's OIDC ID token, presented instead of an API key, for a workload stack \
                 whose runs a runner trust admits: `deputy_aws_credentials` then needs no stored \
                 key at all. Pass it through an ephemeral variable. Only credentials can be had \
                 with it; set a key or this, not both.",
            )
            .sensitive(),
            Attribute::optional(
                "ca_file",
                Type::String,
                "Path of CA certificates (PEM) to trust for the broker's HTTPS certificate, beside \
                 the system's: for a broker behind a private CA. Defaults to the `DEPUTY_CA_FILE` \
                 environment variable.",
            ),
            Attribute::optional(
                "insecure",
                Type::Bool,
                "Allow an `http://` endpoint on another host. Plain HTTP is refused except to this \
                 machine (localhost, 127.0.0.0/8, ::1), because the API key and, for ephemeral \
                 credentials, AWS credentials would cross the network in clear. It never turns off \
                 certificate checks. Defaults to the `DEPUTY_INSECURE` environment variable \
                 (`true` or `1`), else false.",
            ),
            Attribute::optional(
                "account",
                Type::String,
                "Expected broker account name. When set, the provider refuses to work against a \
                 broker whose account has another name, so a stack cannot be pointed at the \
                 wrong broker by accident.",
            ),
            Attribute::optional(
                "max_trust_policy_length",
                Type::Number,
                "Your AWS account's quota for a role trust policy, in characters (whitespace not \
                 counted). Every trust policy and statement the provider emits is checked against \
                 it at plan, so a policy IAM would refuse fails here instead of at `CreateRole`. \
                 Defaults to 2048, AWS's default quota; AWS raises it to at most 4096 on request.",
            ),
        ],
    )
}

/// Checks the values that are known; unknown ones are checked at configure.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if let Some(endpoint) = config.get("endpoint").as_str()
        && let Err(why) = check_endpoint(endpoint)
    {
        diags.push(
            Diagnostic::error("Invalid broker endpoint", why).at(AttributePath::attr("endpoint")),
        );
    }
    if let Some(token) = config.get("token").as_str()
        && let Err(why) = api_key::check(token, "token")
    {
        diags.push(
            Diagnostic::error("Invalid broker token", format!("{why}."))
                .at(AttributePath::attr("token")),
        );
    }
    if let Err(why) = max_trust_policy_length(config) {
        diags.push(
            Diagnostic::error("Invalid max_trust_policy_length", why)
                .at(AttributePath::attr("max_trust_policy_length")),
        );
    }
    if let Some(account) = config.get("account").as_str()
        && let Err(why) = account.parse::<AccountName>()
    {
        diags.push(
            Diagnostic::error("Invalid account name", why.to_string())
                .at(AttributePath::attr("account")),
        );
    }
    diags
}

/// `endpoint` with a scheme: as written when it has one, else `http://`
/// for this machine (where plain HTTP is allowed) and `https://` for any
/// other host, the only choices deputy would accept there anyway.
fn with_scheme(endpoint: &str) -> String {
    if endpoint.contains("://") {
        return endpoint.to_string();
    }
    let host = endpoint.split(['/', '?']).next().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']'))
        .map_or_else(|| host.split(':').next().unwrap_or_default(), |(h, _)| h);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let scheme = if loopback { "http" } else { "https" };
    format!("{scheme}://{endpoint}")
}

/// The endpoint as a URL (with the scheme [`with_scheme`] gives a bare
/// host), or why not, quoting what was written.
fn check_endpoint(endpoint: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(&with_scheme(endpoint)).map_err(|e| {
        format!("{endpoint:?} is not a URL ({e}): use the broker's base URL, for example \"https://deputy.example.com\".")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{endpoint:?} is not an http(s) URL with a host: use the broker's base URL, for \
             example \"https://deputy.example.com\"."
        ));
    }
    Ok(url)
}

/// The configured limit, or the default when it is not set (or not known
/// yet: validate runs again once it is).
fn max_trust_policy_length(config: &Value) -> Result<usize, String> {
    match config.get("max_trust_policy_length").as_number() {
        None => Ok(trust_policy::DEFAULT_MAX_LENGTH),
        Some(n) => match n.as_i64() {
            Some(n) => trust_policy::max_length(n).map_err(|e| e.0),
            None => Err(format!(
                "max_trust_policy_length is {n}; use a whole number of characters"
            )),
        },
    }
}

/// The resolved connection settings. Missing values are not an error here,
/// only when something needs the broker.
#[derive(Clone, Debug)]
pub struct BrokerSettings {
    pub endpoint: Option<reqwest::Url>,
    pub token: Option<String>,
    /// A CI job's ID token, presented instead of a key.
    pub id_token: Option<String>,
    pub transport: Transport,
    pub account: Option<AccountName>,
    pub max_trust_policy_length: usize,
}

impl BrokerSettings {
    /// Configuration first, then the environment through `env`.
    pub fn from_config(
        config: &Value,
        env: impl Fn(&str) -> Option<String>,
        warnings: &mut Diagnostics,
    ) -> Result<Self, Diagnostics> {
        let diags = validate(config);
        if diags.has_errors() {
            return Err(diags);
        }
        let pick = |attr: &str, var: &str| -> Result<Option<(String, bool)>, Diagnostics> {
            match config.get(attr) {
                Value::String(s) => Ok(Some((s.clone(), false))),
                Value::Null => Ok(env(var).filter(|v| !v.is_empty()).map(|v| (v, true))),
                _ => Err(Diagnostic::error(
                    format!("Unknown value for {attr}"),
                    format!(
                        "The provider's {attr:?} depends on a value only known after apply. \
                         Provider configuration must be known at plan time: use a literal, a \
                         variable, or the {var} environment variable."
                    ),
                )
                .at(AttributePath::attr(attr))
                .into()),
            }
        };
        let endpoint = match pick("endpoint", ENDPOINT_ENV)? {
            None => None,
            Some((raw, from_env)) => Some(check_endpoint(&raw).map_err(|why| {
                let d = Diagnostic::error("Invalid broker endpoint", why);
                Diagnostics::from(if from_env {
                    Diagnostic {
                        summary: format!("Invalid {ENDPOINT_ENV}"),
                        ..d
                    }
                } else {
                    d.at(AttributePath::attr("endpoint"))
                })
            })?),
        };
        if let (Some(url), Some((raw, from_env))) = (&endpoint, pick("endpoint", ENDPOINT_ENV)?)
            && !raw.contains("://")
        {
            let source = if from_env { ENDPOINT_ENV } else { "endpoint" };
            let d = Diagnostic::warning(
                "Broker endpoint without a scheme",
                format!(
                    "{source} is {raw:?}, without http:// or https://; deputy uses \
                     \"{}\". Write the scheme to make this explicit.",
                    url.as_str().trim_end_matches('/')
                ),
            );
            warnings.push(if from_env {
                d
            } else {
                d.at(AttributePath::attr("endpoint"))
            });
        }
        let token = api_key_from(config, &env)?;
        let id_token = match config.get("id_token") {
            Value::String(t) if t.trim().is_empty() => {
                return Err(Diagnostic::error(
                    "Empty id_token",
                    "id_token is empty: pass the CI job's OIDC ID token, or leave id_token out.",
                )
                .at(AttributePath::attr("id_token"))
                .into());
            }
            Value::String(t) => Some(t.trim().to_string()),
            _ => None,
        };
        if token.is_some() && id_token.is_some() {
            return Err(Diagnostic::error(
                "Two credentials for the provider",
                format!(
                    "Both an API key (token, token_file, {TOKEN_FILE_ENV} or {TOKEN_ENV}) and \
                     id_token are set: the provider presents one. Keep the key to manage deputy \
                     objects, or id_token for a workload stack's credentials."
                ),
            )
            .at(AttributePath::attr("id_token"))
            .into());
        }
        let transport = transport(config, &env)?;
        // Half a connection is a mistake, reported once here rather than by
        // every resource; neither half is the offline use (functions and
        // `deputy_trust_policy_document` need no broker).
        match (&endpoint, token.as_ref().or(id_token.as_ref())) {
            (Some(_), None) => {
                return Err(Diagnostic::error(
                    "deputy provider not configured",
                    format!(
                        "The provider has a broker endpoint but no API key: set \
                         {TOKEN_FILE_ENV} (a file holding the key) or {TOKEN_ENV}, or `token_file` \
                         or `token` in the provider block. Use an admin key where the \
                         configuration manages deputy objects (`deputy token create --role \
                         admin`), and the stack's runner key where it only reads \
                         `deputy_aws_credentials`, or `id_token` there with a runner trust. No \
                         provider block is needed when the environment sets both.{}",
                        legacy_runner_hint(&env)
                    ),
                )
                .into());
            }
            (None, Some(_)) => {
                return Err(Diagnostic::error(
                    "deputy provider not configured",
                    format!(
                        "The provider has an API key but no broker endpoint: set the \
                         {ENDPOINT_ENV} environment variable (or `endpoint` in the provider \
                         block) to the broker's URL. No provider block is needed when the \
                         environment sets both."
                    ),
                )
                .into());
            }
            _ => {}
        }
        if let Some(endpoint) = &endpoint {
            transport.check(endpoint).map_err(|why| {
                let d = Diagnostic::error("Plain HTTP to the deputy broker", format!("{why}."));
                Diagnostics::from(match config.get("endpoint") {
                    Value::String(_) => d.at(AttributePath::attr("endpoint")),
                    _ => d,
                })
            })?;
        }
        let account = match config.get("account") {
            Value::String(s) => Some(s.parse().map_err(|e: crate::model::Invalid| {
                Diagnostics::from(
                    Diagnostic::error("Invalid account name", e.to_string())
                        .at(AttributePath::attr("account")),
                )
            })?),
            _ => None,
        };
        Ok(BrokerSettings {
            endpoint,
            token,
            id_token,
            transport,
            account,
            max_trust_policy_length: max_trust_policy_length(config)
                .unwrap_or(trust_policy::DEFAULT_MAX_LENGTH),
        })
    }
}

/// The API key from the first place that holds one (the rule is in
/// [`api_key`]): `token`, `token_file`, `DEPUTY_TOKEN_FILE`, `DEPUTY_TOKEN`.
/// A key that is not one is an error naming where it came from.
fn api_key_from(
    config: &Value,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, Diagnostics> {
    let unknown = |attr: &str| {
        Diagnostics::from(
            Diagnostic::error(
                format!("Unknown value for {attr}"),
                format!(
                    "The provider's {attr:?} depends on a value only known after apply. \
                     Provider configuration must be known at plan time: use a literal, a \
                     variable, {TOKEN_FILE_ENV} or {TOKEN_ENV}."
                ),
            )
            .at(AttributePath::attr(attr)),
        )
    };
    let checked = |key: String, source: &str, at: Option<&str>| {
        api_key::check(&key, source).map_err(|why| {
            let d = Diagnostic::error(format!("Invalid API key in {source}"), format!("{why}."));
            Diagnostics::from(match at {
                Some(attr) => d.at(AttributePath::attr(attr)),
                None => d,
            })
        })?;
        Ok(Some(key))
    };
    match config.get("token") {
        Value::String(key) => return checked(key.clone(), "token", Some("token")),
        Value::Null => {}
        _ => return Err(unknown("token")),
    }
    let (file, at) = match config.get("token_file") {
        Value::String(path) => (Some(path.clone()), Some("token_file")),
        Value::Null => (env(TOKEN_FILE_ENV).filter(|v| !v.is_empty()), None),
        _ => return Err(unknown("token_file")),
    };
    if let Some(path) = file {
        return crate::client::read_key_file(std::path::Path::new(&path))
            .map(Some)
            .map_err(|why| {
                let source = at.unwrap_or(TOKEN_FILE_ENV);
                let d = Diagnostic::error(
                    format!("Unusable API key file in {source}"),
                    format!("{why}."),
                );
                Diagnostics::from(match at {
                    Some(attr) => d.at(AttributePath::attr(attr)),
                    None => d,
                })
            });
    }
    match env(TOKEN_ENV).filter(|v| !v.is_empty()) {
        Some(key) => checked(key, TOKEN_ENV, None),
        None => Ok(None),
    }
}

/// A pointer for a workload stack set up before the provider read its key
/// the CLI's way: `DEPUTY_RUNNER_TOKEN` is no longer read.
fn legacy_runner_hint(env: impl Fn(&str) -> Option<String>) -> &'static str {
    if env("DEPUTY_RUNNER_TOKEN").is_some() {
        " DEPUTY_RUNNER_TOKEN is set but no longer read: give the runner key through \
         DEPUTY_TOKEN_FILE or DEPUTY_TOKEN, as for `deputy exec`."
    } else {
        ""
    }
}

/// `ca_file` and `insecure`, or their environment variables.
fn transport(
    config: &Value,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Transport, Diagnostics> {
    let (ca_file, ca_at) = match config.get("ca_file").as_str() {
        Some(path) => (Some(path.to_string()), Some(AttributePath::attr("ca_file"))),
        None => (env(CA_FILE_ENV).filter(|v| !v.is_empty()), None),
    };
    let insecure = match config.get("insecure").as_bool() {
        Some(insecure) => insecure,
        None => match env(INSECURE_ENV).as_deref().map(str::trim) {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                return Err(Diagnostic::error(
                    format!("Invalid {INSECURE_ENV}"),
                    format!("{INSECURE_ENV} is {other:?}; use true or false."),
                )
                .into());
            }
        },
    };
    Transport::new(ca_file.as_deref().map(std::path::Path::new), insecure).map_err(|why| {
        let d = Diagnostic::error("Unusable CA file", format!("{why}."));
        Diagnostics::from(match ca_at {
            Some(path) => d.at(path),
            None => Diagnostic {
                summary: format!("Unusable CA file in {CA_FILE_ENV}"),
                ..d
            },
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: Value, token: Value) -> Value {
        Value::Object(
            [
                ("endpoint".to_string(), endpoint),
                ("token".to_string(), token),
                ("token_file".to_string(), Value::Null),
                ("account".to_string(), Value::Null),
                ("max_trust_policy_length".to_string(), Value::Null),
            ]
            .into(),
        )
    }

    #[test]
    fn environment_fills_what_configuration_leaves_out() {
        let env = |name: &str| match name {
            ENDPOINT_ENV => Some("http://127.0.0.1:8420".to_string()),
            TOKEN_ENV => Some(ENV_KEY.to_string()),
            _ => None,
        };
        let s = BrokerSettings::from_config(
            &config(Value::Null, Value::string(CONFIG_KEY)),
            env,
            &mut Diagnostics::new(),
        )
        .unwrap();
        assert_eq!(s.endpoint.unwrap().as_str(), "http://127.0.0.1:8420/");
        assert_eq!(s.token.as_deref(), Some(CONFIG_KEY));
    }

    const CONFIG_KEY: &str = "dpk_0123456789abcdef_config";
    const ENV_KEY: &str = "dpk_0123456789abcdef_env";

    #[test]
    fn the_key_comes_from_token_then_token_file_then_the_file_variable_then_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        let attr_file = file("attr", "dpk_0123456789abcdef_attrfile\n");
        let env_file = file("env", "dpk_0123456789abcdef_envfile\n");
        let with_file = |token: Value, token_file: Option<&str>| {
            let mut c = config(Value::string("http://127.0.0.1:1"), token);
            if let (Value::Object(m), Some(f)) = (&mut c, token_file) {
                m.insert("token_file".into(), Value::string(f));
            }
            c
        };
        let all = |name: &str| match name {
            TOKEN_ENV => Some(ENV_KEY.to_string()),
            TOKEN_FILE_ENV => Some(env_file.clone()),
            _ => None,
        };
        let key = |c: &Value, env: &dyn Fn(&str) -> Option<String>| {
            BrokerSettings::from_config(c, env, &mut Diagnostics::new())
                .unwrap()
                .token
                .unwrap()
        };
        let every = with_file(Value::string(CONFIG_KEY), Some(&attr_file));
        assert_eq!(key(&every, &all), CONFIG_KEY);
        let no_token = with_file(Value::Null, Some(&attr_file));
        assert_eq!(key(&no_token, &all), "dpk_0123456789abcdef_attrfile");
        let neither = with_file(Value::Null, None);
        assert_eq!(key(&neither, &all), "dpk_0123456789abcdef_envfile");
        let only_var = |name: &str| (name == TOKEN_ENV).then(|| ENV_KEY.to_string());
        assert_eq!(key(&neither, &only_var), ENV_KEY);

        let empty = file("empty", "");
        let err = BrokerSettings::from_config(
            &with_file(Value::Null, Some(&empty)),
            |_| None,
            &mut Diagnostics::new(),
        )
        .unwrap_err();
        assert_eq!(err.0[0].path, Some(AttributePath::attr("token_file")));
        assert!(
            err.0[0]
                .detail
                .contains(&format!("the key file {empty} is empty"))
        );
        let err = BrokerSettings::from_config(
            &neither,
            |name: &str| (name == TOKEN_ENV).then(|| "ghp_not_ours".to_string()),
            &mut Diagnostics::new(),
        )
        .unwrap_err();
        assert_eq!(err.0[0].summary, "Invalid API key in DEPUTY_TOKEN");
    }

    #[test]
    fn bad_values_name_the_attribute() {
        let diags = validate(&config(Value::string("ftp://x"), Value::string("a b")));
        assert_eq!(diags.0.len(), 2);
        assert_eq!(diags.0[0].path, Some(AttributePath::attr("endpoint")));
        assert!(diags.0[1].detail.contains("token does not hold an API key"));
        let err = BrokerSettings::from_config(
            &config(Value::Null, Value::Null),
            |_| Some("not a url".into()),
            &mut Diagnostics::new(),
        )
        .unwrap_err();
        assert_eq!(err.0[0].summary, "Invalid DEPUTY_ENDPOINT");
    }

    #[test]
    fn an_endpoint_without_a_scheme_gets_the_only_one_deputy_allows_and_a_warning() {
        for (raw, used) in [
            ("localhost:8420", "http://localhost:8420/"),
            ("127.0.0.1:8420/", "http://127.0.0.1:8420/"),
            ("[::1]:8420", "http://[::1]:8420/"),
            ("deputy.example.com", "https://deputy.example.com/"),
            (
                "deputy.example.com:8443",
                "https://deputy.example.com:8443/",
            ),
        ] {
            let mut warnings = Diagnostics::new();
            let s = BrokerSettings::from_config(
                &config(Value::string(raw), Value::string(CONFIG_KEY)),
                |_| None,
                &mut warnings,
            )
            .unwrap();
            assert_eq!(s.endpoint.unwrap().as_str(), used, "{raw}");
            assert_eq!(warnings.0.len(), 1, "{raw}");
            assert_eq!(warnings.0[0].summary, "Broker endpoint without a scheme");
            assert!(validate(&config(Value::string(raw), Value::Null)).is_empty());
        }
    }

    #[test]
    fn half_a_connection_is_one_error_at_configure_and_none_is_offline() {
        let only_endpoint =
            |name: &str| (name == ENDPOINT_ENV).then(|| "http://127.0.0.1:1".into());
        let err = BrokerSettings::from_config(
            &config(Value::Null, Value::Null),
            only_endpoint,
            &mut Diagnostics::new(),
        )
        .unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert!(
            err.0[0]
                .detail
                .contains("no API key: set DEPUTY_TOKEN_FILE")
        );
        let err = BrokerSettings::from_config(
            &config(Value::Null, Value::string(CONFIG_KEY)),
            |_| None,
            &mut Diagnostics::new(),
        )
        .unwrap_err();
        assert!(
            err.0[0]
                .detail
                .contains("no broker endpoint: set the DEPUTY_ENDPOINT")
        );
        let offline = BrokerSettings::from_config(
            &config(Value::Null, Value::Null),
            |_| None,
            &mut Diagnostics::new(),
        )
        .unwrap();
        assert!(offline.endpoint.is_none() && offline.token.is_none());
    }
}
