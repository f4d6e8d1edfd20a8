//! Configuration: redis.conf syntax, `--directive value` flags, and the
//! values that CONFIG GET/SET read and write.
//!
//! Every directive Redis 7.0 knows is a row of [`DIRECTIVES`] (`table.rs`):
//! how it parses (`spec.rs`, `special.rs`), its flags, and what it does in
//! emberkv. A [`Config`] is the canonical text of every value, as CONFIG
//! GET prints it; the typed accessors below read it, and the server keeps
//! hot copies of what the data path reads (`Server::config_changed`).
//! Start-up and CONFIG SET go through the same parsers, so they accept and
//! refuse the same values with the same messages.

mod spec;
mod special;
mod table;

pub use spec::{Directive, Origin, Role, HIDDEN, IMMUTABLE, PROTECTED, SENSITIVE};
pub use special::{expand_title, parse_obuf_limits};
use std::path::PathBuf;
pub use table::DIRECTIVES;

/// The version emberkv answers as, in every place a client can see one.
pub const REDIS_VERSION: &str = "7.0.15";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl LogLevel {
    pub fn tracing_filter(self) -> tracing::level_filters::LevelFilter {
        use tracing::level_filters::LevelFilter as F;
        match self {
            LogLevel::Debug => F::TRACE,
            LogLevel::Verbose => F::DEBUG,
            LogLevel::Notice => F::INFO,
            LogLevel::Warning => F::WARN,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The canonical value of each row of DIRECTIVES, in table order.
    vals: Vec<String>,
    pub config_file: Option<PathBuf>,
    /// A config file's first `save` line replaces the defaults; later ones add.
    save_loaded: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            vals: DIRECTIVES.iter().map(Directive::default_value).collect(),
            config_file: None,
            save_loaded: false,
        }
    }
}

/// The row of a directive (by name or alias, any case).
pub fn find(name: &str) -> Option<(usize, &'static Directive)> {
    DIRECTIVES.iter().enumerate().find(|(_, d)| d.is(name))
}

/// Redis's memory sizes (`memtoull`): `1gb`, `512mb`, `100k` (k = 1000,
/// kb = 1024).
pub fn parse_memory(s: &str) -> Option<u64> {
    spec::memory(s).map(|n| n as u64)
}

/// A start-up error, worded as Redis's (the line, then why).
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a config line as Redis's `sdssplitargs` does (see
/// `emberkv_protocol::split_args`).
fn split_line(line: &str) -> Result<Vec<String>, String> {
    emberkv_protocol::split_args(line.as_bytes())
        .map(|words| {
            words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect()
        })
        .ok_or_else(|| "Unbalanced quotes in configuration line".into())
}

/// Redis's fatal config error, as it prints it.
fn fatal(line_no: usize, line: &str, why: &str) -> ConfigError {
    ConfigError(format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\nReading the configuration file, at line {line_no}\n>>> '{line}'\n{why}"
    ))
}

