//! The command line: argument parsing, the `check` command and exit codes.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::accounts::{self, UserRole};
use crate::check::{Arrival, check};
use crate::clock::{Clock as _, SystemClock};
use crate::config::Config;
use crate::model::{Decision, Verdict};
use crate::render::Templates;
use crate::render::compose::compose_or_notice;

/// Exit status: everything checked.
pub const EXIT_OK: u8 = 0;
/// Exit status: bad usage or configuration.
pub const EXIT_USAGE: u8 = 1;
/// Exit status (`lookup`): no approved window holds the address at that time.
pub const EXIT_NO_MATCH: u8 = 3;
/// Exit status: at least one file could not be read, or (`--render`) its replies could not
/// be built (the others were still checked).
pub const EXIT_UNREADABLE: u8 = 2;

/// intake reads load-, security- and penetration-test notifications sent to support,
/// extracts the six required items, checks completeness and the notice rules, and answers.
#[derive(Debug, Parser)]
#[command(name = "intake", version, about, long_about = None)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check .eml files and print each verdict (no mail is sent).
    ///
    /// Each FILE is read as one RFC 5322 message (regular files only; at most
    /// max_message_bytes are read). The notice is measured from --received, else the topmost
    /// Received: header, else the Date: header. Exit status: 0 when every file was checked,
    /// 2 when a file could not be read (a directory, FIFO or device among them) or, with
    /// --render, its replies could not be built (that file is then a review; the others
    /// are still checked), 1 for bad usage or configuration.
    Check(CheckArgs),
    /// Watch the support mailbox: decide every new message once, answer, forward approved
    /// windows to security, summarise for staff.
    ///
    /// Runs until SIGTERM/SIGINT (finishing the message in hand), or with --once processes
    /// what is waiting and exits. Reads [mailbox], [outbox] and [store] from the config.
    Watch(WatchArgs),
    /// Feed a conversation's messages, in order, through the whole lifecycle (no mail is
    /// sent, no store is touched) and print each step: the decision, the request it created
    /// or changed, and the messages that would be sent.
    ///
    /// Each message's arrival is read from its own headers, as `check` does. The same files
    /// always give the same references and Message-IDs. Exit status as for `check`.
    Replay(ReplayArgs),
    /// Print a request from the store: its current record, state and history.
    Show(ShowArgs),
    /// Manage the staff accounts: add, change a password, remove, list.
    ///
    /// Accounts live in the store ([store] path of the config), each with a role (staff,
    /// security or admin) and an argon2id password hash; every change is logged with who
    /// made it. A password is read from the terminal without echo (asked twice), or as one
    /// line from stdin when it is piped; it needs at least 12 characters. Exit status: 0 when
    /// done, 1 for an unknown or duplicate user, a bad name, role or password, or bad usage.
    User(UserArgs),
    /// Was this address announced? Print the approved windows whose originating addresses
    /// hold IP (or overlap CIDR) at a moment (default: now).
    ///
    /// Reads the store ([store] path of the config): requests the security team holds
    /// (accepted, or in review after an acceptance), by their accepted record. Exit status:
    /// 0 with at least one match, 3 with none, 1 for bad input, config or no store.
    Lookup(LookupArgs),
    /// Manage the tokens of the calendar feed and the lookup API: add, list, revoke.
    ///
    /// A token belongs to a user (of `intake user`) and has one kind: feed (the URL
    /// /feeds/TOKEN.ics of the web console) or api (`Authorization: Bearer TOKEN` on
    /// /api/v1/lookup). `add` prints the token once on stdout; the store keeps only its
    /// SHA-256. Every change is logged with who made it. Exit status: 0 when done, 1 for an
    /// unknown user or token, a token revoked already, or bad usage.
    Token(TokenArgs),
}

#[derive(Debug, clap::Args)]
pub struct LookupArgs {
    /// An IP address (192.0.2.7, 2001:db8::7) or a CIDR block (192.0.2.0/24).
    #[arg(value_name = "IP|CIDR")]
    pub address: String,
    /// The moment to look at: RFC 3339 (2026-12-10T09:00:00Z) or `YYYY-MM-DD HH:MM` in the
    /// configured timezone (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print a JSON array of the matches.
    #[arg(long)]
    pub json: bool,
    /// Configuration file (its [store] path and timezone are used).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user with a role; the password is asked for (or read from stdin).
    Add(UserAddArgs),
    /// Give a user a new password (asked for, or read from stdin).
    Passwd(UserNameArgs),
    /// Remove a user.
    Remove(UserNameArgs),
    /// List the users with their roles (never their password hashes).
    List(UserListArgs),
}

