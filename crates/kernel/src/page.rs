//! Keyset pagination: lists are ordered by (creation time, id) and a cursor names the last row
//! a client has seen, so deep pages cost the same as the first and concurrent inserts never make
//! a client skip or repeat a row.

use crate::KernelError;

/// Rows per page when a client names no `limit`.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
/// The most rows a client may ask for in one page.
pub const MAX_PAGE_LIMIT: u32 = 200;

/// The position after which the next page starts: the sort key of the last row returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Creation time of the last row, microseconds since the Unix epoch.
    pub created_at_micros: i64,
    /// Id of the last row (its public form), breaking ties between rows created in the same
    /// microsecond.
    pub id: String,
}

impl Cursor {
    /// The opaque form handed to clients. Hex keeps it URL-safe without an encoding dependency;
    /// clients must treat it as opaque, which lets us change the encoding later.
    pub fn encode(&self) -> String {
        let raw = format!("{}:{}", self.created_at_micros, self.id);
        raw.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads a cursor a client sent back; `KernelError::InvalidCursor` for anything
    /// [`Cursor::encode`] did not produce.
    pub fn decode(s: &str) -> Result<Self, KernelError> {
        if s.len() % 2 != 0 || s.len() > 256 {
            return Err(KernelError::InvalidCursor);
        }
        let bytes = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| KernelError::InvalidCursor)?;
        let raw = String::from_utf8(bytes).map_err(|_| KernelError::InvalidCursor)?;
        let (micros, id) = raw.split_once(':').ok_or(KernelError::InvalidCursor)?;
        let created_at_micros = micros.parse().map_err(|_| KernelError::InvalidCursor)?;
        if id.is_empty() {
            return Err(KernelError::InvalidCursor);
        }
        Ok(Self {
            created_at_micros,
            id: id.to_owned(),
        })
    }
}

/// What a client asked for: at most `limit` rows after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted, 1 to [`MAX_PAGE_LIMIT`].
    pub limit: u32,
    /// Where the page starts: after this row; `None` for the first page.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Builds a request from the raw `?limit=` and `?cursor=` query values.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, KernelError> {
        let limit = match limit {
            None => DEFAULT_PAGE_LIMIT,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE_LIMIT).contains(&n) => n,
                _ => {
                    return Err(KernelError::InvalidLimit {
                        max: MAX_PAGE_LIMIT,
                    })
                }
            },
        };
        let after = cursor.map(Cursor::decode).transpose()?;
        Ok(Self { limit, after })
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE_LIMIT,
            after: None,
        }
    }
}

/// One page of results and, unless it is the last, the cursor of the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, in list order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            created_at_micros: 1_700_000_000_123_456,
            id: "usr_01hzx3k5q2w8m9n4p6r7s8t9va".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Ok(c));
    }

    #[test]
    fn garbage_cursors_are_refused() {
        for bad in ["", "zz", "abc", "3a", "6869", "ffff"] {
            assert_eq!(
                Cursor::decode(bad),
                Err(KernelError::InvalidCursor),
                "{bad}"
            );
        }
    }

    #[test]
    fn limit_is_bounded() {
        assert_eq!(PageRequest::parse(None, None).map(|p| p.limit), Ok(50));
        assert_eq!(
            PageRequest::parse(Some("200"), None).map(|p| p.limit),
            Ok(200)
        );
        assert!(PageRequest::parse(Some("0"), None).is_err());
        assert!(PageRequest::parse(Some("201"), None).is_err());
        assert!(PageRequest::parse(Some("-1"), None).is_err());
    }
}
