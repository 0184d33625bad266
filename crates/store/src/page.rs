//! Cursor pagination: newest first, `startingAfter` is the last id of the
//! previous page. Ids are time-ordered, so "after" in the list means older.

/// A validated page request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub limit: u32,
    /// Empty when starting from the newest object.
    pub starting_after: String,
}

impl ListQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            starting_after: String::new(),
        }
    }

    /// How many rows to fetch: one more than the page, to learn `has_more`.
    pub(crate) fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    pub(crate) fn from_rows(mut rows: Vec<T>, q: &ListQuery) -> Self {
        let has_more = rows.len() > q.limit as usize;
        rows.truncate(q.limit as usize);
        Self {
            data: rows,
            has_more,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            has_more: self.has_more,
        }
    }
}
