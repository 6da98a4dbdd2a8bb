//! Spaces and roles, proven cell by cell: keys of each role in one team's
//! space, against objects in every relation to that space (the space
//! itself, below it, above it, beside it, elsewhere, the root), for every
//! operation on stacks, integrations, attachments, keys, runner trusts,
//! spaces and the audit trail. The expected answer of each cell is the
//! rule restated here, independently of `model::space`: a key acts in its
//! subtree; what it cannot see is not found; what it sees but may not
//! change is forbidden; a stack uses the integrations of its space and of
//! the spaces above it reached through spaces that inherit.

use deputy::model::Phase;
use deputy::wire::*;
use serde_json::{Value, json};

use crate::support::{ROLE, TestBroker};
use testkit::on_both;

/// root
/// ├── platform
/// │   ├── team-a     (inherits: its stacks use platform's integrations)
/// │   │   └── a-prod (inherits)
/// │   └── team-b
/// └── other
const SPACES: [(&str, &str, bool); 5] = [
    ("platform", "root", false),
    ("team-a", "platform", true),
    ("a-prod", "team-a", true),
    ("team-b", "platform", false),
    ("other", "root", false),
];

/// Every space, and its relation to `team-a`, where the keys under test act.
const RELATIONS: [(&str, &str); 6] = [
    ("team-a", "same"),
    ("a-prod", "descendant"),
    ("platform", "ancestor"),
    ("root", "root"),
    ("team-b", "sibling"),
    ("other", "unrelated"),
];

/// team-a's subtree: what its keys see and act on.
fn in_subtree(space: &str) -> bool {
    matches!(space, "team-a" | "a-prod")
}

/// The integrations team-a's stacks may use, and so its keys see: its own
/// (and below, as its subtree) and platform's, which it inherits; not
/// root's, since platform does not inherit.
fn integration_seen(space: &str) -> bool {
    in_subtree(space) || space == "platform"
}

/// What a stack in `stack` may be attached to.
fn reaches(stack: &str, integration: &str) -> bool {
    match stack {
        "a-prod" => matches!(integration, "a-prod" | "team-a" | "platform"),
        "team-a" => matches!(integration, "team-a" | "platform"),
        other => other == integration,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Level {
    Read,
    Write,
    Admin,
}

const LEVELS: [(Level, &str); 3] = [
    (Level::Admin, "admin"),
    (Level::Write, "write"),
    (Level::Read, "read"),
];

struct Http<'a> {
    b: &'a TestBroker,
    http: reqwest::Client,
    cells: usize,
    wrong: Vec<String>,
}

impl Http<'_> {
    async fn send(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), self.b.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// One cell: `what` answered `got`, the rule says `want`.
    fn cell(&mut self, what: String, got: (u16, Value), want: u16) {
        self.cells += 1;
        if got.0 != want {
            self.wrong
                .push(format!("{what}: got {} {}, want {want}", got.0, got.1));
        }
    }
}

/// Makes [`SPACES`] with `admin`.
async fn make_tree(admin: &deputy::client::Client) {
    for (id, parent, inherit) in SPACES {
        admin
            .create_space(&SpaceInput {
                id: id.into(),
                parent_id: Some(parent.into()),
                inherit,
                ..Default::default()
            })
            .await
            .unwrap();
    }
}

