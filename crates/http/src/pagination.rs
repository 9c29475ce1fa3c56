//! `?limit=&cursor=` for every list, with the same error in every dialect.

use actix_web::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use tenantry_kernel::{KernelError, PageRequest};

use crate::error::{ApiError, Dialect};

/// The raw query parameters of a list that takes no others. Lists with filters repeat the two
/// fields in their own query struct and build this one: serde's `flatten` cannot be combined
/// with `deny_unknown_fields`, and every query struct refuses names it does not know (a
/// misspelt filter must not silently return the unfiltered list).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl PageQuery {
    /// 400 `INVALID_REQUEST` naming `limit` or `cursor` when either is malformed.
    pub(crate) fn parse(&self, dialect: Dialect) -> Result<PageRequest, ApiError> {
        PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref()).map_err(|e| {
            let field = if matches!(e, KernelError::InvalidCursor) {
                "cursor"
            } else {
                "limit"
            };
            ApiError::new(
                dialect,
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                e.to_string(),
            )
            .with_details(json!({ "field": field }))
        })
    }
}
