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
/// BUSY while an EVAL runs (FUNCTION STATS and FUNCTION KILL say it too).
pub const BUSY_EVAL: &str = BUSY;
/// BUSY while a function (FCALL) runs.
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
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

// The texts of one command family each, family by family in the order of
// the files in cmd/, then script/.

/// Bitmaps (cmd/bitmaps.rs): offsets of SETBIT/GETBIT/BITFIELD, SETBIT's
/// value, BITPOS's bit, BITOP NOT, BITFIELD's types and options.
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
pub const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
pub const BITPOS_BIT: &str = "ERR The bit argument must be 1 or 0.";
pub const BITOP_NOT_ONE_KEY: &str = "ERR BITOP NOT must be called with a single source key.";
pub const BITFIELD_TYPE: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
pub const BITFIELD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
pub const BITFIELD_RO_GET_ONLY: &str = "ERR BITFIELD_RO only supports the GET subcommand";

/// CLIENT SETNAME and HELLO SETNAME.
pub const BAD_CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";
pub const BAD_LIB_NAME: &str =
    "ERR lib-name and lib-ver cannot contain spaces, newlines or special characters.";
pub const INVALID_CLIENT_ID: &str = "ERR Invalid client ID";
pub const UNBLOCK_REASON: &str = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
/// What a client unblocked by CLIENT UNBLOCK ... ERROR receives.
pub const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
pub const NO_SUCH_CLIENT: &str = "ERR No such client";
pub const CLIENT_ID_NOT_POSITIVE: &str = "ERR client-id should be greater than 0";

/// CLIENT SETINFO with an attribute other than LIB-NAME / LIB-VER.
pub fn unrecognized_option(opt: &[u8]) -> String {
    format!("ERR Unrecognized option '{}'", String::from_utf8_lossy(opt))
}

/// CLIENT LIST / CLIENT KILL TYPE.
pub fn unknown_client_type(t: &[u8]) -> String {
    format!("ERR Unknown client type '{}'", String::from_utf8_lossy(t))
}

/// CLIENT KILL USER: the name as typed, bytes as they are.
pub fn no_such_user(user: &[u8]) -> Vec<u8> {
    let mut m = b"ERR No such user '".to_vec();
    m.extend_from_slice(user);
    m.push(b'\'');
    m
}

/// The `LIMIT` of SINTERCARD and ZINTERCARD.
pub const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

pub fn config_set_failed(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

pub fn config_set_unknown(typed: &str) -> String {
    format!("ERR Unknown option or number of arguments for CONFIG SET - '{typed}'")
}

pub const PROTO_NOT_INT: &str = "ERR Protocol version is not an integer or out of range";
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";
pub const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";

pub fn hello_option(opt: &[u8]) -> String {
    format!(
        "ERR Syntax error in HELLO option '{}'",
        String::from_utf8_lossy(opt)
    )
}

/// EXPIRE and friends with an option other than NX/XX/GT/LT.
pub fn unsupported_option(opt: &[u8]) -> String {
    format!("ERR Unsupported option {}", String::from_utf8_lossy(opt))
}

pub const NX_AND_XX_GT_LT: &str =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
pub const GT_AND_LT: &str = "ERR GT and LT options at the same time are not compatible";

pub const FUNCTION_NOT_FOUND: &str = "ERR Function not found";
/// FCALL's numkeys that is not an integer (EVAL's is NOT_INT).
pub const FCALL_BAD_NUMKEYS: &str = "ERR Bad number of keys provided";
pub const WRITE_SCRIPT_RO: &str =
    "ERR Can not execute a script with write flag using *_ro command.";
pub const LIBRARY_NOT_FOUND: &str = "ERR Library not found";
pub const FUNCTION_FLUSH_MODE: &str = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";
/// FUNCTION LIST LIBRARYNAME without its pattern.
pub const LIBRARYNAME_MISSING: &str = "ERR library name argument was not given";

/// FUNCTION LOAD with an option other than REPLACE.
pub fn unknown_option_given(opt: &[u8]) -> String {
    format!("ERR Unknown option given: {}", String::from_utf8_lossy(opt))
}

/// FUNCTION LIST with an argument other than LIBRARYNAME / WITHCODE.
pub fn unknown_argument(arg: &[u8]) -> String {
    format!("ERR Unknown argument {}", String::from_utf8_lossy(arg))
}

pub const HASH_NOT_INT: &str = "ERR hash value is not an integer";
pub const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
/// HINCRBYFLOAT's increment (a result that is not finite is NAN_OR_INF).
pub const VALUE_NAN_OR_INF: &str = "ERR value is NaN or Infinity";

pub const NO_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

pub const INVALID_FIRST_DB: &str = "ERR invalid first DB index";
pub const INVALID_SECOND_DB: &str = "ERR invalid second DB index";

/// LSET.
pub const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
/// LPOS's options.
pub const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
pub const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
pub const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
/// The COUNT of LMPOP / ZMPOP and their blocking forms.
pub const COUNT_NOT_POSITIVE: &str = "ERR count should be greater than 0";

/// The blocking commands' timeout (getTimeoutFromObjectOrReply).
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";

/// Channel listings (PUBSUB CHANNELS / SHARDCHANNELS) with extra
/// arguments. Not `subcommand_syntax`: this text is not cut at a NUL or at
/// 128 bytes, and bytes that are not UTF-8 are replaced.
pub fn pubsub_subcommand_syntax(sub: &[u8]) -> String {
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
        String::from_utf8_lossy(sub)
    )
}

