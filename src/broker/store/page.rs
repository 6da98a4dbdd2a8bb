//! Keyset pages: a list continues after the sort key of the last item the
//! caller saw (not at an offset), so rows added or removed meanwhile never
//! shift an item into the next page twice or out of both.

/// Where a page starts and how long it is.
#[derive(Clone, Debug)]
pub struct Page {
    /// The sort key of the last item already seen, one value per sort
    /// column; `None` for the first page.
    pub after: Option<Vec<String>>,
    pub limit: i64,
    /// Only objects in these spaces (a key's subtree); `None` for all.
    pub spaces: Option<Vec<String>>,
}

impl Page {
    /// Everything, for the broker's own use.
    pub fn all() -> Page {
        Page {
            after: None,
            limit: i64::MAX - 1,
            spaces: None,
        }
    }

    /// The page, of objects in `spaces` only.
    pub fn in_spaces(self, spaces: Option<Vec<String>>) -> Page {
        Page { spaces, ..self }
    }

    /// The spaces to bind for [`Page::space_filter`]: comma-separated
    /// (space ids hold no comma), `None` for all.
    pub fn spaces(&self) -> Option<String> {
        self.spaces.as_ref().map(|s| s.join(","))
    }

    /// The condition that keeps a row whose space is `column` when `$n`
    /// binds [`Page::spaces`]. One text bind whatever the number of spaces:
    /// portable SQL has no array parameter both databases read.
    pub fn space_filter(column: &str, n: usize) -> String {
        format!("(${n} IS NULL OR (',' || ${n} || ',') LIKE ('%,' || {column} || ',%'))")
    }

    /// The `n`th value of the sort key to continue after.
    pub fn after(&self, n: usize) -> Option<&str> {
        self.after
            .as_ref()
            .and_then(|k| k.get(n))
            .map(String::as_str)
    }

    /// Rows to fetch: one more than the page, which tells whether another
    /// page follows.
    pub fn fetch(&self) -> i64 {
        self.limit.saturating_add(1)
    }
}
