//! Running `redis-benchmark` for one test against one server and reading its `--csv` output.
//!
//! Owns the names of the tests and how each is asked of `redis-benchmark` (a built-in `-t` test or a
//! custom command line). It must never interpret results beyond parsing them.

use std::io;
use std::path::Path;
use std::process::Command;

/// The tests `versus` knows, by the lower-case name used on its command line.
pub const TESTS: &[&str] = &["set", "get", "incr", "lpush", "lpop", "sadd", "hset", "zadd", "mset"];

/// How `redis-benchmark` is asked for a test: ZADD has no built-in test, so it is a custom command
/// whose key and member come from `__rand_int__` (drawn from `-r`).
pub fn test_args(test: &str) -> Vec<String> {
    match test {
        "zadd" => ["ZADD", "myzset", "__rand_int__", "member:__rand_int__"]
            .map(String::from)
            .to_vec(),
        t => vec!["-t".into(), t.into()],
    }
}

/// One `redis-benchmark` run's settings.
#[derive(Clone, Debug)]
pub struct Load {
    pub requests: u64,
    pub clients: u32,
    pub pipeline: u32,
    /// `-r`: keys are drawn from this many.
    pub keyspace: u64,
}

/// Runs `test` against the server on `port` and returns requests per second.
pub fn run(redis_benchmark: &Path, port: u16, test: &str, load: &Load) -> io::Result<f64> {
    let mut cmd = Command::new(redis_benchmark);
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-c", &load.clients.to_string()])
        .args(["-n", &load.requests.to_string()])
        .args(["-r", &load.keyspace.to_string()])
        .args(["-P", &load.pipeline.to_string()])
        .arg("--csv")
        .args(test_args(test));
    let output = cmd
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run {}: {e}", redis_benchmark.display())))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() || stderr.contains("Error") {
        return Err(io::Error::other(format!(
            "redis-benchmark {test} on port {port} failed ({}): {stderr}{stdout}",
            output.status
        )));
    }
    let rows = parse_csv(&stdout);
    match rows.as_slice() {
        [row] => Ok(row.rps),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("expected one result row from redis-benchmark {test}, got: {stdout}"),
        )),
    }
}

/// One result line of `redis-benchmark --csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvRow {
    /// The test's name as redis-benchmark prints it (`SET`, `MSET (10 keys)`, or the custom command).
    pub test: String,
    /// Requests per second.
    pub rps: f64,
}

/// Parses `redis-benchmark --csv` output: a header line starting with `"test"`, then one quoted line per
/// test, whose first two fields are the test's name and the requests per second. Lines that do not
/// parse (progress output, warnings) are skipped.
pub fn parse_csv(text: &str) -> Vec<CsvRow> {
    text.lines()
        .filter_map(|line| {
            let fields = split_quoted(line.trim())?;
            let (test, rps) = (fields.first()?, fields.get(1)?);
            if test == "test" {
                return None;
            }
            Some(CsvRow {
                test: test.clone(),
                rps: rps.parse().ok()?,
            })
        })
        .collect()
}

/// Splits `"a","b,c","d"` into its fields. Returns `None` unless every field is double-quoted.
fn split_quoted(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        let body = rest.strip_prefix('"')?;
        let end = body.find('"')?;
        fields.push(body[..end].to_string());
        rest = &body[end + 1..];
        if rest.is_empty() {
            return Some(fields);
        }
        rest = rest.strip_prefix(',')?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output captured from redis-benchmark 7.0.15 (`-t set,get,mset -P 16 --csv` against redis-server).
    const BUILTIN: &str = r#""test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","249999.98","1.524","0.256","1.135","5.639","5.663","5.671"
"GET","249999.98","1.706","0.328","1.239","5.047","5.079","5.079"
"MSET (10 keys)","133333.34","4.218","0.224","5.239","6.311","6.359","6.367"
"#;

    /// Output captured from redis-benchmark 7.0.15 for the custom ZADD command.
    const CUSTOM: &str = r#""test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"ZADD myzset __rand_int__ member:__rand_int__","111111.12","0.271","0.072","0.255","0.439","1.831","1.903"
"#;

    #[test]
    fn builtin_tests() {
        let rows = parse_csv(BUILTIN);
        let names: Vec<&str> = rows.iter().map(|r| r.test.as_str()).collect();
        assert_eq!(names, ["SET", "GET", "MSET (10 keys)"]);
        assert_eq!(rows[0].rps, 249999.98);
        assert_eq!(rows[2].rps, 133333.34);
    }

    #[test]
    fn custom_command() {
        let rows = parse_csv(CUSTOM);
        assert_eq!(
            rows,
            [CsvRow {
                test: "ZADD myzset __rand_int__ member:__rand_int__".into(),
                rps: 111111.12
            }]
        );
    }

    #[test]
    fn noise_is_skipped() {
        let text = format!("WARNING: could not fetch server CONFIG\n{BUILTIN}\n\"SET\",\"not-a-number\"\n");
        assert_eq!(parse_csv(&text).len(), 3);
        assert!(parse_csv("").is_empty());
    }

    #[test]
    fn test_arguments() {
        assert_eq!(test_args("set"), ["-t", "set"]);
        assert_eq!(test_args("zadd")[0], "ZADD");
        assert!(TESTS.contains(&"zadd"));
    }
}
