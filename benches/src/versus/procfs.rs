//! A process' CPU time and resident memory, read from Linux's `/proc`.
//!
//! Owns parsing `/proc/<pid>/stat` and `/proc/<pid>/status`; it must never write or signal anything.

use std::io;
use std::process::Command;

/// CPU time a process has used so far (all its threads, user plus system), in clock ticks.
pub fn cpu_ticks(pid: u32) -> io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_ticks(&stat).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "malformed /proc/<pid>/stat"))
}

/// `utime + stime` from the text of `/proc/<pid>/stat`. The command name (field 2) is in parentheses and
/// may itself contain spaces and parentheses, so fields are counted from the last `)`: utime and stime are
/// fields 14 and 15 of the file, the 12th and 13th after the name.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`getconf CLK_TCK`), 100 if it cannot be asked (the value on every common Linux).
pub fn ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// Resident set size of a process, in bytes.
pub fn rss_bytes(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_rss(&status).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS in /proc/<pid>/status"))
}

/// The `VmRSS:` line of `/proc/<pid>/status` (given in kB), in bytes.
pub fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_of_a_name_with_spaces_and_parentheses() {
        // A redis-server stat line (field layout as Linux writes it) with a hostile command name.
        let stat = "4242 (redis (x) y) S 1 4242 4242 0 -1 4194560 1375 0 0 0 731 289 0 0 20 0 5 0 \
                    123456 23691264 2330 18446744073709551615 1 1 0 0 0 0 0 4096 17995 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(731 + 289));
        assert_eq!(parse_cpu_ticks("4242 (x"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let pid = std::process::id();
        assert!(rss_bytes(pid).unwrap() > 0);
        cpu_ticks(pid).unwrap();
    }

    #[test]
    fn vm_rss_line() {
        let status = "Name:\tredis-server\nVmPeak:\t  123 kB\nVmRSS:\t    9796 kB\nThreads:\t5\n";
        assert_eq!(parse_vm_rss(status), Some(9796 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }
}
