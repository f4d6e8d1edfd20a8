//! What a directive is: its kind (how a value is parsed, validated and
//! printed, with Redis 7.0's error texts), its flags, and what it does in
//! emberkv (its role). The rows themselves are in `table.rs`.

use super::Config;

/// Flags, as Redis's config table has them.
pub const IMMUTABLE: u8 = 1;
/// Settable at run time only when `enable-protected-configs` allows it.
pub const PROTECTED: u8 = 2;
/// Holds a secret (redacted where commands are logged).
pub const SENSITIVE: u8 = 4;
/// Not listed by `CONFIG GET *`, only by its exact name.
pub const HIDDEN: u8 = 8;
/// Takes several words (`save 900 1 300 10`, `bind a b`).
pub const MULTI_ARG: u8 = 16;
/// emberkv's own: Redis 7.0 does not know it.
pub const EMBERKV: u8 = 32;

/// How a numeric value is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Plain,
    /// `100mb`, `1gb`, `10k` (k = 1000, kb = 1024).
    Memory,
    /// A memory value or `N%` (stored as -N, as Redis stores it).
    MemoryOrPercent,
    /// Octal digits (`unixsocketperm 700`).
    Octal,
}

/// Where a value comes from: some directives read differently from a
/// config file (several `save` lines add up) than from CONFIG SET.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    File,
    Set,
}

/// Parses the words given for a special directive into its canonical
/// value, seeing the configuration as it is so far.
pub type Special = fn(&mut Config, &[String], Origin) -> Result<String, String>;
/// Extra validation of a string value (`dbfilename` must be a basename).
pub type Check = fn(&str) -> Result<(), String>;

pub enum Kind {
    Bool(bool),
    Num {
        def: i128,
        lo: i128,
        hi: i128,
        unit: Unit,
    },
    /// One name of `vals`; names sharing an id are aliases (`oom-score-adj
    /// yes` and `relative`) and print as the first. With MULTI_ARG the ids
    /// are bit flags and several names may be given.
    Enum {
        vals: &'static [(&'static str, u8)],
        def: &'static str,
    },
    Str {
        def: &'static str,
        check: Option<Check>,
    },
    Special {
        def: &'static str,
        set: Special,
    },
}

/// What the directive does in emberkv today: the README's list of
/// accepted-but-inactive directives is made from these.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// It takes effect.
    Live,
    /// Its feature arrives with a later issue; until then the value is
    /// validated, stored and reported, and changes nothing.
    Later(&'static str),
    /// emberkv's design makes it moot: validated, stored, reported, no effect.
    Moot(&'static str),
}

pub struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub flags: u8,
    pub kind: Kind,
    pub role: Role,
}

/// Rows are built with these and the methods below, so `table.rs` reads
/// as a table.
pub struct D;

impl D {
    const fn row(name: &'static str, kind: Kind) -> Directive {
        Directive {
            name,
            alias: None,
            flags: 0,
            kind,
            role: Role::Live,
        }
    }
    pub const fn bool(name: &'static str, def: bool) -> Directive {
        Self::row(name, Kind::Bool(def))
    }
    const fn num(name: &'static str, def: i128, lo: i128, hi: i128, unit: Unit) -> Directive {
        Self::row(name, Kind::Num { def, lo, hi, unit })
    }
    pub const fn int(name: &'static str, def: i128, lo: i128, hi: i128) -> Directive {
        Self::num(name, def, lo, hi, Unit::Plain)
    }
    pub const fn mem(name: &'static str, def: i128, lo: i128, hi: i128) -> Directive {
        Self::num(name, def, lo, hi, Unit::Memory)
    }
    pub const fn mem_pct(name: &'static str, def: i128, lo: i128, hi: i128) -> Directive {
        Self::num(name, def, lo, hi, Unit::MemoryOrPercent)
    }
    pub const fn octal(name: &'static str, def: i128, lo: i128, hi: i128) -> Directive {
        Self::num(name, def, lo, hi, Unit::Octal)
    }
    pub const fn enumeration(
        name: &'static str,
        vals: &'static [(&'static str, u8)],
        def: &'static str,
    ) -> Directive {
        Self::row(name, Kind::Enum { vals, def })
    }
    pub const fn string(name: &'static str, def: &'static str) -> Directive {
        Self::row(name, Kind::Str { def, check: None })
    }
    pub const fn checked(name: &'static str, def: &'static str, check: Check) -> Directive {
        Self::row(
            name,
            Kind::Str {
                def,
                check: Some(check),
            },
        )
    }
    pub const fn special(name: &'static str, def: &'static str, set: Special) -> Directive {
        Self::row(name, Kind::Special { def, set })
    }
}

