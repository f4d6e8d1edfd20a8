//! Differential tests for transactions, pub/sub, keyspace notifications and
//! scripting: the same command sequences go to emberkv and to a real
//! redis-server, and every reply (and every notification) must match byte
//! for byte, in RESP2 and RESP3.

mod common;
use common::*;

/// Runs `cmds` on one fresh connection to each server; replies must match.
fn same_replies(ember: &Server, redis: &Server, cmds: &[Vec<&str>]) {
    let (mut a, mut b) = (ember.raw(), redis.raw());
    a.cmd(&["FLUSHALL"]);
    b.cmd(&["FLUSHALL"]);
    for c in cmds {
        let (x, y) = (a.cmd(c), b.cmd(c));
        if c[0] == "HELLO" {
            continue; // client ids differ
        }
        assert_eq!(s(&x), s(&y), "reply to {c:?}");
    }
}

/// One command on a fresh connection to each server; the replies must be
/// the same bytes (not text: packed MessagePack is binary).
fn same_bytes(ember: &Server, redis: &Server, c: &[&str]) {
    let (x, y) = (ember.raw().cmd(c), redis.raw().cmd(c));
    assert!(x == y, "reply to {c:?}: {:?} vs {:?}", s(&x), s(&y));
}

fn lines(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect()
}

#[test]
fn transactions_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    for proto in ["2", "3"] {
        let script = format!(
            "HELLO {proto}
             MULTI
             MULTI
             WATCH x
             SET a 1
             INCR a
             LPUSH a x
             GET a
             HSET h f v
             HGETALL h
             ZADD z 1.5 m
             ZSCORE z m
             EXEC
             MULTI
             NOSUCH cmd
             SET a
             EXEC
             EXEC x
             EXEC
             DISCARD
             MULTI
             DISCARD
             WATCH a b
             UNWATCH
             MULTI
             BLPOP nolist 0
             EXEC
             MULTI
             EXEC
             MULTI
             SET k v
             EXEC x"
        );
        same_replies(&ember, &redis, &lines(&script));
    }
}

#[test]
fn pubsub_replies_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    for proto in ["2", "3"] {
        // One channel at a time, so the order of confirmations is defined.
        let script = format!(
            "HELLO {proto}
             SUBSCRIBE one
             SUBSCRIBE two
             PSUBSCRIBE p*
             PING
             PING hello
             UNSUBSCRIBE two
             UNSUBSCRIBE one
             UNSUBSCRIBE never
             PUNSUBSCRIBE p*
             PUNSUBSCRIBE
             UNSUBSCRIBE
             SSUBSCRIBE s1
             SUNSUBSCRIBE s1
             SUNSUBSCRIBE
             PUBLISH nobody x
             SPUBLISH nobody x
             PUBSUB NUMSUB a b
             PUBSUB NUMPAT
             PUBSUB CHANNELS
             PUBSUB SHARDCHANNELS
             PUBSUB SHARDNUMSUB a
             PUBSUB CHANNELS a b
             PUBSUB FOO"
        );
        same_replies(&ember, &redis, &lines(&script));
    }
    // RESP2 subscriber mode refusals.
    let script = "SUBSCRIBE c
                  GET x
                  MULTI
                  SET a b
                  RESET
                  GET x";
    same_replies(&ember, &redis, &lines(script));
}

