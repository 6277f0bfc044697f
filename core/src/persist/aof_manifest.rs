//! The multi-part append-only file's manifest and file names, in the reference server's 7.0 layout:
//! a directory (`appenddirname`) holding one base file (`<appendfilename>.<seq>.base.rdb|aof`), the
//! incremental files written since (`<appendfilename>.<seq>.incr.aof`), and the manifest
//! (`<appendfilename>.manifest`) listing them, one `file <name> seq <n> type b|h|i` line each.
//!
//! Owns parsing, formatting and the naming of the next files. Pure: the shell reads and writes the
//! files. Bad input gives an error, never a panic.

use std::fmt;

/// The role of a file listed in the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// The base: a snapshot (RDB preamble) or a command stream the incremental files continue.
    Base,
    /// A file replaced by a rewrite, waiting to be deleted.
    History,
    /// An incremental file of commands.
    Incr,
}

impl FileKind {
    fn letter(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::History => 'h',
            FileKind::Incr => 'i',
        }
    }
}

/// One file of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    pub kind: FileKind,
}

/// The parsed manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub history: Vec<AofFile>,
    /// Incremental files in replay order.
    pub incrs: Vec<AofFile>,
}

/// Why a manifest was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError(pub String);

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest manifest line accepted.
const MAX_LINE: usize = 1024;

impl Manifest {
    /// Parses manifest text.
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let err = |m: &str| Err(ManifestError(m.to_string()));
        let mut m = Manifest::default();
        let mut lines = 0;
        for raw in text.split(|&b| b == b'\n') {
            if raw.len() > MAX_LINE {
                return err("The AOF manifest file contains too long line");
            }
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            if line.iter().all(|b| b.is_ascii_whitespace()) || line.first() == Some(&b'#') {
                continue;
            }
            lines += 1;
            let Some(words) = split_words(line) else {
                return err("Invalid AOF manifest file format");
            };
            if words.len() % 2 != 0 {
                return err("Invalid AOF manifest file format");
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                match pair[0].as_str() {
                    "file" => name = Some(pair[1].clone()),
                    "seq" => seq = pair[1].parse::<u64>().ok(),
                    "type" => {
                        kind = match pair[1].as_str() {
                            "b" => Some(FileKind::Base),
                            "h" => Some(FileKind::History),
                            "i" => Some(FileKind::Incr),
                            _ => None,
                        }
                    }
                    // Unknown keys are left for newer versions.
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return err("Invalid AOF manifest file format");
            };
            if name.is_empty() || name.contains('/') || seq == 0 {
                return err("Invalid AOF manifest file format");
            }
            let file = AofFile { name, seq, kind };
            match kind {
                FileKind::Base => {
                    if m.base.is_some() {
                        return err("Found duplicate base file information");
                    }
                    m.base = Some(file);
                }
                FileKind::History => m.history.push(file),
                FileKind::Incr => {
                    if m.incrs.last().is_some_and(|l| l.seq >= seq) {
                        return err("Found a non-monotonic sequence number");
                    }
                    m.incrs.push(file);
                }
            }
        }
        if lines == 0 {
            return err("Found an empty AOF manifest");
        }
        Ok(m)
    }

    /// The manifest text.
    pub fn format(&self) -> String {
        let mut out = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incrs) {
            out.push_str(&format!(
                "file {} seq {} type {}\n",
                quote(&f.name),
                f.seq,
                f.kind.letter()
            ));
        }
        out
    }

    /// The sequence number of the base (0 when there is none).
    pub fn base_seq(&self) -> u64 {
        self.base.as_ref().map_or(0, |b| b.seq)
    }

    /// The sequence number of the last incremental file (0 when there is none).
    pub fn incr_seq(&self) -> u64 {
        self.incrs.last().map_or(0, |f| f.seq)
    }

    /// Adds a new incremental file named after `prefix` and returns its name.
    pub fn add_incr(&mut self, prefix: &str) -> String {
        let seq = self.incr_seq() + 1;
        let name = incr_name(prefix, seq);
        self.incrs.push(AofFile {
            name: name.clone(),
            seq,
            kind: FileKind::Incr,
        });
        name
    }

    /// After a rewrite: `base` (a new base file) replaces the old base and every incremental file but the
    /// last `keep_incrs`, which continue it. Returns the files no longer listed.
    pub fn install_base(&mut self, base: AofFile, keep_incrs: usize) -> Vec<AofFile> {
        let mut gone: Vec<AofFile> = self.base.take().into_iter().collect();
        let cut = self.incrs.len().saturating_sub(keep_incrs);
        gone.extend(self.incrs.drain(..cut));
        self.base = Some(base);
        gone
    }
}

