//! `?limit=&cursor=` for every list, with the same error in every dialect.

use actix_web::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use tenantry_kernel::{Cursor, KernelError, Page, PageRequest};

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

/// Pages a list the service returns whole (per-account lists with a small bound: notification
/// channels and rules, API keys, allowlist entries) with the same keyset cursor as the stored
/// lists: rows are ordered by `key` (creation time in microseconds, then id) and a page starts
/// after the cursor's key, so a row added or removed between two requests never makes a client
/// skip or repeat another row. Rows without a creation time (built-ins) key at 0 and come first.
pub(crate) fn page_in_memory<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> (i64, String),
    page: &PageRequest,
) -> Page<T> {
    items.sort_by_cached_key(|item| key(item));
    let after = page
        .after
        .as_ref()
        .map(|c| (c.created_at_micros, c.id.clone()));
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|item| after.as_ref().is_none_or(|a| key(item) > *a))
        .collect();
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let next = if rest.len() > limit {
        rest.truncate(limit);
        rest.last().map(|last| {
            let (created_at_micros, id) = key(last);
            Cursor {
                created_at_micros,
                id,
            }
        })
    } else {
        None
    };
    Page { items: rest, next }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn walk(items: &[(i64, String)], limit: u32) -> Vec<(i64, String)> {
        let mut seen = Vec::new();
        let mut page = PageRequest { limit, after: None };
        loop {
            let got = page_in_memory(items.to_vec(), Clone::clone, &page);
            assert!(got.items.len() <= limit as usize);
            seen.extend(got.items);
            match got.next {
                // The cursor goes through its public form, as a client's would.
                Some(next) => {
                    page.after = Some(Cursor::decode(&next.encode()).expect("own cursor"));
                }
                None => return seen,
            }
        }
    }

    #[test]
    fn a_full_last_page_carries_no_cursor() {
        let items = vec![(1, "a".to_owned()), (2, "b".to_owned())];
        let got = page_in_memory(
            items,
            Clone::clone,
            &PageRequest {
                limit: 2,
                after: None,
            },
        );
        assert_eq!(got.items.len(), 2);
        assert_eq!(got.next, None);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Law: following the cursors from the first page yields every row exactly once, in
        /// key order, whatever the limit and the input order (ties on time included).
        #[test]
        fn walking_the_pages_yields_every_row_once_in_order(
            raw in proptest::collection::btree_set((0i64..5, "[a-e]{1,2}"), 0..40),
            limit in 1u32..8,
            seed in any::<u64>(),
        ) {
            let sorted: Vec<(i64, String)> = raw.into_iter().collect();
            let mut shuffled = sorted.clone();
            let n = shuffled.len();
            if n > 1 {
                for i in 0..n {
                    let j = (seed.rotate_left(i as u32) as usize).wrapping_add(i) % n;
                    shuffled.swap(i, j);
                }
            }
            prop_assert_eq!(walk(&shuffled, limit), sorted);
        }
    }
}
