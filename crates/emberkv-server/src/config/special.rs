//! Directives whose values have their own syntax (`save`, `bind`,
//! `client-output-buffer-limit`, ...) and the string checks, each with
//! Redis 7.0's error texts. Each returns the canonical value that CONFIG
//! GET prints.

use super::spec::Origin;
use super::Config;

fn one(args: &[String]) -> Result<&str, String> {
    match args {
        [x] => Ok(x),
        _ => Err("wrong number of arguments".into()),
    }
}

/// The chdir happens where the value is applied (start-up, CONFIG SET).
pub fn dir(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    one(args).map(str::to_string)
}

/// `save <seconds> <changes> [...]`, or `save ""` for none. In a config
/// file the first `save` line replaces the defaults and later ones add to
/// it; CONFIG SET replaces the whole list.
pub fn save(cfg: &mut Config, args: &[String], origin: Origin) -> Result<String, String> {
    if args.len() == 1 && args[0].is_empty() {
        cfg.save_loaded = true;
        return Ok(String::new());
    }
    if !args.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    for pair in args.chunks(2) {
        let secs = emberkv_protocol::parse_i64_strict(pair[0].as_bytes());
        let changes = emberkv_protocol::parse_i64_strict(pair[1].as_bytes());
        match (secs, changes) {
            (Some(s), Some(c)) if s >= 1 && c >= 0 => {}
            _ => return Err("Invalid save parameters".into()),
        }
    }
    let mut out = String::new();
    if origin == Origin::File && cfg.save_loaded {
        out = cfg.get("save").to_string();
    }
    cfg.save_loaded = true;
    for a in args {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(a);
    }
    Ok(out)
}

/// Parses the canonical `normal H S T slave H S T pubsub H S T`.
pub fn parse_obuf_limits(s: &str) -> [[u64; 3]; 3] {
    let w: Vec<u64> = s
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    std::array::from_fn(|c| std::array::from_fn(|i| w.get(c * 3 + i).copied().unwrap_or(0)))
}

/// `<class> <hard> <soft> <seconds>` groups; classes not named keep their
/// limits; all or nothing.
pub fn client_output_buffer_limit(
    cfg: &mut Config,
    args: &[String],
    _: Origin,
) -> Result<String, String> {
    if args.is_empty() {
        // CONFIG SET client-output-buffer-limit "": nothing changes.
        return Ok(cfg.get("client-output-buffer-limit").to_string());
    }
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut next = parse_obuf_limits(cfg.get("client-output-buffer-limit"));
    for q in args.chunks(4) {
        let class = match q[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "replica" | "slave" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = super::parse_memory(&q[1]);
        let soft = super::parse_memory(&q[2]);
        let secs = emberkv_protocol::parse_i64_strict(q[3].as_bytes()).filter(|&s| s >= 0);
        let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        next[class] = [hard, soft, secs as u64];
    }
    let l = next;
    Ok(format!(
        "normal {} {} {} slave {} {} {} pubsub {} {} {}",
        l[0][0], l[0][1], l[0][2], l[1][0], l[1][1], l[1][2], l[2][0], l[2][1], l[2][2]
    ))
}

pub fn oom_score_adj_values(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    if args.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut v = Vec::with_capacity(3);
    for a in args {
        match emberkv_protocol::parse_i64_strict(a.as_bytes()) {
            Some(n) if (-2000..=2000).contains(&n) => v.push(n.to_string()),
            _ => {
                return Err(
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into(),
                )
            }
        }
    }
    Ok(v.join(" "))
}

pub fn notify_keyspace_events(
    _: &mut Config,
    args: &[String],
    _: Origin,
) -> Result<String, String> {
    let flags = crate::notify::parse_flags(one(args)?)
        .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())?;
    Ok(crate::notify::flags_string(flags))
}

/// Up to 16 addresses; a `-` in front marks one that may be missing;
/// `bind ""` listens on no TCP address.
pub fn bind(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    let addrs: Vec<&str> = args.iter().flat_map(|s| s.split_whitespace()).collect();
    if addrs.len() > 16 {
        return Err("Too many bind addresses specified.".into());
    }
    Ok(addrs.join(" "))
}

/// `replicaof <host> <port>` (config file only) or `no one`.
pub fn replicaof(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    let [host, port] = args else {
        return Err("wrong number of arguments".into());
    };
    if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
        return Ok(String::new());
    }
    match emberkv_protocol::parse_i64_strict(port.as_bytes()) {
        Some(p) if (0..=65535).contains(&p) => Ok(format!("{host} {p}")),
        _ => Err("Invalid master port".into()),
    }
}

pub fn percentiles(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    if args.len() == 1 && args[0].is_empty() {
        return Ok(String::new());
    }
    let mut out = Vec::new();
    for a in args {
        let v: f64 = a
            .parse()
            .ok()
            .filter(|v: &f64| !v.is_nan())
            .ok_or_else(|| "Invalid latency-tracking-info-percentiles parameters".to_string())?;
        if !(0.0..=100.0).contains(&v) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        out.push(v.to_string());
    }
    Ok(out.join(" "))
}