/// `<prefix>.<seq>.base.rdb` or `.base.aof`.
pub fn base_name(prefix: &str, seq: u64, rdb: bool) -> String {
    format!("{prefix}.{seq}.base.{}", if rdb { "rdb" } else { "aof" })
}

/// `<prefix>.<seq>.incr.aof`.
pub fn incr_name(prefix: &str, seq: u64) -> String {
    format!("{prefix}.{seq}.incr.aof")
}

/// `<prefix>.manifest`.
pub fn manifest_name(prefix: &str) -> String {
    format!("{prefix}.manifest")
}

/// A file name as the manifest writes it: quoted when it holds spaces, quotes or control bytes.
fn quote(name: &str) -> String {
    if name.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
        return name.to_string();
    }
    let mut out = String::from("\"");
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Splits a line into words; double-quoted words may hold spaces and `\` escapes. `None` when a quote
/// is not closed or the line is not UTF-8.
fn split_words(line: &[u8]) -> Option<Vec<String>> {
    let line = std::str::from_utf8(line).ok()?;
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return Some(words);
        };
        let mut word = String::new();
        if first == '"' {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => match chars.next()? {
                        'n' => word.push('\n'),
                        'r' => word.push('\r'),
                        't' => word.push('\t'),
                        c => word.push(c),
                    },
                    c => word.push(c),
                }
            }
            if chars.peek().is_some_and(|c| !c.is_ascii_whitespace()) {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_ascii_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_reference_layout() {
        // As the reference server writes it after start-up with `appendonly yes`.
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.base_seq(), 1);
        assert_eq!(m.incr_seq(), 1);
        assert_eq!(m.format(), text);
    }

    #[test]
    fn rewrite_installs_a_base_and_keeps_the_new_incr() {
        let mut m = Manifest::parse(b"file a.1.base.aof seq 1 type b\nfile a.1.incr.aof seq 1 type i\n").unwrap();
        assert_eq!(m.add_incr("a"), "a.2.incr.aof");
        let gone = m.install_base(
            AofFile {
                name: base_name("a", 2, true),
                seq: 2,
                kind: FileKind::Base,
            },
            1,
        );
        assert_eq!(
            gone.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["a.1.base.aof", "a.1.incr.aof"]
        );
        assert_eq!(
            m.format(),
            "file a.2.base.rdb seq 2 type b\nfile a.2.incr.aof seq 2 type i\n"
        );
    }

    #[test]
    fn refuses_malformed_manifests() {
        for bad in [
            &b""[..],
            b"# only a comment\n",
            b"file x seq 1\n",
            b"file x seq one type i\n",
            b"file x seq 1 type z\n",
            b"file \"x seq 1 type i\n",
            b"file a seq 1 type b\nfile b seq 2 type b\n",
            b"file a seq 2 type i\nfile b seq 2 type i\n",
            b"file ../x seq 1 type i\n",
            b"file x seq 0 type i\n",
        ] {
            assert!(Manifest::parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let spaced = Manifest::parse(b"file \"my file\" seq 3 type i\n").unwrap();
        assert_eq!(spaced.incrs[0].name, "my file");
        assert_eq!(spaced.format(), "file \"my file\" seq 3 type i\n");
    }
}
