//! An outbox that keeps what it is handed instead of sending it, and fails when told to
//! (lettre's `StubTransport`), for tests of the watch loop without a mail server.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::BoxFuture;

use super::{Envelope, HandOver, Outbox, SendError, lettre_envelope};

/// One message the stub accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handed {
    /// The envelope it came with.
    pub envelope: Envelope,
    /// Its bytes, unchanged.
    pub raw: Vec<u8>,
}

#[derive(Debug, Default)]
struct State {
    handed: Vec<Handed>,
    failures: VecDeque<SendError>,
    attempts: usize,
}

/// A recording outbox. Clones share what they record, so a test keeps one clone and gives
/// the other (boxed) to the code under test.
///
/// Like the real outboxes it refuses an unusable envelope as [`SendError::Permanent`] before
/// the hand-over. A failure set with [`StubOutbox::fail_next`] happens before the hand-over
/// too (nothing delivered), except [`SendError::InDoubt`], which happens after it (the content
/// went out, the answer never came back).
#[derive(Debug, Clone, Default)]
pub struct StubOutbox {
    state: Arc<Mutex<State>>,
}

impl StubOutbox {
    /// A stub that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already; keep recording.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next `n` sends (after failures set earlier) fail with `error`.
    pub fn fail_next(&self, n: usize, error: SendError) {
        let mut state = self.state();
        state.failures.extend(std::iter::repeat_n(error, n));
    }

    /// Everything accepted so far, in order.
    pub fn handed(&self) -> Vec<Handed> {
        self.state().handed.clone()
    }

    /// How many sends were attempted, failed ones included.
    pub fn attempts(&self) -> usize {
        self.state().attempts
    }
}

impl Outbox for StubOutbox {
    fn send_with<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
        hand_over: &'a HandOver<'a>,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            self.state().attempts += 1;
            // Refused before anything is said to a server: no told failure is used up.
            lettre_envelope(envelope)?;
            let failure = self.state().failures.pop_front();
            match failure {
                Some(SendError::InDoubt(e)) => {
                    hand_over().map_err(SendError::Transient)?;
                    Err(SendError::InDoubt(e))
                }
                Some(e) => Err(e),
                None => {
                    hand_over().map_err(SendError::Transient)?;
                    self.state().handed.push(Handed {
                        envelope: envelope.clone(),
                        raw: raw.to_vec(),
                    });
                    Ok(())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn to(address: &str) -> Envelope {
        Envelope {
            from: None,
            to: vec![address.into()],
        }
    }

    #[tokio::test]
    async fn records_what_it_accepts_and_fails_when_told() {
        let stub = StubOutbox::new();
        let boxed: Box<dyn Outbox> = Box::new(stub.clone());
        boxed.send(&to("a@example.test"), b"one").await.unwrap();
        stub.fail_next(2, SendError::Transient("421 try later".into()));
        stub.fail_next(1, SendError::Permanent("550 no such user".into()));
        for want in [
            SendError::Transient("421 try later".into()),
            SendError::Transient("421 try later".into()),
            SendError::Permanent("550 no such user".into()),
        ] {
            assert_eq!(boxed.send(&to("b@example.test"), b"two").await, Err(want));
        }
        boxed.send(&to("c@example.test"), b"three").await.unwrap();
        let handed = stub.handed();
        assert_eq!(handed.len(), 2);
        assert_eq!(handed[0].raw, b"one");
        assert_eq!(handed[1].envelope, to("c@example.test"));
        assert_eq!(stub.attempts(), 5);
    }

    #[tokio::test]
    async fn the_hand_over_is_called_for_what_may_have_gone_out_only() {
        let stub = StubOutbox::new();
        let calls = AtomicUsize::new(0);
        let counting = || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        stub.fail_next(1, SendError::Transient("421".into()));
        stub.fail_next(1, SendError::InDoubt("timeout after DATA".into()));
        let env = to("a@example.test");
        assert!(stub.send_with(&env, b"x", &counting).await.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "a transient failure delivered nothing"
        );
        assert!(matches!(
            stub.send_with(&env, b"x", &counting).await,
            Err(SendError::InDoubt(_))
        ));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "in doubt: handed over first"
        );
        let refusing = || Err("disk full".to_string());
        assert_eq!(
            stub.send_with(&env, b"x", &refusing).await,
            Err(SendError::Transient("disk full".into()))
        );
        assert!(stub.handed().is_empty());
        assert!(matches!(
            stub.send(&to("not an address"), b"x").await,
            Err(SendError::Permanent(_))
        ));
    }
}
