//! The driver's own start-up code starts real keel-server and redis-server processes on free ports with
//! their benchmark configurations, and both answer PING, report the settings asked for, and expose their
//! CPU time and RSS through /proc. No timing is asserted: measurements belong to `versus` runs.

use std::path::PathBuf;
use std::process::Command;

use keel_benches::versus::procfs;
use keel_benches::versus::servers::{Binaries, Flavor, ServerProcess};

/// The keel-server built in this target directory (the test binary lives in `<target>/<profile>/deps/`),
/// built with cargo first if this test run did not build it.
fn keel_server() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile> directory");
    let path = profile_dir.join("keel-server");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "keel-net", "--bin", "keel-server"]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building keel-server failed");
    }
    path
}

#[test]
fn both_servers_start_and_answer() {
    let binaries = Binaries {
        keel: keel_server(),
        redis: PathBuf::from("redis-server"),
    };
    let scratch = std::env::temp_dir().join(format!("keel-benches-test-{}", std::process::id()));
    let redis = ServerProcess::start(&Flavor::Redis, &binaries, &scratch)
        .expect("redis-server must be installed (scripts/test-all installs it)");
    let keel = ServerProcess::start(&Flavor::Keel { threads: 2 }, &binaries, &scratch).expect("start keel-server");
    assert_ne!(redis.port, keel.port);
    for server in [&redis, &keel] {
        assert_eq!(server.command(&["PING"]).unwrap(), "+PONG", "{}", server.flavor);
        assert_eq!(server.command(&["DBSIZE"]).unwrap(), ":0", "{}", server.flavor);
        assert!(procfs::rss_bytes(server.pid()).unwrap() > 0);
        procfs::cpu_ticks(server.pid()).unwrap();
    }
    // The equivalent configuration: no snapshots on the reference server, keel's --threads landed in
    // io-threads, and no memory limit on either.
    assert_eq!(config_get(&redis, "save"), ["save", ""]);
    assert_eq!(config_get(&keel, "io-threads"), ["io-threads", "2"]);
    assert_eq!(config_get(&redis, "maxmemory"), ["maxmemory", "0"]);
    assert_eq!(config_get(&keel, "maxmemory"), ["maxmemory", "0"]);
    let pid = keel.pid();
    drop(keel);
    drop(redis);
    assert!(
        !PathBuf::from(format!("/proc/{pid}")).exists(),
        "keel-server still runs after drop"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

/// `CONFIG GET name` over a raw connection, as the list of strings of its array reply.
fn config_get(server: &ServerProcess, name: &str) -> Vec<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    let req = format!("*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n${}\r\n{name}\r\n", name.len());
    stream.write_all(req.as_bytes()).unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 256];
    // An array of two bulk strings: header, then two length lines and two data lines.
    while reply.iter().filter(|&&b| b == b'\n').count() < 5 {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed");
        reply.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8(reply).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "*2", "{text}");
    vec![lines[2].to_string(), lines[4].to_string()]
}
