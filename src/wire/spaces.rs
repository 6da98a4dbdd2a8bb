//! Spaces as the API shows them, and the body that creates or replaces
//! one. The rules of the tree are in `model::space`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::SpaceId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Space {
    pub id: SpaceId,
    pub name: String,
    /// Absent on `root` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<SpaceId>,
    /// Stacks here may use the parent's integrations (and, through a parent
    /// that inherits too, the grandparent's).
    pub inherit: bool,
    pub labels: BTreeMap<String, String>,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST /v1/spaces` and `PUT /v1/spaces/{id}` (where `id` and
/// `parent_id` must be the space's own: neither changes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpaceInput {
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$", example = "team-payments")]
    pub id: String,
    /// Display name; defaults to the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub name: Option<String>,
    /// Defaults to `root`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub inherit: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub description: String,
}
