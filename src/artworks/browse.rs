//! Browsing the catalogue: filters, full-text search (the index in memory,
//! [`super::search`], finds and ranks the matches; the database reads them), ordering
//! and pages. A page costs one query whatever its size: the artworks with their artists,
//! their images (each row carries them) and the count. The API's pages on SQLite are read
//! outside sqlx (`sqlite_reads`), the page's ids chosen first.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::{
    artwork_from_row, read, read_sqlite, search, write_artwork, Artwork, ArtworkRow, Medium, ARTWORK_COLUMNS,
    ARTWORK_WIDTH,
};
use crate::db::{Backend, Bind, Binds, Columns, FromColumns, Reads};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::media::Media;
use crate::money::{parse_decimal, Money};
use crate::paging::{write_array, Chunk, Cursor, Direction, JsonItem, Page};
use crate::sqlite_reads;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    Price,
    PriceDesc,
    Year,
    YearDesc,
    Created,
    CreatedDesc,
    Title,
}

impl Ordering {
    fn parse(input: &str) -> Option<Self> {
        Some(match input {
            "price" => Self::Price,
            "-price" => Self::PriceDesc,
            "year" => Self::Year,
            "-year" => Self::YearDesc,
            "created" => Self::Created,
            "-created" => Self::CreatedDesc,
            "title" => Self::Title,
            _ => return None,
        })
    }

    /// Each ordering has an index (`artworks_visible_*`); the id breaks ties.
    fn sql(self) -> &'static str {
        match self {
            Self::Price => "a.price_pence ASC, a.id ASC",
            Self::PriceDesc => "a.price_pence DESC, a.id DESC",
            Self::Year => "a.year ASC, a.id ASC",
            Self::YearDesc => "a.year DESC, a.id DESC",
            Self::Created => "a.created_at ASC, a.id ASC",
            Self::CreatedDesc => "a.created_at DESC, a.id DESC",
            Self::Title => "LOWER(a.title) ASC, a.id ASC",
        }
    }

    /// The sort column a whole list resumes from after a chunk, and its direction.
    fn keyset(self) -> (&'static str, Direction) {
        match self {
            Self::Price => ("a.price_pence", Direction::Asc),
            Self::PriceDesc => ("a.price_pence", Direction::Desc),
            Self::Year => ("a.year", Direction::Asc),
            Self::YearDesc => ("a.year", Direction::Desc),
            Self::Created => ("a.created_at", Direction::Asc),
            Self::CreatedDesc => ("a.created_at", Direction::Desc),
            Self::Title => ("LOWER(a.title)", Direction::Asc),
        }
    }
}

/// A filter's SQL: the tables (artworks as `a`, and a search's matches as `s`), the join
/// that adds each artwork's artist as `m`, the condition and the order.
struct Sql {
    tables: String,
    artist_join: &'static str,
    condition: String,
    order: String,
}

/// What a visitor asked to see.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub words: Vec<String>,
    pub media: Vec<Medium>,
    pub artist: Option<i64>,
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    pub for_sale: Option<bool>,
    pub year_min: Option<i64>,
    pub year_max: Option<i64>,
    pub ordering: Option<Ordering>,
    /// A search's matches, best first, once the index has found them ([`searched`]).
    pub(crate) matches: Option<Arc<[i64]>>,
}

const MAX_WORDS: usize = 16;

/// The words of a search ([`crate::search::words`]), lower-cased and at most 64
/// characters each: the cache's key and the index's question.
pub fn search_words(q: &str) -> Vec<String> {
    crate::search::words(q)
        .map(|w| w.chars().take(64).collect::<String>().to_lowercase())
        .take(MAX_WORDS)
        .collect()
}

fn price(value: &str) -> Option<Money> {
    let decimal = parse_decimal(value)?;
    Money::from_decimal(decimal).filter(|m| m.hundredths() >= 0)
}

