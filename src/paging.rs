//! Paging for list routes: `page` (from 1) and `per_page` (default 50, at most 200),
//! with `X-Total-Count` and an RFC 8288 `Link` header (first, prev, next, last).

use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};

use crate::error::{ApiError, FieldErrors};

pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

/// The query string's pairs, decoded, in order (a key may repeat).
pub fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

impl Page {
    /// Reads `page` and `per_page`; a bad value is a 400 naming the parameter.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::default();
        let mut page = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "page" => match value.trim().parse::<i64>() {
                    Ok(n) if (1..=1_000_000).contains(&n) => page.page = n,
                    _ => errors.add("page", "A page number from 1 is required."),
                },
                "per_page" => match value.trim().parse::<i64>() {
                    Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => page.per_page = n,
                    _ => errors.add(
                        "per_page",
                        format!("per_page must be a whole number from 1 to {MAX_PER_PAGE}."),
                    ),
                },
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(page)
        } else {
            Err(ApiError::invalid(errors))
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    pub fn last_page(&self, total: i64) -> i64 {
        ((total + self.per_page - 1) / self.per_page).max(1)
    }

    /// `X-Total-Count` and `Link` for this page of `total` items at `uri`.
    pub fn headers(&self, uri: &Uri, total: i64) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static("x-total-count"), HeaderValue::from(total));
        let last = self.last_page(total);
        let kept: Vec<(String, String)> = query_pairs(uri)
            .into_iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .collect();
        let link_to = |page: i64| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &kept {
                query.append_pair(k, v);
            }
            query.append_pair("page", &page.to_string());
            query.append_pair("per_page", &self.per_page.to_string());
            format!("<{}?{}>", uri.path(), query.finish())
        };
        let mut links = vec![format!("{}; rel=\"first\"", link_to(1))];
        if self.page > 1 {
            links.push(format!("{}; rel=\"prev\"", link_to((self.page - 1).min(last))));
        }
        if self.page < last {
            links.push(format!("{}; rel=\"next\"", link_to(self.page + 1)));
        }
        links.push(format!("{}; rel=\"last\"", link_to(last)));
        if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
            headers.insert(axum::http::header::LINK, value);
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        query_pairs(&format!("/x?{q}").parse::<Uri>().unwrap())
    }

    #[test]
    fn reads_and_bounds_parameters() {
        assert_eq!(Page::from_pairs(&pairs("")).unwrap(), Page { page: 1, per_page: 50 });
        assert_eq!(
            Page::from_pairs(&pairs("page=3&per_page=200")).unwrap(),
            Page { page: 3, per_page: 200 }
        );
        for bad in [
            "page=0",
            "page=x",
            "per_page=201",
            "per_page=0",
            "per_page=-1",
            "page=1.5",
        ] {
            assert!(Page::from_pairs(&pairs(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_keep_other_parameters() {
        let uri: Uri = "/api/artworks?q=blue%20sea&page=2&per_page=10".parse().unwrap();
        let page = Page { page: 2, per_page: 10 };
        let headers = page.headers(&uri, 35);
        assert_eq!(headers["x-total-count"], "35");
        let link = headers["link"].to_str().unwrap();
        assert!(
            link.contains("</api/artworks?q=blue+sea&page=1&per_page=10>; rel=\"first\""),
            "{link}"
        );
        assert!(link.contains("page=1&per_page=10>; rel=\"prev\""), "{link}");
        assert!(link.contains("page=3&per_page=10>; rel=\"next\""), "{link}");
        assert!(link.contains("page=4&per_page=10>; rel=\"last\""), "{link}");
    }

    #[test]
    fn past_the_end_has_no_next() {
        let uri: Uri = "/api/artworks?page=9".parse().unwrap();
        let link = Page { page: 9, per_page: 50 }.headers(&uri, 3)["link"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!link.contains("rel=\"next\""));
        assert!(link.contains("page=1&per_page=50>; rel=\"prev\""), "{link}");
        assert!(link.contains("page=1&per_page=50>; rel=\"last\""));
    }
}
