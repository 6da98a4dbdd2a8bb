//! Verification from Terraform against fakecloud: the action
//! `deputy_verify_integration` (Terraform 1.14: `-invoke`, and an
//! `action_trigger` after an attachment is created) shows each probe and
//! fails the apply on a role that is not safe; the data source
//! `deputy_aws_integration_verification` gives the same report on a
//! Terraform without actions.

use serde_json::json;

use deputy::wire::{AttachmentInput, IntegrationInput, StackInput};

use crate::broker::Broker;
use crate::fakecloud::{Fakecloud, trust};
use crate::tf::{Workspace, assert_contains, installed, terraform_binary, text};

fn exact(principal: &str, ids: &[String]) -> serde_json::Value {
    trust(
        principal,
        json!({"Condition": {"StringEquals": {"sts:ExternalId": ids}}}),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_from_terraform_as_an_action_and_as_a_data_source() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let b = Broker::start(&fc, &user, &["--verify-retry-seconds", "2"]).await;
    let admin = b.admin();
    for stack in ["net", "dns"] {
        admin
            .create_stack(&StackInput::with_id(stack))
            .await
            .unwrap();
    }
    let i = admin
        .create_integration(&IntegrationInput {
            name: "prod".into(),
            role_arn: "arn:aws:iam::123456789012:role/prod".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<String> = ["net", "dns"]
        .iter()
        .flat_map(|s| ["read", "write"].map(|p| format!("acme@{}@{s}@{p}", i.id)))
        .collect();
    fc.role("prod", &exact(&user.arn, &ids)).await.unwrap();
    admin
        .attach(
            &i.id,
            &AttachmentInput {
                stack_id: "net".into(),
                read: true,
                write: true,
            },
        )
        .await
        .unwrap();

    let env = [
        ("DEPUTY_ENDPOINT", b.base.clone()),
        ("DEPUTY_TOKEN", b.admin_token.clone()),
    ];
    let action = format!(
        "action \"deputy_verify_integration\" \"prod\" {{\n  config {{\n    integration_id = \"{}\"\n  }}\n}}\n",
        i.id
    );
    // The same action triggered by creating an attachment.
    let triggered = format!(
        "{action}resource \"deputy_aws_integration_attachment\" \"dns\" {{\n  integration_id = \"{}\"\n  stack_id = \"dns\"\n  lifecycle {{\n    action_trigger {{\n      events  = [after_create, after_update]\n      actions = [action.deputy_verify_integration.prod]\n    }}\n  }}\n}}\n",
        i.id
    );
    let safe = {
        let (env, action, triggered) = (env.clone(), action.clone(), triggered.clone());
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let terraform = installed("1.14.9");
            let ws = Workspace::with_terraform(&terraform, &action, &env);
            let invoked = ws.ok(&[
                "apply",
                "-auto-approve",
                "-no-color",
                "-invoke=action.deputy_verify_integration.prod",
            ]);
            let on_trigger = Workspace::with_terraform(&terraform, &triggered, &env);
            let applied = on_trigger.ok(&["apply", "-auto-approve", "-no-color"]);
            (text(&invoked.stdout), text(&applied.stdout))
        })
        .await
        .unwrap()
    };
    let (invoked, applied) = safe;
    assert_contains(&invoked, "verifying integration");
    assert_contains(&invoked, "is safe to use");
    assert_contains(
        &applied,
        "deputy_aws_integration_attachment.dns: Creation complete",
    );
    assert_contains(&applied, "is safe to use");
    assert_eq!(
        admin.attachments_of_integration(&i.id).await.unwrap().len(),
        2,
        "the triggered attachment exists"
    );

    // The role opened to anyone: the action fails the apply with the
    // broker's reason; the data source (on a Terraform without actions)
    // reports it with a warning.
    fc.set_trust("prod", &trust(&user.arn, json!({})))
        .await
        .unwrap();
    let data = format!(
        "data \"deputy_aws_integration_verification\" \"prod\" {{\n  integration_id = \"{}\"\n}}\noutput \"ok\" {{ value = data.deputy_aws_integration_verification.prod.ok }}\noutput \"failed\" {{ value = [for s in data.deputy_aws_integration_verification.prod.steps : s.name if s.outcome == \"failed\"] }}\n",
        i.id
    );
    let (refused, outputs, warned) = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let ws = Workspace::with_terraform(&installed("1.14.9"), &action, &env);
        let refused = ws.fails(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-invoke=action.deputy_verify_integration.prod",
        ]);
        let d = Workspace::with_terraform(&terraform_binary(), &data, &env);
        let applied = d.ok(&["apply", "-auto-approve", "-no-color"]);
        let outputs = d.ok(&["output", "-json"]);
        (
            refused,
            serde_json::from_slice::<serde_json::Value>(&outputs.stdout).unwrap(),
            text(&applied.stdout) + &text(&applied.stderr),
        )
    })
    .await
    .unwrap();
    assert_contains(
        &refused,
        "Error: Error when invoking action AWS role verification failed",
    );
    assert_contains(&refused, "can be assumed without an External ID");
    assert_eq!(outputs["ok"]["value"], false);
    assert!(
        !outputs["failed"]["value"].as_array().unwrap().is_empty(),
        "{outputs}"
    );
    assert_contains(&warned, "Warning: AWS role verification failed");
}
