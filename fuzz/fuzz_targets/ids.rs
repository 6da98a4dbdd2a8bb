//! Feeds arbitrary text to every identifier parser of `model/` (stack,
//! integration, run and account ids, names, spaces, regions, phases, role
//! and principal ARNs, External IDs) and checks what each one accepts:
//! it prints back as itself, survives JSON both ways, and an External ID
//! derived from accepted parts is one too. Refusals must be sentences of
//! bounded length, never a panic.

#![no_main]

use std::fmt::Display;
use std::str::FromStr;

use deputy_fuzz::model::{
    AccountName, ExternalId, IntegrationId, Name, Phase, PrincipalArn, Region, RoleArn, RunId,
    Space, StackId,
};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Parses `text` as `T`; what parses must print as `text`, and read back
/// from its JSON as itself.
fn accepted<T>(text: &str) -> Option<T>
where
    T: FromStr + Display + PartialEq + std::fmt::Debug + Serialize + DeserializeOwned,
    T::Err: Display,
{
    match text.parse::<T>() {
        Ok(v) => {
            assert_eq!(v.to_string(), text);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
            Some(v)
        }
        Err(e) => {
            // A refusal quotes at most the input, in Debug form, and a
            // sentence around it.
            assert!(!e.to_string().is_empty());
            assert!(e.to_string().len() <= 8 * text.len() + 600, "{}", e);
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let stack = accepted::<StackId>(text);
    let account = accepted::<AccountName>(text);
    let integration = accepted::<IntegrationId>(text);
    accepted::<RunId>(text);
    accepted::<Name>(text);
    accepted::<Space>(text);
    accepted::<Region>(text);
    accepted::<RoleArn>(text);
    accepted::<PrincipalArn>(text);
    let phase = accepted::<Phase>(text);
    accepted::<ExternalId>(text);
    // Inputs of the form a@i@s@p: the parts, when valid, derive an External
    // ID that is one.
    let parts: Vec<&str> = text.split('@').collect();
    if let [a, i, s, p] = parts[..]
        && let (Ok(a), Ok(i), Ok(s), Ok(p)) = (
            a.parse::<AccountName>(),
            i.parse::<IntegrationId>(),
            s.parse::<StackId>(),
            p.parse::<Phase>(),
        )
    {
        let derived = ExternalId::derive(&a, &i, &s, p);
        assert_eq!(derived.to_string(), text);
        assert_eq!(text.parse::<ExternalId>().unwrap(), derived);
    }
    let _ = (stack, account, integration, phase);
});