impl Directive {
    pub const fn alias(mut self, a: &'static str) -> Self {
        self.alias = Some(a);
        self
    }
    pub const fn flags(mut self, f: u8) -> Self {
        self.flags |= f;
        self
    }
    pub const fn later(mut self, what: &'static str) -> Self {
        self.role = Role::Later(what);
        self
    }
    pub const fn moot(mut self, why: &'static str) -> Self {
        self.role = Role::Moot(why);
        self
    }
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    }

    /// The value before any configuration, as CONFIG GET prints it.
    pub fn default_value(&self) -> String {
        match &self.kind {
            Kind::Bool(b) => yes_no(*b).into(),
            Kind::Num { def, unit, .. } => format_num(*def, *unit),
            Kind::Enum { def, .. } | Kind::Str { def, .. } | Kind::Special { def, .. } => {
                (*def).into()
            }
        }
    }

    /// Parses `args` (the words after the name) into the canonical value,
    /// or Redis's reason for refusing them.
    pub fn parse(
        &self,
        cfg: &mut Config,
        args: &[String],
        origin: Origin,
    ) -> Result<String, String> {
        if let Kind::Special { set, .. } = &self.kind {
            return set(cfg, args, origin);
        }
        if let Kind::Enum { vals, .. } = &self.kind {
            if self.has(MULTI_ARG) {
                return parse_flags(vals, args);
            }
        }
        let [v] = args else {
            return Err("wrong number of arguments".into());
        };
        match &self.kind {
            Kind::Bool(_) => match v.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Num { lo, hi, unit, .. } => {
                let mut n = parse_num(v, *unit)?;
                // Redis reads a memory value as unsigned and stores it in
                // the directive's own type: past i64::MAX a signed one wraps
                // (maxmemory-clients 99999999999999999999 is -1, i.e. 1%).
                if *hi <= i64::MAX as i128 && n > i64::MAX as i128 {
                    n = n as u64 as i64 as i128;
                }
                check_range(n, *lo, *hi, *unit)?;
                Ok(format_num(n, *unit))
            }
            Kind::Enum { vals, .. } => {
                let id = enum_id(vals, v).ok_or_else(|| enum_error(vals))?;
                Ok(enum_name(vals, id).into())
            }
            Kind::Str { check, .. } => {
                if let Some(check) = check {
                    check(v)?;
                }
                Ok(v.clone())
            }
            Kind::Special { .. } => unreachable!("handled above"),
        }
    }
}

pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn enum_id(vals: &[(&str, u8)], v: &str) -> Option<u8> {
    vals.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(v))
        .map(|&(_, id)| id)
}

fn enum_name<'a>(vals: &[(&'a str, u8)], id: u8) -> &'a str {
    vals.iter()
        .find(|&&(_, i)| i == id)
        .map_or("unknown", |&(n, _)| n)
}

fn enum_error(vals: &[(&str, u8)]) -> String {
    let names: Vec<&str> = vals.iter().map(|(n, _)| *n).collect();
    let mut msg = format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    );
    msg.truncate(255);
    msg
}

