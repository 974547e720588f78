//! Serving the router on a loopback socket, over HTTP or HTTPS, with connection-level faults
//! (a response marked [`DropConnection`] closes the socket without an answer).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;
use umapi_core::{Connection, ConnectionBuilder, Secret};

use crate::app::{DropConnection, SharedState, router};
use crate::config::SandboxConfig;
use crate::faults::FaultPlan;
use crate::observe::{Counters, RequestLogEntry};
use crate::state::OrgState;
use crate::{Error, tls};

/// Starts sandboxes.
#[derive(Debug)]
pub struct Sandbox;

/// A running sandbox; stops when shut down or dropped.
pub struct SandboxHandle {
    shared: SharedState,
    addr: SocketAddr,
    scheme: &'static str,
    ca_cert_path: Option<PathBuf>,
    ca_cert_pem: Option<String>,
    /// The private directory holding the default CA file; removed with the handle.
    _ca_dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Serves `initial` with `config` on `config.bind` (loopback by default) and returns once
    /// the socket listens.
    pub async fn start(config: SandboxConfig, initial: OrgState) -> Result<SandboxHandle, Error> {
        if config.user_page_size == 0 || config.group_page_size == 0 {
            return Err(Error::Config("page sizes must be at least 1".into()));
        }
        if config.max_entries == 0 || config.max_steps == 0 || config.max_list_length == 0 {
            return Err(Error::Config("action limits must be at least 1".into()));
        }
        if config.time_scale.is_nan() || config.time_scale <= 0.0 {
            return Err(Error::Config("time_scale must be positive".into()));
        }
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        let (acceptor, ca_cert_pem, ca_cert_path, ca_dir) = if config.tls {
            let setup = tls::make()?;
            let (path, dir) = tls::write_ca(&setup.ca_pem, config.ca_cert_path.as_deref())?;
            (
                Some(tokio_rustls::TlsAcceptor::from(setup.server_config)),
                Some(setup.ca_pem),
                Some(path),
                dir,
            )
        } else {
            (None, None, None, None)
        };
        let scheme = if config.tls { "https" } else { "http" };
        let shared = SharedState::new(config, initial);
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, app, acceptor, stopped));
        tracing::info!(%addr, scheme, "umapi sandbox listening");
        Ok(SandboxHandle {
            shared,
            addr,
            scheme,
            ca_cert_path,
            ca_cert_pem,
            _ca_dir: ca_dir,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                connections.spawn(serve_connection(stream, app.clone(), acceptor.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

async fn serve_connection(
    stream: TcpStream,
    app: Router,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let app = app.clone();
        async move {
            let response = app
                .oneshot(req)
                .await
                .unwrap_or_else(|never| match never {});
            if response.extensions().get::<DropConnection>().is_some() {
                // hyper closes the connection without writing anything when the service fails.
                return Err(std::io::Error::other("sandbox fault: connection dropped"));
            }
            Ok(response)
        }
    });
    let http = hyper::server::conn::http1::Builder::new();
    let result = match acceptor {
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(tls_stream) => {
                http.serve_connection(TokioIo::new(tls_stream), service)
                    .await
            }
            Err(e) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                return;
            }
        },
        None => http.serve_connection(TokioIo::new(stream), service).await,
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT` (or `https://…` with TLS).
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The UMAPI endpoint: `{base}/v2/usermanagement`.
    pub fn umapi_endpoint(&self) -> String {
        format!("{}/v2/usermanagement", self.base_url())
    }

    /// The IMS host to give clients: the base URL itself.
    pub fn ims_host(&self) -> String {
        self.base_url()
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The org id.
    pub fn org_id(&self) -> &str {
        &self.shared.config().org_id
    }

    /// The client id (API key) the sandbox accepts.
    pub fn client_id(&self) -> &str {
        &self.shared.config().client_id
    }

    /// The client secret the sandbox accepts.
    pub fn client_secret(&self) -> Secret {
        self.shared.config().client_secret.clone()
    }

    /// A `umapi-core` connection builder aimed at this sandbox: its org, its OAuth
    /// credentials, its endpoints and, with TLS, its CA certificate. Callers add their
    /// own retry policy, rate limits and timeouts.
    pub fn connection_builder(&self) -> ConnectionBuilder {
        let builder = Connection::builder(self.org_id())
            .oauth(self.client_id(), self.client_secret())
            .umapi_endpoint(self.umapi_endpoint())
            .ims_host(self.ims_host());
        match self.ca_cert_path() {
            Some(ca) => builder.ca_bundle(ca),
            None => builder,
        }
    }

    /// With TLS: the file holding the CA certificate clients must trust. Unless
    /// `SandboxConfig::ca_cert_path` chose it, it lies in a private temporary directory that
    /// is removed when the sandbox stops.
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca_cert_path.as_deref()
    }

    /// With TLS: the CA certificate clients must trust, as PEM.
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.ca_cert_pem.as_deref()
    }

    /// The shared state, for in-process control.
    pub fn shared(&self) -> &SharedState {
        &self.shared
    }

    /// The counters.
    pub fn counters(&self) -> Counters {
        self.shared.counters()
    }

    /// The most recent requests.
    pub fn request_log(&self) -> Vec<RequestLogEntry> {
        self.shared.request_log()
    }

    /// A copy of the org.
    pub fn state(&self) -> OrgState {
        self.shared.state()
    }

    /// Replaces the org.
    pub fn set_state(&self, state: OrgState) -> Result<(), Error> {
        self.shared.set_state(state)
    }

    /// Returns to the initial org; clears counters, log, faults and rate-limit windows.
    pub fn reset(&self) -> Result<(), Error> {
        self.shared.reset()
    }

    /// Replaces the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.shared.set_faults(plan)
    }

    /// Writes the state to `path` now and after every committed change.
    pub fn persist_to(&self, path: impl Into<PathBuf>) -> Result<(), Error> {
        self.shared.persist_to(path)
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
