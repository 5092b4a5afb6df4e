//! Writes each outgoing message as an `.eml` file into a folder (lettre's file transport; file
//! names are random UUIDs), for dry runs and tests.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};

use super::{Envelope, Outbox, SendError, lettre_envelope};

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
        let env = lettre_envelope(envelope)?;
        self.transport
            .send_raw(&env, raw)
            .await
            // A full or read-only disk may be fixed without touching the configuration.
            .map_err(|e| SendError::Transient(format!("{}: {e}", self.path.display())))
    }
}

impl Outbox for FileOutbox {
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move { self.write(envelope, raw).await.map(|_| ()) })
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
}
