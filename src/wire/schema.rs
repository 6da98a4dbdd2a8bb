//! OpenAPI schemas of the `model` types the API carries. They live here,
//! not in `model`, so the domain rules stay free of documentation concerns;
//! the patterns and lengths restate the rules `model` enforces (the test
//! below checks that every example the document shows passes `model`).

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::model::integration::TrustScope;
use crate::model::{
    AccountName, ExternalId, IntegrationId, Phase, PrincipalArn, PrincipalKind, Region, RoleArn,
    SpaceId, StackId,
};

const SLUG: &str = "^[a-z0-9][a-z0-9-]{0,62}$";

fn string(description: &str, pattern: Option<&str>, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(pattern)
        .examples([example])
        .into()
}

macro_rules! string_schema {
    ($ty:ty, $name:literal, $description:expr, $pattern:expr, $example:literal) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                string($description, $pattern, $example)
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_schema!(
    StackId,
    "StackId",
    "A stack's slug: 1 to 63 lowercase letters, digits and '-'. Part of its External IDs, so it never changes.",
    Some(SLUG),
    "prod-network"
);
string_schema!(
    SpaceId,
    "SpaceId",
    "A space's slug: 1 to 63 lowercase letters, digits and '-'; `root` is the top of the tree.",
    Some(SLUG),
    "team-payments"
);
string_schema!(
    AccountName,
    "AccountName",
    "The broker account's name, the first field of every External ID.",
    Some(SLUG),
    "acme"
);
string_schema!(
    IntegrationId,
    "IntegrationId",
    "An integration's id: a 26-character ULID assigned by the broker.",
    Some("^[0-9A-HJKMNP-TV-Z]{26}$"),
    "01JQ3ZV8T4M5N6P7Q8R9S0T1V2"
);
string_schema!(
    ExternalId,
    "ExternalId",
    "An sts:ExternalId: 2 to 1224 characters of letters, digits and _+=,.@:/-.",
    Some("^[A-Za-z0-9_+=,.@:/-]{2,1224}$"),
    "acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2@prod-network@read"
);
string_schema!(
    RoleArn,
    "RoleArn",
    "The ARN of an IAM role (partitions aws, aws-cn, aws-us-gov; paths allowed).",
    Some("^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/.+$"),
    "arn:aws:iam::123456789012:role/deploy"
);
string_schema!(
    PrincipalArn,
    "PrincipalArn",
    "The ARN of an IAM role, user or account root.",
    Some("^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|role/.+|user/.+)$"),
    "arn:aws:iam::123456789012:role/deputy"
);
string_schema!(
    Region,
    "Region",
    "An AWS region name.",
    Some("^[a-z]{2}(-[a-z]+)+-[0-9]+$"),
    "eu-west-1"
);

impl PartialSchema for TrustScope {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "`stack`: the role trusts exact External IDs, one per attached stack and phase. \
                 `integration`: it trusts any stack of this integration (phases still separate).",
            ))
            .enum_values(Some(["stack", "integration"]))
            .into()
    }
}

impl ToSchema for TrustScope {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TrustScope")
    }
}

impl PartialSchema for PrincipalKind {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("What the broker's principal is: a role, a user, or (only when explicitly allowed) a whole account."))
            .enum_values(Some(["role", "user", "account"]))
            .into()
    }
}

impl ToSchema for PrincipalKind {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PrincipalKind")
    }
}

impl PartialSchema for Phase {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("`read` (plans) or `write` (applies)."))
            .enum_values(Some(Phase::ALL.map(|p| p.as_str())))
            .into()
    }
}

impl ToSchema for Phase {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Phase")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example a schema shows.
    fn example<T: PartialSchema>() -> String {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["examples"][0].as_str().unwrap().to_string()
    }

    #[test]
    fn documented_examples_pass_the_model_rules() {
        assert!(example::<StackId>().parse::<StackId>().is_ok());
        assert!(example::<AccountName>().parse::<AccountName>().is_ok());
        assert!(example::<IntegrationId>().parse::<IntegrationId>().is_ok());
        assert!(example::<ExternalId>().parse::<ExternalId>().is_ok());
        assert!(example::<RoleArn>().parse::<RoleArn>().is_ok());
        assert!(example::<PrincipalArn>().parse::<PrincipalArn>().is_ok());
        assert!(example::<Region>().parse::<Region>().is_ok());
    }
}
