//! Configuration: redis.conf syntax, `--directive value` flags, and the
//! table of directives that CONFIG GET/SET read and write.
//!
//! Every directive is one row of [`DIRECTIVES`]: its name, whether it can
//! change at run time, how to parse it and how to print it. Start-up and
//! CONFIG SET go through the same parsers, so they accept and reject the
//! same values with the same messages.

use crate::types::LIMITS;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl LogLevel {
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
        }
    }
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
    pub port: u16,
    pub bind: Vec<String>,
    pub databases: usize,
    pub requirepass: String,
    pub timeout: u64,
    pub maxclients: u64,
    pub hz: u32,
    pub loglevel: LogLevel,
    pub logfile: String,
    pub dir: String,
    pub save: String,
    pub appendonly: bool,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    /// [normal, replica, pubsub] x [hard bytes, soft bytes, soft seconds].
    pub client_output_buffer_limit: [[u64; 3]; 3],
    /// Flags of notify.rs.
    pub notify_keyspace_events: u32,
    /// ms after which a running script lets others get -BUSY (lua-time-limit).
    pub busy_reply_threshold: u64,
    /// emberkv: worker threads (0 = one per CPU this process may run on).
    pub server_threads: usize,
    /// emberkv: keyspace shards (0 = chosen from the thread count).
    pub shards: usize,
    pub config_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            databases: 16,
            requirepass: String::new(),
            timeout: 0,
            maxclients: 10000,
            hz: 10,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            dir: String::new(),
            save: "3600 1 300 100 60 10000".into(),
            appendonly: false,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            client_output_buffer_limit: [
                [0, 0, 0],
                [256 << 20, 64 << 20, 60],
                [32 << 20, 8 << 20, 60],
            ],
            notify_keyspace_events: 0,
            busy_reply_threshold: 5000,
            server_threads: 0,
            shards: 0,
            config_file: None,
        }
    }
}

type Setter = fn(&mut Config, &[String]) -> Result<(), String>;
type Getter = fn(&Config) -> String;

pub struct Directive {
    pub name: &'static str,
    pub mutable: bool,
    set: Setter,
    get: Getter,
}

fn one(v: &[String]) -> Result<&str, String> {
    match v {
        [x] => Ok(x),
        _ => Err("wrong number of arguments".into()),
    }
}

fn int_in(v: &[String], lo: i64, hi: i64) -> Result<i64, String> {
    let s = one(v)?;
    let n: i64 = s
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if n < lo || n > hi {
        return Err(format!("argument must be between {lo} and {hi} inclusive"));
    }
    Ok(n)
}

/// Redis's memory sizes: `1gb`, `512mb`, `100k` (k = 1000, kb = 1024).
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

fn memory_in(v: &[String], lo: u64) -> Result<u64, String> {
    let n = parse_memory(one(v)?).ok_or_else(|| "argument must be a memory value".to_string())?;
    if n < lo {
        return Err(format!(
            "argument must be between {lo} and 9223372036854775807 inclusive"
        ));
    }
    Ok(n)
}

fn set_busy_threshold(c: &mut Config, v: &[String]) -> Result<(), String> {
    c.busy_reply_threshold = one(v)?
        .parse::<u64>()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    Ok(())
}