impl Filter {
    /// Reads the query string; every bad parameter is named in one 400.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut filter = Self::default();
        let mut errors = FieldErrors::default();
        for (key, value) in pairs {
            let value = value.trim();
            match key.as_str() {
                "q" => filter.words.extend(search_words(value)),
                "medium" => match Medium::parse(value) {
                    Ok(medium) if !filter.media.contains(&medium) => filter.media.push(medium),
                    Ok(_) => {}
                    Err(message) if !errors.has("medium") => errors.add("medium", message),
                    Err(_) => {}
                },
                "artist" => match value.parse::<i64>() {
                    Ok(id) if id > 0 => filter.artist = Some(id),
                    _ => errors.add("artist", "An artist id is required."),
                },
                "min_price" | "max_price" => match price(value) {
                    Some(p) if key == "min_price" => filter.min_price = Some(p),
                    Some(p) => filter.max_price = Some(p),
                    None => errors.add(key, "A price of at least 0 with at most 2 decimal places is required."),
                },
                "for_sale" => match value.to_ascii_lowercase().as_str() {
                    "true" | "1" => filter.for_sale = Some(true),
                    "false" | "0" => filter.for_sale = Some(false),
                    _ => errors.add("for_sale", "Use true or false."),
                },
                "year_min" | "year_max" => match value.parse::<i64>() {
                    Ok(year) if (0..=9999).contains(&year) => {
                        if key == "year_min" {
                            filter.year_min = Some(year)
                        } else {
                            filter.year_max = Some(year)
                        }
                    }
                    _ => errors.add(key, "A year is required."),
                },
                "ordering" => match Ordering::parse(value) {
                    Some(ordering) => filter.ordering = Some(ordering),
                    None => errors.add(
                        "ordering",
                        "Use one of price, -price, year, -year, created, -created, title.",
                    ),
                },
                _ => {}
            }
        }
        // However many `q` parameters arrive, a search has a bounded size.
        filter.words.truncate(MAX_WORDS);
        if errors.is_empty() {
            Ok(filter)
        } else {
            Err(ApiError::invalid(errors))
        }
    }

    /// The query counting the artworks this filter shows, with its values. Filtered by
    /// medium and for sale at most, it sums the counts the database keeps
    /// (`catalogue_counts`) instead of scanning the artworks.
    pub fn count_query(&self, backend: Backend) -> (String, Binds) {
        let mut binds = Binds::default();
        (self.count_sql(backend, &mut binds), binds)
    }

    fn count_sql(&self, backend: Backend, binds: &mut Binds) -> String {
        if let Some(matches) = self.plain_search() {
            // Bound, not written in: one statement for every count, kept prepared.
            let total = binds.push(Bind::Int(count_of(matches)));
            return format!("SELECT CAST({total} AS BIGINT)");
        }
        if self.words.is_empty() && !self.narrowed_by_value() {
            let mut conditions = vec!["artworks > 0".to_owned()];
            if !self.media.is_empty() {
                conditions.push(self.media_condition("medium", binds));
            }
            if let Some(for_sale) = self.for_sale {
                conditions.push(format!("is_for_sale = {}", binds.push(Bind::Bool(for_sale))));
            }
            let condition = conditions.join(" AND ");
            return format!("SELECT COALESCE(SUM(artworks), 0) FROM catalogue_counts WHERE {condition}");
        }
        let Sql { tables, condition, .. } = self.to_sql(backend, binds);
        format!("SELECT COUNT(*) FROM {tables} WHERE {condition}")
    }

    /// `column IN (…)` for the filter's media.
    fn media_condition(&self, column: &str, binds: &mut Binds) -> String {
        let list: Vec<String> = self
            .media
            .iter()
            .map(|m| binds.push(Bind::Text(m.as_str().to_owned())))
            .collect();
        format!("{column} IN ({})", list.join(", "))
    }

    /// The query for one page of the artworks this filter shows, with its values.
    /// When `counted`, each row also holds the count as `total` (computed once: the
    /// subquery does not depend on the row; a search with other filters on PostgreSQL
    /// counts in the pass that filters, [`Self::ranked_page_sql`]; a search without, in
    /// the index).
    pub fn page_query(&self, backend: Backend, page: Page, counted: bool) -> (String, Binds) {
        let mut binds = Binds::default();
        if let Some(matches) = self.plain_search() {
            let Sql {
                tables,
                artist_join,
                condition,
                order,
            } = matched(backend, slice(matches, page), &mut binds);
            let total = match counted {
                true => format!(
                    ", CAST({} AS BIGINT) AS total",
                    binds.push(Bind::Int(count_of(matches)))
                ),
                false => String::new(),
            };
            return (
                format!(
                    "SELECT {ARTWORK_COLUMNS}{total} FROM {tables} {artist_join} WHERE {condition} ORDER BY {order}"
                ),
                binds,
            );
        }
        if counted && backend == Backend::Postgres && !self.words.is_empty() {
            return (self.ranked_page_sql(page, &mut binds), binds);
        }
        let total = match counted {
            true => format!(", ({}) AS total", self.count_sql(backend, &mut binds)),
            false => String::new(),
        };
        let Sql {
            tables,
            artist_join,
            condition,
            order,
        } = self.to_sql(backend, &mut binds);
        let window = page.window(&mut binds);
        (
            format!(
                "SELECT {ARTWORK_COLUMNS}{total} FROM {tables} {artist_join} WHERE {condition} ORDER BY {order} {window}"
            ),
            binds,
        )
    }

    /// On PostgreSQL, the page of a search with other filters, with its count: the
    /// matches are filtered, counted (`COUNT(*) OVER ()`) and ordered once, as ids, then the
    /// page's 50 or 200 are read whole, where a count subquery would read every match twice.
    fn ranked_page_sql(&self, page: Page, binds: &mut Binds) -> String {
        let Sql {
            tables,
            condition,
            order,
            ..
        } = self.to_sql(Backend::Postgres, binds);
        let window = page.window(binds);
        // The page's rows again in the page's order: by the matches' rank, which only the
        // inner query has, or by the ordering asked for, on the artworks' columns.
        let again = match self.ordering {
            Some(ordering) => ordering.sql(),
            None => "p.rank ASC",
        };
        format!(
            "SELECT {ARTWORK_COLUMNS}, p.total FROM (SELECT a.id, s.rank, COUNT(*) OVER () AS total FROM {tables} \
             WHERE {condition} ORDER BY {order} {window}) p JOIN artworks a ON a.id = p.id \
             JOIN members m ON m.id = a.artist_id ORDER BY {again}"
        )
    }

    /// On SQLite, the query for one page of the artworks this filter shows
    /// ([`rows_of`]) with the count as each row's last column (computed once: the
    /// subquery does not depend on the row), and its values.
    fn page_rows_query(&self, page: Page) -> (String, Binds) {
        let mut binds = Binds::default();
        if let Some(matches) = self.plain_search() {
            let Sql {
                tables,
                condition,
                order,
                ..
            } = matched(Backend::Sqlite, slice(matches, page), &mut binds);
            // The limit keeps the order: SQLite may drop an unlimited subquery's ORDER BY.
            let limit = binds.push(Bind::Int(page.per_page));
            let total = binds.push(Bind::Int(count_of(matches)));
            let ids =
                format!("SELECT a.id, a.id AS sort_key FROM {tables} WHERE {condition} ORDER BY {order} LIMIT {limit}");
            return (rows_of(&ids, &total), binds);
        }
        let total = format!("({})", self.count_sql(Backend::Sqlite, &mut binds));
        let Sql {
            tables,
            condition,
            order,
            ..
        } = self.to_sql(Backend::Sqlite, &mut binds);
        let window = page.window(&mut binds);
        let ids = format!("SELECT a.id, a.id AS sort_key FROM {tables} WHERE {condition} ORDER BY {order} {window}");
        (rows_of(&ids, &total), binds)
    }

    /// The search's matches, best first, if it has words: none until [`searched`] found
    /// them.
    fn search(&self) -> Option<&[i64]> {
        if self.words.is_empty() {
            return None;
        }
        debug_assert!(self.matches.is_some(), "a search is found before its SQL is written");
        Some(self.matches.as_deref().unwrap_or_default())
    }

    /// The matches of a search with no other filter, in the index's order: the index
    /// counted them and ranked them, so the database reads only the page's artworks.
    fn plain_search(&self) -> Option<&[i64]> {
        let only_words =
            self.media.is_empty() && self.for_sale.is_none() && self.ordering.is_none() && !self.narrowed_by_value();
        self.search().filter(|_| only_words)
    }

    /// Whether an artist, a price or a year narrows the list: what neither the kept
    /// counts nor the index can count.
    fn narrowed_by_value(&self) -> bool {
        self.artist.is_some()
            || self.min_price.is_some()
            || self.max_price.is_some()
            || self.year_min.is_some()
            || self.year_max.is_some()
    }

    /// Whether PostgreSQL plans this filter's statements with their values, each time: a
    /// price or a year range with both ends, unless the list is ordered by that column. A
    /// plan kept for any values guesses that such a range holds a two-hundredth of the
    /// artworks; for £100–£3,000, which holds more than half of them, it fetched and
    /// sorted every match for a page of 50 (15 ms, against 0.3 ms for the plan made with
    /// the values, which walks the order's index). Ordered by the range's column, or with
    /// one end only (guessed at a third), the plan kept walks the order's index, and
    /// planning each time would only cost more (0.8 ms a page here).
    fn planned_with_values(&self) -> bool {
        let ordered_by = |orderings: [Ordering; 2]| self.plain_ordering().is_some_and(|o| orderings.contains(&o));
        let price = self.min_price.is_some() && self.max_price.is_some();
        let year = self.year_min.is_some() && self.year_max.is_some();
        (price && !ordered_by([Ordering::Price, Ordering::PriceDesc]))
            || (year && !ordered_by([Ordering::Year, Ordering::YearDesc]))
    }

    /// The ordering the list follows, unless it is a search's relevance.
    fn plain_ordering(&self) -> Option<Ordering> {
        match self.ordering {
            Some(ordering) => Some(ordering),
            None if self.words.is_empty() => Some(Ordering::CreatedDesc),
            None => None,
        }
    }

    /// The tables (artworks as `a`, and what the search needs), the condition and the
    /// order for this filter on `backend`.
    fn to_sql(&self, backend: Backend, binds: &mut Binds) -> Sql {
        let (tables, artist_join, mut conditions, relevance) = match self.search() {
            Some(matches) => {
                let Sql {
                    tables,
                    artist_join,
                    condition,
                    order,
                } = matched(backend, matches, binds);
                (tables, artist_join, vec![condition], Some(order))
            }
            None => (
                "artworks a".to_owned(),
                "JOIN members m ON m.id = a.artist_id",
                vec!["a.archived_at IS NULL".to_owned()],
                None,
            ),
        };
        if !self.media.is_empty() {
            conditions.push(self.media_condition("a.medium", binds));
        }
        let mut compare = |sql: &str, value: Option<Bind>| {
            if let Some(value) = value {
                let p = binds.push(value);
                conditions.push(format!("{sql} {p}"));
            }
        };
        compare("a.artist_id =", self.artist.map(Bind::Int));
        compare("a.price_pence >=", self.min_price.map(|m| Bind::Int(m.hundredths())));
        compare("a.price_pence <=", self.max_price.map(|m| Bind::Int(m.hundredths())));
        compare("a.is_for_sale =", self.for_sale.map(Bind::Bool));
        compare("a.year >=", self.year_min.map(Bind::Int));
        compare("a.year <=", self.year_max.map(Bind::Int));
        let order = match (self.ordering, relevance) {
            (Some(ordering), _) => ordering.sql().to_owned(),
            (None, Some(relevance)) => relevance,
            (None, None) => Ordering::CreatedDesc.sql().to_owned(),
        };
        Sql {
            tables,
            artist_join,
            condition: conditions.join(" AND "),
            order,
        }
    }
}

