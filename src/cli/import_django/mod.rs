//! `openstudio import-django --from postgres://…/db [--dry-run] [--copy-images]` (issue 13): the first
//! version's members, artworks, images, galleries and orders, read from its PostgreSQL
//! database as Django made it (`../shared/django-schema.sql`), written into this
//! server's (an empty one) with every id kept. Members log in with their old passwords
//! (`passwords` checks Django's hashes and replaces them at the first login).
//!
//! [`read`] takes one read-only snapshot of the source, [`plan`] maps it and notes each
//! departure from the first version, [`write`] stores the plan in one transaction, and
//! [`images`] copies the images here when asked, after. The report says what was read, what was written and every anomaly with what was done.

use chrono::{DateTime, Utc};

use crate::clock;
use crate::state::AppState;

pub mod images;
pub mod plan;
pub mod read;
pub mod write;

/// What an import did (or, in a dry run, would do).
pub struct Report {
    pub dry_run: bool,
    pub read: Vec<(&'static str, usize)>,
    pub written: Vec<(&'static str, usize)>,
    /// With `--copy-images`: how many images were copied here.
    pub copied: Option<usize>,
    pub anomalies: Vec<plan::Anomaly>,
}

/// What `import-django` was asked to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
    /// Download each image and store it here (`--copy-images`), fetched so.
    pub copy_images: Option<images::Fetching>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Read from the first version:")?;
        for (table, n) in &self.read {
            writeln!(f, "  {table}: {n}")?;
        }
        if self.dry_run {
            writeln!(f, "Dry run: nothing was written.")?;
        } else {
            writeln!(f, "Written here:")?;
            for (table, n) in &self.written {
                writeln!(f, "  {table}: {n}")?;
            }
            if let Some(copied) = self.copied {
                writeln!(f, "  images copied into this server's store: {copied}")?;
            }
        }
        if self.anomalies.is_empty() {
            return writeln!(f, "No anomalies.");
        }
        writeln!(f, "Anomalies ({}):", self.anomalies.len())?;
        for a in &self.anomalies {
            let mut done = a.done.chars();
            let done: String = done
                .next()
                .map(|c| c.to_uppercase().chain(done).collect())
                .unwrap_or_default();
            writeln!(f, "  {} {}: {}. {done}.", a.table, a.id, a.found)?;
        }
        Ok(())
    }
}

/// Imports the first version's database at `from` into this server's (after checking
/// it is empty), or with `dry_run` reads, checks and maps everything and writes nothing.
pub async fn import(state: &AppState, from: &str, options: Options, now: DateTime<Utc>) -> anyhow::Result<Report> {
    let db = &state.db;
    write::check_empty(db).await?;
    let source = read::read(from).await?;
    let read = vec![
        ("members", source.members.len()),
        ("artworks", source.artworks.len()),
        ("artwork images", source.images.len()),
        ("galleries", source.galleries.len()),
        ("gallery artworks", source.gallery_artworks.len()),
        ("orders", source.orders.len()),
    ];
    let plan = plan::plan(&source, now);
    let mut anomalies = plan.anomalies.clone();
    if options.dry_run {
        return Ok(Report {
            dry_run: true,
            read,
            written: Vec::new(),
            copied: None,
            anomalies,
        });
    }
    let written = write::write(db, &plan, &clock::to_db(now), &Progress::new()).await?.0;
    let copied = match options.copy_images {
        Some(fetching) => {
            let (copied, failures) = images::copy(state, fetching).await?;
            anomalies.extend(failures);
            Some(copied)
        }
        None => None,
    };
    Ok(Report {
        dry_run: false,
        read,
        written,
        copied,
        anomalies,
    })
}

/// The import's progress: a bar per table on a terminal (standard error), a plain line
/// per table otherwise.
pub struct Progress {
    terminal: bool,
}

impl Progress {
    pub fn new() -> Self {
        Self {
            terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }

    /// A bar for `rows` rows of `table` being `doing` ("writing").
    pub fn table(&self, doing: &'static str, table: &'static str, rows: usize) -> TableProgress {
        let bar = if self.terminal {
            let bar = indicatif::ProgressBar::new(rows as u64);
            let style = indicatif::ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style.progress_chars("=> "));
            bar.set_message(format!("{doing} {table}"));
            Some(bar)
        } else {
            None
        };
        TableProgress { bar, doing, table }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

pub struct TableProgress {
    bar: Option<indicatif::ProgressBar>,
    doing: &'static str,
    table: &'static str,
}

impl TableProgress {
    pub fn step(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    pub fn finish(self, rows: usize) {
        match self.bar {
            Some(bar) => bar.finish(),
            None => eprintln!("{} {}: {rows}", self.doing, self.table),
        }
    }
}
