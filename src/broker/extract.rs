//! Request extractors whose failures are problem details (400) instead of
//! axum's plain-text rejections. The API's handlers and the console's
//! pages both read requests through them.

use super::error::ApiError;

/// `Json` extractor whose failures are problem details (400) instead of
/// axum's plain-text rejections.
pub struct Json<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(ApiError::Malformed(format!(
                "{}: {}",
                e.body_text(),
                "send a JSON body as documented in /v1/openapi.json"
            ))),
        }
    }
}

/// `Path` extractor with problem-details failures (a segment that is not
/// UTF-8 once decoded, say) instead of axum's plain-text rejections.
pub struct Path<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(ApiError::Malformed(e.body_text())),
        }
    }
}

/// `Query` extractor with problem-details failures.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(ApiError::Malformed(e.body_text())),
        }
    }
}

/// A create's `Idempotency-Key` header, when sent (its rules are checked
/// by `service::idempotency`), and the path it was sent to: one key stands
/// for one request, route included.
pub struct IdempotencyKey {
    pub key: Option<String>,
    pub route: String,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        use crate::model::idempotency::HEADER;
        let route = parts.uri.path().to_string();
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(IdempotencyKey { key: None, route });
        };
        let key = value.to_str().map_err(|_| {
            ApiError::invalid(
                HEADER,
                format!("an {HEADER} is visible ASCII: send a UUID or a ULID"),
            )
        })?;
        Ok(IdempotencyKey {
            key: Some(key.to_string()),
            route,
        })
    }
}