/// The artworks on show among `matches`, in their order: the search's matches as `s`
/// (`json_each` on SQLite, `unnest` on PostgreSQL, of one value listing them), each joined
/// to its artwork by primary key. The matches drive the query: SQLite's `CROSS JOIN`
/// keeps them the outer loop, where the planner left to itself may walk a filter's index
/// and look for each artwork among the matches.
fn matched(backend: Backend, matches: &[i64], binds: &mut Binds) -> Sql {
    let ids = matches.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let (tables, artist_join, order) = match backend {
        Backend::Sqlite => {
            let p = binds.push(Bind::Text(format!("[{ids}]")));
            (
                format!("json_each({p}) s CROSS JOIN artworks a ON a.id = s.value"),
                "CROSS JOIN members m ON m.id = a.artist_id",
                "s.key ASC",
            )
        }
        Backend::Postgres => {
            let p = binds.push(Bind::Text(ids));
            (
                format!("unnest(string_to_array({p}, ',')::BIGINT[]) WITH ORDINALITY s(id, rank) JOIN artworks a ON a.id = s.id"),
                "JOIN members m ON m.id = a.artist_id",
                "s.rank ASC",
            )
        }
    };
    Sql {
        tables,
        artist_join,
        // The index may be a second behind another instance's withdrawal.
        condition: "a.archived_at IS NULL".to_owned(),
        order: order.to_owned(),
    }
}

