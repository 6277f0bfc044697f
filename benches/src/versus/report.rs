//! Statistics over the measurements (median, ratio, geometric mean) and the Markdown tables `versus`
//! prints.
//!
//! Owns arithmetic and formatting only; it never runs anything.

use std::fmt::Write as _;

use super::loader::Workload;

/// One `redis-benchmark` run of one test against one server.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The server's label (`redis`, `keel-t1`...).
    pub server: String,
    pub pipeline: u32,
    pub test: String,
    pub round: usize,
    /// Requests per second reported by redis-benchmark.
    pub rps: f64,
    /// Server CPU time (user + system, all threads) spent during the run, in seconds.
    pub cpu_seconds: f64,
    /// Requests sent in the run.
    pub requests: u64,
}

impl Sample {
    /// Server CPU seconds per million requests.
    pub fn cpu_per_million(&self) -> f64 {
        self.cpu_seconds / self.requests as f64 * 1e6
    }
}

/// One memory measurement: a fresh server's RSS before and after loading `keys` keys of a workload.
#[derive(Clone, Debug, PartialEq)]
pub struct MemorySample {
    pub server: String,
    pub workload: Workload,
    pub keys: u64,
    pub rss_before: u64,
    pub rss_after: u64,
}

impl MemorySample {
    /// RSS growth per key, in bytes.
    pub fn bytes_per_key(&self) -> f64 {
        (self.rss_after as f64 - self.rss_before as f64) / self.keys as f64
    }
}

/// The median (the mean of the two middle values for an even count); `None` for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 0 {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// The geometric mean of positive values (the right mean for ratios: a 2x and a 0.5x average to 1x);
/// `None` when there are none or one is not positive.
pub fn geomean(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|&v| v.is_nan() || v <= 0.0 || v.is_infinite()) {
        return None;
    }
    Some((values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// `a / b`, `None` unless both are known and `b` is positive.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// Everything one `versus` run measured.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub samples: Vec<Sample>,
    pub memory: Vec<MemorySample>,
}

impl Results {
    /// Median requests per second of `test` at `pipeline` on `server`.
    pub fn median_rps(&self, server: &str, pipeline: u32, test: &str) -> Option<f64> {
        median(&self.select(server, pipeline, test).map(|s| s.rps).collect::<Vec<_>>())
    }

    /// Median server CPU seconds per million requests of `test` at `pipeline` on `server`.
    pub fn median_cpu(&self, server: &str, pipeline: u32, test: &str) -> Option<f64> {
        median(
            &self
                .select(server, pipeline, test)
                .map(Sample::cpu_per_million)
                .collect::<Vec<_>>(),
        )
    }

    /// Median RSS growth per key of `workload` on `server`.
    pub fn median_bytes_per_key(&self, server: &str, workload: Workload) -> Option<f64> {
        let v: Vec<f64> = self
            .memory
            .iter()
            .filter(|m| m.server == server && m.workload == workload)
            .map(MemorySample::bytes_per_key)
            .collect();
        median(&v)
    }

    fn select<'a>(&'a self, server: &'a str, pipeline: u32, test: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples
            .iter()
            .filter(move |s| s.server == server && s.pipeline == pipeline && s.test == test)
    }

    /// keel/redis throughput ratio per test at `pipeline` for keel `label`, and their geometric mean.
    pub fn throughput_ratios(&self, label: &str, pipeline: u32, tests: &[String]) -> (Vec<Option<f64>>, Option<f64>) {
        let ratios: Vec<Option<f64>> = tests
            .iter()
            .map(|t| {
                ratio(
                    self.median_rps(label, pipeline, t),
                    self.median_rps("redis", pipeline, t),
                )
            })
            .collect();
        let known: Vec<f64> = ratios.iter().flatten().copied().collect();
        let mean = if known.len() == ratios.len() {
            geomean(&known)
        } else {
            None
        };
        (ratios, mean)
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.decimals$}"))
}

fn ops(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{:.0}", v))
}

