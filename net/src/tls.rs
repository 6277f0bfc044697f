//! TLS for client connections: turns keel's `tls-*` parameters into a rustls server configuration,
//! swaps it in when `CONFIG SET` changes them, and bounds each handshake's duration. (The listeners
//! themselves, and moving them on `CONFIG SET tls-port`, belong to `server.rs`.)
//!
//! Owns certificate and key loading, protocol and cipher-suite selection and client-certificate
//! verification. Never parses requests or touches the core's data: once the handshake is done the
//! encrypted stream goes to `conn::serve` exactly like a plain socket.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use keel_core::Config;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache, WebPkiClientVerifier};
use rustls::{CipherSuite, RootCertStore, ServerConfig, SupportedProtocolVersion};
use tokio_rustls::TlsAcceptor;

/// The longest a client may take to complete its handshake, unless `timeout` is shorter. A client
/// that never finishes one cannot hold a task or a socket longer than this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What `CONFIG SET` answers when new TLS settings cannot be applied (the reference server's words);
/// the details go to the log.
pub const RELOAD_FAILED: &str = "Unable to update TLS configuration. Check server logs.";

/// The acceptor new TLS connections use; replaced whole when the settings change, so a handshake
/// always sees one consistent configuration and connections already up keep theirs.
pub struct TlsState {
    current: RwLock<TlsAcceptor>,
}

impl TlsState {
    /// Builds the state from `config`, or says why it cannot.
    pub fn new(config: &Config) -> Result<TlsState, String> {
        Ok(TlsState {
            current: RwLock::new(TlsAcceptor::from(Arc::new(server_config(config)?))),
        })
    }

    /// The acceptor for a new connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rebuilds the configuration from `config` (files are read again, so rewriting a certificate in
    /// place and setting its path again reloads it). On failure the previous configuration stays.
    pub fn reload(&self, config: &Config) -> Result<(), String> {
        let fresh = TlsAcceptor::from(Arc::new(server_config(config)?));
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }
}

/// How long a handshake may take given the idle `timeout` in seconds (0: none).
pub fn handshake_timeout(idle_timeout_s: u64) -> Duration {
    if idle_timeout_s == 0 {
        HANDSHAKE_TIMEOUT
    } else {
        HANDSHAKE_TIMEOUT.min(Duration::from_secs(idle_timeout_s))
    }
}

/// The rustls server configuration the `tls-*` parameters describe.
pub fn server_config(config: &Config) -> Result<ServerConfig, String> {
    let get = |name: &str| config.get(name).unwrap_or("").to_string();
    let versions = protocol_versions(&get("tls-protocols"))?;
    let mut provider = ring::default_provider();
    provider.cipher_suites = cipher_suites(&get("tls-ciphersuites"), &get("tls-ciphers"))?;
    let provider = Arc::new(provider);

    let cert_file = get("tls-cert-file");
    let key_file = get("tls-key-file");
    if cert_file.is_empty() || key_file.is_empty() {
        return Err("tls-cert-file and tls-key-file must be set for TLS".into());
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_file)
        .map_err(|e| format!("cannot read tls-cert-file '{cert_file}': {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot parse tls-cert-file '{cert_file}': {e}"))?;
    if chain.is_empty() {
        return Err(format!("no certificate in tls-cert-file '{cert_file}'"));
    }
    let key = PrivateKeyDer::from_pem_file(&key_file).map_err(|e| {
        let hint = if get("tls-key-file-pass").is_empty() {
            ""
        } else {
            " (encrypted keys are not supported: tls-key-file-pass is ignored)"
        };
        format!("cannot read a private key from tls-key-file '{key_file}': {e}{hint}")
    })?;

    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("TLS protocols and cipher suites do not fit together: {e}"))?;
    let builder = match get("tls-auth-clients").as_str() {
        "no" => builder.with_no_client_auth(),
        mode => {
            let roots = Arc::new(trusted_roots(&get("tls-ca-cert-file"), &get("tls-ca-cert-dir"))?);
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
            let verifier = if mode == "optional" {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            builder.with_client_cert_verifier(
                verifier
                    .build()
                    .map_err(|e| format!("cannot verify client certificates: {e}"))?,
            )
        }
    };
    let mut server = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("certificate and key do not match or are unusable: {e}"))?;
    let cache_size = config.get_i64("tls-session-cache-size").max(0) as usize;
    server.session_storage = if config.get_bool("tls-session-caching") && cache_size > 0 {
        ServerSessionMemoryCache::new(cache_size)
    } else {
        Arc::new(NoServerSessionStorage {})
    };
    Ok(server)
}

/// `tls-protocols`: space-separated `TLSv1.2` / `TLSv1.3` (empty: both). The reference also accepts
/// `TLSv1` and `TLSv1.1`; keel's TLS library does not implement those outdated versions.
fn protocol_versions(text: &str) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    if text.trim().is_empty() {
        return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
    }
    let mut versions = Vec::new();
    for word in text.split_whitespace() {
        match word.to_ascii_lowercase().as_str() {
            "tlsv1.2" => versions.push(&rustls::version::TLS12),
            "tlsv1.3" => versions.push(&rustls::version::TLS13),
            "tlsv1" | "tlsv1.1" => {
                return Err(format!(
                    "tls-protocols: {word} is not supported (use TLSv1.2 or TLSv1.3)"
                ))
            }
            _ => {
                return Err(format!(
                    "Invalid tls-protocols specified: '{word}'. Use a combination of 'TLSv1.2' and 'TLSv1.3'."
                ))
            }
        }
    }
    Ok(versions)
}

