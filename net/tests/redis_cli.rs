//! redis-cli, the reference command-line client, against a real keel server: the quickstart session of
//! the README must work as written. `scripts/test-all` installs redis-cli (Debian's redis-tools).

use std::process::Command;

/// Runs `redis-cli -p <port> <args>` and returns its standard output (not a terminal, so errors are
/// followed by a blank line, as redis-cli prints them to pipes).
fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli is installed (scripts/test-all installs redis-tools)");
    assert!(
        out.status.success(),
        "redis-cli {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn quickstart_session() {
    let server = keel_net::TestServer::start(&[]).expect("server starts");
    let p = server.port();
    assert_eq!(cli(p, &["ping"]), "PONG\n");
    assert_eq!(cli(p, &["set", "greeting", "hello", "EX", "60"]), "OK\n");
    assert_eq!(cli(p, &["get", "greeting"]), "hello\n");
    assert_eq!(cli(p, &["ttl", "greeting"]), "60\n");
    assert_eq!(cli(p, &["incr", "counter"]), "1\n");
    assert_eq!(cli(p, &["incrbyfloat", "counter", "1.1"]), "2.1\n");
    assert_eq!(cli(p, &["--scan", "--pattern", "gree*"]), "greeting\n");
    // RESP3: a map reply comes back as one "key value" line per pair.
    let hello = cli(p, &["-3", "hello", "3"]);
    assert!(hello.contains("proto 3\n"), "{hello}");
    let clients = cli(p, &["client", "list"]);
    assert!(clients.starts_with("id="), "{clients}");
    assert!(clients.contains(" cmd=client|list "), "{clients}");
}

#[test]
fn errors_are_shown_as_the_reference_client_shows_them() {
    let server = keel_net::TestServer::start(&[]).expect("server starts");
    let p = server.port();
    cli(p, &["set", "s", "text"]);
    assert_eq!(
        cli(p, &["incr", "s"]),
        "ERR value is not an integer or out of range\n\n"
    );
    assert_eq!(
        cli(p, &["nosuchcommand", "a"]),
        "ERR unknown command 'nosuchcommand', with args beginning with: 'a' \n\n"
    );
}