/// How many `matches` there are, as the count the API shows. The index may hold an
/// artwork another instance withdrew less than a second ago ([`search::RECHECK`]): the
/// rows leave it out at once, the count a moment later.
fn count_of(matches: &[i64]) -> i64 {
    i64::try_from(matches.len()).unwrap_or(i64::MAX)
}

/// The part of `matches` on `page`.
fn slice(matches: &[i64], page: Page) -> &[i64] {
    let start = usize::try_from(page.offset()).unwrap_or(usize::MAX).min(matches.len());
    let length = usize::try_from(page.per_page).unwrap_or_default();
    &matches[start..start.saturating_add(length).min(matches.len())]
}

/// `filter` with its search's matches, found in the index (as it is, when it has no
/// words or they were found already).
pub async fn searched<'f>(state: &AppState, filter: &'f Filter) -> ApiResult<Cow<'f, Filter>> {
    if filter.words.is_empty() || filter.matches.is_some() {
        return Ok(Cow::Borrowed(filter));
    }
    let matches = search::ranked(state, &filter.words).await?;
    Ok(Cow::Owned(Filter {
        matches: Some(matches),
        ..filter.clone()
    }))
}

/// On SQLite, the artworks of `ids` (a query of `a.id` and `sort_key`, in order, a page
/// or a chunk at most) with their artists ([`ARTWORK_COLUMNS`]), then `total` (the
/// page's count, or `NULL`), then each one's sort key: the layout of every catalogue
/// read ([`Total`], [`SortKey`]). The ids are chosen first, so a sort that looks at every
/// match carries ids, not whole rows; `CROSS JOIN` keeps the page the outer loop, so its
/// order is the rows' order.
fn rows_of(ids: &str, total: &str) -> String {
    format!(
        "SELECT {ARTWORK_COLUMNS}, {total}, p.sort_key FROM ({ids}) p CROSS JOIN artworks a ON a.id = p.id \
         CROSS JOIN members m ON m.id = a.artist_id"
    )
}