pub const SSUBSCRIBE_DENY_BLOCKING: &str =
    "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client";

pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
/// EVAL's and FCALL's numkeys.
pub const NUMKEYS_NEGATIVE: &str = "ERR Number of keys can't be negative";
/// EVAL's and FCALL's numkeys, and SINTERCARD's.
pub const NUMKEYS_TOO_MANY: &str = "ERR Number of keys can't be greater than number of args";
pub const SCRIPT_FLUSH_MODE: &str = "ERR SCRIPT FLUSH only support SYNC|ASYNC option";
/// SCRIPT KILL / FUNCTION KILL with no script running.
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
/// SCRIPT KILL / FUNCTION KILL once the script wrote.
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";

/// SHUTDOWN ABORT.
pub const BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";
pub const BGSAVE_CHILD_ACTIVE: &str = "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";
pub const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
pub const SHUTDOWN_FAILED: &str = "ERR Errors trying to SHUTDOWN. Check logs.";
pub const NO_SHUTDOWN: &str = "ERR No shutdown in progress.";

/// The count of SRANDMEMBER, HRANDFIELD and ZRANDMEMBER at LLONG_MIN.
pub const RANDOM_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
pub const OUT_OF_RANGE: &str = "ERR value is out of range";
/// SINTERCARD / LMPOP / ZMPOP numkeys.
pub const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";

pub const SORT_NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// SETRANGE.
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
/// DECRBY with LLONG_MIN, which cannot be negated.
pub const DECR_OVERFLOW: &str = "ERR decrement would overflow";
pub const LCS_NOT_STRINGS: &str = "ERR The specified keys must contain string values";
pub const LCS_LEN_AND_IDX: &str =
    "ERR If you want both the length and indexes, please just use IDX.";
pub const LCS_TOO_BIG: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";

/// ZADD's flags.
pub const XX_AND_NX: &str = "ERR XX and NX options at the same time are not compatible";
pub const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
pub const INCR_ONE_PAIR: &str = "ERR INCR option supports a single increment-element pair";
pub const SCORE_NAN: &str = "ERR resulting score is not a number (NaN)";
/// Score and lex range bounds (zslParseRange, zslParseLexRange).
pub const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
pub const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";
pub const ZRANGE_LIMIT: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
pub const ZRANGE_WITHSCORES_BYLEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
pub const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";

/// ZUNION/ZINTER/ZDIFF (and STORE, ZINTERCARD) with numkeys below 1.
pub fn no_input_keys(cmd: &str) -> String {
    format!("ERR at least 1 input key is needed for '{cmd}' command")
}

// Scripting (script/): shebangs, FUNCTION libraries, the Lua bridge.

pub const INVALID_SHEBANG: &str = "ERR Invalid script shebang";

pub fn shebang_engine(engine: &str) -> String {
    format!("ERR Unexpected engine in script shebang: {engine}")
}

pub fn shebang_option(opt: &str) -> String {
    format!("ERR Unknown lua shebang option: {opt}")
}

pub fn shebang_flag(flag: &str) -> String {
    format!("ERR Unexpected flag in script shebang: {flag}")
}

pub const MISSING_LIBRARY_METADATA: &str = "ERR Missing library metadata";
pub const LIBRARY_NAME_NOT_GIVEN: &str = "ERR Library name was not given";
pub const BAD_LIBRARY_NAME: &str = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

pub fn engine_not_found(engine: &str) -> String {
    format!("ERR Engine '{engine}' not found")
}

pub fn invalid_metadata(value: &str) -> String {
    format!("ERR Invalid metadata value given: {value}")
}

pub fn library_exists(name: &str) -> String {
    format!("ERR Library '{name}' already exists")
}

pub fn function_exists(name: &str) -> String {
    format!("ERR Function {name} already exists")
}

/// A Lua table nested deeper than the conversion to a reply follows.
pub const LUA_STACK_LIMIT: &str = "ERR reached lua stack limit";
/// The error table `redis.error_reply` / `redis.status_reply` return for
/// anything but one string.
pub const LUA_REPLY_ARGS: &str = "ERR wrong number or type of arguments";

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

