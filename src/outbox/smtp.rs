//! SMTP delivery with lettre: TLS, STARTTLS or plain, optional AUTH, a pinned CA file for
//! self-signed servers, and errors sorted into transient and permanent. The only module
//! that talks SMTP; it sends bytes as given and never builds or changes a message.

use super::transport::SendError;
use crate::config::{SmtpSettings, TlsMode};
use anyhow::Context;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// A pooled SMTP client for one server. Cheap to share behind an `Arc`: lettre's pool hands
/// each concurrent send its own connection.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `host:port`, for error messages.
    server: String,
}

impl SmtpSender {
    /// Builds the client; connects lazily on the first send. Fails only on a bad CA file.
    pub fn new(settings: &SmtpSettings) -> anyhow::Result<Self> {
        let tls = match settings.tls {
            TlsMode::None => Tls::None,
            TlsMode::Tls => Tls::Wrapper(tls_parameters(settings)?),
            TlsMode::StartTls => Tls::Required(tls_parameters(settings)?),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
                .port(settings.port)
                .tls(tls)
                .timeout(Some(settings.timeout.unsigned_abs()));
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            server: format!("{}:{}", settings.host, settings.port),
        })
    }

    /// Sends `raw` (a complete RFC 5322 message, CRLF or LF line ends) with envelope sender
    /// `from` (empty for the null sender `<>`) to every address in `to`. A 5xx reply or an
    /// address that cannot be sent to is permanent; everything else (connection, TLS,
    /// timeouts, 4xx) is transient.
    pub async fn send_raw(&self, from: &str, to: &[String], raw: &[u8]) -> Result<(), SendError> {
        let envelope = envelope(from, to)?;
        match self.transport.send_raw(&envelope, raw).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let message = format!("SMTP {}: {}", self.server, error_chain(&e));
                if e.is_permanent() {
                    Err(SendError::permanent(message))
                } else {
                    Err(SendError::transient(message))
                }
            }
        }
    }
}

fn envelope(from: &str, to: &[String]) -> Result<Envelope, SendError> {
    let from = match from.trim() {
        "" | "<>" => None,
        f => Some(parse_address(f)?),
    };
    let to = to
        .iter()
        .map(|t| parse_address(t))
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(from, to).map_err(|e| SendError::permanent(format!("bad envelope: {e}")))
}

fn parse_address(a: &str) -> Result<Address, SendError> {
    a.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .parse()
        .map_err(|e| SendError::permanent(format!("{a:?} is not an address: {e}")))
}

fn tls_parameters(settings: &SmtpSettings) -> anyhow::Result<TlsParameters> {
    let mut builder = TlsParameters::builder(settings.host.clone());
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("smtp.ca_file: cannot read {}", path.display()))?;
        let cert = Certificate::from_pem(&pem).with_context(|| {
            format!("smtp.ca_file: {} is not a PEM certificate", path.display())
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().context("cannot set up TLS for SMTP")
}

/// lettre's `Display` leaves out the cause (e.g. the TLS reason); operators need it.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
