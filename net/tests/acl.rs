//! Authentication and ACL end to end, through the `redis` crate over real TCP: the acceptance matrix for a
//! read-only user (every write command of the recorded table refused and logged, reads confined to the
//! user's key pattern), connections of deleted users closed, `requirepass` and `user` directives from the
//! command line, and `ACL SAVE`/`ACL LOAD` with a real aclfile.
//!
//! The matrix test also runs against another server: set `KEEL_TEST_ADDR=host:port` (a reference server
//! started without `requirepass`); the tests that configure the server at start-up need keel itself.

use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;

mod support;

use redis::aio::MultiplexedConnection;
use redis::{cmd, RedisResult, Value};
use support::Target;

/// Runs an async test body on a current-thread runtime.
fn block_on<F: Future<Output = RedisResult<()>>>(body: F) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(body) {
        panic!("unexpected redis error: {e:?}");
    }
}

/// A connection to `addr`, authenticated as `user:pass` when given.
async fn connect(addr: &str, auth: Option<(&str, &str)>) -> RedisResult<MultiplexedConnection> {
    let url = match auth {
        Some((u, p)) => format!("redis://{u}:{p}@{addr}/"),
        None => format!("redis://{addr}/"),
    };
    redis::Client::open(url)?.get_multiplexed_async_connection().await
}

/// Sends a command and returns its reply, or the error's full text (code word first).
async fn call(c: &mut MultiplexedConnection, args: &[&str]) -> Result<Value, String> {
    let mut command = cmd(args[0]);
    for a in &args[1..] {
        command.arg(*a);
    }
    command.query_async::<Value>(c).await.map_err(|e| {
        let code = e.code().unwrap_or("").to_string();
        let detail = e.detail().unwrap_or("").to_string();
        if code.is_empty() {
            e.to_string()
        } else {
            format!("{code} {detail}")
        }
    })
}

/// Text of a bulk or simple string reply.
fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        other => format!("{other:?}"),
    }
}

/// The elements of an array reply.
fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        other => panic!("expected an array, got {other:?}"),
    }
}