/// The count a page's rows carry after their [`ARTWORK_COLUMNS`].
struct Total(Option<i64>);

impl FromColumns for Total {
    fn read<R: Columns>(row: &R) -> Result<Self, R::Error> {
        row.optional_int(ARTWORK_WIDTH).map(Total)
    }
}

/// The sort key a chunk's rows carry after their count (`NULL`).
struct SortKey(Bind);

impl FromColumns for SortKey {
    fn read<R: Columns>(row: &R) -> Result<Self, R::Error> {
        row.key(ARTWORK_WIDTH + 1).map(SortKey)
    }
}

/// One page of the catalogue as the API's JSON array, and the catalogue's size under
/// `filter`: one query, the rows with their images and the count (then the count alone
/// when the page is empty). The JSON is written from the rows' text ([`ArtworkRow`]); on
/// SQLite on one of its readers, on the blocking pool.
pub async fn page_json(state: &AppState, filter: &Filter, page: Page) -> ApiResult<(i64, Bytes)> {
    let filter = &*searched(state, filter).await?;
    let readers = match state.db.reads() {
        Reads::Sqlite(readers) => {
            let read = SqlitePage::new(state, filter, page);
            return Ok(readers.run_blocking(move |conn| read.json(conn)).await?);
        }
        Reads::Postgres(readers) => readers,
    };
    let media = &state.media;
    Ok(readers
        .read(|conn, _| {
            Box::pin(async move {
                let (total, rows) = pg_page(conn, filter, page).await?;
                let mut body = Vec::with_capacity(rows.len() * 1024 + 2);
                write_array(&mut body, &rows, |row, out| write_artwork(row, media, out))?;
                Ok((total, Bytes::from(body)))
            })
        })
        .await?)
}

/// One page of the catalogue and the catalogue's size under `filter`, on one connection:
/// the rows with their images and the count (then the count alone when the page is empty).
pub async fn page(state: &AppState, filter: &Filter, page: Page) -> ApiResult<(i64, Vec<Artwork>)> {
    let filter = &*searched(state, filter).await?;
    let readers = match state.db.reads() {
        Reads::Sqlite(readers) => {
            let read = SqlitePage::new(state, filter, page);
            return Ok(readers.run_blocking(move |conn| read.run(conn)).await?);
        }
        Reads::Postgres(readers) => readers,
    };
    let media = &state.media;
    Ok(readers
        .read(|conn, _| {
            Box::pin(async move {
                let (total, rows) = pg_page(conn, filter, page).await?;
                let artworks = rows.iter().map(|row| artwork_from_row(row, media));
                Ok((total, artworks.collect::<Result<Vec<_>, _>>()?))
            })
        })
        .await?)
}

/// On PostgreSQL, a page's rows and the catalogue's size under `filter`.
async fn pg_page(conn: &mut PgConnection, filter: &Filter, page: Page) -> Result<(i64, Vec<PgRow>), sqlx::Error> {
    let (list_sql, binds) = filter.page_query(Backend::Postgres, page, true);
    let kept = !filter.planned_with_values();
    let rows = binds
        .apply(sqlx::query(&list_sql).persistent(kept))
        .fetch_all(&mut *conn)
        .await?;
    let total = match rows.first() {
        Some(row) => Total::read(row)?.0.unwrap_or_default(),
        // An empty page (past the end) has no row to carry the count.
        None => {
            let (count_sql, count_binds) = filter.count_query(Backend::Postgres);
            count_binds
                .apply(sqlx::query(&count_sql).persistent(kept))
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?
        }
    };
    Ok((total, rows))
}

/// A page of the catalogue as one of SQLite's readers reads it, with what it needs.
struct SqlitePage {
    sql: String,
    binds: Binds,
    count: (String, Binds),
    media: std::sync::Arc<Media>,
}

impl SqlitePage {
    fn new(state: &AppState, filter: &Filter, page: Page) -> Self {
        let (sql, binds) = filter.page_rows_query(page);
        Self {
            sql,
            binds,
            count: filter.count_query(Backend::Sqlite),
            media: state.media.clone(),
        }
    }

