//! Reads a local Maildir: lists messages in `new/` and `cur/` that this reader has not handed
//! out yet, with the file's modification time as arrival time. Never moves, renames or flags
//! a file (a mail client or the MDA owns the folder). [`MaildirSource`] is the reader;
//! [`MaildirMailbox`] puts it behind the [`Mailbox`] trait (and seeds the demo folder).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use tracing::info;

use super::{Incoming, Mailbox, MailboxError, MaildirConfig, Opened, SourceError, Wake};
use crate::clock::{Clock, SystemClock};

type Result<T> = std::result::Result<T, SourceError>;

/// How often [`MaildirSource::wait`] looks at the folder.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// One message file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildirMessage {
    /// The stable part of the file name (before the `:2,FLAGS` info suffix), which survives a
    /// mail client moving the file from `new/` to `cur/` and changing its flags.
    pub key: String,
    /// Where the file was when listed.
    pub path: PathBuf,
    /// The file's modification time: when the MDA delivered it.
    pub arrived: DateTime<Utc>,
    /// File size in bytes.
    pub size: u64,
    /// The file's bytes, or `None` when `size` exceeded the caller's `max_bytes`.
    pub raw: Option<Vec<u8>>,
}

/// A Maildir reader remembering which keys it has handed out.
pub struct MaildirSource {
    path: PathBuf,
    seen: HashSet<String>,
    /// For a file whose modification time cannot be read.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MaildirSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaildirSource")
            .field("path", &self.path)
            .field("seen", &self.seen.len())
            .finish_non_exhaustive()
    }
}

/// The part of a Maildir file name that identifies the message (RFC-less but universal
/// convention: `unique[:2,flags]`; some systems use `!` instead of `:`).
pub fn maildir_key(file_name: &str) -> &str {
    file_name
        .split_once(':')
        .or_else(|| file_name.split_once('!'))
        .map_or(file_name, |(k, _)| k)
}

impl MaildirSource {
    /// A reader for the configured folder; fails when `new/` or `cur/` is missing.
    pub fn new(cfg: &MaildirConfig) -> Result<Self> {
        cfg.validate()?;
        for sub in ["new", "cur"] {
            let p = cfg.path.join(sub);
            if !p.is_dir() {
                return Err(SourceError::Io {
                    path: p,
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "not a Maildir (folder missing)",
                    ),
                });
            }
        }
        Ok(MaildirSource {
            path: cfg.path.clone(),
            seen: HashSet::new(),
            clock: Arc::new(SystemClock),
        })
    }

    /// Takes the arrival time of a file without a readable modification time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Like [`MaildirSource::new`], with keys already handled (from the caller's store), so a
    /// restart does not hand them out again.
    pub fn with_seen(cfg: &MaildirConfig, seen: impl IntoIterator<Item = String>) -> Result<Self> {
        let mut s = Self::new(cfg)?;
        s.seen.extend(seen);
        Ok(s)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Marks a key as handled without listing it.
    pub fn mark_seen(&mut self, key: &str) {
        self.seen.insert(key.to_string());
    }

    /// Makes a key eligible again (e.g. its processing failed and should be retried).
    pub fn forget(&mut self, key: &str) {
        self.seen.remove(key);
    }

    /// Whether a key was handed out or marked.
    pub fn is_seen(&self, key: &str) -> bool {
        self.seen.contains(key)
    }

    /// Lists message files not handed out before, oldest first (by arrival, then key), reads
    /// those of at most `max_bytes`, and remembers their keys. Dot files (temporary) and
    /// anything that is not a regular file are skipped; a file that vanishes between listing and
    /// reading (a client moving it) is skipped and comes back under its new name next time.
    pub async fn fetch_new(&mut self, max_bytes: u64) -> Result<Vec<MaildirMessage>> {
        let mut out = Vec::new();
        for (key, path) in self.unseen_files().await? {
            let meta = match tokio::fs::metadata(&path).await {
                Ok(m) if m.is_file() => m,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(SourceError::Io { path, source }),
            };
            let arrived = meta
                .modified()
                .map(DateTime::<Utc>::from)
                .unwrap_or_else(|_| self.clock.now());
            let size = meta.len();
            let raw = if size <= max_bytes {
                match tokio::fs::read(&path).await {
                    Ok(b) if u64::try_from(b.len()).unwrap_or(u64::MAX) <= max_bytes => Some(b),
                    Ok(_) => None,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(source) => return Err(SourceError::Io { path, source }),
                }
            } else {
                None
            };
            out.push(MaildirMessage {
                key,
                path,
                arrived,
                size,
                raw,
            });
        }
        out.sort_by(|a, b| a.arrived.cmp(&b.arrived).then_with(|| a.key.cmp(&b.key)));
        for m in &out {
            self.seen.insert(m.key.clone());
        }
        Ok(out)
    }

    /// Waits until a message not yet handed out appears (then [`Wake::Changed`]) or `max`
    /// passes ([`Wake::Quiet`]), looking every [`POLL_INTERVAL`].
    pub async fn wait(&mut self, max: Duration) -> Result<Wake> {
        let deadline = tokio::time::Instant::now() + max;
        loop {
            if !self.unseen_files().await?.is_empty() {
                return Ok(Wake::Changed);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(Wake::Quiet);
            }
            tokio::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
        }
    }

    async fn unseen_files(&self) -> Result<Vec<(String, PathBuf)>> {
        let mut out: Vec<(String, PathBuf)> = Vec::new();
        let mut keys: HashSet<String> = HashSet::new();
        for sub in ["new", "cur"] {
            let dir = self.path.join(sub);
            let mut rd = tokio::fs::read_dir(&dir)
                .await
                .map_err(|source| SourceError::Io {
                    path: dir.clone(),
                    source,
                })?;
            loop {
                let entry = match rd.next_entry().await {
                    Ok(Some(e)) => e,
                    Ok(None) => break,
                    Err(source) => {
                        return Err(SourceError::Io {
                            path: dir.clone(),
                            source,
                        });
                    }
                };
                let name = entry.file_name();
                // Non-UTF-8 names are not produced by any MDA; skip rather than guess.
                let Some(name) = name.to_str() else { continue };
                if name.starts_with('.') {
                    continue;
                }
                let key = maildir_key(name);
                if key.is_empty() || self.seen.contains(key) || keys.contains(key) {
                    continue;
                }
                keys.insert(key.to_string());
                out.push((key.to_string(), entry.path()));
            }
        }
        Ok(out)
    }
}