/// 0..=2^31-1 accepted; the value used (and printed) is clamped to 1..=500.
pub fn hz(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    let n = emberkv_protocol::parse_i64_strict(one(args)?.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if !(0..=i32::MAX as i64).contains(&n) {
        return Err("argument must be between 0 and 2147483647 inclusive".into());
    }
    Ok(n.clamp(1, 500).to_string())
}

/// Refused as by a Redis built without its patched jemalloc.
pub fn activedefrag(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    match one(args)?.to_ascii_lowercase().as_str() {
        "no" => Ok("no".into()),
        "yes" => Err("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution".into()),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

pub fn shards(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    let n = emberkv_protocol::parse_i64_strict(one(args)?.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if !(0..=64).contains(&n) || (n != 0 && !(n as u64).is_power_of_two()) {
        return Err("argument must be 0 or a power of two up to 64".into());
    }
    Ok(n.to_string())
}

fn is_path(s: &str) -> bool {
    s.contains('/') || s.contains('\\')
}

pub fn dbfilename(v: &str) -> Result<(), String> {
    if is_path(v) {
        return Err("dbfilename can't be a path, just a filename".into());
    }
    Ok(())
}

pub fn appendfilename(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("appendfilename can't be empty".into());
    }
    if is_path(v) {
        return Err("appendfilename can't be a path, just a filename".into());
    }
    Ok(())
}

pub fn appenddirname(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("appenddirname can't be empty".into());
    }
    if is_path(v) {
        return Err("appenddirname can't be a path, just a dirname".into());
    }
    Ok(())
}

pub fn hostname(v: &str) -> Result<(), String> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters".into());
    }
    if !v
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into());
    }
    Ok(())
}

/// The variables a process title template may use.
pub const TITLE_VARS: &[&str] = &[
    "title",
    "listen-addr",
    "server-mode",
    "port",
    "tls-port",
    "unixsocket",
    "config-file",
];

/// Expands `{var}` (and `{{`, `}}`); None if the template is malformed or
/// names an unknown variable.
pub fn expand_title(t: &str, var: impl Fn(&str) -> String) -> Option<String> {
    let mut out = String::new();
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        match c {
            '{' if rest.starts_with("{{") => {
                out.push('{');
                rest = &rest[2..];
            }
            '}' if rest.starts_with("}}") => {
                out.push('}');
                rest = &rest[2..];
            }
            '{' => {
                let end = rest.find('}')?;
                let name = &rest[1..end];
                if !TITLE_VARS.contains(&name) {
                    return None;
                }
                out.push_str(&var(name));
                rest = &rest[end + 1..];
            }
            '}' => return None,
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Some(out)
}

/// Valid if it expands, with an empty title, to something not blank (as
/// Redis checks it; variables that are empty on a standalone server without
/// a unix socket or config file count as empty).
pub fn proc_title_template(v: &str) -> Result<(), String> {
    let expanded = expand_title(v, |var| match var {
        "listen-addr" | "port" | "tls-port" => "x".into(),
        _ => String::new(),
    });
    match expanded {
        Some(t) if !t.trim_matches(' ').is_empty() => Ok(()),
        _ => Err("template format is invalid or contains unknown variables".into()),
    }
}

/// `repl-backlog-size`: a memory value; Redis raises anything under 16 KiB
/// to 16 KiB.
pub fn repl_backlog_size(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    let n = super::spec::memory(one(args)?)
        .ok_or_else(|| "argument must be a memory value".to_string())?;
    // Read unsigned, stored signed: past i64::MAX it wraps negative.
    let n = n as u64 as i64;
    if n < 1 {
        return Err("argument must be between 1 and 9223372036854775807 inclusive".into());
    }
    Ok(n.max(16384).to_string())
}

/// `shutdown-on-sigint` / `-sigterm`: flags, SAVE and NOSAVE not both.
pub fn shutdown_on_signal(_: &mut Config, args: &[String], _: Origin) -> Result<String, String> {
    let v = super::spec::parse_flags(super::table::SHUTDOWN_ON_SIG_ENUM, args)?;
    if v.split(' ').any(|f| f == "save") && v.split(' ').any(|f| f == "nosave") {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    Ok(v)
}

/// A config file's `user` line, as CONFIG REWRITE writes it for the
/// default user (`user default on nopass sanitize-payload ~* &* +@all`).
/// Until ACL users exist (the security issue), only rules that leave the
/// default user with every permission are accepted; a password becomes
/// `requirepass`, as Redis maps one onto the other. Anything else is
/// refused by name rather than silently widened.
pub fn default_user(cfg: &mut Config, args: &[String]) -> Result<(), String> {
    let Some((name, rules)) = args.split_first() else {
        return Err("wrong number of arguments".into());
    };
    if name != "default" {
        return Err(format!(
            "Error in user declaration '{name}': ACL users other than 'default' are not supported yet"
        ));
    }
    let mut pass: Option<String> = None;
    for r in rules {
        let lower = r.to_ascii_lowercase();
        match lower.as_str() {
            "on" | "~*" | "%rw~*" | "allkeys" | "&*" | "allchannels" | "+@all" | "allcommands"
            | "sanitize-payload" | "skip-sanitize-payload" => {}
            "nopass" | "resetpass" => pass = Some(String::new()),
            _ if r.starts_with('>') && pass.as_deref().is_none_or(str::is_empty) => {
                pass = Some(r[1..].to_string())
            }
            _ => {
                return Err(format!(
                    "Error in user declaration 'default': the rule '{r}' needs ACL support, which is not in this version"
                ))
            }
        }
    }
    if let Some(p) = pass {
        let i = super::find("requirepass").expect("known").0;
        cfg.vals[i] = p;
    }
    Ok(())
}