    /// The catalogue's size and the page.
    fn run(self, conn: &rusqlite::Connection) -> anyhow::Result<(i64, Vec<Artwork>)> {
        let (artworks, totals) = read_sqlite(conn, &self.media, &self.sql, &self.binds)?;
        Ok((self.total(conn, totals.first())?, artworks))
    }

    /// The catalogue's size and the page as the API's JSON array, written from the rows.
    fn json(self, conn: &rusqlite::Connection) -> anyhow::Result<(i64, Bytes)> {
        let mut body = vec![b'['];
        let mut first = None;
        sqlite_reads::rows(conn, &self.sql, &self.binds, |row| {
            match first {
                None => first = Some(Total::read(row)?),
                Some(_) => body.push(b','),
            }
            write_artwork(row, &self.media, &mut body)
        })?;
        body.push(b']');
        Ok((self.total(conn, first.as_ref())?, Bytes::from(body)))
    }

    /// The count the page's first row carries; past the end, which has no row to carry
    /// it, the count alone.
    fn total(&self, conn: &rusqlite::Connection, first: Option<&Total>) -> anyhow::Result<i64> {
        if let Some(Total(total)) = first {
            return Ok(total.unwrap_or_default());
        }
        let (sql, binds) = &self.count;
        Ok(sqlite_reads::rows(conn, sql, binds, |row| row.get(0))?
            .into_iter()
            .next()
            .unwrap_or_default())
    }
}

/// One page of the catalogue under `filter`, without counting the whole.
pub async fn page_only(state: &AppState, filter: &Filter, page: Page) -> ApiResult<Vec<Artwork>> {
    let filter = &*searched(state, filter).await?;
    let (list_sql, binds) = filter.page_query(state.db.backend(), page, false);
    let (artworks, _) = read::<()>(state, list_sql, binds).await?;
    Ok(artworks)
}

/// How many artworks match `filter`.
pub async fn count(state: &AppState, filter: &Filter) -> ApiResult<i64> {
    let filter = &*searched(state, filter).await?;
    if let Some(matches) = filter.plain_search() {
        return Ok(count_of(matches));
    }
    let (count_sql, binds) = filter.count_query(state.db.backend());
    let kept = state.db.backend() == Backend::Sqlite || !filter.planned_with_values();
    Ok(binds
        .apply(sqlx::query(&count_sql).persistent(kept))
        .fetch_one(state.db.pool())
        .await?
        .try_get(0)?)
}

/// An artwork of the streamed whole list, written as JSON where its chunk was read: on
/// the range's own task, so that ranges read at once are written at once too.
pub struct Listed(Vec<u8>);

impl JsonItem for Listed {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(&self.0);
        Ok(())
    }
}

/// The chunk of the whole list after `cursor`, with the cursor of the next: by keyset,
/// or by position for a search's relevance, which has no key to resume from.
pub async fn chunk(state: &AppState, filter: &Filter, cursor: Cursor) -> Chunk<Listed> {
    let filter = &*searched(state, filter).await?;
    let backend = state.db.backend();
    let mut binds = Binds::default();
    let Sql {
        tables,
        artist_join,
        mut condition,
        order,
    } = filter.to_sql(backend, &mut binds);
    let keyset = filter.plain_ordering().map(Ordering::keyset);
    let key = keyset.map_or("a.id", |(key, _)| key);
    if let Some(after) = keyset.and_then(|(key, dir)| cursor.condition(key, "a.id", dir, &mut binds)) {
        condition = format!("{condition} AND {after}");
    }
    let window = cursor.limit(&mut binds);
    let media = state.media.clone();
    let (artworks, last) = match state.db.reads() {
        Reads::Sqlite(readers) => {
            let sql = rows_of(
                &format!("SELECT a.id, {key} AS sort_key FROM {tables} WHERE {condition} ORDER BY {order} {window}"),
                "NULL",
            );
            readers
                .run_blocking(move |conn| {
                    let mut last = None;
                    let artworks = sqlite_reads::rows(conn, &sql, &binds, |row| {
                        last = Some((SortKey::read(row)?.0, row.int(0)?));
                        let mut json = Vec::with_capacity(1024);
                        write_artwork(row, &media, &mut json)?;
                        Ok(Listed(json))
                    })?;
                    Ok((artworks, last))
                })
                .await?
        }
        Reads::Postgres(readers) => {
            let sql = format!(
                "SELECT {ARTWORK_COLUMNS}, NULL::BIGINT, {key} AS sort_key FROM {tables} {artist_join} \
                 WHERE {condition} ORDER BY {order} {window}"
            );
            let (sql, binds, kept) = (&sql, &binds, !filter.planned_with_values());
            let rows = readers
                .read(|conn, _| Box::pin(binds.apply(sqlx::query(sql).persistent(kept)).fetch_all(conn)))
                .await?;
            let last = match rows.last() {
                Some(row) => Some((SortKey::read(row)?.0, row.int(0)?)),
                None => None,
            };
            let artworks = rows
                .iter()
                .map(|row| {
                    let mut json = Vec::with_capacity(1024);
                    ArtworkRow::read(row, &media)?.write_json(&mut json)?;
                    Ok(Listed(json))
                })
                .collect::<anyhow::Result<Vec<_>>>()
                .map_err(ApiError::Internal)?;
            (artworks, last)
        }
    };
    let next = match keyset {
        Some(_) => cursor.after(artworks.len(), last),
        None => cursor.past(artworks.len()),
    };
    Ok((artworks, next))
}