/// The notifications a sequence of commands publishes, as seen by a
/// pattern subscriber.
fn notifications(srv: &Server, flags: &str, cmds: &[Vec<&str>]) -> Vec<u8> {
    let mut c = srv.raw();
    c.cmd(&["FLUSHALL"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", flags]);
    let mut sub = srv.raw();
    sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    for cmd in cmds {
        c.cmd(cmd);
    }
    // A marker event, so we know everything before it has arrived.
    c.cmd(&["SET", "zz-end", "1"]);
    let mut out = Vec::new();
    loop {
        let r = sub.reply();
        let done = s(&r).contains("__keyevent@0__:set\r\n$6\r\nzz-end");
        out.extend(r);
        if done {
            break;
        }
    }
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    out
}

#[test]
fn notifications_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let script = "SET a 1
        SET a 2 EX 100
        SET a 3 KEEPTTL
        SETNX a 3
        SETNX b 3
        INCR b
        DECRBY b 2
        INCRBYFLOAT b 1.5
        APPEND b x
        SETRANGE b 0 y
        GETDEL b
        MSET x 1 y 2
        DEL x y z
        EXPIRE a 100
        PEXPIRE a 1000
        PERSIST a
        EXPIRE a 0
        SETEX se 100 v
        GETEX se PERSIST
        GETEX se PX 100000
        RPUSH l a b c
        LPOP l
        RPOP l 2
        LPUSH l a b
        LINSERT l BEFORE a z
        LSET l 0 q
        LREM l 1 q
        LTRIM l 0 0
        LMOVE l m LEFT RIGHT
        RPOPLPUSH m l
        HSET h f v g w
        HINCRBY h n 1
        HINCRBYFLOAT h n 1.5
        HSETNX h f x
        HDEL h f g n
        SADD s a b c
        SREM s a
        SMOVE s t b
        SPOP s
        SADD s1 a b
        SADD s2 b c
        SINTERSTORE d s1 s2
        SUNIONSTORE d s1 s2
        SDIFFSTORE d s1 s1
        ZADD z 1 a 2 b 3 c
        ZADD z XX 5 a
        ZINCRBY z 1 a
        ZREM z a
        ZPOPMIN z
        ZREMRANGEBYRANK z 0 0
        ZADD z2 1 a
        ZUNIONSTORE d 2 z2 z2
        ZINTERSTORE d 2 z2 nokey
        RENAME z2 z3
        RENAMENX z3 z4
        COPY z4 z5
        MOVE z5 1
        SORT l STORE sorted
        PSETEX ps 100000 v
        GETSET ps w
        MSETNX n1 a n2 b
        DECR cnt
        INCRBY cnt 5
        HMSET hm a 1 b 2
        LPUSHX l x
        RPUSHX l y
        LPUSHX nolist x
        LMPOP 1 l RIGHT COUNT 2
        ZADD zr 1 a 2 b 3 c 4 d 5 e
        ZRANGESTORE zd zr 0 1
        ZREMRANGEBYSCORE zr 1 1
        ZREMRANGEBYLEX zd - [a
        ZPOPMAX zr
        ZMPOP 1 zr MIN
        ZDIFFSTORE zd 1 zr
        UNLINK zd cnt
        EXPIREAT hm 4000000000
        PEXPIREAT hm 4000000000000
        SELECT 0";
    let reads = "GET nokey
        HGET nokey f
        EXISTS zz
        TYPE nokey
        ZSCORE nz m
        SMEMBERS ns
        LRANGE nl 0 -1
        MGET a nokey q
        STRLEN none
        HGETALL none
        TOUCH nothere
        TTL nokey
        PTTL nokey
        EXPIRETIME nokey
        PEXPIRETIME nokey
        OBJECT ENCODING nokey
        OBJECT FREQ nokey
        SET q 1 EX 10
        COPY q q2 DB 4
        MOVE q 3";
    let mut cmds = lines(script);
    cmds.extend(lines(reads));
    // Every class (A), then also key misses (m) and new keys (n).
    for flags in ["KEA", "KEAnm"] {
        let (x, y) = (
            notifications(&ember, flags, &cmds),
            notifications(&redis, flags, &cmds),
        );
        assert_eq!(s(&x), s(&y), "flags {flags}");
    }
}

/// keyspace_hits and keyspace_misses count each read lookup as Redis's do.
#[test]
fn keyspace_hit_and_miss_counts_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let reads = "EXISTS k
        EXISTS nokey k nokey2
        TYPE k
        TYPE nokey
        TOUCH k nokey
        TTL k
        PTTL nokey
        EXPIRETIME k
        PEXPIRETIME nokey
        OBJECT ENCODING k
        OBJECT ENCODING nokey
        OBJECT IDLETIME nokey
        OBJECT REFCOUNT k
        OBJECT FREQ nokey
        GET k
        GET nokey
        MGET k nokey
        STRLEN nokey
        LLEN nokey
        HGET nokey f
        SCARD nokey
        ZSCORE nokey m";
    let count = |srv: &Server, cmd: &[&str]| -> String {
        let mut c = srv.raw();
        c.cmd(&["FLUSHALL"]);
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["CONFIG", "RESETSTAT"]);
        c.cmd(cmd);
        let info = s(&c.cmd(&["INFO", "stats"]));
        info.lines()
            .filter(|l| l.starts_with("keyspace_hits:") || l.starts_with("keyspace_misses:"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for cmd in lines(reads) {
        assert_eq!(count(&ember, &cmd), count(&redis, &cmd), "{cmd:?}");
    }
}

/// WATCH is aborted by writes that change a key, and only by those: for
/// each case, client A watches `keys` after `setup`, client B runs `cmd`,
/// and A's EXEC must answer as Redis's (null, or the transaction's reply).
#[test]
fn watch_aborts_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    // keys | setup; setup | the other client's command
    let cases = "k | SET k v | SETNX k x
        k | | SETNX k x
        k | | DEL k
        k | SET k v | DEL k
        k | SET k v | SET k v
        k | SET k v | SET k x NX
        k | SET k v | SET k x XX
        k | SET k v | MSETNX k a j b
        k | SET k v | GETEX k
        k | SET k v | GETEX k EX 100
        k | SET k v | GETDEL k
        k | | GETDEL k
        k | SET k v | SETRANGE k 0 x
        k | SET k 1 | INCRBY k 0
        k | SET k v | APPEND k x
        k | SADD k a | SADD k a
        k | SADD k a | SADD k b
        k | SADD k a | SREM k b
        k | SADD k a | SREM k a
        k | | SPOP k
        k | SADD s a | SMOVE s k b
        k | SADD s a | SMOVE s k a
        d | SADD s1 a | SINTERSTORE d s1 nokey
        d | SET d x; SADD s1 a | SINTERSTORE d s1 nokey
        k | HSET k f v | HSETNX k f x
        k | HSET k f v | HSETNX k g x
        k | HSET k f v | HDEL k g
        k | HSET k f v | HDEL k f
        k | HSET k f 1 | HINCRBY k f 0
        k | RPUSH k a | LREM k 0 b
        k | RPUSH k a | LREM k 0 a
        k | RPUSH k a | LPUSHX k b
        k | | LPUSHX k b
        k | | LPOP k
        k | RPUSH k a | LINSERT k BEFORE zz b
        k | RPUSH k a | LTRIM k 0 -1
        k | RPUSH k a | LSET k 0 a
        k | RPUSH k a b | LMPOP 1 k LEFT
        k | RPUSH s a | LMOVE s k LEFT LEFT
        k | ZADD k 1 a | ZADD k 1 a
        k | ZADD k 1 a | ZADD k 2 a
        k | ZADD k 1 a | ZADD k NX 2 a
        k | ZADD k 1 a | ZREM k b
        k | ZADD k 1 a | ZREMRANGEBYSCORE k 5 6
        k | | ZPOPMIN k
        k | ZADD k 1 a | ZINCRBY k 0 a
        k | | EXPIRE k 100
        k | SET k v | EXPIRE k 100
        k | SET k v | EXPIRE k 100 XX
        k | SET k v | EXPIRE k 0
        k | SET k v | PERSIST k
        k | SET k v EX 100 | PERSIST k
        k | SET k v | RENAME k k
        k | SET k v | RENAME k j
        j | SET k v | RENAME k j
        j | SET k v; SET j w | RENAMENX k j
        j | SET k v | COPY k j
        j | SET j v; SET k v | COPY k j
        k | SET k v | MOVE k 1
        k | SET k v | UNLINK k
        k | | UNLINK k
        k | SET k v | SORT nolist STORE k
        k | | SORT nolist STORE k
        k | SET k v | FLUSHDB
        k | SET o v | FLUSHDB
        k | SET k v | SWAPDB 0 1
        k | SET k v | TOUCH k
        k | SET k v | GET k
        k | SET k v | EVAL \"return redis.call('get','k')\" 0
        k | SET k v | EVAL \"return redis.call('set','k','w')\" 0";
    for case in cases.lines() {
        let parts: Vec<&str> = case.split('|').map(str::trim).collect();
        let keys: Vec<&str> = parts[0].split_whitespace().collect();
        let run = |srv: &Server| -> Vec<u8> {
            let (mut a, mut b) = (srv.raw(), srv.raw());
            a.cmd(&["FLUSHALL"]);
            for setup in parts[1].split(';').filter(|x| !x.trim().is_empty()) {
                a.cmd(&setup.split_whitespace().collect::<Vec<_>>());
            }
            let mut watch = vec!["WATCH"];
            watch.extend(&keys);
            a.cmd(&watch);
            b.cmd(&words(parts[2]));
            a.cmd(&["MULTI"]);
            a.cmd(&["PING"]);
            a.cmd(&["EXEC"])
        };
        assert_eq!(s(&run(&ember)), s(&run(&redis)), "case: {case}");
    }
}

/// A script's SHA1, as SCRIPT LOAD names it.
fn script_sha(body: &str) -> String {
    use sha1_smol::Sha1;
    Sha1::from(body).digest().to_string()
}

/// Splits a command line on spaces, keeping "double-quoted" words whole.
fn words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').expect("closing quote");
            out.push(&r[..end]);
            rest = r[end + 1..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push(&rest[..end]);
            rest = rest[end..].trim_start();
        }
    }
    out
}

