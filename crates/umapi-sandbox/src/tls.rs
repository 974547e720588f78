//! A throw-away certificate authority and a server certificate for 127.0.0.1 and localhost, so
//! clients that insist on HTTPS (Adobe's Python client always uses https for IMS) can talk to
//! the sandbox after trusting one PEM file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::Error;

/// The CA certificate to trust (PEM) and the server's TLS configuration.
pub(crate) struct TlsSetup {
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

fn tls_err(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

pub(crate) fn make() -> Result<TlsSetup, Error> {
    let ca_key = KeyPair::generate().map_err(tls_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "umapi sandbox local CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(tls_err)?;
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .map_err(tls_err)?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "umapi sandbox");
    server_params.use_authority_key_identifier_extension = true;
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(tls_err)?;

    let chain = vec![
        CertificateDer::from(server_cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsSetup {
        ca_pem: ca_cert.pem(),
        server_config: Arc::new(config),
    })
}

/// Writes the CA certificate for clients to trust: to `chosen` when given (through a
/// temporary file renamed over it, so that a symlink planted there is replaced, not
/// followed), else to `ca.pem` in a new private temporary directory (random name, owner-only
/// on Unix), returned so that it lives, and is removed, with the sandbox.
pub(crate) fn write_ca(
    pem: &str,
    chosen: Option<&Path>,
) -> Result<(PathBuf, Option<tempfile::TempDir>), Error> {
    let write_error = |path: &Path, e: std::io::Error| {
        Error::Tls(format!(
            "cannot write the certificate to {}: {e}",
            path.display()
        ))
    };
    match chosen {
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| write_error(path, e))?;
            tmp.write_all(pem.as_bytes())
                .map_err(|e| write_error(path, e))?;
            tmp.persist(path).map_err(|e| write_error(path, e.error))?;
            Ok((path.to_path_buf(), None))
        }
        None => {
            let mut builder = tempfile::Builder::new();
            builder.prefix("umapi-sandbox-");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(std::fs::Permissions::from_mode(0o700));
            }
            let dir = builder
                .tempdir()
                .map_err(|e| write_error(&std::env::temp_dir(), e))?;
            let path = dir.path().join("ca.pem");
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| write_error(&path, e))?;
            file.write_all(pem.as_bytes())
                .map_err(|e| write_error(&path, e))?;
            Ok((path, Some(dir)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_ca_file_is_private_and_goes_away() {
        let (path, dir) = write_ca("PEM", None).unwrap();
        let dir = dir.expect("a private directory");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "PEM");
        assert!(path.starts_with(dir.path()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the owner may enter: {mode:o}");
        }
        let (second, _other) = write_ca("PEM", None).unwrap();
        assert_ne!(second, path, "no fixed name");
        drop(dir);
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_chosen_path_that_is_a_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let link = dir.path().join("ca.pem");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let (path, none) = write_ca("PEM", Some(&link)).unwrap();
        assert!(none.is_none());
        assert_eq!(path, link);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "PEM");
        assert!(
            !std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