// HyperLogLog (cmd/hll.rs).
pub const HLL_WRONGTYPE: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
pub const HLL_INVALID: &str = "INVALIDOBJ Corrupted HLL object detected";
pub const PFDEBUG_NO_KEY: &str = "ERR The specified key does not exist";
pub const PFDEBUG_NOT_SPARSE: &str = "ERR HLL encoding is not sparse";

/// The subcommand as typed (a C string: up to a NUL byte).
pub fn pfdebug_unknown(sub: &[u8]) -> Vec<u8> {
    let mut m = b"ERR Unknown PFDEBUG subcommand '".to_vec();
    m.extend_from_slice(c_str(sub, usize::MAX));
    m.push(b'\'');
    m
}

pub fn pfselftest_failed(f: emberkv_core::ops::hll::selftest::Failure) -> String {
    use emberkv_core::ops::hll::selftest::Failure;
    match f {
        Failure::Register { index, want, got } => {
            format!("TESTFAILED Register {index} should be {want} but is {got}")
        }
        Failure::SparseNotUsed => "TESTFAILED sparse encoding not used".into(),
        Failure::Disagree => "TESTFAILED dense/sparse disagree".into(),
        Failure::TooBigError { card, abserr } => {
            format!("TESTFAILED Too big error. card:{card} abserr:{abserr}")
        }
    }
}

// Scripts (redis.call and the engine), transactions, COMMAND GETKEYS.
pub const SCRIPT_KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";
pub const CALL_OUTSIDE_SCRIPT: &str = "ERR redis.call outside of a script";
pub const CALL_NO_ARGS: &str = "ERR Please specify at least one argument for this redis lib call";
pub const CALL_BAD_ARG_TYPE: &str =
    "ERR Lua redis lib command arguments must be strings or integers";
pub const CALL_UNKNOWN_COMMAND: &str = "ERR Unknown Redis command called from script";
pub const CALL_WRONG_ARITY: &str = "ERR Wrong number of args calling Redis command from script";
pub const CALL_NOT_ALLOWED: &str = "ERR This Redis command is not allowed from script";
pub const CALL_WRITE_IN_RO: &str = "ERR Write commands are not allowed from read-only scripts.";
pub const NO_FUNCTIONS_REGISTERED: &str = "ERR No functions registered";
pub const TX_TOO_BIG: &str = "ERR transaction too big: exceeds client-query-buffer-limit";
pub const EXECABORT_PREFIX: &str = "EXECABORT Transaction discarded because of: ";
pub const MULTI_NESTED: &str = "ERR MULTI calls can not be nested";
pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
pub const EXECABORT_PREVIOUS: &str = "EXECABORT Transaction discarded because of previous errors.";
pub const WATCH_IN_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
pub const INVALID_COMMAND: &str = "ERR Invalid command specified";
pub const INVALID_ARG_COUNT: &str = "ERR Invalid number of arguments specified for command";
pub const INVALID_ARGS: &str = "ERR Invalid arguments specified for command";
pub const NO_KEY_ARGS: &str = "ERR The command has no key arguments";

