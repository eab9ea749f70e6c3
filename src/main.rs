//! The `patches` binary: `serve` (default), `migrate`, `queries`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use patches::{
    api::support::catalog_body,
    config::{Settings, Sources},
    domain::Actor,
    export::export,
    import,
    seed::{Progress, SeedSize, seed},
    startup::{Application, open_database, shutdown_signal},
    store::patches::PatchStore,
    store::{Catalog, Dialect},
    telemetry,
};

/// Patches and areas: CRUD API for the MMH app, reporting API for analysts.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML file of settings (keys as the environment variables, e.g. `listen`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// `sqlite://PATH` or an SQL Server ADO.NET string (overrides DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve {
        /// Address and port (overrides PATCHES_LISTEN).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Load demo data into an empty database: true or false (overrides PATCHES_DEMO_DATA).
        #[arg(long, value_name = "BOOL")]
        demo_data: Option<String>,
        /// Log filter (overrides PATCHES_LOG).
        #[arg(long, value_name = "FILTER")]
        log: Option<String>,
        /// `pretty` or `json` (overrides PATCHES_LOG_FORMAT).
        #[arg(long, value_name = "FORMAT")]
        log_format: Option<String>,
    },
    /// Apply pending schema migrations and exit.
    Migrate,
    /// Validate a CSV of patches (one row per patch × responsible entity) and, with
    /// --apply, write it in one transaction. Without --apply nothing is written.
    Import {
        /// The CSV file (header: patchId,parentId,patchName,patchType,domain,entityId,entityName,entityType,entityEmail).
        file: PathBuf,
        /// Write the file's patches (all or nothing); otherwise only validate.
        #[arg(long)]
        apply: bool,
    },
    /// Write a reporting entity set as CSV (the same as `$format=csv`), with progress.
    Export {
        /// The entity set: Patches, PatchResponsibleEntities, PatchHierarchy, PropertyPatches or PatchChanges.
        entity_set: String,
        /// An OData `$filter` expression, e.g. "patchType eq 'patch'".
        #[arg(long, value_name = "EXPR")]
        filter: Option<String>,
        /// Output file (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Fill the database with a synthetic dataset (for benchmarks and trials).
    Seed {
        /// How many patches (one area per 40, under one root).
        #[arg(long, default_value_t = 10_000)]
        patches: u64,
        /// How many properties (assigned round-robin to the patches).
        #[arg(long, default_value_t = 20_000)]
        properties: u64,
    },
    /// Print the SQL catalog (every named query, migration and view) of the configured dialect.
    Queries {
        /// Print each file's full SQL too.
        #[arg(long)]
        sql: bool,
    },
}

