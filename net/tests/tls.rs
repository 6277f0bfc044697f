//! TLS end to end: certificates made at test time (rcgen), an in-process keel listening on a plain and a
//! TLS port side by side, and real clients: `redis-cli --tls` (the reference's own client, OpenSSL
//! underneath) and a rustls client. Covers mutual TLS in each `tls-auth-clients` mode, the refusals
//! a client or the server must make (wrong CA, expired certificate, missing client certificate,
//! plaintext on the TLS port, a handshake never finished), certificate reload through `CONFIG SET`,
//! and that the server keeps serving and counts no leftover client afterwards.

#[path = "support/files.rs"]
mod files;

use files::{tcp_listen_ports, Scratch};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keel_net::TestServer;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// How long a client waits for the server before the test fails.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A certificate authority that signs server and client certificates.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate's file.
    cert: String,
}

/// A certificate and its key, as files.
struct Pair {
    cert: String,
    key: String,
}

impl Ca {
    /// A new CA named `name`, its certificate written to the scratch directory.
    fn new(dir: &Scratch, name: &str) -> Ca {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("self-sign CA");
        let cert = dir.write(&format!("{name}.crt"), &cert.pem());
        Ca {
            issuer: Issuer::new(params, key),
            cert,
        }
    }

    /// A certificate for `localhost` / 127.0.0.1 signed by this CA; `expired` makes one whose validity
    /// ended years ago.
    fn sign(&self, dir: &Scratch, name: &str, expired: bool) -> Pair {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Pair {
            cert: dir.write(&format!("{name}.crt"), &cert.pem()),
            key: dir.write(&format!("{name}.key"), &key.serialize_pem()),
        }
    }
}

/// A TCP port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts keel with a TLS port serving `server`'s certificate, trusting `ca` for client certificates.
fn start(server: &Pair, ca: &Ca, auth_clients: &str, extra: &[&str]) -> TestServer {
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port().to_string();
        let mut args = vec![
            "--tls-port",
            &port,
            "--tls-cert-file",
            &server.cert,
            "--tls-key-file",
            &server.key,
            "--tls-ca-cert-file",
            &ca.cert,
            "--tls-auth-clients",
            auth_clients,
        ];
        args.extend_from_slice(extra);
        match TestServer::start(&args) {
            Ok(s) => return s,
            Err(e) => last = e.to_string(),
        }
    }
    panic!("keel with TLS did not start: {last}");
}

/// A rustls client configuration trusting `ca`, presenting `client` if given.
fn client_config(ca: &str, client: Option<&Pair>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("read CA") {
        roots.add(cert.expect("parse CA")).expect("add CA");
    }
    let builder = ClientConfig::builder_with_provider(keel_net::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(pair) => {
            let chain = CertificateDer::pem_file_iter(&pair.cert)
                .expect("read client cert")
                .collect::<Result<Vec<_>, _>>()
                .expect("parse client cert");
            let key = PrivateKeyDer::from_pem_file(&pair.key).expect("client key");
            builder.with_client_auth_cert(chain, key).expect("client auth")
        }
    };
    Arc::new(config)
}

type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// Connects over TLS and completes the handshake (from the client's side).
fn connect(port: u16, config: Arc<ClientConfig>) -> std::io::Result<TlsStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    let name = ServerName::try_from("localhost").expect("server name");
    let conn = ClientConnection::new(config, name).map_err(std::io::Error::other)?;
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// Sends an inline command and reads one line of reply.
fn command(stream: &mut impl ReadWrite, line: &str) -> std::io::Result<String> {
    stream.write_all(format!("{line}\r\n").as_bytes())?;
    stream.flush()?;
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n") {
        match stream.read(&mut byte)? {
            0 => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed")),
            _ => reply.push(byte[0]),
        }
    }
    Ok(String::from_utf8_lossy(&reply).trim_end().to_string())
}

