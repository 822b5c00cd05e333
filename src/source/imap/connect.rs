//! Reaching the server: TCP, TLS or STARTTLS (with an optional private CA), the greeting,
//! LOGIN; each step under [`super::COMMAND_TIMEOUT`].

use super::{timed, timed_io, Io, Session, Watcher, COMMAND_TIMEOUT};
use crate::config::TlsMode;
use crate::source::Ingest;
use anyhow::{anyhow, bail, Context};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::TlsConnector;

impl<I: Ingest> Watcher<'_, I> {
    pub(super) async fn connect(&self) -> anyhow::Result<Session> {
        let s = self.settings;
        let server = format!("{}:{}", s.host, s.port);
        let tcp = timed_io("connect", TcpStream::connect((s.host.as_str(), s.port)))
            .await
            .with_context(|| format!("cannot connect to {server}"))?;
        tcp.set_nodelay(true).ok();
        self.reached.store(true, Ordering::SeqCst);
        let stream: Box<dyn Io> = match (s.tls, &self.tls) {
            (TlsMode::Tls, Some(tls)) => Box::new(self.handshake(tls, tcp).await?),
            (TlsMode::StartTls, Some(tls)) => {
                let mut client = async_imap::Client::new(tcp);
                greeting(&mut client).await?;
                timed(
                    "STARTTLS",
                    client.run_command_and_check_ok("STARTTLS", None),
                )
                .await
                .with_context(|| format!("{server} refused STARTTLS"))?;
                Box::new(self.handshake(tls, client.into_inner()).await?)
            }
            _ => Box::new(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        if s.tls != TlsMode::StartTls {
            greeting(&mut client).await?;
        }
        let session = tokio::time::timeout(COMMAND_TIMEOUT, client.login(&s.username, &s.password))
            .await
            .map_err(|_| anyhow!("LOGIN timed out"))?
            .map_err(|(e, _)| anyhow!(e))
            .with_context(|| format!("LOGIN as {} on {server} failed", s.username))?;
        Ok(session)
    }

    async fn handshake(
        &self,
        tls: &TlsConnector,
        tcp: TcpStream,
    ) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let s = self.settings;
        let name = rustls::pki_types::ServerName::try_from(s.host.clone())
            .map_err(|_| anyhow!("imap.host {:?} is not a valid TLS server name", s.host))?;
        timed_io("TLS handshake", tls.connect(name, tcp))
            .await
            .with_context(|| {
                format!(
                    "TLS handshake with {}:{} failed (a self-signed or private-CA certificate needs imap.ca_file pointing at its CA)",
                    s.host, s.port
                )
            })
    }
}

/// Reads the server greeting (async-imap leaves that to the caller).
pub(super) async fn greeting<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug>(
    client: &mut async_imap::Client<T>,
) -> anyhow::Result<()> {
    match tokio::time::timeout(COMMAND_TIMEOUT, client.read_response()).await {
        Err(_) => bail!("no IMAP greeting within {}s", COMMAND_TIMEOUT.as_secs()),
        Ok(None) => bail!("the server closed the connection before its greeting"),
        Ok(Some(Err(e))) => Err(e).context("cannot read the IMAP greeting"),
        Ok(Some(Ok(_))) => Ok(()),
    }
}

/// System roots plus, when given, the CA in `ca_file` (to trust a self-signed server).
pub(super) fn tls_connector(ca_file: Option<&std::path::Path>) -> anyhow::Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("imap.ca_file: cannot read {}", path.display()))?;
        let certs = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("imap.ca_file: {} is not PEM", path.display()))?;
        if certs.is_empty() {
            bail!("imap.ca_file: {} holds no certificate", path.display());
        }
        for c in certs {
            roots.add(c).with_context(|| {
                format!(
                    "imap.ca_file: {} has an unusable certificate",
                    path.display()
                )
            })?;
        }
    } else if added == 0 {
        tracing::warn!(
            "no system CA certificates found: IMAP over TLS will fail unless imap.ca_file is set"
        );
    }
    // An explicit provider: the process-wide default is ambiguous when several are linked.
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS setup")?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
