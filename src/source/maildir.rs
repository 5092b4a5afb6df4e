//! Reads a local Maildir: lists messages in `new/` and `cur/` that this reader has not handed
//! out yet, with the file's modification time as arrival time. Never moves, renames or flags
//! a file (a mail client or the MDA owns the folder).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{MaildirConfig, SourceError, Wake};

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
#[derive(Debug)]
pub struct MaildirSource {
    path: PathBuf,
    seen: HashSet<String>,
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
        })
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
                .unwrap_or_else(|_| Utc::now());
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
