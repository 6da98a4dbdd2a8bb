//! `GET /v1/account`: the name and AWS principal customers' trust policies
//! need. Any valid key may read it.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Admin;
use super::AppState;
use crate::api::Account;

pub async fn get(State(state): State<Arc<AppState>>, _admin: Admin) -> axum::Json<Account> {
    axum::Json(state.account())
}
