//! A fixed loop of ZADDs for instruction counting under callgrind: fills a 100k-member zset, then runs
//! `ZADD bigzset <random score> member:<random>` the number of times given as the first argument
//! (default 0). The instruction count per ZADD is the difference between two runs divided by the
//! difference in ZADDs, so the fill cancels out:
//!
//! ```sh
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/zadd_loop 0
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/zadd_loop 100000
//! ```

use keel_benches::fixture::{argv, server_with_client, NOW_US};

/// Members in the zset, and the range of the random scores.
const N: u64 = 100_000;

fn main() {
    let count: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    let (mut server, client) = server_with_client();
    let mut out = Vec::new();
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % N
    };
    for i in 0..N {
        let cmd = argv(&[
            b"ZADD",
            b"bigzset",
            next().to_string().as_bytes(),
            format!("member:{i:012}").as_bytes(),
        ]);
        server.execute(client, &cmd, NOW_US, &mut out);
        out.clear();
    }
    for _ in 0..count {
        let score = next().to_string();
        let member = format!("member:{:012}", next());
        let cmd = argv(&[b"ZADD", b"bigzset", score.as_bytes(), member.as_bytes()]);
        server.execute(client, &cmd, NOW_US, &mut out);
        out.clear();
    }
    println!(
        "{}",
        String::from_utf8_lossy(&{
            server.execute(client, &argv(&[b"ZCARD", b"bigzset"]), NOW_US, &mut out);
            out
        })
    );
}