/// How often the [`MaildirMailbox`] waits at most before fetching again.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// The configured Maildir as a [`Mailbox`]. The folder is only checked (and a demo folder
/// seeded) at the first [`Mailbox::open`]; every error is [`MailboxError::Fatal`], as a local
/// folder does not come back by reconnecting.
pub struct MaildirMailbox {
    cfg: MaildirConfig,
    clock: Arc<dyn Clock>,
    source: Option<MaildirSource>,
}

impl std::fmt::Debug for MaildirMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaildirMailbox")
            .field("cfg", &self.cfg)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl MaildirMailbox {
    /// The mailbox for `cfg`; nothing is read before [`Mailbox::open`].
    pub fn new(cfg: &MaildirConfig, clock: Arc<dyn Clock>) -> Self {
        MaildirMailbox {
            cfg: cfg.clone(),
            clock,
            source: None,
        }
    }

    fn source(&mut self) -> std::result::Result<&mut MaildirSource, MailboxError> {
        self.source
            .as_mut()
            .ok_or_else(|| MailboxError::Fatal(anyhow!("the Maildir was not opened")))
    }
}

impl Mailbox for MaildirMailbox {
    fn open(&mut self) -> BoxFuture<'_, std::result::Result<Opened, MailboxError>> {
        Box::pin(async move {
            if self.source.is_none() {
                if let Some(seed) = &self.cfg.seed_from {
                    seed_demo_maildir(seed, &self.cfg.path, self.clock.now())?;
                }
                let source = MaildirSource::new(&self.cfg)
                    .map_err(|e| anyhow!("mailbox: {e}"))?
                    .with_clock(self.clock.clone());
                self.source = Some(source);
            }
            Ok(Opened {
                folder: self.cfg.path.display().to_string(),
                uid_validity: 0,
                resume: None,
            })
        })
    }

    fn fetch_after(
        &mut self,
        _after: u64,
        max_bytes: u64,
    ) -> BoxFuture<'_, std::result::Result<Vec<Incoming>, MailboxError>> {
        Box::pin(async move {
            let batch = self
                .source()?
                .fetch_new(max_bytes)
                .await
                .map_err(|e| anyhow!("reading the Maildir: {e}"))?;
            Ok(batch
                .into_iter()
                .map(|m| Incoming {
                    uid: key_number(&m.key),
                    arrived: m.arrived,
                    size: m.size,
                    message_id: m
                        .raw
                        .as_deref()
                        .and_then(|r| crate::read::read(r).message_id),
                    raw: m.raw,
                })
                .collect())
        })
    }

    fn mark_decided<'a>(
        &'a mut self,
        _decided: &'a [(u64, String)],
    ) -> BoxFuture<'a, std::result::Result<(), MailboxError>> {
        // The folder belongs to the MDA and the mail clients: nothing is renamed or flagged.
        Box::pin(async { Ok(()) })
    }

    fn max_wait(&self) -> Duration {
        MAX_WAIT
    }

    fn wait_for_mail<'a>(
        &'a mut self,
        max: Duration,
        stop: BoxFuture<'a, ()>,
    ) -> BoxFuture<'a, std::result::Result<Option<Wake>, MailboxError>> {
        Box::pin(async move {
            let source = self.source()?;
            tokio::select! {
                r = source.wait(max) => match r {
                    Ok(wake) => Ok(Some(wake)),
                    Err(e) => Err(anyhow!("watching the Maildir: {e}").into()),
                },
                _ = stop => Ok(None),
            }
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A stable 63-bit number for a Maildir key, used where IMAP has a UID.
pub fn key_number(key: &str) -> u64 {
    let d = Sha256::digest(key.as_bytes());
    let mut n = 0u64;
    for b in d.iter().take(8) {
        n = n << 8 | u64::from(*b);
    }
    n >> 1
}

/// Copies the demo templates in `seed` into a new Maildir at `maildir`, filling in dates
/// relative to `now`. Does nothing when the Maildir exists already.
pub fn seed_demo_maildir(seed: &Path, maildir: &Path, now: DateTime<Utc>) -> anyhow::Result<()> {
    if maildir.join("new").exists() || maildir.join("cur").exists() {
        return Ok(());
    }
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub))
            .with_context(|| format!("Creating {}", maildir.join(sub).display()))?;
    }
    let mut entries: Vec<_> = std::fs::read_dir(seed)
        .with_context(|| format!("Reading the demo folder {}", seed.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    entries.sort();
    for (i, path) in entries.iter().enumerate() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Reading demo message {}", path.display()))?;
        let filled = fill_demo_dates(&text, now);
        let name = format!("{}.demo{i}.intake", now.timestamp());
        let dest = maildir.join("new").join(name);
        std::fs::write(&dest, filled).with_context(|| format!("Writing {}", dest.display()))?;
    }
    info!(count = entries.len(), maildir = %maildir.display(), "demo Maildir written");
    Ok(())
}