#[derive(Debug, clap::Args)]
pub struct UserAddArgs {
    /// The user name: 1-64 characters of a-z, 0-9, '.', '_', '-'.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// What the user may do: staff, security or admin.
    #[arg(long, value_name = "ROLE", value_parser = parse_role)]
    pub role: UserRole,
    /// Configuration file (its [store] path is used).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct UserNameArgs {
    /// The user name.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Configuration file (its [store] path is used).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct UserListArgs {
    /// Configuration file (its [store] path is used).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for a user and print it (once: only its hash is kept).
    Add(TokenAddArgs),
    /// List the tokens (of one user, or everyone's), revoked ones too; never the tokens.
    List(TokenListArgs),
    /// Revoke a token by its id (as `list` shows it).
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, clap::Args)]
pub struct TokenAddArgs {
    /// The user the token belongs to.
    #[arg(value_name = "USER")]
    pub user: String,
    /// What it opens: feed (the calendar feed) or api (the lookup API).
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: crate::tokens::TokenKind,
    /// A note for people: where the token is used (at most 64 characters).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub label: String,
    /// Configuration file (its [store] path is used).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct TokenListArgs {
    /// Only this user's tokens.
    #[arg(value_name = "USER")]
    pub user: Option<String>,
    /// Configuration file (its [store] path is used).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct TokenRevokeArgs {
    /// The token's id.
    #[arg(value_name = "ID")]
    pub id: i64,
    /// Configuration file (its [store] path is used).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn parse_kind(s: &str) -> Result<crate::tokens::TokenKind, String> {
    s.parse()
        .map_err(|e: crate::tokens::TokenError| e.to_string())
}

fn parse_role(s: &str) -> Result<UserRole, String> {
    s.parse()
        .map_err(|e: crate::accounts::AccountError| e.to_string())
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Print one JSON object per file (JSON Lines): the `check` keys plus request_ref,
    /// request_state, request_record and outgoing.
    #[arg(long)]
    pub json: bool,
    /// Configuration file (default: ./config.toml if present, else built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The .eml files, in the order they arrived.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Print the request as JSON.
    #[arg(long)]
    pub json: bool,
    /// Configuration file (its [store] path is read).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The request's reference, e.g. INT-4K7M2Q9XRT.
    #[arg(value_name = "REF")]
    pub reference: String,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Configuration file (default: ./config.toml if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Process what is waiting, send what is queued, then exit.
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Print one JSON object per file (JSON Lines) instead of a summary for people.
    #[arg(long)]
    pub json: bool,
    /// Also print the replies that would be sent, as full messages.
    #[arg(long)]
    pub render: bool,
    /// Arrival time to measure the notice from (RFC 3339, e.g. 2026-11-26T09:00:00Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub received: Option<DateTime<Utc>>,
    /// Configuration file (default: ./config.toml if present, else built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The .eml files to check.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{s}` is not an RFC 3339 time like 2026-11-26T09:00:00Z ({e})"))
}

/// Parses arguments and runs; returns the process exit status.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    EXIT_OK
                }
                _ => EXIT_USAGE,
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("intake: {e:#}");
            EXIT_USAGE
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    init_logging(cli.log_format);
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Watch(args) => run_watch(args),
        Command::Replay(args) => run_replay(args),
        Command::Show(args) => run_show(args),
        Command::User(args) => run_user(args),
        Command::Lookup(args) => run_lookup(args),
        Command::Token(args) => run_token(args),
    }
}

/// Structured logs on stderr; `RUST_LOG` filters (default `info`).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn run_watch(args: WatchArgs) -> Result<u8> {
    let config = Config::load(args.config.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("Starting the async runtime")?;
    let summary = runtime.block_on(async {
        let shutdown = crate::watch::Shutdown::on_signals();
        crate::watch::run(config, args.once, shutdown).await
    })?;
    eprintln!(
        "intake watch: {} decided, {} skipped (older than answer_since), {} sent, {} waiting to be sent",
        summary.decided, summary.skipped, summary.sent, summary.unsent
    );
    Ok(EXIT_OK)
}