fn settings(cli: &Cli, flags: &[(&str, &Option<String>)]) -> Result<Settings, String> {
    let mut sources = Sources::gather(cli.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(url) = &cli.database_url {
        sources.set("DATABASE_URL", url.clone());
    }
    for (name, value) in flags {
        if let Some(v) = value {
            sources.set(name, v.clone());
        }
    }
    sources.settings().map_err(|e| e.to_string())
}

async fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        None => {
            let s = settings(&cli, &[])?;
            serve(s).await
        }
        Some(Command::Serve {
            listen,
            demo_data,
            log,
            log_format,
        }) => {
            let s = settings(
                &cli,
                &[
                    ("PATCHES_LISTEN", listen),
                    ("PATCHES_DEMO_DATA", demo_data),
                    ("PATCHES_LOG", log),
                    ("PATCHES_LOG_FORMAT", log_format),
                ],
            )?;
            serve(s).await
        }
        Some(Command::Migrate) => {
            let s = settings(&cli, &[])?;
            telemetry::init(&s.log, s.log_format);
            open_database(&s).await.map_err(|e| e.to_string())?;
            println!("migrations up to date");
            Ok(())
        }
        Some(Command::Import { file, apply }) => {
            let s = settings(&cli, &[])?;
            telemetry::init("warn", s.log_format);
            let store = PatchStore::new(open_database(&s).await.map_err(|e| e.to_string())?);
            let input =
                std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let started = std::time::Instant::now();
            let plan = match import::validate(std::io::BufReader::new(input), &store).await {
                Ok(plan) => plan,
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{}: {p}", file.display());
                    }
                    return Err(format!(
                        "{} problems in {}; nothing was written",
                        problems.len(),
                        file.display()
                    ));
                }
            };
            println!(
                "{}: {} rows, {} patches, valid",
                file.display(),
                plan.rows,
                plan.patches.len()
            );
            if !*apply {
                println!("dry run: nothing was written; run again with --apply to write it");
                return Ok(());
            }
            let mut progress = Progress::new("patches", plan.patches.len() as u64);
            let actor = Actor {
                id: format!("import:{}", file.display()),
            };
            let summary = import::apply(&plan, &store, &actor, |done| progress.show(done as u64))
                .await
                .map_err(|e| format!("import failed, nothing was written: {e}"))?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "imported in one transaction: {} created, {} updated, {} unchanged ({} rows in {secs:.1} s, {:.0} rows/s)",
                summary.created,
                summary.updated,
                summary.unchanged,
                plan.rows,
                plan.rows as f64 / secs.max(0.001)
            );
            Ok(())
        }
        Some(Command::Export {
            entity_set,
            filter,
            output,
        }) => {
            let s = settings(&cli, &[])?;
            telemetry::init("warn", s.log_format);
            let db = open_database(&s).await.map_err(|e| e.to_string())?;
            let mut out: Box<dyn std::io::Write> = match output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let rows = export(db.as_ref(), entity_set, filter.as_deref(), &mut out)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("exported {rows} rows of {entity_set}");
            Ok(())
        }
        Some(Command::Seed {
            patches,
            properties,
        }) => {
            let s = settings(&cli, &[])?;
            telemetry::init("warn", s.log_format);
            let store = PatchStore::new(open_database(&s).await.map_err(|e| e.to_string())?);
            let started = std::time::Instant::now();
            let size = SeedSize {
                patches: *patches,
                properties: *properties,
            };
            seed(&store, size)
                .await
                .map_err(|e| format!("seed failed: {e}"))?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "seeded {patches} patches and {properties} properties in {secs:.1} s ({:.0} patches/s)",
                *patches as f64 / secs.max(0.001)
            );
            Ok(())
        }
        Some(Command::Queries { sql }) => {
            let s = settings(&cli, &[])?;
            let dialect = if s.database_url.starts_with("sqlite://") {
                Dialect::Sqlite
            } else {
                Dialect::Mssql
            };
            let catalog = Catalog::load(dialect).map_err(|e| e.to_string())?;
            print_catalog(&catalog_body(&catalog), *sql)
                // A closed pipe (`patches queries | head`) is not an error.
                .or_else(|e| {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(e.to_string())
                    }
                })
        }
    }
}

fn print_catalog(
    body: &patches::api::support::QueryCatalog,
    with_sql: bool,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "SQL catalog for dialect `{}`\n", body.dialect)?;
    for q in &body.queries {
        writeln!(out, "{} ({}) — {}", q.name, q.kind, q.file)?;
        writeln!(out, "    {}", q.doc)?;
        if !q.params.is_empty() {
            let params: Vec<String> = q
                .params
                .iter()
                .map(|p| format!("@{} {}", p.name, p.sql_type))
                .collect();
            writeln!(out, "    params: {}", params.join(", "))?;
        }
        if with_sql {
            writeln!(out, "\n{}", q.sql)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

async fn serve(s: Settings) -> Result<(), String> {
    telemetry::init(&s.log, s.log_format);
    let app = Application::build(&s).await.map_err(|e| e.to_string())?;
    app.run_until(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("patches: {message}");
            ExitCode::FAILURE
        }
    }
}
