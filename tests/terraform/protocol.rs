//! The plugin process as go-plugin sees it: cookie, handshake, AutoMTLS,
//! health, signals and shutdown. These speak the protocol directly (through
//! `tfplugin::process::launch`) to do what Terraform never would, such as
//! presenting the wrong certificate.

use std::path::Path;
use std::time::Duration;

use tfplugin::process::launch::{ClientIdentity, Plugin};
use tfplugin::proto::plugin::{Empty, grpc_controller_client::GrpcControllerClient};
use tfplugin::proto::tfplugin6::{get_provider_schema, provider_client::ProviderClient};

fn provider_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-deputy"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn schema_ok(
    plugin: &Plugin,
    identity: Option<&ClientIdentity>,
) -> anyhow::Result<Vec<String>> {
    let channel = plugin.connect(identity).await?;
    let schema = ProviderClient::new(channel)
        .get_provider_schema(get_provider_schema::Request {})
        .await?
        .into_inner();
    let mut names: Vec<String> = schema.functions.into_keys().collect();
    names.sort();
    Ok(names)
}

#[test]
fn started_by_hand_it_explains_itself_and_exits_1() {
    let out = std::process::Command::new(provider_binary())
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is a Terraform provider plugin"),
        "{stderr}"
    );
    assert!(stderr.contains("--debug"), "{stderr}");
}

#[test]
fn serves_schema_and_health_over_automtls() {
    runtime().block_on(async {
        let id = ClientIdentity::generate().unwrap();
        let plugin = Plugin::start(provider_binary(), "5,6", Some(&id))
            .await
            .unwrap();
        assert_eq!(plugin.protocol_version, 6);
        assert_eq!(plugin.address.network(), "unix");
        assert!(
            !plugin.server_cert.is_empty(),
            "AutoMTLS certificate in handshake"
        );
        let names = schema_ok(&plugin, Some(&id)).await.unwrap();
        assert_eq!(
            names,
            [
                "assume_role_policy_statement",
                "external_id",
                "trust_policy_document",
                "trust_policy_length"
            ]
        );

        let channel = plugin.connect(Some(&id)).await.unwrap();
        let health = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest {
                service: "plugin".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            health.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    });
}

#[test]
fn refuses_clients_without_terraforms_certificate() {
    runtime().block_on(async {
        let terraform = ClientIdentity::generate().unwrap();
        let stranger = ClientIdentity::generate().unwrap();
        let plugin = Plugin::start(provider_binary(), "6", Some(&terraform))
            .await
            .unwrap();
        assert!(
            schema_ok(&plugin, Some(&stranger)).await.is_err(),
            "another certificate is refused"
        );
        assert!(
            schema_ok(&plugin, None).await.is_err(),
            "no certificate is refused"
        );
        assert!(
            schema_ok(&plugin, Some(&terraform)).await.is_ok(),
            "Terraform's certificate is accepted"
        );
    });
}

#[test]
fn ignores_sigint_and_exits_on_controller_shutdown() {
    runtime().block_on(async {
        let id = ClientIdentity::generate().unwrap();
        let mut plugin = Plugin::start(provider_binary(), "6", Some(&id))
            .await
            .unwrap();
        let pid = plugin.child.id().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            plugin.child.try_wait().unwrap().is_none(),
            "SIGINT must not stop the plugin"
        );
        assert!(schema_ok(&plugin, Some(&id)).await.is_ok());

        let channel = plugin.connect(Some(&id)).await.unwrap();
        GrpcControllerClient::new(channel)
            .shutdown(Empty {})
            .await
            .unwrap();
        let exit = tokio::time::timeout(Duration::from_secs(3), plugin.child.wait())
            .await
            .expect("plugin exits within 3 s of Shutdown")
            .unwrap();
        assert!(exit.success(), "{exit:?}");
    });
}