fn run_replay(args: ReplayArgs) -> Result<u8> {
    let config = Config::load(args.config.as_deref())?;
    let templates = Templates::for_config(&config)?;
    let max = config.rules.max_message_bytes;
    let mut status = EXIT_OK;
    let mut messages = Vec::with_capacity(args.files.len());
    for path in &args.files {
        match read_message(path, max) {
            Ok((raw, _)) => messages.push((path.display().to_string(), raw)),
            Err(e) => {
                eprintln!("intake: {}: {e}", path.display());
                status = EXIT_UNREADABLE;
            }
        }
    }
    let steps = crate::replay::replay(&config, &templates, &messages)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for s in &steps {
        if args.json {
            serde_json::to_writer(&mut out, s)?;
            writeln!(out)?;
            continue;
        }
        let v = &s.verdict;
        writeln!(
            out,
            "{}: {}{}",
            v.file.as_deref().unwrap_or(""),
            v.decision.as_str().to_uppercase(),
            v.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )?;
        match (&s.request_ref, &s.request_state, &s.request_action) {
            (Some(r), Some(st), Some(a)) => {
                writeln!(out, "  request {r}: {} → {st}", a.replace('_', " "))?
            }
            _ => writeln!(out, "  no request")?,
        }
        if !v.missing.is_empty() {
            let m: Vec<&str> = v.missing.iter().map(|i| i.as_str()).collect();
            writeln!(out, "  still missing: {}", m.join(", "))?;
        }
        for p in &v.problems {
            writeln!(
                out,
                "  - [{}] {}",
                serde_json::to_value(p.code)?.as_str().unwrap_or(""),
                p.message
            )?;
        }
        for o in &s.outgoing {
            let ics = match (&o.ics_method, o.ics_sequence) {
                (Some(m), Some(q)) => format!(" [calendar {m}, SEQUENCE {q}]"),
                _ => String::new(),
            };
            writeln!(out, "  → {} to {}: {}{ics}", o.role, o.to, o.subject)?;
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(status)
}

/// The store named by the config, which must exist already (`create`: it may be made).
fn config_store(config: Option<&std::path::Path>, create: bool) -> Result<crate::store::Store> {
    let config = Config::load(config)?;
    let path = config
        .store_path
        .context("The configuration has no [store] path")?;
    if !create && !path.exists() {
        anyhow::bail!("There is no store at {} yet", path.display());
    }
    crate::store::Store::open_shared(&path)
}

/// Who runs an account command, for the store's action log: `cli:` and the login name.
/// (No user name contains `:`, so this never passes for a console user.)
fn cli_actor() -> String {
    let login = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    let login: String = login
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(64)
        .collect();
    format!("cli:{}", if login.is_empty() { "unknown" } else { &login })
}

/// A new password: from the terminal without echo, asked twice, when stdin is one; else
/// the first line of stdin (without its line ending). Checked against the password rules.
fn read_new_password(name: &str) -> Result<String> {
    use std::io::{BufRead as _, Read as _};
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {name}: "))
            .context("Reading the password from the terminal")?;
        accounts::check_password(&first)?;
        let again = rpassword::prompt_password("The same password again: ")
            .context("Reading the password from the terminal")?;
        if again != first {
            anyhow::bail!("The two passwords differ; nothing was changed");
        }
        first
    } else {
        // Bounded: a password is at most 1024 characters, 4 bytes each.
        let limit = (accounts::MAX_PASSWORD_CHARS * 4 + 2) as u64;
        let mut line = Vec::new();
        std::io::stdin()
            .lock()
            .take(limit)
            .read_until(b'\n', &mut line)
            .context("Reading the password from stdin")?;
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        String::from_utf8(line).map_err(|_| anyhow::anyhow!("The password is not UTF-8"))?
    };
    accounts::check_password(&password)?;
    Ok(password)
}

fn run_user(args: UserArgs) -> Result<u8> {
    let now = SystemClock.now();
    match args.command {
        UserCommand::Add(a) => {
            accounts::check_name(&a.name)?;
            let mut store = config_store(a.config.as_deref(), true)?;
            // Refused before the password is asked for.
            if store.user_credentials(&a.name)?.is_some() {
                return Err(accounts::AccountError::DuplicateUser(a.name).into());
            }
            let password = read_new_password(&a.name)?;
            accounts::add_user(&mut store, &a.name, a.role, &password, &cli_actor(), now)?;
            eprintln!("intake: added user {} ({})", a.name, a.role);
        }
        UserCommand::Passwd(a) => {
            accounts::check_name(&a.name)?;
            let mut store = config_store(a.config.as_deref(), false)?;
            if store.user_credentials(&a.name)?.is_none() {
                return Err(accounts::AccountError::UnknownUser(a.name).into());
            }
            let password = read_new_password(&a.name)?;
            accounts::set_password(&mut store, &a.name, &password, &cli_actor(), now)?;
            eprintln!("intake: changed the password of {}", a.name);
        }
        UserCommand::Remove(a) => {
            accounts::check_name(&a.name)?;
            let mut store = config_store(a.config.as_deref(), false)?;
            accounts::remove_user(&mut store, &a.name, &cli_actor(), now)?;
            eprintln!("intake: removed user {}", a.name);
        }
        UserCommand::List(a) => {
            let store = config_store(a.config.as_deref(), false)?;
            let users = store.users()?;
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            if users.is_empty() {
                eprintln!("intake: no users yet (add one with `intake user add NAME --role ROLE`)");
            } else {
                let w = users.iter().map(|u| u.name.len()).max().unwrap_or(4).max(4);
                writeln!(
                    out,
                    "{:w$}  {:8}  {:16}  CHANGED (UTC)",
                    "NAME", "ROLE", "CREATED (UTC)"
                )?;
                for u in &users {
                    writeln!(
                        out,
                        "{:w$}  {:8}  {}  {}",
                        u.name,
                        u.role.as_str(),
                        u.created_at.format("%Y-%m-%d %H:%M"),
                        u.updated_at.format("%Y-%m-%d %H:%M")
                    )?;
                }
            }
            out.flush()?;
        }
    }
    Ok(EXIT_OK)
}

fn run_token(args: TokenArgs) -> Result<u8> {
    let now = SystemClock.now();
    match args.command {
        TokenCommand::Add(a) => {
            let mut store = config_store(a.config.as_deref(), false)?;
            let (id, token) =
                crate::tokens::create(&mut store, &a.user, a.kind, &a.label, &cli_actor(), now)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{token}")?;
            out.flush()?;
            let use_it = match a.kind {
                crate::tokens::TokenKind::Feed => "subscribe to http(s)://HOST/feeds/TOKEN.ics",
                crate::tokens::TokenKind::Api => {
                    "send `Authorization: Bearer TOKEN` to http(s)://HOST/api/v1/lookup"
                }
            };
            eprintln!(
                "intake: {} token {id} for {}; it is shown only now: {use_it}",
                a.kind, a.user
            );
        }
        TokenCommand::List(a) => {
            let store = config_store(a.config.as_deref(), false)?;
            if let Some(u) = &a.user
                && store.user_credentials(u)?.is_none()
                && store.tokens(Some(u))?.is_empty()
            {
                return Err(accounts::AccountError::UnknownUser(u.clone()).into());
            }
            let tokens = store.tokens(a.user.as_deref())?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            if tokens.is_empty() {
                eprintln!(
                    "intake: no tokens yet (make one with `intake token add USER --kind feed|api`)"
                );
            } else {
                let w = tokens
                    .iter()
                    .map(|t| t.user.len())
                    .max()
                    .unwrap_or(4)
                    .max(4);
                let minute = |t: Option<DateTime<Utc>>| {
                    t.map_or_else(
                        || "-".to_string(),
                        |t| t.format("%Y-%m-%d %H:%M").to_string(),
                    )
                };
                writeln!(
                    out,
                    "{:>5}  {:w$}  {:4}  {:16}  {:16}  {:34}  LABEL",
                    "ID", "USER", "KIND", "CREATED (UTC)", "LAST USED (UTC)", "STATE"
                )?;
                for t in &tokens {
                    let state = match (&t.revoked_at, &t.revoked_by) {
                        (Some(at), by) => format!(
                            "revoked {} by {}",
                            at.format("%Y-%m-%d"),
                            by.as_deref().unwrap_or("?")
                        ),
                        (None, _) => "active".to_string(),
                    };
                    writeln!(
                        out,
                        "{:>5}  {:w$}  {:4}  {}  {:16}  {:34}  {}",
                        t.id,
                        t.user,
                        t.kind.as_str(),
                        t.created_at.format("%Y-%m-%d %H:%M"),
                        minute(t.last_used_at),
                        state,
                        t.label
                    )?;
                }
            }
            out.flush()?;
        }
        TokenCommand::Revoke(a) => {
            let mut store = config_store(a.config.as_deref(), false)?;
            let row = crate::tokens::revoke(&mut store, a.id, None, &cli_actor(), now)?;
            eprintln!(
                "intake: revoked {} token {} of {}",
                row.kind, row.id, row.user
            );
        }
    }
    Ok(EXIT_OK)
}

fn run_lookup(args: LookupArgs) -> Result<u8> {
    let config = Config::load(args.config.as_deref())?;
    let zone = config.rules.timezone;
    let net = crate::lookup::parse_net(&args.address).map_err(anyhow::Error::msg)?;
    let at = match &args.at {
        Some(s) => crate::lookup::parse_time(s, zone).map_err(anyhow::Error::msg)?,
        None => SystemClock.now(),
    };
    let path = config
        .store_path
        .context("The configuration has no [store] path")?;
    if !path.exists() {
        anyhow::bail!("There is no store at {} yet", path.display());
    }
    let requests = crate::store::Store::open_shared(&path)?.held_requests()?;
    let matches = crate::lookup::lookup(&requests, net, at);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let utc = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let local = |t: DateTime<Utc>| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
    let moment = format!("{} ({} {zone})", utc(at), local(at));
    if args.json {
        let v: Vec<_> = matches.iter().map(|m| m.to_json(zone)).collect();
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else if !matches.is_empty() {
        writeln!(
            out,
            "{net} at {moment}: {} approved window{}",
            matches.len(),
            if matches.len() == 1 { "" } else { "s" }
        )?;
    }
    if matches.is_empty() {
        out.flush()?;
        eprintln!("intake: no approved window holds {net} at {moment}");
        return Ok(EXIT_NO_MATCH);
    }
    if !args.json {
        for m in &matches {
            let r = m.request;
            writeln!(out)?;
            writeln!(out, "{} ({})", r.reference, r.state.as_str())?;
            if r.state == crate::conversation::State::Review {
                writeln!(
                    out,
                    "  note:            staff are looking at a later message; the accepted window stands"
                )?;
            }
            writeln!(
                out,
                "  window:          {} to {} ({} to {} {zone})",
                utc(m.window.start),
                utc(m.window.end),
                local(m.window.start),
                local(m.window.end)
            )?;
            let join = |v: &[ipnet::IpNet]| {
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            writeln!(out, "  matching range:  {}", join(&m.ranges))?;
            if m.held.originating_ips.len() > m.ranges.len() {
                writeln!(out, "  all ranges:      {}", join(&m.held.originating_ips))?;
            }
            writeln!(out, "  targets:         {}", m.held.targets.join(", "))?;
            let c = &m.held.contact;
            writeln!(
                out,
                "  contact:         {}",
                [&c.name, &c.email, &c.phone]
                    .iter()
                    .filter_map(|x| x.as_deref())
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
            writeln!(out, "  requested by:    {} ({})", r.sender, r.org)?;
        }
    }
    out.flush()?;
    Ok(EXIT_OK)
}

fn run_show(args: ShowArgs) -> Result<u8> {
    let config = Config::load(args.config.as_deref())?;
    let path = config
        .store_path
        .clone()
        .context("The configuration has no [store] path")?;
    if !path.exists() {
        anyhow::bail!("There is no store at {} yet", path.display());
    }
    // Read beside a running `intake watch`: no one-intake lock.
    let store = crate::store::Store::open_shared(&path)?;
    let Some(r) = store.request(&args.reference)? else {
        anyhow::bail!("No request {} in {}", args.reference, path.display());
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &r)?;
        writeln!(out)?;
        return Ok(EXIT_OK);
    }
    let rec = &r.record;
    writeln!(
        out,
        "{}: {} ({} test)",
        r.reference,
        r.state.as_str(),
        match r.test_class {
            crate::model::TestClass::Standard => "standard",
            crate::model::TestClass::Broad => "broad",
        }
    )?;
    writeln!(out, "  requested by:    {} ({})", r.sender, r.org)?;
    writeln!(
        out,
        "  scope:           {}",
        rec.scope.as_deref().unwrap_or("(not stated)")
    )?;
    let c = &rec.contact;
    let contact: Vec<&str> = [&c.name, &c.email, &c.phone]
        .iter()
        .filter_map(|x| x.as_deref())
        .collect();
    writeln!(out, "  contact:         {}", contact.join(", "))?;
    let ips: Vec<String> = rec
        .originating_ips
        .iter()
        .map(ToString::to_string)
        .collect();
    writeln!(out, "  originating IPs: {}", ips.join(", "))?;
    writeln!(out, "  targets:         {}", rec.targets.join(", "))?;
    for w in &rec.windows {
        writeln!(
            out,
            "  window:          {} to {} UTC",
            w.start.format("%Y-%m-%d %H:%M"),
            w.end.format("%Y-%m-%d %H:%M")
        )?;
    }
    if r.sequence > 0 {
        writeln!(out, "  calendar:        SEQUENCE {}", r.sequence)?;
    }
    writeln!(out, "history:")?;
    for e in &r.history {
        writeln!(
            out,
            "  {} {} from {}: {} → {}",
            e.at.format("%Y-%m-%d %H:%M UTC"),
            e.decision.as_str(),
            e.from.as_deref().unwrap_or("(unknown)"),
            e.action.as_str().replace('_', " "),
            e.state.as_str()
        )?;
        for c in &e.changes {
            writeln!(out, "      {c}")?;
        }
    }
    out.flush()?;
    Ok(EXIT_OK)
}

fn run_check(args: CheckArgs) -> Result<u8> {
    let config = Config::load(args.config.as_deref())?;
    let templates = Templates::for_config(&config)?;
    let now = SystemClock.now();
    let arrival = match args.received {
        Some(t) => Arrival::Known(t),
        None => Arrival::FromHeaders { fallback: now },
    };
    let progress = (args.files.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(args.files.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} files {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut status = EXIT_OK;
    let max = config.rules.max_message_bytes;
    for path in &args.files {
        let shown = path.display().to_string();
        let mut report_error = |msg: String, out: &mut BufWriter<_>| -> Result<()> {
            status = EXIT_UNREADABLE;
            if let Some(bar) = &progress {
                bar.suspend(|| eprintln!("intake: {msg}"));
            } else {
                eprintln!("intake: {msg}");
            }
            if args.json {
                serde_json::to_writer(
                    &mut *out,
                    &serde_json::json!({"file": shown, "error": msg}),
                )?;
                writeln!(out)?;
            } else {
                writeln!(out, "{shown}: ERROR {msg}\n")?;
            }
            Ok(())
        };
        match read_message(path, max) {
            Ok((raw, size)) => {
                let mut checked = if raw.len() as u64 > max {
                    let received = match arrival {
                        Arrival::Known(t) | Arrival::FromHeaders { fallback: t } => t,
                    };
                    crate::check::too_large(size, received, &config.rules)
                } else {
                    check(&raw, arrival, &config.rules, &config.addresses.from)
                };
                checked.verdict.file = Some(shown.clone());
                // Rendered first: a message whose replies cannot be built becomes a review,
                // as in `watch`, and its verdict says so.
                let rendered = if args.render {
                    let (outputs, failure) = compose_or_notice(
                        &mut checked,
                        &raw,
                        &templates,
                        &config.addresses,
                        now,
                        None,
                    )?;
                    if let Some(e) = failure {
                        let msg = format!("cannot render the replies of {shown}: {e}");
                        status = EXIT_UNREADABLE;
                        if let Some(bar) = &progress {
                            bar.suspend(|| eprintln!("intake: {msg}"));
                        } else {
                            eprintln!("intake: {msg}");
                        }
                    }
                    outputs
                } else {
                    Vec::new()
                };
                if args.json {
                    serde_json::to_writer(&mut out, &checked.verdict)?;
                    writeln!(out)?;
                } else {
                    write_human(&mut out, &checked.verdict)?;
                }
                for m in rendered {
                    writeln!(out, "=== {} to {} ===", m.role.as_str(), m.to)?;
                    out.write_all(&m.raw)?;
                    writeln!(out)?;
                }
            }
            Err(e) => report_error(format!("cannot read {shown}: {e}"), &mut out)?,
        }
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    out.flush().context("Writing to stdout")?;
    Ok(status)
}

fn write_human(out: &mut impl Write, v: &Verdict) -> Result<()> {
    let file = v.file.as_deref().unwrap_or("-");
    let decision = v.decision.as_str().to_uppercase();
    let kind = serde_json::to_value(v.kind)?;
    let kind = kind.as_str().unwrap_or("?");
    write!(out, "{file}: {decision}")?;
    match v.decision {
        Decision::Ignore => writeln!(
            out,
            " ({kind}{})",
            v.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )?,
        _ => {
            let class = v
                .test_class
                .map(|c| format!("{c:?}").to_lowercase())
                .unwrap_or_else(|| "unknown".into());
            let notice = v
                .notice_days
                .map_or_else(|| "no window".into(), |d| format!("{d:.1} days notice"));
            let required = v
                .required_notice_days
                .map_or_else(String::new, |d| format!(", {d} required"));
            writeln!(out, " ({class} test, {notice}{required})")?;
        }
    }
    writeln!(
        out,
        "  from {}  ref {}  received {}",
        v.from.as_deref().unwrap_or("(unknown)"),
        v.reference,
        v.received
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    )?;
    if v.kind == crate::model::Kind::TestNotification {
        let r = &v.request;
        let none = || "-".to_string();
        writeln!(
            out,
            "  targets   {}",
            if r.targets.is_empty() {
                none()
            } else {
                r.targets.join(", ")
            }
        )?;
        let ips: Vec<String> = r.originating_ips.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "  ips       {}",
            if ips.is_empty() {
                none()
            } else {
                ips.join(", ")
            }
        )?;
        for w in &r.windows {
            writeln!(
                out,
                "  window    {} .. {}",
                w.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                w.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )?;
        }
        writeln!(
            out,
            "  traffic   {} / {}",
            r.bandwidth_bps.map_or_else(none, crate::render::human_bps),
            r.requests_per_second
                .map_or_else(none, |x| format!("{x} req/s"))
        )?;
        let c = &r.contact;
        writeln!(
            out,
            "  contact   {} <{}> {}",
            c.name.as_deref().unwrap_or("-"),
            c.email.as_deref().unwrap_or("-"),
            c.phone.as_deref().unwrap_or("")
        )?;
    }
    for p in &v.problems {
        writeln!(
            out,
            "  problem   [{}] {}",
            serde_json::to_value(p.code)?.as_str().unwrap_or("?"),
            p.message
        )?;
    }
    for w in &v.warnings {
        writeln!(out, "  warning   {w}")?;
    }
    writeln!(out)?;
    Ok(())
}

/// A FILE argument's bytes, at most `max + 1` of them, and its size. Only regular files
/// are read: a directory, FIFO or device (`/dev/zero`, a terminal) is an error before any
/// read, so nothing can block or run forever.
fn read_message(path: &std::path::Path, max: u64) -> std::io::Result<(Vec<u8>, u64)> {
    use std::io::Read as _;
    let not_a_file = |meta: &std::fs::Metadata| {
        let t = meta.file_type();
        let kind = if t.is_dir() {
            "a directory"
        } else {
            special_kind(&t)
        };
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({kind})"),
        )
    };
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_a_file(&meta));
    }
    let file = std::fs::File::open(path)?;
    // Checked again on what was opened: the path may have been swapped meanwhile.
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_a_file(&meta));
    }
    let mut raw = Vec::with_capacity(usize::try_from(meta.len().min(max + 1)).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut raw)?;
    let size = meta.len().max(raw.len() as u64);
    Ok((raw, size))
}

#[cfg(unix)]
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}