/// The artwork that ends the range of the whole list under `filter` that starts at
/// `from`: the one a chunk's length after it, found by walking the keys alone, or `None`
/// when the list ends sooner. Always `None` for a search, read as one range: its walk
/// would sort every match again for each range, and by relevance it is read by position.
pub async fn range_end(state: &AppState, filter: &Filter, from: Cursor) -> ApiResult<Option<(Bind, i64)>> {
    if !filter.words.is_empty() {
        return Ok(None);
    }
    let Some((key, direction)) = filter.plain_ordering().map(Ordering::keyset) else {
        return Ok(None);
    };
    let mut binds = Binds::default();
    let Sql {
        tables,
        mut condition,
        order,
        ..
    } = filter.to_sql(state.db.backend(), &mut binds);
    if let Some(after) = from.condition(key, "a.id", direction, &mut binds) {
        condition = format!("{condition} AND {after}");
    }
    // The chunk's own walk, then its last row: SQLite planned `LIMIT 1 OFFSET n` on its
    // own as a sort of every row after the cursor (2 ms a range at 10,000 artworks,
    // against 0.03). Any row after the cursor would do as the end, so the outer query's
    // order only keeps the ranges even. The numbers are the configured chunk's, written
    // in so that PostgreSQL keeps one plan.
    let (rows, skip) = (from.rows(), from.rows() - 1);
    let sql = format!(
        "SELECT sort_key, id FROM (SELECT {key} AS sort_key, a.id AS id FROM {tables} WHERE {condition} \
         ORDER BY {order} LIMIT {rows}) t LIMIT 1 OFFSET {skip}"
    );
    let end = match state.db.reads() {
        // On the blocking pool: a filter no index serves walks more than a chunk's rows.
        Reads::Sqlite(readers) => readers
            .run_blocking(move |conn| sqlite_reads::rows(conn, &sql, &binds, |row| Bound::read(row)))
            .await?
            .into_iter()
            .next(),
        Reads::Postgres(readers) => {
            let (sql, binds, kept) = (&sql, &binds, !filter.planned_with_values());
            let row = readers
                .read(|conn, _| Box::pin(binds.apply(sqlx::query(sql).persistent(kept)).fetch_optional(conn)))
                .await?;
            row.as_ref().map(Bound::read).transpose()?
        }
    };
    Ok(end.map(|Bound(key, id)| (key, id)))
}

/// A range's last artwork: its sort value and id.
struct Bound(Bind, i64);

