//! The `openstudio` command: serve (the default), migrate, seed-demo, create-admin,
//! import-django.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use openstudio::app;
use openstudio::cli::{admin, demo, import_django};
use openstudio::clock::Clock;
use openstudio::config::{Config, LogFormat};
use openstudio::db::Db;

#[derive(Parser)]
#[command(name = "openstudio", about = "OpenStudio: an art marketplace server", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Fill an empty database with a small demo marketplace (run again: no change).
    SeedDemo {
        /// Add the demo even to a database that holds other artworks or orders.
        #[arg(long)]
        force: bool,
    },
    /// Bring the first version's data (its Django PostgreSQL database) into this server's
    /// empty database, keeping every id; prints what was read and written and every
    /// anomaly with what was done about it.
    ImportDjango {
        /// The first version's database, e.g. postgres://user@host/db (only read).
        #[arg(long)]
        from: String,
        /// Read, check and map everything and print the report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// After the import, download each image and store it here through the upload
        /// pipeline; a failed one keeps its external URL and is reported.
        #[arg(long)]
        copy_images: bool,
        /// How long one image download may take, in seconds (tried 3 times).
        #[arg(long, default_value_t = 20)]
        image_timeout_secs: u64,
    },
    /// Create a staff member; with --promote, make the member already registered with
    /// the email staff instead. A new member's password comes from
    /// OPENSTUDIO_ADMIN_PASSWORD or a prompt.
    CreateAdmin {
        /// Make an existing member with this email staff (their password is unchanged).
        #[arg(long)]
        promote: bool,
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "Studio")]
        first_name: String,
        #[arg(long, default_value = "Admin")]
        last_name: String,
        #[arg(long, default_value = "OpenStudio")]
        address: String,
        #[arg(long, default_value = "SW1A 1AA")]
        postcode: String,
    },
}

fn main() -> anyhow::Result<()> {
    return_large_blocks_to_the_system();
    let cli = Cli::parse();
    let config = Config::from_env()?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config))
}

/// glibc serves a freed block of a size it has seen freed before from its heap next
/// time, and each thread's heap keeps what it freed: an image's tens of megabytes, once
/// decoded on a blocking thread, would stay resident in that thread's heap. A fixed
/// threshold makes every block of 4 MiB or more a mapping of its own, given back to the
/// system when freed, so memory follows the image budget.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    match format {
        // One JSON object a line, span fields (the request id) included.
        LogFormat::Json => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .with_current_span(true)
            .init(),
        LogFormat::Text => {
            let colour = std::io::IsTerminal::is_terminal(&std::io::stdout()) && std::env::var_os("NO_COLOR").is_none();
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_target(false)
                .with_ansi(colour)
                .init()
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let address = std::net::SocketAddr::new(config.bind, config.port);
            let state = app::connect(config, Clock::default()).await?;
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("binding {address}"))?;
            tracing::info!("OpenStudio listening on http://{}", listener.local_addr()?);
            app::serve(state, listener).await
        }
        Command::SeedDemo { force } => {
            let state = app::connect(config, Clock::default()).await?;
            state.db.migrate().await?;
            match demo::seed(&state, force).await? {
                demo::Outcome::AlreadyThere => {
                    println!("The demo marketplace is already here; nothing changed.")
                }
                demo::Outcome::Seeded { artworks, orders } => {
                    println!("Seeded a demo marketplace: {artworks} artworks, {orders} orders in every state.");
                    println!(
                        "Log in as marta.ink@{domain} (artist) or june.collects@{domain} (collector), password {password}",
                        domain = demo::DOMAIN,
                        password = demo::PASSWORD
                    );
                }
            }
            Ok(())
        }
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            openstudio::members::fill_username_skeletons(&db).await?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::ImportDjango {
            from,
            dry_run,
            copy_images,
            image_timeout_secs,
        } => {
            let state = app::connect(config, Clock::default()).await?;
            state.db.migrate().await?;
            let options = import_django::Options {
                dry_run,
                copy_images: copy_images.then(|| import_django::images::Fetching {
                    timeout: std::time::Duration::from_secs(image_timeout_secs.max(1)),
                    ..Default::default()
                }),
            };
            let report = import_django::import(&state, &from, options, state.clock.now()).await?;
            print!("{report}");
            Ok(())
        }
        Command::CreateAdmin {
            promote,
            email,
            username,
            first_name,
            last_name,
            address,
            postcode,
        } => {
            let new = admin::NewAdmin {
                email,
                username,
                first_name,
                last_name,
                address,
                postcode,
                password: String::new(),
            };
            create_admin(config, new, promote).await
        }
    }
}

/// `create-admin`: a new staff member, or with `--promote` an existing member made staff.
async fn create_admin(config: Config, mut new: admin::NewAdmin, promote: bool) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url, 2).await?;
    db.migrate().await?;
    openstudio::members::fill_username_skeletons(&db).await?;
    if let Some(existing) = openstudio::members::find_by_email(&db, &new.email).await? {
        if !promote {
            bail!(
                "{} is already registered (member {}, {}); nothing was changed. \
                 Run again with --promote to make that member staff.",
                new.email,
                existing.id,
                existing.username
            );
        }
        println!("{}", admin::promote(&db, &Clock::default(), &existing).await?);
        return Ok(());
    }
    new.password = match std::env::var("OPENSTUDIO_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let first = rpassword::prompt_password("Password: ").context("reading the password")?;
            let again = rpassword::prompt_password("Password (again): ").context("reading the password")?;
            if first != again {
                bail!("the passwords do not match");
            }
            first
        }
    };
    println!("{}", admin::create_admin(&db, &Clock::default(), new).await?);
    Ok(())
}