#[test]
fn scripts_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let scripts = [
        "return redis.call('incr','str')",
        "return redis.pcall('incr','str')",
        "return x",
        "x = 5",
        "\nerror('boom')",
        "return redis.error_reply('MY err')",
        "return redis.status_reply('FINE')",
        "return {1,2,{3,'x'},nil,5}",
        "return 3.7",
        "return -3.7",
        "return true",
        "return false",
        "return {err='bad'}",
        "return redis.call('nosuch')",
        "return redis.call('get')",
        "return redis.call('blpop','l',0)",
        "return redis.call('subscribe','x')",
        "return redis.sha1hex('abc')",
        "return os.time()",
        "return io",
        "return redis.call('set','k')",
        "return error({err='X y'})",
        "return redis.pcall('nosuch')",
        "return redis.call()",
        "return redis.call(1)",
        "return {ok='x'}",
        "return tostring(redis.call('get','nokey'))",
        "return type(redis.call('ping'))",
        "return redis.call('ping').ok",
        "redis.call('set','x','1') return redis.call('incr','x')",
        "return {1.5, 'a', true, false}",
        "return redis.call('hset','h','a','1')",
        "return KEYS[1]..ARGV[1]",
        "return #KEYS",
        "return table.getn({1,2})",
        "return string.format('%d', 5)",
        "return tonumber('12')",
        "return select('#', 1,2)",
        "return unpack({1,2})",
        "return pcall(error, 'x')",
        "return redis.call('set', 'k', 1.5)",
        "return redis.call('set', 'k', true)",
        "local ok, e = pcall(redis.call, 'incr', 'str') return e",
        "local ok, e = pcall(error, {err='t'}) return e",
        "return redis.call('lpush','str','x')",
        "return redis.call('exec')",
        "return redis.call('lrange','nol',0,-1)",
        "redis.call('rpush','L','a','b') return redis.call('lrange','L',0,-1)",
        "return 1e20",
        "return ARGV",
        "return (",
        // The cjson and bit libraries.
        "return cjson.encode({1,2,3})",
        "return cjson.encode({a=1})",
        "return cjson.encode({})",
        "return cjson.encode({a={b={c='x/y'}}, n=1.5, t=true, f=false})",
        "return cjson.encode('a\"b\\\\c\\n\\t')",
        "return cjson.encode(3.14159265358979)",
        "return cjson.encode(1e20)",
        "return cjson.encode({1,nil,3})",
        "return cjson.encode({[1]=1,[20]=2})",
        "return cjson.encode(cjson.null)",
        "return cjson.encode({x=cjson.null})",
        "return cjson.decode('[1,2,\"a\",{\"b\":null}]')[4].b == cjson.null",
        "local t = cjson.decode('{\"a\":[1,2,{\"c\":3}],\"b\":\"x\"}') return {t.a[1], t.a[3].c, t.b}",
        "return cjson.decode('123.5')",
        "return cjson.encode(cjson.decode('{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":[true,false,null]}'))",
        "return cjson.encode({[1.5]=1})",
        "return cjson.encode(function() end)",
        "return bit.band(0xff, 0x0f)",
        "return bit.bor(1,2,4)",
        "return bit.bxor(5,3)",
        "return bit.lshift(1, 31)",
        "return bit.rshift(-1, 28)",
        "return bit.arshift(-16, 2)",
        "return bit.tohex(255)",
        "return bit.tohex(-1, -4)",
        "return bit.tobit(2^32 + 5)",
        "return bit.bnot(0)",
        "return bit.rol(1, 33)",
        "return bit.bswap(0x12345678)",
        "return redis.call('set', 'j', cjson.encode({n=5})) and cjson.decode(redis.call('get','j')).n",
        "local ok, e = pcall(cjson.encode, function() end) return e",
    ];
    for proto in ["2", "3"] {
        for sc in scripts {
            let cmds = vec![
                vec!["HELLO", proto],
                vec!["SET", "str", "abc"],
                vec!["EVAL", sc, "1", "kk", "aa"],
                vec!["EVAL_RO", sc, "1", "kk", "aa"],
            ];
            let (mut a, mut b) = (ember.raw(), redis.raw());
            a.cmd(&["FLUSHALL"]);
            b.cmd(&["FLUSHALL"]);
            for c in &cmds {
                let (x, y) = (a.cmd(c), b.cmd(c));
                if c[0] == "HELLO" {
                    continue; // server name and version differ
                }
                assert_eq!(s(&x), s(&y), "reply to {c:?}");
            }
        }
    }
    // RESP3 inside scripts (redis.setresp), RESP3 result types, and the
    // argument checks of the redis.* helpers.
    let typed = [
        "redis.setresp(3); return redis.call('hgetall','h')",
        "redis.setresp(3); local r=redis.call('hgetall','h'); return type(r.map)",
        "redis.setresp(3); local r=redis.call('hgetall','h'); return r.map.f",
        "redis.setresp(3); return redis.call('smembers','s')",
        "redis.setresp(3); local r=redis.call('smembers','s'); return tostring(r.set.a)",
        "redis.setresp(3); return redis.call('zscore','z','m')",
        "redis.setresp(3); local r=redis.call('zscore','z','m'); return tostring(r.double)",
        "redis.setresp(3); return redis.call('get','nokey')",
        "redis.setresp(3); return type(redis.call('get','nokey'))",
        "redis.setresp(2); return type(redis.call('get','nokey'))",
        "redis.setresp(3); return redis.call('zrange','z',0,-1,'withscores')",
        "redis.setresp(3); return redis.call('lpop','nolist')",
        "redis.setresp(3); return redis.call('hrandfield','h',1,'withvalues')",
        "redis.setresp(3); return redis.call('zpopmin','nozset')",
        "redis.setresp(3); return redis.call('zrandmember','z',1,'withscores')",
        "redis.setresp(3); return redis.call('zscan','z',0)",
        "redis.setresp(3); return redis.call('zincrby','z',1,'m')",
        "redis.setresp(3); return redis.call('lpos','l','x')",
        "redis.setresp(3); return redis.call('smismember','s','a','b')",
        "redis.setresp(3); return redis.call('zmscore','z','m','nope')",
        "redis.setresp(3); return redis.call('zunion',1,'z','withscores')",
        "redis.setresp(3); return redis.call('info','nonesuch')",
        "redis.setresp(3); return redis.pcall('incr','h')",
        "redis.setresp(3); redis.setresp(2); return redis.call('hgetall','h')",
        "return {map={a=1}}",
        "return {set={a=true}}",
        "return {double=1.5}",
        "return {double='1.5'}",
        "return {big_number='123456789012345678901234567890'}",
        "return {verbatim_string={format='txt',string='hello'}}",
        "return false",
        "return nil",
        "return {1,true,false,{map={x='y'}}}",
        "return {map={a={set={b=true}}}}",
        "return {double=0/0}",
        "return {double=1/0}",
        "return {double=-1/0}",
        "return {double=3}",
        "return {map={}}",
        "return {map={[1]='x'}}",
        "return {set={1,2}}",
        "redis.setresp(4)",
        "redis.setresp()",
        "redis.setresp('3')",
        "redis.setresp(2.5)",
        "return redis.setresp(2,3)",
        "return pcall(redis.setresp, 4)",
        "redis.log()",
        "redis.log('x','y')",
        "redis.log(1)",
        "redis.log(1,'a')",
        "redis.log(9,'a')",
        "redis.log(-1,'x')",
        "return redis.log('1','a')",
        "return redis.log(1,{})",
        "return redis.sha1hex()",
        "return redis.sha1hex(1)",
        "return redis.sha1hex('a','b')",
        "return redis.error_reply()",
        "return redis.error_reply(5)",
        "return redis.error_reply('x','y')",
        "return redis.error_reply('x')",
        "return redis.error_reply('MY x')",
        "return redis.error_reply('-MY x')",
        "return redis.error_reply('')",
        "return redis.error_reply('x').err",
        "return redis.status_reply(1)",
        "return redis.status_reply()",
        "return redis.status_reply('a','b')",
        "return redis.status_reply('x\\r\\ny')",
        "return {err='-x'}",
        "error({err='MY e'})",
    ];
    for proto in ["2", "3"] {
        for sc in typed {
            let cmds = [
                vec!["HELLO", proto],
                vec!["HSET", "h", "f", "v"],
                vec!["SADD", "s", "a"],
                vec!["ZADD", "z", "1.5", "m"],
                vec!["EVAL", sc, "0"],
                vec!["EVAL_RO", sc, "0"],
            ];
            let (mut a, mut b) = (ember.raw(), redis.raw());
            a.cmd(&["FLUSHALL"]);
            b.cmd(&["FLUSHALL"]);
            for c in &cmds {
                let (x, y) = (a.cmd(c), b.cmd(c));
                if c[0] == "HELLO" {
                    continue;
                }
                assert_eq!(s(&x), s(&y), "reply to {c:?} in RESP{proto}");
            }
        }
    }
    // cmsgpack, struct, and the read-only globals and libraries (a script that
    // tries to change them must not change what later scripts see: each
    // case runs after the previous ones on the same servers).
    let more: Vec<&str> = [
        "return cmsgpack.pack(1)",
        "return cmsgpack.pack(-1)",
        "return cmsgpack.pack(127)",
        "return cmsgpack.pack(128)",
        "return cmsgpack.pack(255)",
        "return cmsgpack.pack(256)",
        "return cmsgpack.pack(65535)",
        "return cmsgpack.pack(65536)",
        "return cmsgpack.pack(2^32)",
        "return cmsgpack.pack(2^53)",
        "return cmsgpack.pack(-32)",
        "return cmsgpack.pack(-33)",
        "return cmsgpack.pack(-128)",
        "return cmsgpack.pack(-129)",
        "return cmsgpack.pack(-32768)",
        "return cmsgpack.pack(-32769)",
        "return cmsgpack.pack(-2^31)",
        "return cmsgpack.pack(-2^31-1)",
        "return cmsgpack.pack(-2^53)",
        "return cmsgpack.pack(1.5)",
        "return cmsgpack.pack(0.1)",
        "return cmsgpack.pack(1e300)",
        "return cmsgpack.pack(1/0)",
        "return cmsgpack.pack(-1/0)",
        "return cmsgpack.pack(2^64)",
        "return cmsgpack.pack(-0.0)",
        "return cmsgpack.pack('abc')",
        "return cmsgpack.pack(string.rep('x',31))",
        "return cmsgpack.pack(string.rep('x',32))",
        "return cmsgpack.pack(string.rep('x',300))",
        "return #cmsgpack.pack(string.rep('x',70000))",
        "return cmsgpack.pack('')",
        "return cmsgpack.pack({})",
        "return cmsgpack.pack({1,2,3})",
        "return cmsgpack.pack({a=1})",
        "return cmsgpack.pack({1,2,nil,4})",
        "return cmsgpack.pack({[1]=1,[3]=3})",
        "return cmsgpack.pack({[0]=1})",
        "return cmsgpack.pack({[1.5]=1})",
        "return cmsgpack.pack({1,2,a=3})",
        "return cmsgpack.pack(true, false)",
        "return cmsgpack.pack(nil)",
        "return cmsgpack.pack(1,2,'x')",
        "return cmsgpack.pack(function() end)",
        "local t={} local c=t for i=1,20 do c[1]={} c=c[1] end return cmsgpack.pack(t)",
        "local t={} for i=1,20 do t[i]=i end return cmsgpack.pack(t)",
        "local t={} for i=1,70000 do t[i]=i end return #cmsgpack.pack(t)",
        "local t={} for i=1,20 do t['k'..i]=i end return #cmsgpack.pack(t)",
        "return cmsgpack.unpack(cmsgpack.pack({1,2,{a='b'}}))",
        "return {cmsgpack.unpack(cmsgpack.pack(1,2,3))}",
        "return cmsgpack.unpack(cmsgpack.pack({a=1})).a",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1,2))}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1,2), 1)}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1,2), 2)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2, 2)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 0)}",
        "return cmsgpack.unpack('\\193')",
        "return cmsgpack.unpack('')",
        "return cmsgpack.unpack('\\146\\1')",
        "return cmsgpack.pack()",
        "return cmsgpack.unpack()",
        "return cmsgpack.unpack(5)",
        "return tostring(cmsgpack.unpack(cmsgpack.pack(1.5)))",
        "return tostring(cmsgpack.unpack(cmsgpack.pack(0.1)))",
        "return type(cmsgpack.unpack('\\192'))",
        "return cmsgpack.unpack('\\195')",
        "return cmsgpack.unpack('\\196\\3abc')",
        "return cmsgpack.unpack('\\217\\3abc')",
        "return cmsgpack.unpack('\\207\\0\\0\\0\\1\\0\\0\\0\\0')",
        "return cmsgpack.unpack('\\211\\255\\255\\255\\255\\255\\255\\255\\255')",
        "return cmsgpack.unpack('\\212\\1\\1')",
        "return tostring(cmsgpack.unpack('\\202\\63\\192\\0\\0'))",
        "return cmsgpack.unpack(cmsgpack.pack({[1]='a',[2]='b',x={y={z=1}}})).x.y.z",
        "return {cmsgpack.unpack_one('\\146\\1')}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1), 5)}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1), -1)}",
        "cmsgpack.pack = nil",
        "return cmsgpack.unpack_limit('\\1\\2')",
        "return cmsgpack.unpack_limit('\\1\\2', 'x')",
        "return {cmsgpack.unpack_one('\\1\\2', '1')}",
        "return {cmsgpack.unpack(cmsgpack.pack(0/0))}",
        "return cmsgpack.pack(0/0)",
        "return cmsgpack.pack({[true]=1})",
        "return cmsgpack.pack(-2^63)",
        "return cmsgpack.pack(2^63)",
        "return cmsgpack.pack(2^63-1024)",
        "return {cmsgpack.unpack('\\221\\255\\255\\255\\255\\1')}",
        "local t=cmsgpack.unpack(cmsgpack.pack({1,2,3})) return #t",
        "return cmsgpack.unpack(cmsgpack.pack({'a',{b={'c'}}}))[2].b[1]",
        "cjson.encode = nil",
        "bit.band = nil",
        "redis.call = nil",
        "string.rep = nil",
        "math.floor = nil",
        "table.insert = nil",
        "rawset(string, 'rep', nil)",
        "rawset(cjson, 'x', 1)",
        "setmetatable(cjson, {})",
        "return getmetatable(cjson)",
        "string.foo = 1",
        "cjson.newfield = 1",
        "local n=0 for k,v in pairs(string) do n=n+1 end return n",
        "return type(getmetatable('').__index)",
        "getmetatable('').__index.rep = nil",
        "local t = {} rawset(t,'a',1) return t.a",
        "return ('x'):rep(3)",
        "redis.sha1hex = function() return 1 end",
        "_G.x = 1",
        "rawset(_G, 'x', 1)",
        "return coroutine ~= nil",
        "return type(loadstring)",
        "return type(unpack)",
        "return type(os)",
        "return type(KEYS)",
        "KEYS[1] = 'x'",
        "ARGV = {}",
        "return type(table.getn)",
        "return type(math.random)",
        "return type(gcinfo)",
        "return type(collectgarbage)",
        "return type(newproxy)",
        "return type(string.dump)",
        "return type(setfenv)",
        "return type(getfenv)",
        "return type(module)",
        "return type(select)",
        "return type(error)",
        "return type(assert)",
        "return type(tostring)",
        "return type(next)",
        "return struct.pack('b', -1)",
        "return struct.pack('B', 255)",
        "return struct.pack('>h', 258)",
        "return struct.pack('<h', 258)",
        "return struct.pack('H', -1)",
        "return struct.pack('i', 1)",
        "return struct.pack('>i', -2)",
        "return struct.pack('I2', 65535)",
        "return struct.pack('i3', -1)",
        "return struct.pack('>I16', 5)",
        "return struct.pack('<i16', -5)",
        "return struct.pack('l', 2^40)",
        "return struct.pack('>L', 2^53)",
        "return struct.pack('T', 7)",
        "return struct.pack('f', 1.5)",
        "return struct.pack('>d', 0.1)",
        "return struct.pack('s', 'abc')",
        "return struct.pack('c', 'abc')",
        "return struct.pack('c2', 'abc')",
        "return struct.pack('c0', 'abcd')",
        "return struct.pack('c5', 'abc')",
        "return struct.pack('x')",
        "return struct.pack('!4 b i', 1, 2)",
        "return struct.pack('!b d', 1, 2)",
        "return struct.pack('!2 b i', 1, 2)",
        "return struct.pack('!3 b i', 1, 2)",
        "return struct.pack('z', 1)",
        "return struct.pack('i33', 1)",
        "return struct.pack('i', 'x')",
        "return struct.pack('i')",
        "return struct.pack()",
        "return struct.pack('s')",
        "return struct.pack('i', '12')",
        "return struct.pack('b', 300)",
        "return struct.pack('b', 1.7)",
        "return struct.pack('b', -1.7)",
        "return {struct.unpack('b', '\\255')}",
        "return {struct.unpack('B', '\\255')}",
        "return {struct.unpack('>h', '\\1\\2')}",
        "return {struct.unpack('<i', '\\1\\0\\0\\128')}",
        "return {struct.unpack('<I', '\\1\\0\\0\\128')}",
        "return {struct.unpack('s', 'abc\\0def')}",
        "return {struct.unpack('s', 'abc')}",
        "return {struct.unpack('c2', 'abc')}",
        "return {struct.unpack('b c0', '\\3abcdef')}",
        "return {struct.unpack('c0', 'abc')}",
        "return {struct.unpack('i', 'ab')}",
        "return {struct.unpack('b', 'abc', 2)}",
        "return {struct.unpack('b', 'abc', 0)}",
        "return {struct.unpack('b', 'abc', 4)}",
        "return {struct.unpack('!4 b i', '\\1\\0\\0\\0\\2\\0\\0\\0')}",
        "return {tostring(struct.unpack('f', struct.pack('f', 1.5)))}",
        "return {tostring(struct.unpack('>d', struct.pack('>d', 0.1)))}",
        "return {struct.unpack('<i16', struct.pack('<i16', -5))}",
        "return {struct.unpack('x b', '\\0\\7')}",
        "return {struct.unpack('L', struct.pack('L', 2^53))}",
        "return {struct.unpack('l', struct.pack('l', -2^40))}",
        "return {struct.unpack('i', 'abcd', 'x')}",
        "return {struct.unpack('i')}",
        "return {struct.unpack('q', 'abcd')}",
        "return struct.size('i')",
        "return struct.size('!4 b i')",
        "return struct.size('b d')",
        "return struct.size('!b d')",
        "return struct.size('s')",
        "return struct.size('c0')",
        "return struct.size('c10 x')",
        "return struct.size('z')",
        "return struct.size('!3')",
        "return struct.size('i99999999999')",
        "return struct.size('>i8')",
        "struct.pack = nil",
    ]
    .to_vec();
    for sc in more {
        same_bytes(&ember, &redis, &["EVAL", sc, "0"]);
    }
    // EVAL shebangs (`#!lua flags=...`): EVAL, EVAL_RO, SCRIPT LOAD, then
    // EVALSHA and EVALSHA_RO of what loaded.
    let shebangs = [
        "#!lua flags=\nreturn 1",
        "#!lua  flags=no-writes\nreturn 1",
        "#!LUA\nreturn 1",
        "#!lua flags=no-writes,allow-oom\nreturn redis.call('set','a','b')",
        "#! lua\nreturn 1",
        "#!lua\r\nreturn 1",
        "#!lua flags=no-writes flags=allow-oom\nreturn 1",
        "#!lua",
        "#!lua flags=no-writes",
        "#!",
        "#!lua x\nreturn 1",
        "#!lua flags=no-writes,\nreturn 1",
        "#!lua flags=,no-writes\nreturn 1",
        "#!lua flags=allow-cross-slot-keys\nreturn 1",
        "#!lua flags=no-writes\nreturn redis.pcall('set','a','b')",
        "#!lua\nreturn redis.call('set','a','b')",
        "#!lua\nerror('x')",
        "#!lua\nreturn 1 +",
        "#!lua flags=no-writes\nreturn redis.call('eval_ro','return 1','0')",
    ];
    for sc in shebangs {
        let (mut a, mut b) = (ember.raw(), redis.raw());
        for c in [
            vec!["EVAL", sc, "0"],
            vec!["EVAL_RO", sc, "0"],
            vec!["SCRIPT", "LOAD", sc],
        ] {
            let (x, y) = (a.cmd(&c), b.cmd(&c));
            assert_eq!(s(&x), s(&y), "reply to {c:?}");
        }
        let sha = script_sha(sc);
        for c in [vec!["EVALSHA", &sha, "0"], vec!["EVALSHA_RO", &sha, "0"]] {
            let (x, y) = (a.cmd(&c), b.cmd(&c));
            assert_eq!(s(&x), s(&y), "reply to {c:?} ({sc:?})");
        }
    }
    // The rest of the redis.* API and what scripts may call.
    let api: [(&str, &[&str]); 56] = [
        ("return redis.breakpoint()", &["0"]),
        ("return redis.debug('x')", &["0"]),
        ("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}", &["0"]),
        ("return redis.acl_check_cmd('get','x')", &["0"]),
        ("return redis.acl_check_cmd('nosuch')", &["0"]),
        ("return redis.acl_check_cmd()", &["0"]),
        ("#!lua flags=no-writes\nreturn redis.call('set','x','1')", &["0"]),
        ("#!lua flags=no-writes\nreturn redis.call('get','x')", &["0"]),
        ("#!lua\nreturn 1", &["0"]),
        ("#!lua flags=allow-oom,no-cluster\nreturn 2", &["0"]),
        ("#!lua flags=bogus\nreturn 2", &["0"]),
        ("#!lua name=x\nreturn 2", &["0"]),
        ("#!foo\nreturn 2", &["0"]),
        ("#!lua flags=allow-stale\nreturn 2", &["0"]),
        ("return redis.set_repl(redis.REPL_ALL)", &["0"]),
        ("return redis.set_repl(99)", &["0"]),
        ("return redis.replicate_commands()", &["0"]),
        ("return redis.REDIS_VERSION", &["0"]),
        ("return redis.REDIS_VERSION_NUM", &["0"]),
        ("return _VERSION", &["0"]),
        ("return type(bit.tobit)", &["0"]),
        ("return math.huge", &["0"]),
        ("return string.format('%d', 3.0)", &["0"]),
        ("return tostring(1e15)", &["0"]),
        ("return tostring(0.1)", &["0"]),
        ("return #KEYS", &["2", "a", "b"]),
        ("return redis.call('select', 1)", &["0"]),
        ("return redis.call('eval','return 1','0')", &["0"]),
        ("return redis.call('multi')", &["0"]),
        ("return redis.call('subscribe','x')", &["0"]),
        ("return redis.call('blpop','nolist',0)", &["0"]),
        ("return redis.call('client','list')", &["0"]),
        ("return redis.call('shutdown')", &["0"]),
        ("return redis.call('script','load','return 1')", &["0"]),
        ("return redis.call('function','list')", &["0"]),
        ("return redis.call('time')[1] ~= nil", &["0"]),
        ("return redis.call('spop','noset')", &["0"]),
        ("return redis.call('flushall')", &["0"]),
        ("return redis.call('config','set','maxmemory','0')", &["0"]),
        ("return redis.call('info','server') ~= nil", &["0"]),
        ("return redis.call('object','freq','k')", &["0"]),
        ("return redis.call('move','k',1)", &["0"]),
        ("return redis.call('swapdb',0,1)", &["0"]),
        ("return redis.call('quit')", &["0"]),
        ("return redis.call('auth','x')", &["0"]),
        ("return redis.call('hello')", &["0"]),
        ("return redis.call('reset')", &["0"]),
        ("return redis.call('watch','x')", &["0"]),
        ("return redis.call('unwatch')", &["0"]),
        ("return redis.call('discard')", &["0"]),
        ("return redis.call('exec')", &["0"]),
        ("return redis.call('ping')", &["0"]),
        ("return redis.call('echo','x')", &["0"]),
        ("return redis.call('dbsize')", &["0"]),
        ("return redis.call('publish','c','m')", &["0"]),
        ("return redis.call('pubsub','channels')", &["0"]),
    ];
    for (sc, rest) in api {
        let mut c = vec!["EVAL", sc];
        c.extend_from_slice(rest);
        same_bytes(&ember, &redis, &c);
    }
    // cjson: configuration (global and cjson.new()), number formats, the
    // parser's error texts. One case changes the global settings, as it
    // would in Redis; SCRIPT FLUSH resets them on both servers after.
    let cjson_cases = [
        "return {cjson._NAME, cjson._VERSION}",
        "return {cjson.encode_sparse_array()}",
        "return {cjson.encode_max_depth()}",
        "return {cjson.decode_max_depth()}",
        "return {cjson.encode_number_precision()}",
        "return {cjson.encode_keep_buffer()}",
        "return {cjson.encode_invalid_numbers()}",
        "return {cjson.decode_invalid_numbers()}",
        "local t={} t[20]=1 return cjson.encode(t)",
        "local c=cjson.new() c.encode_sparse_array(true) local t={} t[20]=1 return c.encode(t)",
        "local c=cjson.new() return {c.encode_sparse_array(true, 3, 5)}",
        "local c=cjson.new() c.encode_number_precision(3) return c.encode(3.14159)",
        "local c=cjson.new() return c.encode_number_precision(15)",
        "local c=cjson.new() return c.encode_number_precision(0)",
        "local c=cjson.new() c.encode_invalid_numbers(true) return c.encode({1/0, -1/0, 0/0})",
        "local c=cjson.new() c.encode_invalid_numbers('null') return c.encode({1/0})",
        "local c=cjson.new() return c.encode_invalid_numbers('x')",
        "local c=cjson.new() c.encode_max_depth(2) return c.encode({{{1}}})",
        "local c=cjson.new() c.decode_max_depth(2) return c.decode('[[[1]]]')",
        "return cjson.decode('[NaN, Infinity, -Infinity, 0x10, nan, inf]')",
        "local c=cjson.new() c.decode_invalid_numbers(false) return c.decode('[0x10]')",
        "return cjson.decode('[1,')",
        "return cjson.decode('{\"a\":}')",
        "return cjson.decode('')",
        "return cjson.decode('nul')",
        "return cjson.decode('[1] x')",
        "return cjson.decode('\"\\\\u00e9\"')",
        "return cjson.decode('\"\\\\ud83d\\\\ude00\"')",
        "return cjson.decode('\"\\\\ud83d\"')",
        "return cjson.decode('1e400')",
        "return cjson.decode('-0')",
        "return cjson.encode(-0.0)",
        "return cjson.encode(1e300)",
        "return cjson.encode(0.1)",
        "return cjson.encode(123456789012345)",
        "return cjson.decode('{\"a\":1,\"a\":2}').a",
        "return cjson.encode({[1]=1,[2]=2,[4]=4})",
        "local t={} t[11]=1 return cjson.encode(t)",
        "return cjson.encode({[1]=1,[3]=3})",
        "local c=cjson.new() c.encode_sparse_array(false, 0) local t={} t[100]=1 return c.encode(t)",
        "return cjson.encode_keep_buffer('x')",
        "return cjson.encode_sparse_array('x')",
        "return cjson.encode_max_depth(0)",
        "return {cjson.encode_sparse_array(nil, 5)}",
        "return cjson.decode('[1,2]', 5)",
        "return cjson.encode()",
        "return cjson.encode(1,2)",
        "return cjson.decode()",
        "local t={} t[1]=t return cjson.encode(t)",
        "local t = cjson.decode(string.rep('[',500)..string.rep(']',500)) return type(t)",
        "return cjson.decode(string.rep('[',1001)..string.rep(']',1001))",
        "return cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":\"\\\\u0041\"}').c",
        "return cjson.encode(cjson.decode('[1,2,3]'))",
        "return cjson.encode({a={}})",
        "return cjson.decode('  [ 1 , 2 ]  ')[2]",
        "return cjson.decode('\"a\\\\x\"')",
        "return cjson.decode('[1,]')",
        "return cjson.decode('{\"a\" 1}')",
        "return cjson.decode('{1:2}')",
        "return cjson.decode('tru')",
        "return cjson.decode('-')",
        "return cjson.decode('1.5.3')",
        "return cjson.decode('\"abc')",
    ];
    for sc in cjson_cases {
        same_bytes(&ember, &redis, &["EVAL", sc, "0"]);
    }
    ember.raw().cmd(&["SCRIPT", "FLUSH"]);
    redis.raw().cmd(&["SCRIPT", "FLUSH"]);
    let cmds = lines(
        "SCRIPT LOAD return
         SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db ffff
         EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
         SCRIPT FLUSH
         EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
         EVALSHA short 0
         EVAL x y
         EVAL x -1
         EVAL x 3 a
         SCRIPT KILL
         SCRIPT FLUSH ASYNC
         SCRIPT FLUSH BAD",
    );
    same_replies(&ember, &redis, &cmds);
    // SELECT inside a script stays inside it.
    let sel =
        "redis.call('select', 2) redis.call('set', 'sel', '1') return redis.call('get', 'sel')";
    let cmds = vec![
        vec!["EVAL", sel, "0"],
        vec!["GET", "sel"],
        vec!["SELECT", "2"],
        vec!["GET", "sel"],
    ];
    same_replies(&ember, &redis, &cmds);
}