/// A MULTI_ARG enum (`shutdown-on-sigterm nosave now`): bit flags, printed
/// in table order; 0 prints as the name whose id is 0.
pub(super) fn parse_flags(vals: &[(&str, u8)], args: &[String]) -> Result<String, String> {
    if args.is_empty() {
        return Err(enum_error(vals));
    }
    let mut bits = 0u8;
    for a in args {
        bits |= enum_id(vals, a).ok_or_else(|| enum_error(vals))?;
    }
    if bits == 0 {
        return Ok(enum_name(vals, 0).into());
    }
    let names: Vec<&str> = vals
        .iter()
        .filter(|&&(_, id)| id != 0 && bits & id == id)
        .map(|&(n, _)| n)
        .collect();
    Ok(names.join(" "))
}

/// Redis's `string2ll`: optional '-', digits, no leading zeros or '+'.
fn strict_int(s: &str) -> Option<i128> {
    emberkv_protocol::parse_i64_strict(s.as_bytes()).map(i128::from)
}

/// Redis's `memtoull`: digits, then an optional unit; saturates on
/// overflow as Redis's does.
pub(super) fn memory(s: &str) -> Option<i128> {
    if s.starts_with('-') {
        return None;
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let n: u64 = if digits.is_empty() {
        0
    } else {
        digits.parse::<u64>().unwrap_or(u64::MAX)
    };
    Some(n.saturating_mul(mul) as i128)
}

fn parse_num(v: &str, unit: Unit) -> Result<i128, String> {
    match unit {
        Unit::Plain => {
            strict_int(v).ok_or_else(|| "argument couldn't be parsed into an integer".into())
        }
        Unit::Memory => memory(v).ok_or_else(|| "argument must be a memory value".into()),
        Unit::MemoryOrPercent => {
            if let Some(p) = v.strip_suffix('%') {
                return strict_int(p)
                    .map(|n| -n)
                    .ok_or_else(|| "argument must be a memory or percent value".into());
            }
            memory(v).ok_or_else(|| "argument must be a memory or percent value".into())
        }
        Unit::Octal => i128::from_str_radix(v, 8)
            .map_err(|_| "argument couldn't be parsed as an octal number".to_string()),
    }
}

fn check_range(n: i128, lo: i128, hi: i128, unit: Unit) -> Result<(), String> {
    // A percent is stored negative: the lower bound is the largest percent.
    let lo = if unit == Unit::MemoryOrPercent {
        if n < 0 {
            return if n < lo {
                Err(format!(
                    "percentage argument must be less or equal to {}",
                    -lo
                ))
            } else {
                Ok(())
            };
        }
        0
    } else {
        lo
    };
    if n < lo || n > hi {
        return Err(if unit == Unit::Octal {
            format!("argument must be between {lo:o} and {hi:o} inclusive")
        } else {
            format!("argument must be between {lo} and {hi} inclusive")
        });
    }
    Ok(())
}

pub fn format_num(n: i128, unit: Unit) -> String {
    match unit {
        Unit::Octal => format!("{n:o}"),
        Unit::MemoryOrPercent if n < 0 => format!("{}%", -n),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_redis_reads_them() {
        assert_eq!(memory("1gb"), Some(1 << 30));
        assert_eq!(memory("10K"), Some(10_000));
        assert_eq!(memory("+1"), None);
        assert_eq!(memory("-1"), None);
        assert_eq!(memory("99999999999999999999"), Some(u64::MAX as i128));
        assert_eq!(strict_int("007"), None);
        assert_eq!(parse_num("10%", Unit::MemoryOrPercent), Ok(-10));
        assert!(check_range(-101, -100, i64::MAX as i128, Unit::MemoryOrPercent).is_err());
        assert_eq!(check_range(8, 0, 0o777, Unit::Octal).map(|_| ()), Ok(()));
        assert_eq!(
            check_range(0o1000, 0, 0o777, Unit::Octal),
            Err("argument must be between 0 and 777 inclusive".into())
        );
    }

    #[test]
    fn flag_enums() {
        let v: &[(&str, u8)] = &[
            ("default", 0),
            ("save", 1),
            ("nosave", 2),
            ("now", 4),
            ("force", 8),
        ];
        assert_eq!(
            parse_flags(v, &["now".into(), "NOSAVE".into()]),
            Ok("nosave now".into())
        );
        assert_eq!(parse_flags(v, &["default".into()]), Ok("default".into()));
    }
}
