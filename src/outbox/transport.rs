//! The one seam every outgoing email passes: `send_raw(envelope, bytes)`. SMTP for real
//! delivery, a folder of `.eml` files for the demo and for tests that need no server.

use std::path::PathBuf;

/// Why a send failed, and whether trying again can help (lettre's `is_transient` /
/// `is_permanent` split, which is what a retry policy needs).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> Self {
        SendError {
            permanent: false,
            message: message.into(),
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        SendError {
            permanent: true,
            message: message.into(),
        }
    }
}

pub enum Transport {
    Smtp(super::smtp::SmtpSender),
    /// Writes each message to `<dir>/<outbox id>.eml`, as sent.
    Files(PathBuf),
}

impl Transport {
    /// Sends `raw` (a complete RFC 5322 message) from `from` to `to`. `name` names the file
    /// for the file sink.
    pub async fn send_raw(
        &self,
        name: &str,
        from: &str,
        to: &[String],
        raw: &[u8],
    ) -> Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => smtp.send_raw(from, to, raw).await,
            Transport::Files(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| SendError::transient(format!("{}: {e}", dir.display())))?;
                let envelope = format!(
                    "X-Envelope-From: {from}\r\nX-Envelope-To: {}\r\n",
                    to.join(", ")
                );
                let mut bytes = envelope.into_bytes();
                bytes.extend_from_slice(raw);
                let path = dir.join(format!("{name}.eml"));
                tokio::fs::write(&path, bytes)
                    .await
                    .map_err(|e| SendError::transient(format!("{}: {e}", path.display())))
            }
        }
    }
}
