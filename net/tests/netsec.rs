//! Network access controls through real TCP connections to an in-process keel: protected mode (with a
//! real non-loopback peer address: 127.0.0.2, which the reference server too treats as remote, since
//! only 127.0.0.1 and ::1 count as local), `enable-debug-command` by origin, and `rename-command`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use keel_net::TestServer;

/// How long a read may wait before the test fails.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The reference server's reply to a client protected mode refuses (recorded from redis-server 7.0.15).
const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Starts keel listening on 127.0.0.1 and 127.0.0.2 (same port) with `extra` options.
fn start(extra: &[&str]) -> TestServer {
    let mut args = vec!["--bind", "127.0.0.1 127.0.0.2"];
    args.extend_from_slice(extra);
    TestServer::start(&args).expect("start keel")
}

/// Connects to the server's port from `source` (an IP on this machine) to the same IP.
fn connect_from(source: &str, port: u16) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(source.parse().expect("ip"), 0))?;
        socket.connect(SocketAddr::new(source.parse().expect("ip"), port)).await
    });
    let stream = stream.expect("connect").into_std().expect("std stream");
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// Sends one inline command and returns the first reply line (with its CRLF).
fn command(s: &mut TcpStream, line: &str) -> String {
    s.write_all(format!("{line}\r\n").as_bytes()).expect("send");
    read_line(s)
}

/// Reads through the next CRLF (or to EOF).
fn read_line(s: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        match s.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// The value of `field` in INFO's text, asked on `s`.
fn info_field(s: &mut TcpStream, field: &str) -> String {
    let header = command(s, "INFO");
    let len: usize = header.trim()[1..].parse().expect("bulk length");
    let mut body = vec![0u8; len + 2];
    s.read_exact(&mut body).expect("INFO body");
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_default()
}

/// Reads until the server closes the connection; returns what it sent.
fn read_to_close(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    s.read_to_end(&mut got).expect("server must close, not go silent");
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn protected_mode_refuses_remote_clients_without_password() {
    let server = start(&[]);
    let port = server.port();
    let mut local = connect_from("127.0.0.1", port);
    assert_eq!(command(&mut local, "PING"), "+PONG\r\n");

    let mut remote = connect_from("127.0.0.2", port);
    remote.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_to_close(&mut remote), DENIED);
    assert_eq!(info_field(&mut local, "rejected_connections"), "1");
    assert_eq!(info_field(&mut local, "connected_clients"), "1");

    // With a password set, remote clients get in (and must then authenticate).
    assert_eq!(command(&mut local, "CONFIG SET requirepass s3cret"), "+OK\r\n");
    let mut remote = connect_from("127.0.0.2", port);
    let reply = command(&mut remote, "PING");
    assert!(reply == "+PONG\r\n" || reply.starts_with("-NOAUTH"), "{reply}");
    drop(remote);
    assert_eq!(command(&mut local, "CONFIG SET requirepass \"\""), "+OK\r\n");
    let mut remote = connect_from("127.0.0.2", port);
    remote.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_to_close(&mut remote), DENIED);

    // Turned off, everyone gets in.
    assert_eq!(command(&mut local, "CONFIG SET protected-mode no"), "+OK\r\n");
    let mut remote = connect_from("127.0.0.2", port);
    assert_eq!(command(&mut remote, "PING"), "+PONG\r\n");
}

/// The refusal `enable-debug-command` gives (recorded from the reference server).
const DEBUG_REFUSED: &str = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";

#[test]
fn debug_command_is_off_by_default_and_local_only_when_asked() {
    let server = start(&["--protected-mode", "no"]);
    let mut local = connect_from("127.0.0.1", server.port());
    assert_eq!(command(&mut local, "DEBUG SLEEP 0"), DEBUG_REFUSED);
    assert_eq!(
        command(&mut local, "CONFIG SET enable-debug-command yes"),
        "-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config\r\n"
    );
    drop(server);

    let server = start(&["--protected-mode", "no", "--enable-debug-command", "local"]);
    let mut local = connect_from("127.0.0.1", server.port());
    assert_eq!(command(&mut local, "DEBUG SLEEP 0"), "+OK\r\n");
    let mut remote = connect_from("127.0.0.2", server.port());
    assert_eq!(command(&mut remote, "DEBUG SLEEP 0"), DEBUG_REFUSED);
}

#[test]
fn rename_command_moves_and_disables_commands() {
    let server = start(&[
        "--rename-command",
        "DBSIZE",
        "keel-dbsize",
        "--rename-command",
        "flushall",
        "",
    ]);
    let mut s = connect_from("127.0.0.1", server.port());
    assert_eq!(command(&mut s, "SET k v"), "+OK\r\n");
    assert_eq!(
        command(&mut s, "DBSIZE"),
        "-ERR unknown command 'DBSIZE', with args beginning with: \r\n"
    );
    assert_eq!(command(&mut s, "KEEL-DBSIZE"), ":1\r\n");
    assert_eq!(
        command(&mut s, "FLUSHALL"),
        "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n"
    );
    // COMMAND INFO finds the command by its new name and still reports its own name, as the reference.
    assert_eq!(command(&mut s, "COMMAND INFO keel-dbsize"), "*1\r\n");
    assert_eq!(read_line(&mut s), "*10\r\n");
    assert_eq!(read_line(&mut s), "$6\r\n");
    assert_eq!(read_line(&mut s), "dbsize\r\n");

    let err = TestServer::start(&["--rename-command", "nosuch", "x"])
        .err()
        .expect("renaming a missing command stops start-up");
    assert!(err.to_string().contains("No such command in rename-command"), "{err}");
    let err = TestServer::start(&["--rename-command", "get", "set"])
        .err()
        .expect("renaming onto an existing command stops start-up");
    assert!(err.to_string().contains("Target command name already exists"), "{err}");
}

#[test]
fn a_client_that_kills_itself_still_gets_the_reply() {
    // Writes give way to CLIENT KILL only when they cannot proceed: the killing command's own reply
    // goes out, then the connection closes and later commands do not run (as on the reference server).
    let server = start(&[]);
    for _ in 0..20 {
        let mut s = connect_from("127.0.0.1", server.port());
        let me = s.local_addr().unwrap();
        s.write_all(format!("CLIENT KILL {me}\r\nPING\r\n").as_bytes()).unwrap();
        assert_eq!(read_to_close(&mut s), "+OK\r\n");
    }
}