impl FromColumns for Bound {
    fn read<R: Columns>(row: &R) -> Result<Self, R::Error> {
        Ok(Bound(row.key(0)?, row.int(1)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    #[test]
    fn search_words_are_plain_lower_case_words() {
        assert_eq!(
            search_words("Blue \"harbour\" OR -sea* NEAR(x)"),
            vec!["blue", "harbour", "or", "sea", "near", "x"]
        );
        assert!(search_words(" ' \" * ").is_empty());
        assert_eq!(search_words("Café Müller"), vec!["café", "müller"]);
    }

    #[test]
    fn postgresql_plans_a_range_with_both_ends_with_its_values_unless_ordered_by_it() {
        let planned = |q: &str| Filter::from_pairs(&pairs(q)).unwrap().planned_with_values();
        assert!(planned("min_price=100&max_price=3000"));
        assert!(planned("min_price=100&max_price=3000&medium=painting&ordering=year"));
        assert!(planned("year_min=1990&year_max=2020&ordering=-price"));
        assert!(!planned("min_price=100&max_price=3000&ordering=-price"));
        assert!(!planned("year_min=1990&year_max=2020&ordering=year"));
        assert!(!planned("min_price=100"), "one end: the plan kept guesses a third");
        assert!(!planned("year_max=2020&artist=3"));
        assert!(!planned(""));
    }

    #[test]
    fn parameters_are_read_and_checked() {
        let f = Filter::from_pairs(&pairs(
            "medium=painting&medium=ceramics&min_price=10.5&for_sale=true&ordering=-price",
        ))
        .unwrap();
        assert_eq!(f.media, vec![Medium::Painting, Medium::Ceramics]);
        assert_eq!(f.min_price, Some(Money::from_hundredths(1050)));
        assert_eq!((f.for_sale, f.ordering), (Some(true), Some(Ordering::PriceDesc)));
        let many = "q=a&".repeat(5000) + "medium=painting&medium=painting";
        let f = Filter::from_pairs(&pairs(&many)).unwrap();
        assert_eq!(
            (f.words.len(), f.media.len()),
            (MAX_WORDS, 1),
            "bounded however often repeated"
        );
        for bad in [
            "medium=oil",
            "artist=x",
            "min_price=-1",
            "max_price=1.001",
            "for_sale=maybe",
            "year_min=MMXX",
            "ordering=random",
        ] {
            assert!(Filter::from_pairs(&pairs(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn sql_binds_every_value() {
        let f = Filter::from_pairs(&pairs("q=blue sea&medium=painting&artist=3&year_min=2000")).unwrap();
        let f = Filter {
            matches: Some(Arc::from([9, 4])),
            ..f
        };
        let mut binds = Binds::default();
        let Sql {
            tables,
            condition,
            order,
            ..
        } = f.to_sql(Backend::Postgres, &mut binds);
        assert!(tables.starts_with("unnest(string_to_array($1, ',')::BIGINT[]) WITH ORDINALITY s(id, rank)"));
        assert!(matches!(binds.numbered(1), Some(Bind::Text(ids)) if ids == "9,4"));
        assert!(condition.contains("a.medium IN ($2)") && condition.contains("a.artist_id = $3"));
        assert!(condition.contains("a.year >= $4") && condition.contains("a.archived_at IS NULL"));
        assert_eq!(order, "s.rank ASC", "the index's ranking");
        let mut binds = Binds::default();
        let Sql { tables, order, .. } = f.to_sql(Backend::Sqlite, &mut binds);
        assert!(tables.starts_with("json_each($1) s CROSS JOIN artworks a") && order == "s.key ASC");
        assert!(matches!(binds.numbered(1), Some(Bind::Text(ids)) if ids == "[9,4]"));
    }

    #[test]
    fn a_plain_search_reads_only_its_page_and_counts_in_memory() {
        let f = Filter {
            matches: Some((1..=120).collect()),
            ..Filter::from_pairs(&pairs("q=blue")).unwrap()
        };
        let page = Page { page: 2, per_page: 50 };
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let (sql, binds) = f.page_query(backend, page, true);
            let expected: Vec<String> = (51..=100).map(|id| id.to_string()).collect();
            let listed = match binds.numbered(1) {
                Some(Bind::Text(ids)) => ids.trim_matches(['[', ']']).to_owned(),
                other => panic!("{other:?}"),
            };
            assert_eq!(listed, expected.join(","), "the second page's ids only");
            assert!(
                sql.contains("CAST($2 AS BIGINT) AS total") && !sql.contains("LIMIT"),
                "{sql}"
            );
            assert!(matches!(binds.numbered(2), Some(Bind::Int(120))), "the count, bound");
            let (count, binds) = f.count_query(backend);
            assert_eq!(count, "SELECT CAST($1 AS BIGINT)");
            assert!(matches!(binds.numbered(1), Some(Bind::Int(120))));
        }
        let (sql, binds) = f.page_rows_query(page);
        assert!(sql.contains(", $3, p.sort_key") && sql.contains("LIMIT $2"), "{sql}");
        assert!(matches!(
            (binds.numbered(2), binds.numbered(3)),
            (Some(Bind::Int(50)), Some(Bind::Int(120)))
        ));
        assert!(matches!(binds.numbered(1), Some(Bind::Text(ids)) if ids.starts_with("[51,52,")));
        let past = Page { page: 3, per_page: 100 };
        assert!(
            matches!(f.page_query(Backend::Sqlite, past, true).1.numbered(1), Some(Bind::Text(ids)) if ids == "[]")
        );
        // Any other filter or an ordering: the database filters and counts the matches.
        let filtered = Filter {
            for_sale: Some(true),
            ..f.clone()
        };
        assert!(filtered
            .count_query(Backend::Sqlite)
            .0
            .starts_with("SELECT COUNT(*) FROM json_each"));
        let ordered = Filter {
            ordering: Some(Ordering::Price),
            ..f.clone()
        };
        assert!(ordered.page_query(Backend::Postgres, page, false).0.contains("LIMIT"));
    }
}