/// Quotes a command-line value the way Redis turns flags into config
/// lines (so `--save ""` reads as `save ""`).
fn quote(a: &str) -> String {
    let mut s = String::from("\"");
    for c in a.chars() {
        match c {
            '"' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

impl Config {
    /// Builds the configuration from the command line, as redis-server
    /// does: an optional config file first (`-` reads standard input), then
    /// `--directive value...` flags, which become lines after the file's,
    /// so later ones win and errors name a line past the file's end.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let mut text = String::new();
        let mut rest = args;
        if let Some(first) = args.first() {
            if !first.starts_with("--") {
                if first == "-" {
                    use std::io::Read;
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .map_err(|e| ConfigError(format!("Fatal error, can't read stdin: {e}")))?;
                } else {
                    text = std::fs::read_to_string(first).map_err(|e| {
                        ConfigError(format!(
                            "Fatal error, can't open config file '{first}': {}",
                            os_reason(&e)
                        ))
                    })?;
                    c.config_file =
                        Some(std::fs::canonicalize(first).unwrap_or_else(|_| first.into()));
                }
                rest = &args[1..];
            }
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for a in rest {
            if let Some(name) = a.strip_prefix("--") {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(name);
            } else if text.is_empty() || text.ends_with('\n') {
                return Err(ConfigError(format!(
                    "Invalid argument '{a}': directives are given as --name value"
                )));
            } else {
                text.push(' ');
                text.push_str(&quote(a));
            }
        }
        c.load_text(&text, 0)?;
        Ok(c)
    }

    /// Reads config lines; `include` reads another file in place.
    fn load_text(&mut self, text: &str, depth: usize) -> Result<(), ConfigError> {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = split_line(line).map_err(|e| fatal(i + 1, line, &e))?;
            let Some((name, vals)) = words.split_first() else {
                continue;
            };
            if name.eq_ignore_ascii_case("include") && vals.len() == 1 {
                if depth > 16 {
                    return Err(fatal(i + 1, line, "include nesting is too deep"));
                }
                let inc = std::fs::read_to_string(&vals[0]).map_err(|e| {
                    fatal(
                        i + 1,
                        line,
                        &format!("Can't open the included file: {}", os_reason(&e)),
                    )
                })?;
                self.load_text(&inc, depth + 1)?;
                continue;
            }
            self.apply_line(name, vals)
                .map_err(|why| fatal(i + 1, line, &why))?;
        }
        Ok(())
    }

    fn apply_line(&mut self, name: &str, vals: &[String]) -> Result<(), String> {
        let Some((idx, d)) = find(name) else {
            // Redis ignores these deprecated directives when given one value.
            if vals.len() == 1
                && [
                    "list-max-ziplist-entries",
                    "list-max-ziplist-value",
                    "lua-replicate-commands",
                ]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name))
            {
                return Ok(());
            }
            if name.eq_ignore_ascii_case("user") {
                return special::default_user(self, vals);
            }
            if ["rename-command", "loadmodule"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name))
            {
                return Err(format!(
                    "'{name}' is a Redis directive that emberkv does not support yet"
                ));
            }
            return Err("Bad directive or wrong number of arguments".into());
        };
        let mut words: Vec<String> = vals.to_vec();
        if d.has(spec::MULTI_ARG) {
            // `bind "a b"`: one quoted value holding several words.
            if words.len() == 1 && words[0].contains(' ') {
                words = words[0].split_whitespace().map(str::to_string).collect();
            }
        } else if words.len() != 1 {
            return Err("wrong number of arguments".into());
        }
        let v = d.parse(self, &words, Origin::File)?;
        self.vals[idx] = v;
        Ok(())
    }

    /// CONFIG SET's parse of one value (a MULTI_ARG value is split at
    /// spaces, as Redis splits it). The caller checks flags first.
    pub fn set(&mut self, idx: usize, value: &str) -> Result<(), String> {
        let d = &DIRECTIVES[idx];
        let words: Vec<String> = if d.has(spec::MULTI_ARG) {
            if value.is_empty() {
                Vec::new()
            } else {
                value.split(' ').map(str::to_string).collect()
            }
        } else {
            vec![value.to_string()]
        };
        // `save ""` and `bind ""` through CONFIG SET: no words at all.
        let words =
            if words.is_empty() && matches!(d.name, "save" | "latency-tracking-info-percentiles") {
                vec![String::new()]
            } else {
                words
            };
        let v = d.parse(self, &words, Origin::Set)?;
        self.vals[idx] = v;
        Ok(())
    }

    /// The value of row `idx` as CONFIG GET prints it.
    pub fn value(&self, idx: usize) -> String {
        if DIRECTIVES[idx].name == "dir" {
            if let Ok(p) = std::env::current_dir() {
                return p.display().to_string();
            }
        }
        self.vals[idx].clone()
    }

    /// The canonical text of a directive that exists (a typo is a bug).
    pub fn get(&self, name: &str) -> &str {
        match find(name) {
            Some((i, _)) => &self.vals[i],
            None => panic!("no directive named {name}"),
        }
    }
    pub fn int(&self, name: &str) -> i64 {
        let v = self.get(name);
        v.parse::<i64>()
            .or_else(|_| v.parse::<u64>().map(|u| u.min(i64::MAX as u64) as i64))
            .unwrap_or(0)
    }
    pub fn uint(&self, name: &str) -> u64 {
        self.int(name).max(0) as u64
    }
    pub fn yes(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }

    pub fn port(&self) -> u16 {
        self.int("port") as u16
    }
    pub fn bind(&self) -> Vec<String> {
        self.get("bind")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }
    pub fn databases(&self) -> usize {
        self.int("databases") as usize
    }
    pub fn requirepass(&self) -> &str {
        self.get("requirepass")
    }
    pub fn hz(&self) -> u32 {
        self.int("hz") as u32
    }
    pub fn loglevel(&self) -> LogLevel {
        match self.get("loglevel") {
            "debug" => LogLevel::Debug,
            "verbose" => LogLevel::Verbose,
            "warning" => LogLevel::Warning,
            _ => LogLevel::Notice,
        }
    }
    pub fn logfile(&self) -> &str {
        self.get("logfile")
    }
    /// The `dir` given (the process changes into it at start).
    pub fn dir(&self) -> &str {
        self.get("dir")
    }
    pub fn client_output_buffer_limit(&self) -> [[u64; 3]; 3] {
        parse_obuf_limits(self.get("client-output-buffer-limit"))
    }
    pub fn notify_keyspace_events(&self) -> u32 {
        crate::notify::parse_flags(self.get("notify-keyspace-events")).unwrap_or(0)
    }

    /// One line of every non-default value, for the start-up log (secrets
    /// left out).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for (i, d) in DIRECTIVES.iter().enumerate() {
            if self.vals[i] != d.default_value() && !d.has(SENSITIVE) {
                s.push_str(&format!("{}={:?} ", d.name, self.vals[i]));
            }
        }
        s
    }
}

