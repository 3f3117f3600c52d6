//! PostgreSQL's typed rows (`db::Columns for PgRow`, the hot reads' decoder) read each
//! column as its type and refuse, with an error, a column of another type.

use openstudio::db::{Bind, Columns};
use sqlx::Connection;

#[tokio::test]
async fn a_postgres_row_reads_each_column_as_its_type_and_nothing_else() {
    let Some(admin) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped on SQLite: this is PostgreSQL's row decoder");
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    let row = sqlx::query(
        "SELECT 'x'::text, 7::int4, TRUE, NULL::bigint, 5::bigint, 'v'::varchar, 'é'::text, 2::int2, \
         'key'::text, NULL::text, 1.5::numeric, (-3)::int4",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(row.text(0).unwrap(), "x");
    assert_eq!(row.int(1).unwrap(), 7);
    assert!(row.flag(2).unwrap());
    assert_eq!(row.optional_int(3).unwrap(), None);
    assert_eq!(row.int(4).unwrap(), 5);
    assert_eq!(row.text(5).unwrap(), "v");
    assert_eq!(row.text(6).unwrap(), "é");
    assert_eq!(row.int(7).unwrap(), 2);
    assert_eq!(row.int(11).unwrap(), -3);
    assert_eq!(row.optional_text(9).unwrap(), None);
    assert_eq!((row.str(6).unwrap(), row.optional_str(5).unwrap()), ("é", Some("v")));
    assert_eq!(row.optional_str(9).unwrap(), None);
    assert!(matches!(row.key(4).unwrap(), Bind::Int(5)));
    assert!(matches!(row.key(8).unwrap(), Bind::Text(k) if k == "key"));

    // A one-byte text is not a flag, an integer's bytes are not a text, a text's not
    // an integer; a NULL is not a required value; no other type passes for one.
    assert!(row.flag(0).is_err());
    assert!(row.text(4).is_err());
    assert!(row.int(0).is_err());
    assert!(row.int(3).is_err());
    assert!(row.text(9).is_err());
    assert!(row.str(9).is_err() && row.str(1).is_err() && row.optional_str(10).is_err());
    assert!(row.flag(1).is_err());
    assert!(row.int(10).is_err());
    assert!(row.text(10).is_err());
    assert!(row.key(2).is_err());
    assert!(row.key(3).is_err(), "a NULL key");
    assert!(row.int(12).is_err(), "past the last column");
}
