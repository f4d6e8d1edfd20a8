//! Canonical error replies, byte for byte as Redis 7.0 words them
//! (without the leading `-` and the trailing CRLF).

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// getPositiveLongFromObjectOrReply's text, for a bad count of any kind.
pub const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const DB_RANGE: &str = "ERR DB index is out of range";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const BUSY: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const NOPASS: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const STRING_TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
pub const MAX_CLIENTS: &str = "ERR max number of clients reached";
pub const NOT_IN_MULTI: &str = "ERR Command not allowed inside a transaction";
pub const NAN_OR_INF: &str = "ERR increment would produce NaN or Infinity";
/// processCommand's refusal of DEBUG when `enable-debug-command` does not
/// allow the client.
pub const DEBUG_NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

pub fn invalid_expire(cmd: &str) -> String {
    format!("ERR invalid expire time in '{cmd}' command")
}

pub fn wrong_args(cmd: &str) -> String {
    format!("ERR wrong number of arguments for '{cmd}' command")
}

/// Redis formats these names with `%.128s`: a C string, so the text stops
/// at a NUL byte, and at most 128 bytes (not characters). Bytes that are not
/// UTF-8 are echoed as they are, as Redis does.
fn c_str(b: &[u8], max: usize) -> &[u8] {
    let b = &b[..memchr::memchr(0, b).unwrap_or(b.len())];
    &b[..b.len().min(max)]
}

pub fn unknown_subcommand(sub: &[u8], cmd: &str) -> Vec<u8> {
    let mut m = b"ERR unknown subcommand '".to_vec();
    m.extend_from_slice(c_str(sub, 128));
    m.extend_from_slice(b"'. Try ");
    m.extend_from_slice(cmd.to_ascii_uppercase().as_bytes());
    m.extend_from_slice(b" HELP.");
    m
}

/// addReplySubcommandSyntaxError's text, for commands that parse their
/// own subcommands (DEBUG): the subcommand as typed, the command uppercase.
pub fn subcommand_syntax(sub: &[u8], cmd: &str) -> Vec<u8> {
    let mut m = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    m.extend_from_slice(c_str(sub, 128));
    m.extend_from_slice(b"'. Try ");
    m.extend_from_slice(cmd.to_ascii_uppercase().as_bytes());
    m.extend_from_slice(b" HELP.");
    m
}

/// Redis's unknown-command text: the name and up to ~128 bytes of arguments.
pub fn unknown_command(name: &[u8], args: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for a in args {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push(b'\'');
        list.extend_from_slice(c_str(a, room));
        list.extend_from_slice(b"' ");
    }
    let mut m = b"ERR unknown command '".to_vec();
    m.extend_from_slice(c_str(name, 128));
    m.extend_from_slice(b"', with args beginning with: ");
    m.extend_from_slice(&list);
    m
}

use emberkv_core::ops::OpError;

/// Redis's wording of a data operation's failure.
pub fn of_op(e: OpError) -> &'static str {
    match e {
        OpError::WrongType => WRONGTYPE,
        OpError::NotInt => NOT_INT,
        OpError::NotFloat => NOT_FLOAT,
        OpError::Overflow => OVERFLOW,
        OpError::TooBig => STRING_TOO_BIG,
        OpError::NanOrInf => NAN_OR_INF,
    }
}