/// An OS error's text without Rust's " (os error N)".
pub fn os_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

/// A Markdown list of the directives that are accepted but change nothing
/// yet (`emberkv-server --list-directives`, for the README).
pub fn role_table() -> String {
    let mut s = String::new();
    for d in DIRECTIVES {
        let alias = d
            .alias
            .map(|a| format!(" (alias `{a}`)"))
            .unwrap_or_default();
        match d.role {
            Role::Live => {}
            Role::Later(what) => {
                s.push_str(&format!("| `{}`{alias} | arrives with {what} |\n", d.name))
            }
            Role::Moot(why) => s.push_str(&format!("| `{}`{alias} | moot: {why} |\n", d.name)),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_and_errors() {
        let c =
            Config::from_args(&args(&["--port", "7001", "--save", "", "--timeout", "5"])).unwrap();
        assert_eq!(c.port(), 7001);
        assert_eq!(c.get("save"), "");
        assert_eq!(c.int("timeout"), 5);
        let e = Config::from_args(&args(&["--nosuch", "1"])).unwrap_err();
        assert!(e.0.contains(">>> 'nosuch \"1\"'"), "{}", e.0);
        assert!(
            e.0.contains("Bad directive or wrong number of arguments"),
            "{}",
            e.0
        );
        let e = Config::from_args(&args(&["--port", "x"])).unwrap_err();
        assert!(
            e.0.contains("argument couldn't be parsed into an integer"),
            "{}",
            e.0
        );
        let e = Config::from_args(&args(&["--hz", "-5"])).unwrap_err();
        assert!(
            e.0.contains("argument must be between 0 and 2147483647 inclusive"),
            "{}",
            e.0
        );
    }

    #[test]
    fn every_redis_name_once() {
        let mut names: Vec<&str> = DIRECTIVES
            .iter()
            .flat_map(|d| std::iter::once(d.name).chain(d.alias))
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "a name is in the table twice");
        let redis = DIRECTIVES
            .iter()
            .filter(|d| !d.has(spec::EMBERKV) && !d.has(HIDDEN))
            .map(|d| 1 + d.alias.is_some() as usize)
            .sum::<usize>();
        assert_eq!(redis, 192, "Redis 7.0's CONFIG GET * lists 192 names");
    }

    #[test]
    fn config_file_lines() {
        let mut c = Config::default();
        c.load_text(
            "# comment\nport 7002\nbind 127.0.0.1 ::1\nrequirepass \"a b\"\nsave 900 1\nsave 300 10\nclient-output-buffer-limit pubsub 1mb 0 0\n",
            0,
        )
        .unwrap();
        assert_eq!(c.port(), 7002);
        assert_eq!(c.bind(), vec!["127.0.0.1", "::1"]);
        assert_eq!(c.requirepass(), "a b");
        assert_eq!(c.get("save"), "900 1 300 10");
        assert_eq!(c.client_output_buffer_limit()[2], [1 << 20, 0, 0]);
        assert_eq!(c.client_output_buffer_limit()[1], [256 << 20, 64 << 20, 60]);
    }

    #[test]
    fn rewritten_default_user_line() {
        let mut c = Config::default();
        c.load_text("user default on nopass sanitize-payload ~* &* +@all\n", 0)
            .unwrap();
        assert_eq!(c.requirepass(), "");
        c.load_text("user default on >s3cret ~* &* +@all\n", 0)
            .unwrap();
        assert_eq!(c.requirepass(), "s3cret");
        assert!(c.load_text("user alice on >x ~* +@all\n", 0).is_err());
        assert!(c.load_text("user default on -@all\n", 0).is_err());
    }

    #[test]
    fn values_as_redis_prints_them() {
        let mut c = Config::default();
        let set = |c: &mut Config, n: &str, v: &str| c.set(find(n).unwrap().0, v);
        set(&mut c, "hz", "1000").unwrap();
        assert_eq!(c.get("hz"), "500");
        assert!(set(&mut c, "hz", "-1").is_err());
        set(&mut c, "maxmemory-clients", "10%").unwrap();
        assert_eq!(c.get("maxmemory-clients"), "10%");
        set(&mut c, "oom-score-adj", "relative").unwrap();
        assert_eq!(c.get("oom-score-adj"), "yes");
        set(&mut c, "shutdown-on-sigterm", "now nosave").unwrap();
        assert_eq!(c.get("shutdown-on-sigterm"), "nosave now");
        set(&mut c, "maxmemory", "1K").unwrap();
        assert_eq!(c.get("maxmemory"), "1000");
        assert_eq!(c.get("unixsocketperm"), "0");
        assert_eq!(
            set(&mut c, "loglevel", "x").unwrap_err(),
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        );
    }
}
