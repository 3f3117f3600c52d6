//! JSON written by the database: the SQL expressions that build a response's objects and
//! arrays in the query itself, on either engine, so a read hands back text to pass
//! through instead of rows to convert and serialise again.
//!
//! The expressions write what `serde_json` writes for the same Rust types: money and
//! measures as exact decimals without trailing zeros (`12`, `12.5`, `0.07`), booleans
//! as `true`/`false`, timestamps in their stored form, absent values as `null`. Tests
//! compare the two writers' output for the same rows.

use crate::db::Backend;

/// The JSON dialect of one engine.
#[derive(Debug, Clone, Copy)]
pub struct JsonSql(pub Backend);

impl JsonSql {
    /// An object of `(key, SQL expression)` fields, in order. Keys are constants of the
    /// code, never input.
    pub fn object(self, fields: &[(&str, String)]) -> String {
        let function = match self.0 {
            Backend::Sqlite => "json_object",
            Backend::Postgres => "json_build_object",
        };
        let fields: Vec<String> = fields.iter().map(|(key, value)| format!("'{key}', {value}")).collect();
        format!("{function}({})", fields.join(", "))
    }

    /// A column of hundredths (pence, hundredths of a cm or kg) as an exact decimal.
    pub fn hundredths(self, column: &str) -> String {
        match self.0 {
            // SQLite writes a whole REAL as `12.0`; whole amounts stay integers.
            Backend::Sqlite => format!("CASE WHEN {column} % 100 = 0 THEN {column} / 100 ELSE {column} / 100.0 END"),
            Backend::Postgres => format!("trim_scale({column}::numeric / 100)"),
        }
    }

    /// A boolean column as `true` or `false` (SQLite stores 0 or 1).
    pub fn boolean(self, column: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("json(CASE WHEN {column} THEN 'true' ELSE 'false' END)"),
            Backend::Postgres => column.to_owned(),
        }
    }

    /// The outward code of a normalised postcode column: what comes before its space.
    pub fn outward_code(self, column: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("substr({column}, 1, instr({column} || ' ', ' ') - 1)"),
            Backend::Postgres => format!("split_part({column}, ' ', 1)"),
        }
    }

    /// `expression` as text, for reading the JSON back as a string column.
    pub fn text(self, expression: &str) -> String {
        match self.0 {
            Backend::Sqlite => expression.to_owned(),
            Backend::Postgres => format!("({expression})::text"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_name_their_fields_in_order() {
        let sql = JsonSql(Backend::Sqlite).object(&[("id", "a.id".into()), ("title", "a.title".into())]);
        assert_eq!(sql, "json_object('id', a.id, 'title', a.title)");
        let sql = JsonSql(Backend::Postgres).object(&[("id", "a.id".into())]);
        assert_eq!(sql, "json_build_object('id', a.id)");
    }
}