/// TLS 1.3 suites by their standard names (`tls-ciphersuites`, colon-separated).
const TLS13_NAMES: &[(&str, CipherSuite)] = &[
    ("TLS_AES_256_GCM_SHA384", CipherSuite::TLS13_AES_256_GCM_SHA384),
    ("TLS_AES_128_GCM_SHA256", CipherSuite::TLS13_AES_128_GCM_SHA256),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
];

/// TLS 1.2 suites by their OpenSSL names (`tls-ciphers`).
const TLS12_NAMES: &[(&str, CipherSuite)] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// The cipher suites to offer. `tls-ciphersuites` (TLS 1.3) must name only known suites, in order of
/// preference. `tls-ciphers` (TLS 1.2) is an OpenSSL cipher string: the suites it names explicitly
/// are kept in its order; keywords (`HIGH`, `DEFAULT`, `!aNULL`...) have no meaning here and are
/// skipped, and a string naming no known suite leaves the TLS 1.2 defaults, which are all strong.
fn cipher_suites(tls13: &str, tls12: &str) -> Result<Vec<rustls::SupportedCipherSuite>, String> {
    let all = ring::ALL_CIPHER_SUITES;
    let by_id = |id: CipherSuite| all.iter().find(|s| s.suite() == id).copied();
    let defaults = |v13: bool| -> Vec<rustls::SupportedCipherSuite> {
        all.iter()
            .filter(|s| matches!(s, rustls::SupportedCipherSuite::Tls13(_)) == v13)
            .copied()
            .collect()
    };
    let mut chosen13 = Vec::new();
    for name in tls13.split(':').map(str::trim).filter(|n| !n.is_empty()) {
        let id = TLS13_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, id)| *id)
            .ok_or_else(|| format!("Failed to configure ciphersuites: {tls13}"))?;
        chosen13.extend(by_id(id));
    }
    if chosen13.is_empty() {
        chosen13 = defaults(true);
    }
    let mut chosen12: Vec<_> = tls12
        .split([':', ',', ' '])
        .filter_map(|name| TLS12_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name.trim())))
        .filter_map(|(_, id)| by_id(*id))
        .collect();
    if chosen12.is_empty() {
        chosen12 = defaults(false);
    }
    chosen13.extend(chosen12);
    Ok(chosen13)
}

/// The certificate authorities client certificates must chain to: `tls-ca-cert-file` and every
/// certificate file in `tls-ca-cert-dir`.
fn trusted_roots(ca_file: &str, ca_dir: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    let mut add_file = |path: &std::path::Path, strict: bool| -> Result<(), String> {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read CA certificates '{}': {e}", path.display()))?;
        for cert in certs {
            match cert {
                Ok(c) => {
                    if let Err(e) = roots.add(c) {
                        if strict {
                            return Err(format!("bad CA certificate in '{}': {e}", path.display()));
                        }
                    }
                }
                Err(e) if strict => return Err(format!("cannot parse CA certificates '{}': {e}", path.display())),
                Err(_) => {}
            }
        }
        Ok(())
    };
    if !ca_file.is_empty() {
        add_file(std::path::Path::new(ca_file), true)?;
    }
    if !ca_dir.is_empty() {
        let entries = std::fs::read_dir(ca_dir).map_err(|e| format!("cannot read tls-ca-cert-dir '{ca_dir}': {e}"))?;
        for entry in entries.flatten() {
            // Other files in the directory (hash links to the same certificates, notes) are skipped.
            let _ = add_file(&entry.path(), false);
        }
    }
    if roots.is_empty() {
        return Err(
            "tls-ca-cert-file or tls-ca-cert-dir must name CA certificates when tls-auth-clients is yes or optional"
                .into(),
        );
    }
    Ok(roots)
}

/// The provider keel's TLS uses, for tests and tools that build a matching client.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_and_suites() {
        assert_eq!(protocol_versions("").unwrap().len(), 2);
        assert_eq!(protocol_versions("TLSv1.3").unwrap().len(), 1);
        assert!(protocol_versions("TLSv1.2 TLSv1.4").is_err());
        assert!(protocol_versions("TLSv1.1").is_err());
        let s = cipher_suites("TLS_CHACHA20_POLY1305_SHA256", "").unwrap();
        assert_eq!(s[0].suite(), CipherSuite::TLS13_CHACHA20_POLY1305_SHA256);
        assert_eq!(
            s.iter()
                .filter(|s| matches!(s, rustls::SupportedCipherSuite::Tls13(_)))
                .count(),
            1
        );
        assert!(cipher_suites("BOGUS", "").is_err());
        let s = cipher_suites("", "HIGH:!aNULL:ECDHE-RSA-AES128-GCM-SHA256").unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(
            cipher_suites("", "DEFAULT").unwrap().len(),
            ring::ALL_CIPHER_SUITES.len()
        );
    }

    #[test]
    fn missing_files_are_reported() {
        let mut c = Config::default();
        assert!(server_config(&c).unwrap_err().contains("tls-cert-file"));
        c.set_startup("tls-cert-file", "/nonexistent/cert.pem").unwrap();
        c.set_startup("tls-key-file", "/nonexistent/key.pem").unwrap();
        assert!(server_config(&c).unwrap_err().contains("/nonexistent/cert.pem"));
    }
}
