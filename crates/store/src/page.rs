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

    /// One page of `q` over two lists that share an id space (ACH and card
    /// collections), from a page of `q` on each, both newest first.
    ///
    /// Each page holds the `q.limit` newest rows of its list after the
    /// cursor, so the `q.limit` newest of the two together are among them;
    /// there is more if either list had more or the merge had to cut.
    pub fn merge_newest_first(
        a: Page<T>,
        b: Page<T>,
        q: &ListQuery,
        id: impl Fn(&T) -> &str,
    ) -> Self {
        let limit = q.limit as usize;
        let mut data = Vec::with_capacity(a.data.len() + b.data.len());
        let (mut a_rows, mut b_rows) =
            (a.data.into_iter().peekable(), b.data.into_iter().peekable());
        loop {
            let take_a = match (a_rows.peek(), b_rows.peek()) {
                (Some(x), Some(y)) => id(x) >= id(y),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let next = if take_a { a_rows.next() } else { b_rows.next() };
            data.extend(next);
        }
        let has_more = a.has_more || b.has_more || data.len() > limit;
        data.truncate(limit);
        Self { data, has_more }
    }
}

#[cfg(test)]
mod tests {
    use super::{ListQuery, Page};

    fn page(ids: &[&'static str], has_more: bool) -> Page<&'static str> {
        Page {
            data: ids.to_vec(),
            has_more,
        }
    }

    #[test]
    fn merging_two_pages_keeps_the_newest_rows_in_id_order_and_knows_when_there_is_more() {
        let q = ListQuery::first(3);
        let merged = Page::merge_newest_first(
            page(&["c9", "c5", "c1"], false),
            page(&["c8", "c7"], false),
            &q,
            |s| s,
        );
        assert_eq!(
            (merged.data, merged.has_more),
            (vec!["c9", "c8", "c7"], true)
        );
        let merged =
            Page::merge_newest_first(page(&["c9"], false), page(&["c8"], false), &q, |s| s);
        assert_eq!((merged.data, merged.has_more), (vec!["c9", "c8"], false));
        let merged =
            Page::merge_newest_first(page(&[], false), page(&["c4", "c3", "c2"], true), &q, |s| s);
        assert_eq!(
            (merged.data, merged.has_more),
            (vec!["c4", "c3", "c2"], true)
        );
        let merged =
            Page::merge_newest_first(page(&["c2"], false), page(&["c4", "c3"], false), &q, |s| s);
        assert_eq!(
            (merged.data, merged.has_more),
            (vec!["c4", "c3", "c2"], false)
        );
    }
}