/// A RESP2 subscriber ran a command outside the subscription set.
pub fn subscriber_only(cmd: &str) -> String {
    format!("ERR Can't execute '{cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
}

/// A script or function body that does not compile.
pub fn compile_script(msg: &str) -> String {
    format!("ERR Error compiling script (new function): {msg}")
}

pub fn compile_function(msg: &str) -> String {
    format!("ERR Error compiling function: {msg}")
}

pub fn register_functions(msg: &str) -> String {
    format!("ERR Error registering functions: {msg}")
}

pub fn lua_start(e: &dyn std::fmt::Display) -> String {
    format!("ERR could not start Lua: {e}")
}

// Geo commands (geo.c).
pub const GEO_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
pub const GEO_NEED_RADIUS: &str = "ERR need numeric radius";
pub const GEO_NEED_WIDTH: &str = "ERR need numeric width";
pub const GEO_NEED_HEIGHT: &str = "ERR need numeric height";
pub const GEO_NEGATIVE_RADIUS: &str = "ERR radius cannot be negative";
pub const GEO_NEGATIVE_BOX: &str = "ERR height or width cannot be negative";
pub const GEO_NO_MEMBER: &str = "ERR could not decode requested zset member";
pub const GEO_COUNT: &str = "ERR COUNT must be > 0";
pub const GEO_ANY_WITHOUT_COUNT: &str = "ERR the ANY argument requires COUNT argument";
pub const GEO_STORE_WITH: &str =
    "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options";
pub const GEO_SEARCHSTORE_WITH: &str =
    "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options";

/// A coordinate outside Redis's limits, printed with `%f`.
pub fn geo_lonlat(lon: f64, lat: f64) -> String {
    format!("ERR invalid longitude,latitude pair {lon:.6},{lat:.6}")
}

/// GEOSEARCH without a centre; `cmd` is the name as the client typed it.
pub fn geo_from(cmd: &[u8]) -> String {
    format!(
        "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
        String::from_utf8_lossy(cmd)
    )
}

/// GEOSEARCH without a shape.
pub fn geo_by(cmd: &[u8]) -> String {
    format!(
        "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
        String::from_utf8_lossy(cmd)
    )
}

// Streams (t_stream.c).
pub const STREAM_BAD_ID: &str = "ERR Invalid stream ID specified as stream command argument";
pub const XADD_ZERO_ID: &str = "ERR The ID specified in XADD must be greater than 0-0";
pub const XADD_NOT_GREATER: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
pub const XADD_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
pub const XADD_TOO_LARGE: &str = "ERR Elements are too large to be stored";
pub const STREAM_MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
pub const STREAM_LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
pub const MAXLEN_AND_MINID: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
pub const LIMIT_WITHOUT_TRIM: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
pub const XTRIM_NO_STRATEGY: &str =
    "ERR syntax error, XTRIM must be called with a trimming strategy";
pub const LIMIT_WITHOUT_APPROX: &str =
    "ERR syntax error, LIMIT cannot be used without the special ~ option";
pub const BAD_START_ID: &str = "ERR invalid start ID for the interval";
pub const BAD_END_ID: &str = "ERR invalid end ID for the interval";
pub const XREAD_UNBALANCED: &str =
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
pub const XREAD_GROUP_OPTION: &str =
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
pub const XREAD_NOACK_OPTION: &str =
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
pub const XREADGROUP_NO_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
pub const XREADGROUP_DOLLAR: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
pub const XREAD_GT_ID: &str = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
pub const TIMEOUT_NOT_INT: &str = "ERR timeout is not an integer or out of range";
pub const XGROUP_NEED_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
pub const BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";
pub const ENTRIESREAD_RANGE: &str = "ERR value for ENTRIESREAD must be positive or -1";
pub const ENTRIES_ADDED_NEGATIVE: &str = "ERR entries_added must be positive";
pub const XSETID_BELOW_MAXDEL_ARG: &str =
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
pub const XSETID_BELOW_TOP: &str =
    "ERR The ID specified in XSETID is smaller than the target stream top item";
pub const XSETID_ENTRIES_ADDED: &str =
    "ERR The entries_added specified in XSETID is smaller than the target stream length";
pub const XCLAIM_BAD_IDLE: &str = "ERR Invalid min-idle-time argument for XCLAIM";
pub const XCLAIM_BAD_IDLE_OPT: &str = "ERR Invalid IDLE option argument for XCLAIM";
pub const XCLAIM_BAD_TIME: &str = "ERR Invalid TIME option argument for XCLAIM";
pub const XCLAIM_BAD_RETRY: &str = "ERR Invalid RETRYCOUNT option argument for XCLAIM";
pub const XAUTOCLAIM_BAD_IDLE: &str = "ERR Invalid min-idle-time argument for XAUTOCLAIM";
pub const XAUTOCLAIM_COUNT: &str = "ERR COUNT must be > 0";
pub const UNBLOCKED_STREAM_GONE: &str = "UNBLOCKED the stream key no longer exists";
pub const NOGROUP_BLOCKED: &str =
    "NOGROUP the consumer group this client was blocked on no longer exists";

/// NOGROUP of XREADGROUP, XPENDING, XCLAIM, XAUTOCLAIM (`suffix` after
/// the names: " in XREADGROUP with GROUP option" or "").
pub fn nogroup_key(key: &[u8], group: &[u8], suffix: &str) -> Vec<u8> {
    let mut m = b"NOGROUP No such key '".to_vec();
    m.extend_from_slice(c_str(key, usize::MAX));
    m.extend_from_slice(b"' or consumer group '");
    m.extend_from_slice(c_str(group, usize::MAX));
    m.push(b'\'');
    m.extend_from_slice(suffix.as_bytes());
    m
}

/// NOGROUP of XGROUP and XINFO CONSUMERS.
pub fn nogroup_on(group: &[u8], key: &[u8]) -> Vec<u8> {
    let mut m = b"NOGROUP No such consumer group '".to_vec();
    m.extend_from_slice(c_str(group, usize::MAX));
    m.extend_from_slice(b"' for key name '");
    m.extend_from_slice(c_str(key, usize::MAX));
    m.push(b'\'');
    m
}

pub fn xclaim_bad_option(opt: &[u8]) -> Vec<u8> {
    let mut m = b"ERR Unrecognized XCLAIM option '".to_vec();
    m.extend_from_slice(c_str(opt, usize::MAX));
    m.push(b'\'');
    m
}