#[test]
fn functions_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let lib = "#!lua name=mylib
redis.register_function('myfunc', function(keys, args) return {keys[1], args[1]} end)
redis.register_function{function_name='ro', callback=function(k, a) return redis.call('get', k[1]) end, flags={'no-writes'}, description='desc'}
redis.register_function('wr', function(k, a) return redis.call('set', k[1], a[1]) end)
redis.register_function('bad', function(k, a)
 error('boom') end)";
    let one = "#!lua name=one\nredis.register_function{function_name='only', callback=function() return 1 end, flags={'no-writes', 'allow-stale'}, description='d'}";
    let replaced = lib.replace("return {keys[1], args[1]}", "return 'v2'");
    let cmds: Vec<Vec<&str>> = vec![
        vec!["FUNCTION", "FLUSH"],
        vec!["FUNCTION", "LOAD", lib],
        vec!["FUNCTION", "LOAD", lib],
        vec!["FCALL", "myfunc", "1", "k", "a"],
        vec!["FCALL", "nosuch", "0"],
        vec!["FCALL_RO", "wr", "1", "k", "v"],
        vec!["FCALL_RO", "ro", "1", "k"],
        vec!["FCALL", "bad", "0"],
        vec!["FCALL", "wr", "1", "k", "v"],
        vec!["FCALL_RO", "ro", "1", "k"],
        vec!["FCALL", "myfunc", "2", "k"],
        vec!["FCALL", "myfunc", "-1"],
        vec!["FUNCTION", "LOAD", "return 1"],
        vec!["FUNCTION", "LOAD", "#!lua\nreturn 1"],
        vec!["FUNCTION", "LOAD", "#!lua name=x\nreturn 1"],
        vec!["FUNCTION", "LOAD", "#!lua name=x\nredis.call('ping')"],
        vec!["FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('myfunc', function() end)"],
        vec!["FUNCTION", "LOAD", "#!js name=x\n"],
        vec!["FUNCTION", "LOAD", "#!lua name=x\n y = 1"],
        vec!["FUNCTION", "LOAD", "#!lua name=b-ad\nredis.register_function('f', function() end)"],
        vec!["FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('f-1', function() end)"],
        vec!["FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)"],
        vec!["FUNCTION", "LOAD", "#!lua name=x\n(("],
        vec!["FUNCTION", "LOAD", one],
        vec!["FUNCTION", "LIST", "LIBRARYNAME", "on*", "WITHCODE"],
        vec!["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"],
        vec!["FUNCTION", "STATS"],
        vec!["FUNCTION", "KILL"],
        vec!["FUNCTION", "LOAD", "REPLACE", &replaced],
        vec!["FCALL", "myfunc", "0"],
        vec!["FUNCTION", "DELETE", "mylib"],
        vec!["FUNCTION", "DELETE", "mylib"],
        vec!["FCALL", "myfunc", "0"],
        vec!["FUNCTION", "FLUSH"],
        vec!["FUNCTION", "LIST"],
    ];
    same_replies(&ember, &redis, &cmds);
    // RESP3 shapes of LIST and STATS.
    let cmds: Vec<Vec<&str>> = vec![
        vec!["HELLO", "3"],
        vec!["FUNCTION", "LOAD", one],
        vec!["FUNCTION", "LIST"],
        vec!["FUNCTION", "STATS"],
        vec!["FUNCTION", "FLUSH"],
    ];
    same_replies(&ember, &redis, &cmds);
}