/// Replaces `{{now}}` with an RFC 2822 date and `{{date+N}}` with the date N days after
/// `now` as DD.MM.YYYY.
fn fill_demo_dates(text: &str, now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + 2..).unwrap_or("");
        let Some(end) = after.find("}}") else {
            out.push_str(rest.get(start..).unwrap_or(""));
            rest = "";
            break;
        };
        let token = after.get(..end).unwrap_or("").trim();
        let replacement = if token == "now" {
            Some(now.to_rfc2822())
        } else {
            token
                .strip_prefix("date+")
                .and_then(|n| n.parse::<i64>().ok())
                .map(|n| {
                    (now + chrono::Duration::days(n))
                        .format("%d.%m.%Y")
                        .to_string()
                })
        };
        match replacement {
            Some(r) => out.push_str(&r),
            None => out.push_str(rest.get(start..start + 2 + end + 2).unwrap_or("")),
        }
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn maildir() -> (tempfile::TempDir, MaildirConfig) {
        let d = tempfile::tempdir().unwrap();
        for s in ["new", "cur", "tmp"] {
            std::fs::create_dir(d.path().join(s)).unwrap();
        }
        let cfg = MaildirConfig {
            path: d.path().to_path_buf(),
            seed_from: None,
        };
        (d, cfg)
    }

    // Real time: file times are set and compared against the real clock.
    #[allow(clippy::disallowed_methods)]
    fn set_mtime(p: &Path, secs_ago: u64) {
        let t = std::time::SystemTime::now() - Duration::from_secs(secs_ago);
        let f = std::fs::File::options().write(true).open(p).unwrap();
        f.set_modified(t).unwrap();
    }

    #[test]
    fn keys_strip_the_info_suffix() {
        assert_eq!(
            maildir_key("1700000000.M1P2.host:2,S"),
            "1700000000.M1P2.host"
        );
        assert_eq!(
            maildir_key("1700000000.M1P2.host!2,RS"),
            "1700000000.M1P2.host"
        );
        assert_eq!(maildir_key("plain"), "plain");
    }

    // Real time: the files' modification times come from the real clock.
    #[allow(clippy::disallowed_methods)]
    #[tokio::test]
    async fn lists_new_and_cur_once_oldest_first() {
        let (d, cfg) = maildir();
        let a = d.path().join("new/200.M1.host");
        let b = d.path().join("cur/100.M1.host:2,S");
        std::fs::write(&a, b"Subject: a\r\n\r\nA\r\n").unwrap();
        std::fs::write(&b, b"Subject: b\r\n\r\nB\r\n").unwrap();
        std::fs::write(d.path().join("new/.hidden"), b"x").unwrap();
        std::fs::write(d.path().join("tmp/300.M1.host"), b"x").unwrap();
        set_mtime(&a, 10);
        set_mtime(&b, 100);

        let mut src = MaildirSource::new(&cfg).unwrap();
        let got = src.fetch_new(1 << 20).await.unwrap();
        let keys: Vec<&str> = got.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["100.M1.host", "200.M1.host"]);
        assert_eq!(got[0].raw.as_deref(), Some(&b"Subject: b\r\n\r\nB\r\n"[..]));
        assert!(got[0].arrived < got[1].arrived);
        assert!((Utc::now() - got[1].arrived).num_seconds() >= 9);

        // Nothing new the second time, even after a client moved and flagged a message.
        std::fs::rename(&a, d.path().join("cur/200.M1.host:2,RS")).unwrap();
        assert!(src.fetch_new(1 << 20).await.unwrap().is_empty());
        // Files are untouched.
        assert!(b.exists());

        let c = d.path().join("new/300.M2.host");
        std::fs::write(&c, vec![b'x'; 5000]).unwrap();
        let got = src.fetch_new(1000).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].size, 5000);
        assert_eq!(got[0].raw, None, "over max_bytes: listed, not read");

        src.forget("300.M2.host");
        assert_eq!(src.fetch_new(10_000).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn restart_with_seen_keys() {
        let (d, cfg) = maildir();
        std::fs::write(d.path().join("cur/1.a:2,S"), b"x").unwrap();
        std::fs::write(d.path().join("new/2.b"), b"y").unwrap();
        let mut src = MaildirSource::with_seen(&cfg, ["1.a".to_string()]).unwrap();
        let got = src.fetch_new(100).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key, "2.b");
        assert!(src.is_seen("1.a") && src.is_seen("2.b"));
    }

    #[tokio::test]
    async fn wait_sees_a_delivery() {
        let (d, cfg) = maildir();
        let mut src = MaildirSource::new(&cfg).unwrap();
        assert_eq!(
            src.wait(Duration::from_millis(50)).await.unwrap(),
            Wake::Quiet
        );
        let p = d.path().join("new/9.z");
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            std::fs::write(p, b"z").unwrap();
        });
        let t0 = std::time::Instant::now();
        assert_eq!(
            src.wait(Duration::from_secs(10)).await.unwrap(),
            Wake::Changed
        );
        assert!(t0.elapsed() < Duration::from_secs(3));
        writer.await.unwrap();
    }

    #[test]
    fn demo_dates_are_filled_relative_to_now() {
        use chrono::TimeZone as _;
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let out = fill_demo_dates(
            "Date: {{now}}\nStart: {{date+40}} 09:00\n{{unknown}} {{",
            now,
        );
        assert_eq!(
            out,
            "Date: Thu, 26 Nov 2026 08:00:00 +0000\nStart: 05.01.2027 09:00\n{{unknown}} {{"
        );
    }

    #[test]
    fn maildir_keys_give_stable_positive_numbers() {
        assert_eq!(
            key_number("1700000000.M1P2.host"),
            key_number("1700000000.M1P2.host")
        );
        assert_ne!(key_number("a"), key_number("b"));
        assert!(key_number("a") <= i64::MAX as u64);
    }

    #[test]
    fn not_a_maildir() {
        let d = tempfile::tempdir().unwrap();
        let e = MaildirSource::new(&MaildirConfig {
            path: d.path().to_path_buf(),
            seed_from: None,
        })
        .unwrap_err();
        assert!(matches!(e, SourceError::Io { .. }));
        assert!(!e.is_transient());
    }

    proptest! {
        #[test]
        fn key_is_a_prefix(name in ".{0,80}") {
            let k = maildir_key(&name);
            prop_assert!(name.starts_with(k));
            prop_assert!(!k.contains(':'));
        }
    }
}