/// The throughput table: per test and pipeline depth, the median ops/s of redis and of each keel
/// configuration with its ratio to redis, then the geometric mean of the ratios per depth.
pub fn throughput_table(results: &Results, keels: &[String], pipelines: &[u32], tests: &[String]) -> String {
    let mut out = String::from("| test | -P | redis ops/s |");
    for k in keels {
        let _ = write!(out, " {k} ops/s | {k} / redis |");
    }
    out.push_str("\n|---|---|---|");
    out.push_str(&"---|---|".repeat(keels.len()));
    out.push('\n');
    for &p in pipelines {
        for t in tests {
            let _ = write!(
                out,
                "| {} | {p} | {} |",
                t.to_uppercase(),
                ops(results.median_rps("redis", p, t))
            );
            for k in keels {
                let rps = results.median_rps(k, p, t);
                let _ = write!(
                    out,
                    " {} | {} |",
                    ops(rps),
                    num(ratio(rps, results.median_rps("redis", p, t)), 2)
                );
            }
            out.push('\n');
        }
        let _ = write!(out, "| **geomean** | {p} | |");
        for k in keels {
            let (_, mean) = results.throughput_ratios(k, p, tests);
            let _ = write!(out, " | **{}** |", num(mean, 2));
        }
        out.push('\n');
    }
    out
}

/// Every throughput sample, one row per test, depth and server with its rounds in order, and the spread
/// (highest / lowest round): on a shared machine the spread shows how far a median can be trusted.
pub fn rounds_table(results: &Results, servers: &[String], pipelines: &[u32], tests: &[String]) -> String {
    let mut out = String::from("| test | -P | server | ops/s per round | spread |\n|---|---|---|---|---|\n");
    for &p in pipelines {
        for t in tests {
            for server in servers {
                let mut rounds: Vec<&Sample> = results.select(server, p, t).collect();
                rounds.sort_by_key(|s| s.round);
                let rates: Vec<f64> = rounds.iter().map(|s| s.rps).collect();
                let list: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
                let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = rates.iter().copied().fold(0.0, f64::max);
                let spread = if rates.is_empty() {
                    None
                } else {
                    ratio(Some(hi), Some(lo))
                };
                let _ = writeln!(
                    out,
                    "| {} | {p} | {server} | {} | {} |",
                    t.to_uppercase(),
                    list.join(" / "),
                    num(spread, 2)
                );
            }
        }
    }
    out
}

/// The CPU table: server CPU seconds per million requests (median of rounds) for `tests`, and the ratio
/// of each keel configuration to redis.
pub fn cpu_table(results: &Results, keels: &[String], pipelines: &[u32], tests: &[String]) -> String {
    let mut out = String::from("| test | -P | redis CPU s / 1M req |");
    for k in keels {
        let _ = write!(out, " {k} CPU s / 1M req | {k} / redis |");
    }
    out.push_str("\n|---|---|---|");
    out.push_str(&"---|---|".repeat(keels.len()));
    out.push('\n');
    for &p in pipelines {
        for t in tests {
            let redis = results.median_cpu("redis", p, t);
            let _ = write!(out, "| {} | {p} | {} |", t.to_uppercase(), num(redis, 2));
            for k in keels {
                let keel = results.median_cpu(k, p, t);
                let _ = write!(out, " {} | {} |", num(keel, 2), num(ratio(keel, redis), 2));
            }
            out.push('\n');
        }
    }
    out
}