fn yes_no(v: &[String]) -> Result<bool, String> {
    match one(v)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn yn(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// Collection encoding thresholds live in `crate::types::LIMITS` (read on
/// the data path); these directives read and write them there. The
/// `*-ziplist-*` names are Redis's aliases.
pub static DIRECTIVES: &[Directive] = &[
    Directive {
        name: "list-max-listpack-size",
        mutable: true,
        set: |_, v| {
            LIMITS
                .list_max_listpack_size
                .store(int_in(v, i32::MIN as i64, i32::MAX as i64)?, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.list_max_listpack_size.load(Relaxed).to_string(),
    },
    Directive {
        name: "list-max-ziplist-size",
        mutable: true,
        set: |_, v| {
            LIMITS
                .list_max_listpack_size
                .store(int_in(v, i32::MIN as i64, i32::MAX as i64)?, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.list_max_listpack_size.load(Relaxed).to_string(),
    },
    Directive {
        name: "hash-max-listpack-entries",
        mutable: true,
        set: |_, v| {
            LIMITS
                .hash_max_listpack_entries
                .store(int_in(v, 0, i64::MAX)?, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.hash_max_listpack_entries.load(Relaxed).to_string(),
    },
    Directive {
        name: "hash-max-ziplist-entries",
        mutable: true,
        set: |_, v| {
            LIMITS
                .hash_max_listpack_entries
                .store(int_in(v, 0, i64::MAX)?, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.hash_max_listpack_entries.load(Relaxed).to_string(),
    },
    Directive {
        name: "hash-max-listpack-value",
        mutable: true,
        set: |_, v| {
            LIMITS
                .hash_max_listpack_value
                .store(memory_in(v, 0)?.min(i64::MAX as u64) as i64, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.hash_max_listpack_value.load(Relaxed).to_string(),
    },
    Directive {
        name: "hash-max-ziplist-value",
        mutable: true,
        set: |_, v| {
            LIMITS
                .hash_max_listpack_value
                .store(memory_in(v, 0)?.min(i64::MAX as u64) as i64, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.hash_max_listpack_value.load(Relaxed).to_string(),
    },
    Directive {
        name: "set-max-intset-entries",
        mutable: true,
        set: |_, v| {
            LIMITS
                .set_max_intset_entries
                .store(int_in(v, 0, i64::MAX)?, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.set_max_intset_entries.load(Relaxed).to_string(),
    },
    Directive {
        name: "set-max-listpack-entries",
        mutable: true,
        set: |_, v| {
            LIMITS
                .set_max_listpack_entries
                .store(int_in(v, 0, i64::MAX)?, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.set_max_listpack_entries.load(Relaxed).to_string(),
    },
    Directive {
        name: "set-max-listpack-value",
        mutable: true,
        set: |_, v| {
            LIMITS
                .set_max_listpack_value
                .store(memory_in(v, 0)?.min(i64::MAX as u64) as i64, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.set_max_listpack_value.load(Relaxed).to_string(),
    },
    Directive {
        name: "zset-max-listpack-entries",
        mutable: true,
        set: |_, v| {
            LIMITS
                .zset_max_listpack_entries
                .store(int_in(v, 0, i64::MAX)?, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.zset_max_listpack_entries.load(Relaxed).to_string(),
    },
    Directive {
        name: "zset-max-ziplist-entries",
        mutable: true,
        set: |_, v| {
            LIMITS
                .zset_max_listpack_entries
                .store(int_in(v, 0, i64::MAX)?, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.zset_max_listpack_entries.load(Relaxed).to_string(),
    },
    Directive {
        name: "zset-max-listpack-value",
        mutable: true,
        set: |_, v| {
            LIMITS
                .zset_max_listpack_value
                .store(memory_in(v, 0)?.min(i64::MAX as u64) as i64, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.zset_max_listpack_value.load(Relaxed).to_string(),
    },
    Directive {
        name: "zset-max-ziplist-value",
        mutable: true,
        set: |_, v| {
            LIMITS
                .zset_max_listpack_value
                .store(memory_in(v, 0)?.min(i64::MAX as u64) as i64, Relaxed);
            Ok(())
        },
        get: |_| LIMITS.zset_max_listpack_value.load(Relaxed).to_string(),
    },
    Directive {
        name: "port",
        mutable: false,
        set: |c, v| {
            c.port = int_in(v, 0, 65535)? as u16;
            Ok(())
        },
        get: |c| c.port.to_string(),
    },
    Directive {
        name: "bind",
        mutable: false,
        set: |c, v| {
            // A config file gives all addresses on one line; flags may too.
            let addrs: Vec<String> = v
                .iter()
                .flat_map(|s| s.split_whitespace().map(str::to_string))
                .collect();
            if addrs.is_empty() {
                return Err("wrong number of arguments".into());
            }
            c.bind = addrs;
            Ok(())
        },
        get: |c| c.bind.join(" "),
    },
    Directive {
        name: "databases",
        mutable: false,
        set: |c, v| {
            c.databases = int_in(v, 1, i32::MAX as i64)? as usize;
            Ok(())
        },
        get: |c| c.databases.to_string(),
    },
    Directive {
        name: "requirepass",
        mutable: true,
        set: |c, v| {
            c.requirepass = one(v)?.to_string();
            Ok(())
        },
        get: |c| c.requirepass.clone(),
    },
    Directive {
        name: "timeout",
        mutable: true,
        set: |c, v| {
            c.timeout = int_in(v, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        get: |c| c.timeout.to_string(),
    },
    Directive {
        name: "maxclients",
        mutable: true,
        set: |c, v| {
            c.maxclients = int_in(v, 1, u32::MAX as i64)? as u64;
            Ok(())
        },
        get: |c| c.maxclients.to_string(),
    },
    Directive {
        name: "hz",
        mutable: true,
        set: |c, v| {
            // Redis clamps out-of-range values into 1..=500.
            c.hz = int_in(v, i32::MIN as i64, i32::MAX as i64)?.clamp(1, 500) as u32;
            Ok(())
        },
        get: |c| c.hz.to_string(),
    },
    Directive {
        name: "loglevel",
        mutable: true,
        set: |c, v| {
            c.loglevel =
                match one(v)?.to_ascii_lowercase().as_str() {
                    "debug" => LogLevel::Debug,
                    "verbose" => LogLevel::Verbose,
                    "notice" => LogLevel::Notice,
                    "warning" => LogLevel::Warning,
                    _ => return Err(
                        "argument(s) must be one of the following: debug, verbose, notice, warning"
                            .into(),
                    ),
                };
            Ok(())
        },
        get: |c| c.loglevel.name().into(),
    },
    Directive {
        name: "logfile",
        mutable: false,
        set: |c, v| {
            c.logfile = one(v)?.to_string();
            Ok(())
        },
        get: |c| c.logfile.clone(),
    },
    Directive {
        name: "dir",
        mutable: true,
        set: |c, v| {
            c.dir = one(v)?.to_string();
            Ok(())
        },
        get: |c| {
            std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| c.dir.clone())
        },
    },
    Directive {
        name: "save",
        mutable: true,
        set: |c, v| {
            let s = v.join(" ");
            let parts: Vec<&str> = s.split_whitespace().collect();
            if !parts.len().is_multiple_of(2) || parts.iter().any(|p| p.parse::<u64>().is_err()) {
                return Err("Invalid save parameters".into());
            }
            c.save = parts.join(" ");
            Ok(())
        },
        get: |c| c.save.clone(),
    },
    Directive {
        name: "appendonly",
        mutable: true,
        set: |c, v| {
            c.appendonly = yes_no(v)?;
            Ok(())
        },
        get: |c| yn(c.appendonly),
    },
    Directive {
        name: "proto-max-bulk-len",
        mutable: true,
        set: |c, v| {
            c.proto_max_bulk_len = memory_in(v, 1024 * 1024)?;
            Ok(())
        },
        get: |c| c.proto_max_bulk_len.to_string(),
    },
    Directive {
        name: "client-output-buffer-limit",
        mutable: true,
        set: |c, v| {
            let s = v.join(" ");
            let p: Vec<&str> = s.split_whitespace().collect();
            if p.is_empty() || !p.len().is_multiple_of(4) {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut next = c.client_output_buffer_limit;
            for q in p.chunks(4) {
                let class = match q[0].to_ascii_lowercase().as_str() {
                    "normal" => 0,
                    "replica" | "slave" => 1,
                    "pubsub" => 2,
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration.".into(),
                        )
                    }
                };
                let hard = parse_memory(q[1]);
                let soft = parse_memory(q[2]);
                let secs = q[3].parse::<u64>().ok();
                let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
                    return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
                };
                next[class] = [hard, soft, secs];
            }
            c.client_output_buffer_limit = next;
            Ok(())
        },
        get: |c| {
            let l = &c.client_output_buffer_limit;
            format!(
                "normal {} {} {} slave {} {} {} pubsub {} {} {}",
                l[0][0], l[0][1], l[0][2], l[1][0], l[1][1], l[1][2], l[2][0], l[2][1], l[2][2]
            )
        },
    },
    Directive {
        name: "notify-keyspace-events",
        mutable: true,
        set: |c, v| {
            let s = v.join("");
            c.notify_keyspace_events = crate::notify::parse_flags(&s).ok_or_else(|| {
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string()
            })?;
            Ok(())
        },
        get: |c| crate::notify::flags_string(c.notify_keyspace_events),
    },
    Directive {
        name: "busy-reply-threshold",
        mutable: true,
        set: set_busy_threshold,
        get: |c| c.busy_reply_threshold.to_string(),
    },
    // Redis's older name for the same setting.
    Directive {
        name: "lua-time-limit",
        mutable: true,
        set: set_busy_threshold,
        get: |c| c.busy_reply_threshold.to_string(),
    },
    Directive {
        name: "client-query-buffer-limit",
        mutable: true,
        set: |c, v| {
            c.client_query_buffer_limit = memory_in(v, 1024 * 1024)?;
            Ok(())
        },
        get: |c| c.client_query_buffer_limit.to_string(),
    },
    Directive {
        name: "server-threads",
        mutable: false,
        set: |c, v| {
            c.server_threads = int_in(v, 0, 256)? as usize;
            Ok(())
        },
        get: |c| c.server_threads.to_string(),
    },
    Directive {
        name: "shards",
        mutable: false,
        set: |c, v| {
            let n = int_in(v, 0, 64)? as usize;
            if n != 0 && !n.is_power_of_two() {
                return Err("argument must be 0 or a power of two up to 64".into());
            }
            c.shards = n;
            Ok(())
        },
        get: |c| c.shards.to_string(),
    },
];

pub fn find(name: &str) -> Option<&'static Directive> {
    DIRECTIVES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

impl Directive {
    pub fn apply(&self, c: &mut Config, v: &[String]) -> Result<(), String> {
        (self.set)(c, v)
    }
    pub fn value(&self, c: &Config) -> String {
        (self.get)(c)
    }
}

/// A start-up error that names the directive and why it was refused.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a config line like redis.conf does: words, with "double" and
/// 'single' quotes.
fn split_line(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                in_word = true;
                let q = c;
                loop {
                    match chars.next() {
                        None => return Err("Unbalanced quotes in configuration line".into()),
                        Some('\\') if q == '"' => match chars.next() {
                            Some('n') => cur.push('\n'),
                            Some('t') => cur.push('\t'),
                            Some('r') => cur.push('\r'),
                            Some(o) => cur.push(o),
                            None => return Err("Unbalanced quotes in configuration line".into()),
                        },
                        Some(x) if x == q => break,
                        Some(x) => cur.push(x),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

impl Config {
    /// Builds the configuration from the command line: an optional config
    /// file first, then `--directive value...` flags, later ones winning.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let mut rest = args;
        if let Some(first) = args.first() {
            if !first.starts_with("--") {
                let text = std::fs::read_to_string(first).map_err(|e| {
                    ConfigError(format!(
                        "Fatal error, can't open config file '{first}': {e}"
                    ))
                })?;
                c.config_file = Some(std::fs::canonicalize(first).unwrap_or_else(|_| first.into()));
                c.load_text(&text)?;
                rest = &args[1..];
            }
        }
        // `--port 7000 --save "" --bind a b` → lines "port 7000", ...
        let mut lines: Vec<Vec<String>> = Vec::new();
        for a in rest {
            if let Some(name) = a.strip_prefix("--") {
                lines.push(vec![name.to_string()]);
            } else if let Some(l) = lines.last_mut() {
                l.push(a.clone());
            } else {
                return Err(ConfigError(format!(
                    "Invalid argument '{a}': directives are given as --name value"
                )));
            }
        }
        for (i, l) in lines.iter().enumerate() {
            c.apply_line(l, &format!("command line option #{}", i + 1))?;
        }
        Ok(c)
    }

    fn load_text(&mut self, text: &str) -> Result<(), ConfigError> {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = split_line(line).map_err(|e| {
                ConfigError(format!("config file line {}: '{}': {}", i + 1, line, e))
            })?;
            self.apply_line(&words, &format!("config file line {}: '{}'", i + 1, line))?;
        }
        Ok(())
    }

    fn apply_line(&mut self, words: &[String], place: &str) -> Result<(), ConfigError> {
        let Some((name, vals)) = words.split_first() else {
            return Ok(());
        };
        let d = find(name).ok_or_else(|| {
            ConfigError(format!(
                "Bad directive '{name}' at {place}: unknown directive"
            ))
        })?;
        // `save ""` and `--save ''` mean "no snapshots".
        let vals: Vec<String> = if vals.is_empty() && d.name == "save" {
            vec![String::new()]
        } else {
            vals.to_vec()
        };
        d.apply(self, &vals).map_err(|e| {
            ConfigError(format!(
                "Invalid value for directive '{}' at {place}: {e}",
                d.name
            ))
        })
    }

    /// One line per directive, for the start-up log.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for d in DIRECTIVES {
            let _ = write!(s, "{}={:?} ", d.name, d.value(self));
        }
        s
    }
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
        assert_eq!(c.port, 7001);
        assert_eq!(c.save, "");
        assert_eq!(c.timeout, 5);
        let e = Config::from_args(&args(&["--nosuch", "1"])).unwrap_err();
        assert!(e.0.contains("'nosuch'"), "{}", e.0);
        let e = Config::from_args(&args(&["--port", "x"])).unwrap_err();
        assert!(e.0.contains("'port'"), "{}", e.0);
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("10k"), Some(10_000));
        assert_eq!(parse_memory("5MB"), Some(5 << 20));
        assert_eq!(parse_memory("x"), None);
    }

    #[test]
    fn config_file_lines() {
        let mut c = Config::default();
        c.load_text("# comment\nport 7002\nbind 127.0.0.1 ::1\nrequirepass \"a b\"\n")
            .unwrap();
        assert_eq!(c.port, 7002);
        assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
        assert_eq!(c.requirepass, "a b");
    }
}
