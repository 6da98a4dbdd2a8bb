//! Every list route pages with `limit` and an opaque `cursor`; the client
//! follows cursors, and rows added while a caller pages never appear twice.

use deputy::wire::*;

use crate::support::{ROLE, TestBroker};
use testkit::on_both;

/// GETs `path` as admin: the status and the JSON body.
/// GETs `path` and returns (item ids by `field`, next cursor).
async fn page(b: &TestBroker, path: &str, field: &str) -> (Vec<String>, Option<String>) {
    let (code, body) = status(b, path).await;
    assert_eq!(code, 200, "{path}");
    let ids = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_string())
        .collect();
    (ids, body["next_cursor"].as_str().map(str::to_string))
}

/// Follows `path` (which has a `?`) page by page with `limit`.
async fn walk(b: &TestBroker, path: &str, field: &str, limit: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
            None => format!("{path}&limit={limit}"),
        };
        let (ids, next) = page(b, &url, field).await;
        pages.push(ids);
        match next {
            Some(next) => cursor = Some(next),
            None => return pages,
        }
    }
}

async fn status(b: &TestBroker, path: &str) -> (u16, serde_json::Value) {
    let answer = reqwest::Client::new()
        .get(b.url(path))
        .bearer_auth(&b.admin_token)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

on_both!(every_list_pages_with_a_cursor, |backend| async move {
    let b = TestBroker::start(backend).await;
    let c = b.admin();
    for n in 0..7 {
        c.create_stack(&StackInput::with_id(format!("s{n}")))
            .await
            .unwrap();
    }
    let pages = walk(&b, "/v1/stacks?", "id", 3).await;
    assert_eq!(
        pages,
        [vec!["s0", "s1", "s2"], vec!["s3", "s4", "s5"], vec!["s6"]]
    );
    // A stack created mid-walk, before the cursor, never shows; one after
    // it does, once.
    let (first, cursor) = page(&b, "/v1/stacks?limit=3", "id").await;
    c.create_stack(&StackInput::with_id("a-early"))
        .await
        .unwrap();
    c.create_stack(&StackInput::with_id("s9")).await.unwrap();
    let (second, _) = page(
        &b,
        &format!("/v1/stacks?limit=100&cursor={}", cursor.unwrap()),
        "id",
    )
    .await;
    assert_eq!(first, ["s0", "s1", "s2"]);
    assert_eq!(second, ["s3", "s4", "s5", "s6", "s9"]);
    // The client follows cursors.
    assert_eq!(c.stacks().await.unwrap().len(), 9);

    // Integrations, filtered by label: pages hold matches only.
    for n in 0..5 {
        let labels: Labels = [(
            "team".to_string(),
            if n % 2 == 0 { "net" } else { "app" }.to_string(),
        )]
        .into();
        c.create_integration(&IntegrationInput {
            name: format!("i{n}"),
            role_arn: ROLE.into(),
            labels,
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let pages = walk(&b, "/v1/integrations?label=team%3Dnet", "name", 1).await;
    let names: Vec<String> = pages.concat();
    assert_eq!(names, ["i0", "i2", "i4"]);
    let team: Labels = [("team".to_string(), "net".to_string())].into();
    assert_eq!(c.integrations(None, &team).await.unwrap().len(), 3);

    // Keys and the audit trail (newest first) page too.
    for _ in 0..3 {
        c.create_key(&ApiKeyInput::runner("s0", &deputy::model::Phase::ALL))
            .await
            .unwrap();
    }
    let keys = walk(&b, "/v1/keys?", "id", 2).await;
    assert_eq!(keys.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2]);
    assert_eq!(keys.concat().len(), c.keys().await.unwrap().len());
    let audit = walk(&b, "/v1/audit?action=stack.create", "id", 4)
        .await
        .concat();
    assert_eq!(audit.len(), 9);
    let mut newest_first = audit.clone();
    newest_first.sort();
    newest_first.reverse();
    assert_eq!(audit, newest_first, "ULIDs newest first");
    let attachments = walk(&b, "/v1/stacks/s0/attachments?", "id", 1).await;
    assert_eq!(attachments, [Vec::<String>::new()]);

    // Bounded limits and foreign cursors are refused on the field.
    let (code, problem) = status(&b, "/v1/stacks?limit=0").await;
    assert_eq!((code, problem["field"].as_str()), (422, Some("limit")));
    let (code, _) = status(&b, "/v1/keys?limit=1001").await;
    assert_eq!(code, 422);
    let (code, problem) = status(&b, "/v1/stacks?cursor=bm90LWEtY3Vyc29y").await;
    assert_eq!((code, problem["field"].as_str()), (422, Some("cursor")));
    let (_, key_cursor) = page(&b, "/v1/keys?limit=1", "id").await;
    let (code, _) = status(&b, &format!("/v1/stacks?cursor={}", key_cursor.unwrap())).await;
    assert_eq!(code, 422, "a cursor of another list");
});