/// The memory table: RSS growth per key for each workload, keel (`keel` label) against redis.
pub fn memory_table(results: &Results, keel: &str) -> String {
    let mut out = format!("| workload | keys | redis B/key | {keel} B/key | {keel} / redis |\n|---|---|---|---|---|\n");
    for w in Workload::ALL {
        let Some(keys) = results.memory.iter().find(|m| m.workload == w).map(|m| m.keys) else {
            continue;
        };
        let redis = results.median_bytes_per_key("redis", w);
        let k = results.median_bytes_per_key(keel, w);
        let _ = writeln!(
            out,
            "| {} | {keys} | {} | {} | {} |",
            w.describe(),
            num(redis, 1),
            num(k, 1),
            num(ratio(k, redis), 2)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versus::benchmark::parse_csv;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn geomean_of_ratios() {
        let g = geomean(&[2.0, 0.5]).unwrap();
        assert!((g - 1.0).abs() < 1e-12);
        let g = geomean(&[1.0, 8.0, 1.0]).unwrap();
        assert!((g - 2.0).abs() < 1e-12);
        assert_eq!(geomean(&[1.0, 0.0]), None);
        assert_eq!(geomean(&[]), None);
    }

    /// Two rounds of SET and GET at -P 1 built from output captured from redis-benchmark 7.0.15
    /// (`-t set,get -n 5000 -c 50 -r 100000 -P 1 --csv`) against keel-server and redis-server on a loaded
    /// machine; the second round scales each figure so that the median differs from either round.
    fn captured_results() -> Results {
        let redis = r#""test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","21186.44","1.669","0.064","0.351","8.927","19.711","22.831"
"GET","4930.97","9.389","0.072","0.463","31.775","223.871","242.175"
"#;
        let keel = r#""test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","108695.65","0.296","0.008","0.271","0.439","0.911","4.159"
"GET","125000.00","0.248","0.024","0.255","0.351","0.447","0.735"
"#;
        let mut results = Results::default();
        for (i, (server, text, scale)) in [
            ("redis", redis, 1.0),
            ("keel-t1", keel, 1.0),
            ("redis", redis, 1.1),
            ("keel-t1", keel, 0.9),
        ]
        .into_iter()
        .enumerate()
        {
            for row in parse_csv(text) {
                results.samples.push(Sample {
                    server: server.into(),
                    pipeline: 1,
                    test: row.test.to_lowercase(),
                    round: i / 2,
                    rps: row.rps * scale,
                    cpu_seconds: 2.0 * scale,
                    requests: 200_000,
                });
            }
        }
        results
    }

    #[test]
    fn ratios_from_captured_output() {
        let results = captured_results();
        let tests = vec!["set".to_string(), "get".to_string()];
        // Medians of two rounds are their means: redis SET 21186.44 * 1.05, keel SET 108695.65 * 0.95.
        let redis_set = results.median_rps("redis", 1, "set").unwrap();
        assert!((redis_set - 21186.44 * 1.05).abs() < 1e-6);
        let (ratios, mean) = results.throughput_ratios("keel-t1", 1, &tests);
        let set = 108695.65 * 0.95 / (21186.44 * 1.05);
        let get = 125000.00 * 0.95 / (4930.97 * 1.05);
        assert!((ratios[0].unwrap() - set).abs() < 1e-12);
        assert!((ratios[1].unwrap() - get).abs() < 1e-12);
        assert!((mean.unwrap() - (set * get).sqrt()).abs() < 1e-12);
        // 2 CPU seconds (x1.1, x0.9) per 200,000 requests = 10 s per million.
        assert!((results.median_cpu("redis", 1, "set").unwrap() - 10.5).abs() < 1e-9);
        let table = throughput_table(&results, &["keel-t1".into()], &[1], &tests);
        assert!(table.contains(&format!("| SET | 1 | {:.0} |", redis_set)), "{table}");
        assert!(table.contains(&format!("**{:.2}**", (set * get).sqrt())), "{table}");
        let rounds = rounds_table(&results, &["redis".into()], &[1], &tests);
        assert!(
            rounds.contains("| SET | 1 | redis | 21186 / 23305 | 1.10 |"),
            "{rounds}"
        );
    }

    #[test]
    fn missing_measurements_are_not_invented() {
        let results = captured_results();
        let (ratios, mean) = results.throughput_ratios("keel-t2", 1, &["set".into()]);
        assert_eq!(ratios, [None]);
        assert_eq!(mean, None);
        assert!(throughput_table(&results, &["keel-t2".into()], &[1], &["set".into()]).contains("n/a"));
    }

    #[test]
    fn bytes_per_key() {
        let m = MemorySample {
            server: "redis".into(),
            workload: Workload::Strings,
            keys: 1000,
            rss_before: 8_000_000,
            rss_after: 8_106_800,
        };
        assert!((m.bytes_per_key() - 106.8).abs() < 1e-9);
        let results = Results {
            samples: vec![],
            memory: vec![m],
        };
        assert!(memory_table(&results, "keel-t1").contains("| 106.8 | n/a | n/a |"));
    }
}
