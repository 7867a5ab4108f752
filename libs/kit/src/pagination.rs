//! Pagination of list endpoints: `?page=&size=` in, `{items, page, size, total}` out.
//!
//! Every list endpoint caps `size`, so no client can make a service load a whole table
//! into one response.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Items per page when the client names none.
pub const DEFAULT_SIZE: i64 = 20;
/// The largest page a client may ask for; larger sizes are capped, not refused.
pub const MAX_SIZE: i64 = 100;

/// The `page` (1-based) and `size` query parameters as sent.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number; defaults to 1.
    pub page: Option<i64>,
    /// Items per page; defaults to [`DEFAULT_SIZE`], capped at [`MAX_SIZE`].
    pub size: Option<i64>,
}

/// A page request after defaults and caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number, at least 1.
    pub page: i64,
    /// Items per page, in `1..=MAX_SIZE`.
    pub size: i64,
}

impl From<PageQuery> for Page {
    fn from(query: PageQuery) -> Self {
        Self {
            page: query.page.unwrap_or(1).max(1),
            size: query.size.unwrap_or(DEFAULT_SIZE).clamp(1, MAX_SIZE),
        }
    }
}

impl Page {
    /// Rows to skip (`OFFSET`); saturates instead of overflowing on absurd page numbers.
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.size)
    }

    /// A response page of `items` out of `total`.
    pub fn of<T>(&self, items: Vec<T>, total: i64) -> Paged<T> {
        Paged {
            items,
            page: self.page,
            size: self.size,
            total,
        }
    }
}

/// One page of a list response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Paged<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// This page's number (1-based).
    pub page: i64,
    /// The page size used.
    pub size: i64,
    /// Items across all pages.
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parameters_mean_the_first_page_of_the_default_size() {
        let page = Page::from(PageQuery::default());
        assert_eq!(
            page,
            Page {
                page: 1,
                size: DEFAULT_SIZE
            }
        );
        assert_eq!(page.offset(), 0);
    }

    #[test]
    fn sizes_are_capped_and_pages_start_at_one() {
        let page = Page::from(PageQuery {
            page: Some(-3),
            size: Some(10_000),
        });
        assert_eq!(
            page,
            Page {
                page: 1,
                size: MAX_SIZE
            }
        );
        let page = Page::from(PageQuery {
            page: Some(3),
            size: Some(0),
        });
        assert_eq!(page, Page { page: 3, size: 1 });
        assert_eq!(page.offset(), 2);
    }
}
