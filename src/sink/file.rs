//! Writes each outgoing message as an `.eml` file into a folder (lettre's file transport; file
//! names are random UUIDs), for dry runs and tests.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};

use super::{Envelope, HandOver, Outbox, SendError, lettre_envelope};

/// An outbox that writes `<uuid>.eml` files.
#[derive(Debug, Clone)]
pub struct FileOutbox {
    path: PathBuf,
    transport: AsyncFileTransport<Tokio1Executor>,
}

impl FileOutbox {
    /// An outbox writing into `path`, which is created if missing.
    pub fn new(path: &Path) -> Result<Self, SendError> {
        std::fs::create_dir_all(path)
            .map_err(|e| SendError::Permanent(format!("{}: {e}", path.display())))?;
        Ok(FileOutbox {
            path: path.to_path_buf(),
            transport: AsyncFileTransport::new(path),
        })
    }

    /// The folder written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the message and returns the file's id (its name without `.eml`).
    pub async fn write(&self, envelope: &Envelope, raw: &[u8]) -> Result<String, SendError> {
        self.write_checked(&lettre_envelope(envelope)?, raw).await
    }

    async fn write_checked(
        &self,
        env: &lettre::address::Envelope,
        raw: &[u8],
    ) -> Result<String, SendError> {
        self.transport
            .send_raw(env, raw)
            .await
            // A full or read-only disk may be fixed without touching the configuration.
            .map_err(|e| SendError::Transient(format!("{}: {e}", self.path.display())))
    }
}

impl Outbox for FileOutbox {
    fn send_with<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
        hand_over: &'a HandOver<'a>,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            // Checked before the hand-over, so a bad address fails with nothing in doubt.
            let env = lettre_envelope(envelope)?;
            hand_over().map_err(SendError::Transient)?;
            self.write_checked(&env, raw).await.map(|_| ())
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_bytes_unchanged() {
        let d = tempfile::tempdir().unwrap();
        let out = FileOutbox::new(&d.path().join("sub")).unwrap();
        let raw =
            b"From: support@amazee.test\r\nTo: c@example.test\r\nSubject: Re: test\r\n\r\nHi\r\n";
        let env = Envelope {
            from: None,
            to: vec!["c@example.test".into()],
        };
        let id = out.write(&env, raw).await.unwrap();
        let file = d.path().join("sub").join(format!("{id}.eml"));
        assert_eq!(std::fs::read(&file).unwrap(), raw);
        let dynamic: &dyn Outbox = &out;
        dynamic.send(&env, raw).await.unwrap();
        assert_eq!(std::fs::read_dir(d.path().join("sub")).unwrap().count(), 2);
    }

    #[tokio::test]
    async fn hand_over_comes_first_and_its_failure_writes_nothing() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let d = tempfile::tempdir().unwrap();
        let out = FileOutbox::new(d.path()).unwrap();
        let env = Envelope {
            from: None,
            to: vec!["c@example.test".into()],
        };
        let calls = AtomicUsize::new(0);
        let counting = || {
            // Nothing may be written before the hand-over is recorded.
            assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        out.send_with(&env, b"Subject: x\r\n\r\nx\r\n", &counting)
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let refusing = || Err("disk full".to_string());
        let r = out
            .send_with(&env, b"Subject: y\r\n\r\ny\r\n", &refusing)
            .await;
        assert_eq!(r, Err(SendError::Transient("disk full".into())));
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        // A bad address fails before the hand-over: nothing is in doubt.
        let bad = Envelope {
            from: None,
            to: vec!["not an address".into()],
        };
        let r = out.send_with(&bad, b"x", &counting).await;
        assert!(matches!(r, Err(SendError::Permanent(_))), "{r:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