on_both!(every_role_in_every_relation, |backend| async move {
    let b = TestBroker::start(backend).await;
    let root = b.admin();
    make_tree(&root).await;
    // In each space: a stack, an integration, a stack to attach in the
    // matrix, a runner trust, and a runner key.
    let mut integration_of = std::collections::BTreeMap::new();
    for (space, _) in RELATIONS {
        for prefix in ["s", "t"] {
            root.create_stack(&StackInput {
                id: format!("{prefix}-{space}"),
                space: Some(space.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        }
        let i = root
            .create_integration(&IntegrationInput {
                name: format!("i-{space}"),
                role_arn: ROLE.into(),
                space: Some(space.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        integration_of.insert(space, i.id.to_string());
    }
    let mut keys = Vec::new();
    for (level, role) in LEVELS {
        let made: CreatedApiKey = root
            .create_key(&ApiKeyInput {
                role: serde_json::from_value(json!(role)).unwrap(),
                space_id: Some("team-a".into()),
                stack_id: None,
                phases: None,
                description: String::new(),
                expires_in_seconds: None,
            })
            .await
            .unwrap();
        assert_eq!(made.key.space_id.as_ref().unwrap().as_str(), "team-a");
        keys.push((level, role, made.token));
    }
    let mut h = Http {
        b: &b,
        http: reqwest::Client::new(),
        cells: 0,
        wrong: Vec::new(),
    };
    let forbidden_unless = |ok: bool, yes: u16| if ok { yes } else { 403 };

    for (level, role, token) in &keys {
        let (level, role) = (*level, *role);
        let writes = level >= Level::Write;
        let admins = level == Level::Admin;
        for (space, relation) in RELATIONS {
            let at = |what: &str| format!("{role} key of team-a, {what} in {space} ({relation})");
            let sees = in_subtree(space);
            let stack = format!("s-{space}");
            let integration = &integration_of[space];

            // Stacks.
            let got = h
                .send(token, "GET", &format!("/v1/stacks/{stack}"), None)
                .await;
            h.cell(at("read stack"), got, if sees { 200 } else { 404 });
            let body = json!({"id": stack, "space": space, "description": format!("by {role}")});
            let got = h
                .send(token, "PUT", &format!("/v1/stacks/{stack}"), Some(body))
                .await;
            h.cell(
                at("replace stack"),
                got,
                if sees {
                    forbidden_unless(writes, 200)
                } else {
                    404
                },
            );
            let made = format!("n-{space}-{role}");
            let got = h
                .send(
                    token,
                    "POST",
                    "/v1/stacks",
                    Some(json!({"id": made, "space": space})),
                )
                .await;
            h.cell(
                at("create stack"),
                got,
                if sees {
                    forbidden_unless(writes, 201)
                } else {
                    422
                },
            );

            // Integrations.
            let seen = integration_seen(space);
            let got = h
                .send(
                    token,
                    "GET",
                    &format!("/v1/integrations/{integration}"),
                    None,
                )
                .await;
            h.cell(at("read integration"), got, if seen { 200 } else { 404 });
            let body = json!({"name": format!("i-{space}"), "role_arn": ROLE, "space": space,
                              "description": format!("by {role}")});
            let got = h
                .send(
                    token,
                    "PUT",
                    &format!("/v1/integrations/{integration}"),
                    Some(body),
                )
                .await;
            let want = match (sees, seen) {
                (true, _) => forbidden_unless(admins, 200),
                (false, true) => 403,
                (false, false) => 404,
            };
            h.cell(at("replace integration"), got, want);
            let body =
                json!({"name": format!("n-{space}-{role}"), "role_arn": ROLE, "space": space});
            let got = h.send(token, "POST", "/v1/integrations", Some(body)).await;
            h.cell(
                at("create integration"),
                got,
                if sees {
                    forbidden_unless(admins, 201)
                } else {
                    422
                },
            );
            let got = h
                .send(
                    token,
                    "GET",
                    &format!("/v1/integrations/{integration}/trust-policy"),
                    None,
                )
                .await;
            let want = match (sees, seen) {
                (true, _) => 200,
                (false, true) => 403,
                (false, false) => 404,
            };
            h.cell(at("read trust policy"), got, want);

            // Attaching team-a's own spare stack to this space's
            // integration, then detaching it.
            let spare = "t-team-a";
            let body = json!({"stack_id": spare, "read": true, "write": false});
            let got = h
                .send(
                    token,
                    "POST",
                    &format!("/v1/integrations/{integration}/attachments"),
                    Some(body),
                )
                .await;
            let want = match (seen, writes, reaches("team-a", space)) {
                (false, _, _) => 404,
                (true, false, _) => 403,
                (true, true, false) => 409,
                (true, true, true) => 201,
            };
            let attached = got.0 == 201;
            h.cell(at("attach a team-a stack to the integration"), got, want);
            if attached {
                let got = h
                    .send(
                        token,
                        "DELETE",
                        &format!("/v1/integrations/{integration}/attachments/{spare}"),
                        None,
                    )
                    .await;
                h.cell(at("detach"), got, 204);
            }
            // This space's spare stack to team-a's integration.
            let other_spare = format!("t-{space}");
            let body = json!({"stack_id": other_spare, "read": true, "write": false});
            let got = h
                .send(
                    token,
                    "POST",
                    &format!("/v1/integrations/{}/attachments", integration_of["team-a"]),
                    Some(body),
                )
                .await;
            let want = match (sees, writes, reaches(space, "team-a")) {
                (false, _, _) => 404,
                (true, false, _) => 403,
                (true, true, false) => 409,
                (true, true, true) => 201,
            };
            let attached = got.0 == 201;
            h.cell(at("attach its stack to team-a's integration"), got, want);
            if attached {
                root.detach(&integration_of["team-a"], &other_spare)
                    .await
                    .unwrap();
            }

            // Keys: one of each role in this space, and a runner key for
            // its stack.
            for (minted, minted_role) in LEVELS {
                let body = json!({"role": minted_role, "space_id": space});
                let got = h.send(token, "POST", "/v1/keys", Some(body)).await;
                let want = match (sees, admins) {
                    (false, _) => 422,
                    (true, false) => 403,
                    (true, true) => {
                        if minted <= level {
                            201
                        } else {
                            403
                        }
                    }
                };
                h.cell(at(&format!("mint a {minted_role} key")), got, want);
            }
            let body = json!({"role": "runner", "stack_id": stack, "phases": ["read"]});
            let got = h.send(token, "POST", "/v1/keys", Some(body)).await;
            h.cell(
                at("mint a runner key for the stack"),
                got,
                if sees {
                    forbidden_unless(writes, 201)
                } else {
                    422
                },
            );
            let body = json!({"stack_id": stack, "issuer": "https://token.actions.githubusercontent.com",
                              "audience": "deputy", "subject": "repo:acme/net:ref:refs/heads/main",
                              "phases": ["read"]});
            let got = h.send(token, "POST", "/v1/runner-trusts", Some(body)).await;
            h.cell(
                at("create a runner trust for the stack"),
                got,
                if sees {
                    forbidden_unless(writes, 201)
                } else {
                    422
                },
            );

            // Spaces: a child here, and this space's inherit.
            let body = json!({"id": format!("c-{space}-{role}"), "parent_id": space});
            let got = h.send(token, "POST", "/v1/spaces", Some(body)).await;
            h.cell(
                at("create a child space"),
                got,
                if sees {
                    forbidden_unless(admins, 201)
                } else {
                    422
                },
            );
            let got = h
                .send(token, "GET", &format!("/v1/spaces/{space}"), None)
                .await;
            h.cell(at("read the space"), got, if sees { 200 } else { 404 });
        }

        // Lists hold the subtree's objects, and only them.
        let (_, listed) = h.send(token, "GET", "/v1/stacks", None).await;
        let spaces: std::collections::BTreeSet<String> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["space"].as_str().unwrap().to_string())
            .collect();
        h.cells += 1;
        if spaces.iter().any(|s| !in_subtree(s)) || spaces.len() != 2 {
            h.wrong
                .push(format!("{role}: stacks listed from spaces {spaces:?}"));
        }
        let (_, listed) = h.send(token, "GET", "/v1/integrations", None).await;
        h.cells += 1;
        for i in listed["items"].as_array().unwrap() {
            let space = i["space"].as_str().unwrap();
            if !integration_seen(space) {
                h.wrong
                    .push(format!("{role}: integration listed from {space}"));
            }
        }
        // The trail of its subtree (the child spaces made above
        // included), its own refusals among it, and nothing else.
        let (status, trail) = h.send(token, "GET", "/v1/audit?limit=1000", None).await;
        h.cell(
            format!("{role} key of team-a reads the audit trail"),
            (status, Value::Null),
            200,
        );
        let events = trail["items"].as_array().cloned().unwrap_or_default();
        let ours = |space: &str| {
            in_subtree(space) || space.starts_with("c-team-a-") || space.starts_with("c-a-prod-")
        };
        let foreign: Vec<&Value> = events
            .iter()
            .filter(|e| !ours(e["space_id"].as_str().unwrap_or("(none)")))
            .collect();
        h.cells += 1;
        if events.is_empty() || !foreign.is_empty() {
            h.wrong.push(format!(
                "{role}: the trail has {} events, of other spaces: {foreign:?}",
                events.len()
            ));
        }
        // A key outside the root changes nothing about its own space's
        // inherit: that is its parent's.
        let body = json!({"id": "team-a", "inherit": false});
        let got = h.send(token, "PUT", "/v1/spaces/team-a", Some(body)).await;
        h.cell(
            format!("{role} key of team-a turns team-a's inherit off"),
            got,
            403,
        );
    }

    // Runner keys get nothing of the registry.
    let runner = root
        .create_key(&ApiKeyInput::runner("s-team-a", &[Phase::Read]))
        .await
        .unwrap()
        .token;
    for path in ["/v1/spaces", "/v1/stacks", "/v1/spaces/team-a"] {
        let got = h.send(&runner, "GET", path, None).await;
        h.cell(format!("runner key GET {path}"), got, 403);
    }
    println!("spaces matrix: {} cells, {} wrong", h.cells, h.wrong.len());
    assert!(
        h.wrong.is_empty(),
        "{} of {} cells wrong:\n{}",
        h.wrong.len(),
        h.cells,
        h.wrong.join("\n")
    );
});

on_both!(the_attach_rule_holds_whatever_moves, |backend| async move {
    let b = TestBroker::start(backend).await;
    let c = b.admin();
    make_tree(&c).await;
    let i = c
        .create_integration(&IntegrationInput {
            name: "shared".into(),
            role_arn: ROLE.into(),
            space: Some("platform".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    c.create_stack(&StackInput {
        id: "net".into(),
        space: Some("a-prod".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    c.attach(
        &i.id,
        &AttachmentInput {
            stack_id: "net".into(),
            read: true,
            write: false,
        },
    )
    .await
    .unwrap();
    let problem = |e: deputy::client::ClientError| match e {
        deputy::client::ClientError::Problem(p) => (p.status, p.code.to_string(), p.detail),
        other => panic!("{other}"),
    };
    // Moving the stack beside, turning inherit off between, or moving the
    // integration below: each would leave the attachment out of reach.
    let (status, code, detail) = problem(
        c.replace_stack(
            "net",
            &StackInput {
                id: "net".into(),
                space: Some("team-b".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (409, "out_of_reach"), "{detail}");
    assert!(
        detail.contains("stack \"net\" on integration \"shared\""),
        "{detail}"
    );
    let (status, code, _) = problem(
        c.replace_space(
            "team-a",
            &SpaceInput {
                id: "team-a".into(),
                inherit: false,
                ..Default::default()
            },
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (409, "out_of_reach"));
    let (status, code, _) = problem(
        c.replace_integration(
            i.id.as_str(),
            &IntegrationInput {
                name: "shared".into(),
                role_arn: ROLE.into(),
                space: Some("team-b".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (409, "out_of_reach"));
    // Nothing moved.
    assert_eq!(c.stack("net").await.unwrap().space, "a-prod");
    assert!(c.space("team-a").await.unwrap().inherit);
    // Moving within reach is fine; a space that holds something stays.
    c.replace_stack(
        "net",
        &StackInput {
            id: "net".into(),
            space: Some("team-a".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (status, code, detail) = problem(c.delete_space("team-a").await.unwrap_err());
    assert_eq!(
        (status, code.as_str()),
        (409, "space_not_empty"),
        "{detail}"
    );
    assert!(detail.contains("holds 1 space, 1 stack: "), "{detail}");
    c.delete_space("other").await.unwrap();
    // Its id is not given to another space: its events keep it.
    let (status, code, detail) = problem(
        c.create_space(&SpaceInput {
            id: "other".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (409, "space_exists"), "{detail}");
    assert!(detail.contains("since deleted"), "{detail}");
    // A stack beside cannot be attached at all.
    c.create_stack(&StackInput {
        id: "pay".into(),
        space: Some("team-b".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (status, code, detail) = problem(
        c.attach(
            &i.id,
            &AttachmentInput {
                stack_id: "pay".into(),
                read: true,
                write: false,
            },
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (409, "out_of_reach"), "{detail}");
    // Every change above is in the trail, refusals with their code.
    let events = c
        .audit(&AuditFilter {
            outcome: Some("out_of_reach".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 4, "{events:?}");
    // An attach and `inherit` turned off at once: whichever commits
    // second is refused, so the rule holds after every round. (Without the
    // store's lock, PostgreSQL let both commit within these 200 rounds.)
    c.create_space(&SpaceInput {
        id: "racing".into(),
        parent_id: Some("platform".into()),
        inherit: true,
        ..Default::default()
    })
    .await
    .unwrap();
    c.create_stack(&StackInput {
        id: "race".into(),
        space: Some("racing".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let off_input = SpaceInput {
        id: "racing".into(),
        parent_id: Some("platform".into()),
        inherit: false,
        ..Default::default()
    };
    let attach_input = AttachmentInput {
        stack_id: "race".into(),
        read: true,
        write: false,
    };
    for round in 0..200 {
        let (off, attached) = tokio::join!(
            c.replace_space("racing", &off_input),
            c.attach(&i.id, &attach_input)
        );
        assert!(
            !(off.is_ok() && attached.is_ok()),
            "round {round}: both committed, an attachment is out of reach"
        );
        if attached.is_ok() {
            c.detach(&i.id, "race").await.unwrap();
        }
        if off.is_ok() {
            c.replace_space(
                "racing",
                &SpaceInput {
                    id: "racing".into(),
                    parent_id: Some("platform".into()),
                    inherit: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
    }

    // A deletion's event names the space the object was in.
    c.delete_stack("pay").await.unwrap();
    let deleted = c
        .audit(&AuditFilter {
            action: Some("stack.delete".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        deleted[0].space_id.as_deref(),
        Some("team-b"),
        "{deleted:?}"
    );
    let spaces = c.spaces().await.unwrap();
    assert_eq!(
        spaces.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["a-prod", "platform", "racing", "root", "team-a", "team-b"]
    );
});

/// What a key may reach, computed by the test from the spaces the broker
/// lists: `(parent, inherit)` by id.
type Tree = std::collections::BTreeMap<String, (Option<String>, bool)>;

fn path(tree: &Tree, space: &str) -> Vec<String> {
    let mut out = vec![space.to_string()];
    while let Some((Some(parent), _)) = tree.get(out.last().unwrap()) {
        out.push(parent.clone());
    }
    out
}

fn reach(tree: &Tree, space: &str) -> Vec<String> {
    let mut out = vec![space.to_string()];
    while let Some((Some(parent), true)) = tree.get(out.last().unwrap()) {
        out.push(parent.clone());
    }
    out
}

// Random changes by the root admin (spaces made, inherit flipped, stacks
// and integrations made and moved, attaches), each refused or not as the
// broker decides; after each, every attachment is within reach, and a key
// of each role in a random space lists nothing outside its subtree and
// reads nothing outside it. `DEPUTY_SPACES_SEED` picks the walk.
on_both!(
    random_changes_never_break_sight_or_reach,
    |backend| async move {
        use rand::{Rng, SeedableRng};
        let seed: u64 = std::env::var("DEPUTY_SPACES_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(28);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let b = TestBroker::start(backend).await;
        let c = b.admin();
        let mut spaces = vec!["root".to_string()];
        let mut stacks: Vec<String> = Vec::new();
        let mut integrations: Vec<String> = Vec::new();
        let mut keys: Vec<(String, String, String)> = Vec::new();
        let mut refused = 0;
        let steps = 80;
        for step in 0..steps {
            let pick = |rng: &mut rand::rngs::StdRng, v: &[String]| {
                v[rng.random_range(0..v.len())].clone()
            };
            let done = match rng.random_range(0..7) {
                0 => {
                    let id = format!("sp{step}");
                    let parent = pick(&mut rng, &spaces);
                    let made = c
                        .create_space(&SpaceInput {
                            id: id.clone(),
                            parent_id: Some(parent),
                            inherit: rng.random_bool(0.6),
                            ..Default::default()
                        })
                        .await;
                    if made.is_ok() {
                        spaces.push(id);
                    }
                    made.map(|_| ())
                }
                1 if spaces.len() > 1 => {
                    let id = pick(&mut rng, &spaces[1..]);
                    let current = c.space(&id).await.unwrap();
                    c.replace_space(
                        &id,
                        &SpaceInput {
                            id: id.clone(),
                            inherit: !current.inherit,
                            ..Default::default()
                        },
                    )
                    .await
                    .map(|_| ())
                }
                2 => {
                    let id = format!("st{step}");
                    let made = c
                        .create_stack(&StackInput {
                            id: id.clone(),
                            space: Some(pick(&mut rng, &spaces)),
                            ..Default::default()
                        })
                        .await;
                    if made.is_ok() {
                        stacks.push(id);
                    }
                    made.map(|_| ())
                }
                3 => {
                    let made = c
                        .create_integration(&IntegrationInput {
                            name: format!("in{step}"),
                            role_arn: ROLE.into(),
                            space: Some(pick(&mut rng, &spaces)),
                            ..Default::default()
                        })
                        .await;
                    if let Ok(i) = &made {
                        integrations.push(i.id.to_string());
                    }
                    made.map(|_| ())
                }
                4 if !stacks.is_empty() => {
                    let id = pick(&mut rng, &stacks);
                    c.replace_stack(
                        &id,
                        &StackInput {
                            id: id.clone(),
                            space: Some(pick(&mut rng, &spaces)),
                            ..Default::default()
                        },
                    )
                    .await
                    .map(|_| ())
                }
                5 if !stacks.is_empty() && !integrations.is_empty() => c
                    .attach(
                        &pick(&mut rng, &integrations),
                        &AttachmentInput {
                            stack_id: pick(&mut rng, &stacks),
                            read: true,
                            write: rng.random_bool(0.5),
                        },
                    )
                    .await
                    .map(|_| ()),
                _ => {
                    let level = ["admin", "write", "read"][rng.random_range(0..3)];
                    let space = pick(&mut rng, &spaces);
                    let made = c
                        .create_key(&ApiKeyInput {
                            role: serde_json::from_value(json!(level)).unwrap(),
                            space_id: Some(space.clone()),
                            stack_id: None,
                            phases: None,
                            description: String::new(),
                            expires_in_seconds: None,
                        })
                        .await
                        .unwrap();
                    keys.push((made.token, space, level.to_string()));
                    Ok(())
                }
            };
            if done.is_err() {
                refused += 1;
            }

            // The tree as the broker has it, and every attachment within reach.
            let tree: Tree = c
                .spaces()
                .await
                .unwrap()
                .into_iter()
                .map(|s| {
                    (
                        s.id.to_string(),
                        (s.parent_id.map(|p| p.to_string()), s.inherit),
                    )
                })
                .collect();
            let all_stacks = c.stacks().await.unwrap();
            let space_of: std::collections::BTreeMap<String, String> = all_stacks
                .iter()
                .map(|s| (s.id.to_string(), s.space.clone()))
                .collect();
            for s in &all_stacks {
                for a in c.attachments_of_stack(s.id.as_str()).await.unwrap() {
                    let i = c.integration(a.integration_id.as_str()).await.unwrap();
                    assert!(
                        reach(&tree, &s.space).contains(&i.space),
                        "step {step} (seed {seed}): stack {} in {} attached to {} in {}",
                        s.id,
                        s.space,
                        i.name,
                        i.space
                    );
                }
            }
            // A random key sees its subtree only.
            if let Some((token, space, level)) = keys.get(rng.random_range(0..keys.len().max(1))) {
                let k = b.client(token);
                for s in k.stacks().await.unwrap() {
                    assert!(
                        path(&tree, &s.space).contains(space),
                        "step {step} (seed {seed}): {level} key of {space} lists stack {} of {}",
                        s.id,
                        s.space
                    );
                }
                for (id, stack_space) in &space_of {
                    let read = k.stack(id).await;
                    assert_eq!(
                        read.is_ok(),
                        path(&tree, stack_space).contains(space),
                        "step {step} (seed {seed}): {level} key of {space} reading stack {id} of {stack_space}"
                    );
                }
            }
        }
        println!("{steps} random changes (seed {seed}), {refused} refused: sight and reach held");
        assert!(
            refused > 0 && refused < steps,
            "the walk tried nothing interesting"
        );
    }
);