/// Both plain and TLS streams.
trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// A plaintext connection to the server's normal port.
fn plain(server: &TestServer) -> TcpStream {
    let s = TcpStream::connect(server.addr()).expect("plain connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

/// `connected_clients` from INFO, asked over a new plain connection (which counts itself).
fn connected_clients(server: &TestServer) -> u64 {
    let mut s = plain(server);
    s.write_all(b"INFO clients\r\n").unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !text.contains("connected_clients:") || !text.ends_with("\r\n") {
        let n = s.read(&mut buf).expect("INFO reply");
        assert!(n > 0, "closed during INFO");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    text.lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("connected_clients")
}

/// Waits until `connected_clients` (as seen from one probing connection) is back to `expected`.
#[track_caller]
fn assert_clients_return_to(server: &TestServer, expected: u64) {
    let deadline = Instant::now() + IO_TIMEOUT;
    loop {
        let now = connected_clients(server);
        if now == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "connected_clients stays at {now}, expected {expected}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `redis-cli` with `args` and returns (success, stdout, stderr).
fn redis_cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("redis-cli").args(args).output().expect("run redis-cli");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

#[test]
fn redis_cli_over_tls_and_plain_side_by_side() {
    let dir = Scratch::new("tls");
    let ca = Ca::new(&dir, "ca");
    let cert = ca.sign(&dir, "server", false);
    let server = start(&cert, &ca, "no", &[]);
    let port = server.tls_port().to_string();
    let tls = ["--tls", "--cacert", &ca.cert, "-h", "127.0.0.1", "-p", &port];
    let run = |extra: &[&str]| {
        let mut args = tls.to_vec();
        args.extend_from_slice(extra);
        redis_cli(&args)
    };
    assert_eq!(run(&["SET", "k", "over tls"]).1, "OK");
    assert_eq!(run(&["GET", "k"]).1, "over tls");
    // The plain port serves the same data.
    assert_eq!(command(&mut plain(&server), "GET k").unwrap(), "$8");
    // Without --tls, redis-cli speaks plaintext to the TLS port and gets no answer.
    let (_, out, err) = redis_cli(&["-h", "127.0.0.1", "-p", &port, "PING"]);
    assert!(
        !out.contains("PONG"),
        "plaintext PING answered on the TLS port: {out} {err}"
    );
}

#[test]
fn mutual_tls_yes_requires_a_client_certificate() {
    let dir = Scratch::new("tls");
    let ca = Ca::new(&dir, "ca");
    let server_cert = ca.sign(&dir, "server", false);
    let client_cert = ca.sign(&dir, "client", false);
    let server = start(&server_cert, &ca, "yes", &[]);
    let baseline = connected_clients(&server);

    let mut good = connect(server.tls_port(), client_config(&ca.cert, Some(&client_cert))).expect("handshake");
    assert_eq!(command(&mut good, "PING").unwrap(), "+PONG");

    // Without a certificate the server aborts the handshake; the client sees it at its first read at
    // the latest (under TLS 1.3 its own side of the handshake completes first).
    let refused = connect(server.tls_port(), client_config(&ca.cert, None)).and_then(|mut s| command(&mut s, "PING"));
    assert!(refused.is_err(), "a client without certificate was served: {refused:?}");

    // A certificate from another CA is refused too.
    let other = Ca::new(&dir, "other");
    let stranger = other.sign(&dir, "stranger", false);
    let refused =
        connect(server.tls_port(), client_config(&ca.cert, Some(&stranger))).and_then(|mut s| command(&mut s, "PING"));
    assert!(
        refused.is_err(),
        "a client with a foreign certificate was served: {refused:?}"
    );

    // redis-cli with a certificate works.
    let port = server.tls_port().to_string();
    let (ok, out, err) = redis_cli(&[
        "--tls",
        "--cacert",
        &ca.cert,
        "--cert",
        &client_cert.cert,
        "--key",
        &client_cert.key,
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "PING",
    ]);
    assert!(ok && out == "PONG", "redis-cli with a client certificate: {out} {err}");

    assert_eq!(command(&mut good, "PING").unwrap(), "+PONG");
    drop(good);
    assert_clients_return_to(&server, baseline);
}

#[test]
fn mutual_tls_optional_accepts_both() {
    let dir = Scratch::new("tls");
    let ca = Ca::new(&dir, "ca");
    let server_cert = ca.sign(&dir, "server", false);
    let client_cert = ca.sign(&dir, "client", false);
    let server = start(&server_cert, &ca, "optional", &[]);
    let mut with = connect(server.tls_port(), client_config(&ca.cert, Some(&client_cert))).expect("with cert");
    let mut without = connect(server.tls_port(), client_config(&ca.cert, None)).expect("without cert");
    assert_eq!(command(&mut with, "PING").unwrap(), "+PONG");
    assert_eq!(command(&mut without, "PING").unwrap(), "+PONG");
    // A certificate that does not verify is still refused.
    let other = Ca::new(&dir, "other");
    let stranger = other.sign(&dir, "stranger", false);
    let refused =
        connect(server.tls_port(), client_config(&ca.cert, Some(&stranger))).and_then(|mut s| command(&mut s, "PING"));
    assert!(
        refused.is_err(),
        "optional mode served a certificate that does not verify"
    );
}

#[test]
fn clients_refuse_a_wrong_ca_or_an_expired_certificate() {
    let dir = Scratch::new("tls");
    let ca = Ca::new(&dir, "ca");
    let other = Ca::new(&dir, "other");
    let good = ca.sign(&dir, "server", false);
    let expired = ca.sign(&dir, "expired", true);

    let server = start(&good, &ca, "no", &[]);
    let baseline = connected_clients(&server);
    let wrong_ca = connect(server.tls_port(), client_config(&other.cert, None));
    let err = wrong_ca.expect_err("a client trusting another CA must refuse the server");
    assert!(err.to_string().contains("UnknownIssuer"), "unexpected error: {err}");
    let port = server.tls_port().to_string();
    let (ok, out, _) = redis_cli(&["--tls", "--cacert", &other.cert, "-h", "127.0.0.1", "-p", &port, "PING"]);
    assert!(!ok || out != "PONG", "redis-cli accepted a server from another CA");
    // The server is fine after the failed handshakes.
    let mut s = connect(server.tls_port(), client_config(&ca.cert, None)).expect("good client");
    assert_eq!(command(&mut s, "PING").unwrap(), "+PONG");
    drop(s);
    assert_clients_return_to(&server, baseline);
    drop(server);

    let server = start(&expired, &ca, "no", &[]);
    let err = connect(server.tls_port(), client_config(&ca.cert, None))
        .expect_err("a client must refuse an expired server certificate");
    assert!(
        err.to_string().contains("certificate expired"),
        "unexpected error: {err}"
    );
    let port = server.tls_port().to_string();
    let (ok, out, _) = redis_cli(&["--tls", "--cacert", &ca.cert, "-h", "127.0.0.1", "-p", &port, "PING"]);
    assert!(!ok || out != "PONG", "redis-cli accepted an expired certificate");
}

#[test]
fn plaintext_and_silent_clients_on_the_tls_port_are_closed() {
    let dir = Scratch::new("tls");
    let ca = Ca::new(&dir, "ca");
    let cert = ca.sign(&dir, "server", false);
    let server = start(&cert, &ca, "no", &["--timeout", "1"]);
    let baseline = connected_clients(&server);

    // Plaintext RESP: the server answers with at most a TLS alert record, never a RESP reply, and closes.
    let mut raw = TcpStream::connect(("127.0.0.1", server.tls_port())).unwrap();
    raw.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    raw.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut got = Vec::new();
    let closed = raw.read_to_end(&mut got).is_ok() || got.is_empty() || matches!(got.first(), Some(0x15));
    assert!(closed, "plaintext client not closed");
    assert!(
        got.is_empty() || got[0] == 0x15,
        "expected nothing or a TLS alert record, got {:?}",
        String::from_utf8_lossy(&got)
    );

    // A client that connects and never starts the handshake is dropped by the handshake deadline
    // (the idle timeout, 1 s here).
    let mut silent = TcpStream::connect(("127.0.0.1", server.tls_port())).unwrap();
    silent.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let started = Instant::now();
    let mut byte = [0u8; 1];
    let n = silent.read(&mut byte);
    assert!(
        matches!(n, Ok(0)) || matches!(&n, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "silent client not closed: {n:?}"
    );
    assert!(
        started.elapsed() < IO_TIMEOUT,
        "closed only by the client's own timeout"
    );

    let mut ok = connect(server.tls_port(), client_config(&ca.cert, None)).expect("good client");
    assert_eq!(command(&mut ok, "PING").unwrap(), "+PONG");
    drop(ok);
    assert_clients_return_to(&server, baseline);
}

#[test]
fn config_set_reloads_certificates_and_keeps_the_old_ones_on_failure() {
    let dir = Scratch::new("tls");
    let old_ca = Ca::new(&dir, "oldca");
    let new_ca = Ca::new(&dir, "newca");
    let old = old_ca.sign(&dir, "old", false);
    let new = new_ca.sign(&dir, "new", false);
    let server = start(&old, &old_ca, "no", &[]);
    let mut admin = plain(&server);

    // A connection made before the reload keeps working after it.
    let mut before = connect(server.tls_port(), client_config(&old_ca.cert, None)).expect("old cert");
    assert!(connect(server.tls_port(), client_config(&new_ca.cert, None)).is_err());

    // A file that does not load: the reference's error, the old value and certificates stay.
    let reply = command(&mut admin, "CONFIG SET tls-cert-file /nonexistent/keel.crt").unwrap();
    assert_eq!(
        reply,
        "-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs."
    );
    assert_eq!(command(&mut admin, "CONFIG GET tls-cert-file").unwrap(), "*2");
    let mut rest = [0u8; 512];
    let n = admin.read(&mut rest).unwrap();
    assert!(
        String::from_utf8_lossy(&rest[..n]).contains(&old.cert),
        "tls-cert-file changed after a failed load"
    );
    let mut still = connect(server.tls_port(), client_config(&old_ca.cert, None)).expect("old cert after failure");
    assert_eq!(command(&mut still, "PING").unwrap(), "+PONG");

    // Both files in one call: new handshakes present the new certificate.
    let set = format!("CONFIG SET tls-cert-file {} tls-key-file {}", new.cert, new.key);
    assert_eq!(command(&mut admin, &set).unwrap(), "+OK");
    let mut after = connect(server.tls_port(), client_config(&new_ca.cert, None)).expect("new cert");
    assert_eq!(command(&mut after, "PING").unwrap(), "+PONG");
    assert!(connect(server.tls_port(), client_config(&old_ca.cert, None)).is_err());
    assert_eq!(command(&mut before, "PING").unwrap(), "+PONG");

    // Rewriting the file in place and setting the same path again reloads it.
    let newer_ca = Ca::new(&dir, "newerca");
    let newer = newer_ca.sign(&dir, "newer", false);
    std::fs::copy(&newer.cert, &new.cert).unwrap();
    std::fs::copy(&newer.key, &new.key).unwrap();
    assert_eq!(command(&mut admin, &set).unwrap(), "+OK");
    let mut newest = connect(server.tls_port(), client_config(&newer_ca.cert, None)).expect("rewritten cert");
    assert_eq!(command(&mut newest, "PING").unwrap(), "+PONG");
}

#[test]
fn tls_settings_are_checked_at_start_and_on_config_set() {
    let dir = Scratch::new("tls");
    let ca = Ca::new(&dir, "ca");
    let cert = ca.sign(&dir, "server", false);
    let server = start(
        &cert,
        &ca,
        "no",
        &[
            "--tls-protocols",
            "TLSv1.3",
            "--tls-ciphersuites",
            "TLS_AES_256_GCM_SHA384",
        ],
    );
    let mut s = connect(server.tls_port(), client_config(&ca.cert, None)).expect("TLS 1.3 client");
    assert_eq!(s.conn.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
    assert_eq!(
        s.conn.negotiated_cipher_suite().map(|c| c.suite()),
        Some(rustls::CipherSuite::TLS13_AES_256_GCM_SHA384)
    );
    assert_eq!(command(&mut s, "PING").unwrap(), "+PONG");
    // A TLS 1.2-only client is refused.
    let tls12 = ClientConfig::builder_with_provider(keel_net::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates({
            let mut r = RootCertStore::empty();
            r.add(CertificateDer::from_pem_file(&ca.cert).unwrap()).unwrap();
            r
        })
        .with_no_client_auth();
    assert!(connect(server.tls_port(), Arc::new(tls12)).is_err());

    let mut admin = plain(&server);
    for (param, value) in [("tls-protocols", "\"TLSv1.2 TLSv1.4\""), ("tls-ciphersuites", "BOGUS")] {
        assert_eq!(
            command(&mut admin, &format!("CONFIG SET {param} {value}")).unwrap(),
            format!("-ERR CONFIG SET failed (possibly related to argument '{param}') - Unable to update TLS configuration. Check server logs.")
        );
    }
    assert_eq!(
        command(&mut admin, "CONFIG SET tls-auth-clients maybe").unwrap(),
        "-ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - argument(s) must be one of the following: no, yes, optional"
    );
    drop(server);

    // A missing key stops start-up.
    let port = free_port().to_string();
    let missing = dir.path("missing.key").display().to_string();
    let err = TestServer::start(&[
        "--tls-port",
        &port,
        "--tls-cert-file",
        &cert.cert,
        "--tls-key-file",
        &missing,
    ])
    .err()
    .expect("start-up must fail without a key");
    assert!(err.to_string().contains("missing.key"), "{err}");
}

/// Kills the child process when dropped, also when the test panics.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn keel_server_serves_tls_only_with_port_0() {
    let dir = Scratch::new("tls");
    let ca = Ca::new(&dir, "ca");
    let cert = ca.sign(&dir, "server", false);
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_keel-server"))
        .args(["--port", "0", "--bind", "127.0.0.1", "--tls-port", &port.to_string()])
        .args([
            "--tls-cert-file",
            &cert.cert,
            "--tls-key-file",
            &cert.key,
            "--tls-auth-clients",
            "no",
        ])
        .env("KEEL_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn keel-server");
    let mut child = Child(child);
    let deadline = Instant::now() + IO_TIMEOUT;
    let mut stream = loop {
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("keel-server exited: {status}");
        }
        match connect(port, client_config(&ca.cert, None)) {
            Ok(s) => break s,
            Err(e) => assert!(Instant::now() < deadline, "TLS port never answered: {e}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(command(&mut stream, "PING").unwrap(), "+PONG");
    assert_eq!(tcp_listen_ports(child.0.id()), vec![port], "only the TLS port listens");
}

#[test]
fn config_set_tls_port_moves_the_listener() {
    let dir = Scratch::new("tls");
    let ca = Ca::new(&dir, "ca");
    let cert = ca.sign(&dir, "server", false);
    let server = start(&cert, &ca, "no", &[]);
    let old_port = server.tls_port();
    let mut admin = plain(&server);
    let mut established = connect(old_port, client_config(&ca.cert, None)).expect("old port");

    // A port in use (the plain one): the reference's error, and TLS stays where it was.
    let busy = format!("CONFIG SET tls-port {}", server.port());
    assert_eq!(
        command(&mut admin, &busy).unwrap(),
        "-ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to listen on this port. Check server logs."
    );
    assert!(connect(old_port, client_config(&ca.cert, None)).is_ok());

    let new_port = free_port();
    assert_eq!(
        command(&mut admin, &format!("CONFIG SET tls-port {new_port}")).unwrap(),
        "+OK"
    );
    let mut moved = connect(new_port, client_config(&ca.cert, None)).expect("new port");
    assert_eq!(command(&mut moved, "PING").unwrap(), "+PONG");
    assert!(
        connect(old_port, client_config(&ca.cert, None)).is_err(),
        "the old TLS port still accepts"
    );
    // Connections made before the move stay.
    assert_eq!(command(&mut established, "PING").unwrap(), "+PONG");
    assert_eq!(server.shared().tls_port(), new_port);

    // Port 0 turns TLS off; TLS settings are then only stored.
    assert_eq!(command(&mut admin, "CONFIG SET tls-port 0").unwrap(), "+OK");
    assert!(connect(new_port, client_config(&ca.cert, None)).is_err());
    assert_eq!(
        command(&mut admin, "CONFIG SET tls-cert-file /nonexistent/keel.crt").unwrap(),
        "+OK"
    );
    // Turning it on again with files that do not load fails and leaves it off.
    let again = format!("CONFIG SET tls-port {new_port}");
    assert_eq!(
        command(&mut admin, &again).unwrap(),
        "-ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to update TLS configuration. Check server logs."
    );
    assert_eq!(server.shared().tls_port(), 0);
    assert_eq!(command(&mut moved, "PING").unwrap(), "+PONG");
}