#[test]
fn read_only_user_is_refused_every_write_command_and_keys_outside_its_pattern() {
    let target = Target::start();
    let addr = target.addr.clone();
    block_on(async move {
        let mut admin = connect(&addr, None).await?;
        call(&mut admin, &["CONFIG", "SET", "acllog-max-len", "10000"])
            .await
            .ok();
        call(&mut admin, &["ACL", "LOG", "RESET"]).await.ok();
        let ok = call(
            &mut admin,
            &["ACL", "SETUSER", "reader", "reset", "on", ">pw", "+@read", "~app:*"],
        )
        .await;
        assert_eq!(ok.map(|v| text(&v)), Ok("OK".to_string()));
        call(&mut admin, &["SET", "app:1", "v"]).await.ok();
        call(&mut admin, &["SET", "other", "v"]).await.ok();

        // The write commands of the recorded table, with their arity, as the server lists them.
        let writes: Vec<String> = items(call(&mut admin, &["ACL", "CAT", "write"]).await.expect("ACL CAT"))
            .iter()
            .map(text)
            .collect();
        assert!(
            writes.len() > 50,
            "the recorded table has many write commands: {writes:?}"
        );
        let reads: BTreeSet<String> = items(call(&mut admin, &["ACL", "CAT", "read"]).await.expect("ACL CAT"))
            .iter()
            .map(text)
            .collect();

        let mut reader = connect(&addr, Some(("reader", "pw"))).await?;
        assert_eq!(call(&mut reader, &["ACL", "WHOAMI"]).await.map(|v| text(&v)).ok(), None);
        let mut refused = BTreeSet::new();
        let mut unknown = 0;
        for name in writes.iter().filter(|w| !reads.contains(*w)) {
            // Arguments are added until the arity check passes (keys inside the user's pattern).
            let mut args: Vec<String> = name.split('|').map(str::to_string).collect();
            let mut reply = call(&mut reader, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
            while matches!(&reply, Err(e) if e.starts_with("ERR wrong number of arguments")) && args.len() < 16 {
                args.push("app:k".into());
                reply = call(&mut reader, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
            }
            let argv = args;
            match reply {
                Err(e) if e == format!("NOPERM this user has no permissions to run the '{name}' command") => {
                    refused.insert(name.clone());
                }
                // A command keel does not implement yet is unknown before any permission check.
                Err(e) if e.starts_with("ERR unknown command") || e.starts_with("ERR unknown subcommand") => {
                    unknown += 1
                }
                other => panic!("write command {argv:?} was not refused: {other:?}"),
            }
        }
        assert!(
            refused.len() > 40,
            "refused {} write commands, {unknown} unknown",
            refused.len()
        );

        // Reads inside the pattern run; reads outside it are refused.
        assert_eq!(
            call(&mut reader, &["GET", "app:1"]).await.map(|v| text(&v)),
            Ok("v".to_string())
        );
        let key_denied =
            Err("NOPERM this user has no permissions to access one of the keys used as arguments".to_string());
        assert_eq!(call(&mut reader, &["GET", "other"]).await.map(|v| text(&v)), key_denied);
        assert_eq!(
            call(&mut reader, &["MGET", "app:1", "other"]).await.map(|v| text(&v)),
            key_denied
        );
        assert_eq!(call(&mut reader, &["STRLEN", "app:1"]).await, Ok(Value::Int(1)));
        assert_eq!(
            call(&mut reader, &["EXISTS", "app:1", "app:2"]).await,
            Ok(Value::Int(1))
        );
        assert_eq!(
            call(&mut reader, &["GET", "app:1"]).await.map(|v| text(&v)),
            Ok("v".to_string())
        );
        // Nothing was written.
        assert_eq!(call(&mut admin, &["GET", "app:k"]).await, Ok(Value::Nil));

        // Every refusal is in the log: one entry per refused command, plus the key denials.
        let log = items(call(&mut admin, &["ACL", "LOG", "100000"]).await.expect("ACL LOG"));
        let mut logged_commands = BTreeSet::new();
        let mut logged_keys = 0;
        for entry in log {
            let fields: Vec<String> = items(entry).iter().map(text).collect();
            let field = |name: &str| fields.iter().position(|f| f == name).map(|i| fields[i + 1].clone());
            assert_eq!(field("username").as_deref(), Some("reader"));
            match field("reason").as_deref() {
                Some("command") => {
                    logged_commands.insert(field("object").unwrap_or_default());
                }
                Some("key") => {
                    assert_eq!(field("object").as_deref(), Some("other"));
                    logged_keys += 1;
                }
                other => panic!("unexpected log reason {other:?}"),
            }
        }
        // ACL WHOAMI was refused too.
        assert!(logged_commands.remove("acl|whoami"));
        assert_eq!(logged_commands, refused);
        assert_eq!(logged_keys, 1, "the two key denials of `other` fold into one entry");

        if std::env::var("KEEL_TEST_ADDR").is_err() {
            // keel counts denials in INFO stats.
            let info = text(&call(&mut admin, &["INFO", "stats"]).await.expect("INFO"));
            assert!(
                info.contains(&format!("acl_access_denied_cmd:{}\r\n", refused.len() + 1)),
                "{info}"
            );
            assert!(info.contains("acl_access_denied_key:2\r\n"), "{info}");
            assert!(info.contains("acl_access_denied_auth:0\r\n"), "{info}");
        }
        call(&mut admin, &["ACL", "DELUSER", "reader"]).await.ok();
        Ok(())
    });
}

#[test]
fn deleting_a_user_closes_its_connections() {
    let target = Target::start();
    let addr = target.addr.clone();
    block_on(async move {
        let mut admin = connect(&addr, None).await?;
        call(&mut admin, &["ACL", "SETUSER", "gone", "on", ">pw", "+@all", "~*"])
            .await
            .ok();
        let mut victim = connect(&addr, Some(("gone", "pw"))).await?;
        assert_eq!(
            call(&mut victim, &["ACL", "WHOAMI"]).await.map(|v| text(&v)),
            Ok("gone".to_string())
        );
        assert_eq!(call(&mut admin, &["ACL", "DELUSER", "gone"]).await, Ok(Value::Int(1)));
        let after = call(&mut victim, &["PING"]).await;
        assert!(
            after.is_err(),
            "the deleted user's connection must be closed, got {after:?}"
        );
        assert!(connect(&addr, Some(("gone", "pw"))).await.is_err());
        Ok(())
    });
}

/// A fresh path in the temporary directory.
fn temp_path(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("keel-acl-test-{}-{n}-{name}", std::process::id()))
}

#[test]
fn requirepass_and_user_directives_at_start_up() {
    let server =
        keel_net::TestServer::start(&["--requirepass", "s3cret", "--user", "ops", "on", ">opw", "+@all", "~*"])
            .expect("start keel");
    let addr = server.addr();
    block_on(async move {
        let mut anon = connect(&addr, None).await?;
        assert_eq!(
            call(&mut anon, &["PING"]).await,
            Err("NOAUTH Authentication required.".to_string())
        );
        assert_eq!(
            call(&mut anon, &["AUTH", "wrong"]).await,
            Err("WRONGPASS invalid username-password pair or user is disabled.".to_string())
        );
        assert_eq!(
            call(&mut anon, &["AUTH", "s3cret"]).await.map(|v| text(&v)),
            Ok("OK".to_string())
        );
        let mut ops = connect(&addr, Some(("ops", "opw"))).await?;
        assert_eq!(
            call(&mut ops, &["ACL", "WHOAMI"]).await.map(|v| text(&v)),
            Ok("ops".to_string())
        );
        let info = text(&call(&mut ops, &["INFO", "stats"]).await.expect("INFO"));
        assert!(info.contains("acl_access_denied_auth:1\r\n"), "{info}");
        Ok(())
    });
}

#[test]
fn users_in_config_and_an_aclfile_together_are_refused() {
    let path = temp_path("both.acl");
    std::fs::write(&path, "user default on nopass ~* &* +@all\n").expect("write aclfile");
    let p = path.to_string_lossy().into_owned();
    let err = keel_net::TestServer::start(&["--aclfile", &p, "--user", "a", "on"])
        .err()
        .expect("must refuse");
    assert!(
        err.to_string()
            .contains("declare users directly in your redis.conf, but not both"),
        "{err}"
    );
    let bad = temp_path("bad.acl");
    std::fs::write(&bad, "user alice on +nosuch\n").expect("write aclfile");
    let b = bad.to_string_lossy().into_owned();
    let err = keel_net::TestServer::start(&["--aclfile", &b])
        .err()
        .expect("must refuse");
    assert!(
        err.to_string()
            .contains(&format!("{b}:1: Unknown command or category name in ACL.")),
        "{err}"
    );
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(bad);
}

#[test]
fn acl_save_and_load_use_the_aclfile() {
    let path = temp_path("users.acl");
    std::fs::write(&path, "user alice on >apw ~app:* +@read\n").expect("write aclfile");
    let p = path.to_string_lossy().into_owned();
    let server = keel_net::TestServer::start(&["--aclfile", &p]).expect("start keel");
    let addr = server.addr();
    let file = path.clone();
    block_on(async move {
        let mut admin = connect(&addr, None).await?;
        let users: Vec<String> = items(call(&mut admin, &["ACL", "USERS"]).await.expect("USERS"))
            .iter()
            .map(text)
            .collect();
        assert_eq!(users, ["alice", "default"]);
        let mut alice = connect(&addr, Some(("alice", "apw"))).await?;
        assert_eq!(call(&mut alice, &["GET", "app:x"]).await, Ok(Value::Nil));

        call(&mut admin, &["ACL", "SETUSER", "bob", "on", "nopass", "+get", "~b:*"])
            .await
            .ok();
        assert_eq!(
            call(&mut admin, &["ACL", "SAVE"]).await.map(|v| text(&v)),
            Ok("OK".to_string())
        );
        let saved = std::fs::read_to_string(&file).expect("read aclfile");
        let listed: Vec<String> = items(call(&mut admin, &["ACL", "LIST"]).await.expect("LIST"))
            .iter()
            .map(text)
            .collect();
        assert_eq!(saved, listed.iter().map(|l| format!("{l}\n")).collect::<String>());

        // An invalid file changes nothing and names the line.
        std::fs::write(&file, "user carol on\nuser dave on +nosuch\n").expect("write aclfile");
        let err = call(&mut admin, &["ACL", "LOAD"]).await.expect_err("invalid file");
        assert!(
            err.starts_with(&format!(
                "ERR {}:2: Unknown command or category name in ACL. ",
                file.display()
            )),
            "{err}"
        );
        assert!(
            err.ends_with("WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
        );
        assert_eq!(
            items(call(&mut admin, &["ACL", "USERS"]).await.expect("USERS")).len(),
            3
        );

        // A valid one replaces every user; connections of replaced users are closed.
        std::fs::write(&file, "user carol on nopass +@all ~*\n").expect("write aclfile");
        assert_eq!(
            call(&mut admin, &["ACL", "LOAD"]).await.map(|v| text(&v)),
            Ok("OK".to_string())
        );
        let users: Vec<String> = items(call(&mut admin, &["ACL", "USERS"]).await.expect("USERS"))
            .iter()
            .map(text)
            .collect();
        assert_eq!(users, ["carol", "default"]);
        assert!(
            call(&mut alice, &["PING"]).await.is_err(),
            "alice's connection must be closed"
        );

        // A missing file is an error too.
        std::fs::remove_file(&file).expect("remove aclfile");
        let err = call(&mut admin, &["ACL", "LOAD"]).await.expect_err("missing file");
        assert_eq!(
            err,
            format!(
                "ERR Error loading ACLs, opening file '{}': No such file or directory",
                file.display()
            )
        );
        Ok(())
    });
}

#[test]
fn acl_save_reports_a_failed_write() {
    let dir = temp_path("no-such-dir");
    let path = dir.join("users.acl");
    let server = keel_net::TestServer::start(&["--aclfile", &path.to_string_lossy()]);
    // The file does not exist either, so start-up refuses it, as the reference does.
    let err = server.err().expect("a missing aclfile stops start-up");
    assert!(err.to_string().contains("Error loading ACLs, opening file"), "{err}");

    let good = temp_path("save-target.acl");
    std::fs::write(&good, "").expect("write aclfile");
    let server = keel_net::TestServer::start(&["--aclfile", &good.to_string_lossy()]).expect("start keel");
    let addr = server.addr();
    // Replacing the file with a directory makes the final rename fail.
    std::fs::remove_file(&good).expect("remove aclfile");
    std::fs::create_dir(&good).expect("make a directory in its place");
    std::fs::write(good.join("inside"), "x").expect("non-empty directory");
    block_on(async move {
        let mut admin = connect(&addr, None).await?;
        assert_eq!(
            call(&mut admin, &["ACL", "SAVE"]).await,
            Err(
                "ERR There was an error trying to save the ACLs. Please check the server logs for more information"
                    .to_string()
            )
        );
        assert_eq!(
            call(&mut admin, &["PING"]).await.map(|v| text(&v)),
            Ok("PONG".to_string())
        );
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&good);
}
