//! `GET /v1/account`: the name and AWS principal customers' trust policies
//! need. Any admin key may read it.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Member;
use super::super::state::AppState;
use super::responses as r;
use crate::wire::Account;

#[utoipa::path(
    operation_id = "account_get",
    get, path = "/v1/account", tag = "account",
    responses((status = 200, description = "The broker's account.", body = Account), r::Unauthenticated, r::Forbidden),
)]
pub async fn get(State(state): State<Arc<AppState>>, _member: Member) -> axum::Json<Account> {
    axum::Json(state.account())
}
