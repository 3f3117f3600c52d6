//! The values of a query built at run time ([`Binds`]), and reading a row's columns by
//! position whichever driver read it ([`Columns`]): what `db` and `sqlite_reads` share.

use sqlx::Type;

/// A value for a query built at run time.
#[derive(Debug, Clone)]
pub enum Bind {
    Int(i64),
    Text(String),
    Bool(bool),
}

/// The values of a query built at run time, numbered as they are pushed.
#[derive(Debug, Clone, Default)]
pub struct Binds(Vec<Bind>);

impl FromIterator<Bind> for Binds {
    fn from_iter<I: IntoIterator<Item = Bind>>(values: I) -> Self {
        Self(values.into_iter().collect())
    }
}

impl<const N: usize> From<[Bind; N]> for Binds {
    fn from(values: [Bind; N]) -> Self {
        Self(values.into())
    }
}

impl Binds {
    /// Adds a value and returns its placeholder (`$n`).
    pub fn push(&mut self, value: Bind) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `$n`.
    pub fn numbered(&self, n: usize) -> Option<&Bind> {
        n.checked_sub(1).and_then(|i| self.0.get(i))
    }

    pub fn apply<'q, DB>(
        &self,
        mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    ) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
    where
        DB: sqlx::Database,
        i64: sqlx::Encode<'q, DB> + Type<DB>,
        String: sqlx::Encode<'q, DB> + Type<DB>,
        bool: sqlx::Encode<'q, DB> + Type<DB>,
    {
        for value in &self.0 {
            query = match value {
                Bind::Int(n) => query.bind(*n),
                Bind::Text(text) => query.bind(text.clone()),
                Bind::Bool(b) => query.bind(*b),
            };
        }
        query
    }
}

/// A row's columns by position, whichever driver read it: sqlx's rows and the rows of
/// SQLite's hot reads (`sqlite_reads`) are decoded by the same code; `db` gives sqlx's
/// rows their implementations.
pub trait Columns {
    type Error;
    fn int(&self, i: usize) -> Result<i64, Self::Error>;
    fn optional_int(&self, i: usize) -> Result<Option<i64>, Self::Error>;
    /// A text, borrowed from the row.
    fn str(&self, i: usize) -> Result<&str, Self::Error>;
    fn optional_str(&self, i: usize) -> Result<Option<&str>, Self::Error>;
    /// A flag: SQLite's 0 or 1, PostgreSQL's boolean.
    fn flag(&self, i: usize) -> Result<bool, Self::Error>;
    /// A sort key: an integer, or else a text.
    fn key(&self, i: usize) -> Result<Bind, Self::Error>;
    /// The error for column `i`, whose value does not mean anything here.
    fn invalid(&self, i: usize, why: sqlx::error::BoxDynError) -> Self::Error;

    fn text(&self, i: usize) -> Result<String, Self::Error> {
        self.str(i).map(str::to_owned)
    }

    fn optional_text(&self, i: usize) -> Result<Option<String>, Self::Error> {
        self.optional_str(i).map(|text| text.map(str::to_owned))
    }

    /// A stored timestamp (`clock::to_db`'s form), or NULL.
    fn optional_timestamp(&self, i: usize) -> Result<Option<chrono::DateTime<chrono::Utc>>, Self::Error> {
        self.optional_str(i)?
            .map(|text| crate::clock::from_db(text).map_err(|e| self.invalid(i, e.into())))
            .transpose()
    }

    /// A stored timestamp (`clock::to_db`'s form).
    fn timestamp(&self, i: usize) -> Result<chrono::DateTime<chrono::Utc>, Self::Error> {
        self.optional_timestamp(i)?
            .ok_or_else(|| self.invalid(i, "NULL where a timestamp was expected".into()))
    }
}

/// What a read makes of each row, by position, on whichever connections read it.
pub trait FromColumns: Sized + Send {
    fn read<R: Columns>(row: &R) -> Result<Self, R::Error>;
}

/// Nothing from the row.
impl FromColumns for () {
    fn read<R: Columns>(_: &R) -> Result<Self, R::Error> {
        Ok(())
    }
}

/// A count or an id: the first column.
impl FromColumns for i64 {
    fn read<R: Columns>(row: &R) -> Result<Self, R::Error> {
        row.int(0)
    }
}
