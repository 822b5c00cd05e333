//! SMTP delivery with lettre: TLS, STARTTLS or plain, optional AUTH, a pinned CA file for
//! self-signed servers, and errors sorted into transient and permanent.

use super::transport::SendError;
use crate::config::SmtpSettings;

pub struct SmtpSender {
    #[allow(dead_code)]
    settings: SmtpSettings,
}

impl SmtpSender {
    pub fn new(settings: &SmtpSettings) -> anyhow::Result<Self> {
        Ok(SmtpSender {
            settings: settings.clone(),
        })
    }

    pub async fn send_raw(
        &self,
        _from: &str,
        _to: &[String],
        _raw: &[u8],
    ) -> Result<(), SendError> {
        Err(SendError::transient("SMTP delivery is not written yet"))
    }
}
