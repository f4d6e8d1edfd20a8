//! The bitmap tests' inputs: the scripted error paths and edges, and the
//! random command generator.

use crate::common::Rng;

/// Every error path and edge, in Redis 7.0.15's words.
pub const SCRIPT: &[&[&str]] = &[
    &["SET", "s", "foobar"],
    &["SET", "n", "123"],
    &["SET", "e", ""],
    &["RPUSH", "l", "a"],
    // GETBIT / SETBIT: offset, then value, then type.
    &["GETBIT", "s", "0"],
    &["GETBIT", "s", "1"],
    &["GETBIT", "s", "100"],
    &["GETBIT", "nokey", "5"],
    &["GETBIT", "s", "-1"],
    &["GETBIT", "s", "x"],
    &["GETBIT", "s", "1.5"],
    &["GETBIT", "s", "#1"],
    &["GETBIT", "l", "x"],
    &["GETBIT", "l", "0"],
    &["GETBIT", "s", "4294967295"],
    &["GETBIT", "s", "4294967296"],
    &["GETBIT", "n", "2"],
    &["SETBIT", "l", "x", "1"],
    &["SETBIT", "l", "0", "2"],
    &["SETBIT", "l", "0", "1"],
    &["SETBIT", "s", "0", "2"],
    &["SETBIT", "s", "0", "-1"],
    &["SETBIT", "s", "0", "x"],
    &["SETBIT", "s", "0", ""],
    &["SETBIT", "s", "4294967296", "1"],
    &["SETBIT", "s", "-1", "1"],
    &["SETBIT", "s", "4294967295", "x"],
    &["SETBIT", "b", "7", "1"],
    &["SETBIT", "b", "7", "1"],
    &["SETBIT", "b", "7", "0"],
    &["SETBIT", "b", "100", "0"],
    &["GET", "b"],
    &["STRLEN", "b"],
    &["OBJECT", "ENCODING", "b"],
    &["OBJECT", "ENCODING", "n"],
    &["SETBIT", "n", "0", "0"],
    &["OBJECT", "ENCODING", "n"],
    &["GET", "n"],
    &["SET", "n2", "42"],
    &["SETBIT", "n2", "7", "0"],
    &["GET", "n2"],
    &["OBJECT", "ENCODING", "n2"],
    // BITCOUNT: the key first, then start, end and the unit.
    &["BITCOUNT", "s"],
    &["BITCOUNT", "s", "0", "0"],
    &["BITCOUNT", "s", "1", "1"],
    &["BITCOUNT", "s", "1", "-2"],
    &["BITCOUNT", "s", "-1", "-2"],
    &["BITCOUNT", "s", "-100", "-200"],
    &["BITCOUNT", "s", "-100", "100"],
    &["BITCOUNT", "s", "5", "30", "BIT"],
    &["BITCOUNT", "s", "5", "30", "bit"],
    &["BITCOUNT", "s", "0", "1", "BYTE"],
    &["BITCOUNT", "s", "-3", "-1", "BIT"],
    &["BITCOUNT", "s", "40", "100", "BIT"],
    &["BITCOUNT", "s", "0"],
    &["BITCOUNT", "s", "0", "1", "2", "3"],
    &["BITCOUNT", "s", "x", "1"],
    &["BITCOUNT", "s", "0", "x"],
    &["BITCOUNT", "s", "0", "1", "foo"],
    &["BITCOUNT", "s", "x", "1", "foo"],
    &["BITCOUNT", "nokey"],
    &["BITCOUNT", "nokey", "0"],
    &["BITCOUNT", "nokey", "x", "y", "foo"],
    &["BITCOUNT", "l"],
    &["BITCOUNT", "l", "x"],
    &["BITCOUNT", "e"],
    &["BITCOUNT", "e", "0", "-1", "BIT"],
    &["BITCOUNT", "n"],
    &["BITCOUNT", "n", "0", "0"],
    // BITPOS: the bit, the key, then start, the unit and the end.
    &["BITPOS", "s", "1"],
    &["BITPOS", "s", "0"],
    &["BITPOS", "s", "1", "2"],
    &["BITPOS", "s", "1", "2", "-1"],
    &["BITPOS", "s", "0", "-1"],
    &["BITPOS", "s", "1", "7", "15", "BIT"],
    &["BITPOS", "s", "0", "1", "1", "BYTE"],
    &["BITPOS", "s", "1", "-100", "-200"],
    &["BITPOS", "s", "0", "-100", "-200"],
    &["BITPOS", "s", "1", "100"],
    &["BITPOS", "s", "0", "100"],
    &["BITPOS", "s", "2"],
    &["BITPOS", "s", "-1"],
    &["BITPOS", "s", "x"],
    &["BITPOS", "nokey", "2"],
    &["BITPOS", "nokey", "x"],
    &["BITPOS", "nokey", "1"],
    &["BITPOS", "nokey", "0"],
    &["BITPOS", "nokey", "1", "x"],
    &["BITPOS", "nokey", "0", "0", "1", "foo"],
    &["BITPOS", "l", "1"],
    &["BITPOS", "l", "2"],
    &["BITPOS", "l", "1", "x"],
    &["BITPOS", "s", "1", "x"],
    &["BITPOS", "s", "1", "0", "x"],
    &["BITPOS", "s", "1", "0", "1", "foo"],
    &["BITPOS", "s", "1", "0", "x", "foo"],
    &["BITPOS", "s", "1", "x", "0", "foo"],
    &["BITPOS", "s", "1", "0", "1", "BIT", "x"],
    &["BITPOS", "e", "0"],
    &["BITPOS", "e", "1"],
    &["BITPOS", "n", "0"],
    &["SETBIT", "ones", "23", "1"],
    &["BITOP", "NOT", "ones", "nokey"],
    &["BITOP", "NOT", "ones", "ones"],
    &["SET", "ones", "\u{7f}\u{7f}\u{7f}"],
    &["BITPOS", "ones", "0", "1"],
    &["BITPOS", "ones", "0", "1", "-1"],
    &["BITPOS", "ones", "0", "10"],
    // BITOP: the operation, NOT's arity, the sources' types.
    &["BITOP", "AND", "d", "s", "n"],
    &["GET", "d"],
    &["OBJECT", "ENCODING", "d"],
    &["BITOP", "or", "d", "s", "n", "nokey"],
    &["GET", "d"],
    &["BITOP", "XOR", "d", "s", "s"],
    &["GET", "d"],
    &["STRLEN", "d"],
    &["BITOP", "NOT", "d", "s"],
    &["GET", "d"],
    &["BITOP", "AND", "d", "nokey", "nokey2"],
    &["EXISTS", "d"],
    &["BITOP", "AND", "d", "nokey"],
    &["BITOP", "foo", "d", "s"],
    &["BITOP", "diff", "d", "s", "s"],
    &["BITOP", "NOT", "d", "s", "s"],
    &["BITOP", "NOT", "d", "l"],
    &["BITOP", "AND", "d", "s", "l"],
    &["BITOP", "AND", "d", "l", "s"],
    &["BITOP", "OR", "l2", "s"],
    &["RPUSH", "l2", "x"],
    &["BITOP", "OR", "l2", "s"],
    &["TYPE", "l2"],
    &["BITOP", "AND", "s2", "e"],
    &["SET", "t", "v", "EX", "100"],
    &["BITOP", "OR", "t", "s"],
    &["TTL", "t"],
    &["OBJECT", "ENCODING", "t"],
    // BITFIELD: the operations in order (name, type, offset, value), then
    // the key.
    &["BITFIELD", "bf", "SET", "u8", "0", "255", "GET", "u8", "0"],
    &["BITFIELD", "bf", "INCRBY", "u8", "0", "10"],
    &[
        "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1000",
    ],
    &[
        "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1",
    ],
    &[
        "BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "-200",
    ],
    &[
        "BITFIELD", "bf", "SET", "i8", "#1", "-100", "GET", "i8", "8",
    ],
    &[
        "BITFIELD", "bf", "SET", "u8", "0", "-1", "OVERFLOW", "SAT", "SET", "u8", "8", "-1",
    ],
    &[
        "BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "0", "256", "SET", "i8", "0", "-128",
    ],
    &[
        "BITFIELD", "bf", "GET", "u63", "0", "GET", "i64", "0", "GET", "i1", "0", "GET", "u1", "0",
    ],
    &[
        "BITFIELD",
        "bf",
        "SET",
        "i64",
        "3",
        "-9223372036854775808",
        "INCRBY",
        "i64",
        "3",
        "-1",
    ],
    &[
        "BITFIELD",
        "bf",
        "OVERFLOW",
        "SAT",
        "INCRBY",
        "i64",
        "3",
        "-1",
        "INCRBY",
        "i64",
        "3",
        "9223372036854775807",
    ],
    &[
        "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i64", "3", "1",
    ],
    &[
        "BITFIELD",
        "bf",
        "SET",
        "u63",
        "1",
        "9223372036854775807",
        "INCRBY",
        "u63",
        "1",
        "1",
    ],
    &["GET", "bf"],
    &["BITFIELD", "bf"],
    &["BITFIELD", "bf", "OVERFLOW", "WRAP"],
    &["BITFIELD", "bf", "GET", "u8", "1000000"],
    &["BITFIELD", "bf", "GET", "u64", "0"],
    &["BITFIELD", "bf", "GET", "i65", "0"],
    &["BITFIELD", "bf", "GET", "i0", "0"],
    &["BITFIELD", "bf", "GET", "u0", "0"],
    &["BITFIELD", "bf", "GET", "I8", "0"],
    &["BITFIELD", "bf", "GET", "i08", "0"],
    &["BITFIELD", "bf", "GET", "i", "0"],
    &["BITFIELD", "bf", "GET", "", "0"],
    &["BITFIELD", "bf", "GET", "x8", "0"],
    &["BITFIELD", "bf", "GET", "u8", "-1"],
    &["BITFIELD", "bf", "GET", "u8", "#-1"],
    &["BITFIELD", "bf", "GET", "u8", "#"],
    &["BITFIELD", "bf", "GET", "u8", "#1"],
    &["BITFIELD", "bf", "GET", "u8", "##1"],
    &["BITFIELD", "bf", "GET", "u8", "#2305843009213693952"],
    &["BITFIELD", "bf", "GET", "u8", "4294967295"],
    &["BITFIELD", "bf", "GET", "u8", "4294967296"],
    &["BITFIELD", "bf", "GET", "u8", "#536870911"],
    &["BITFIELD", "bf", "GET", "u8", "#536870912"],
    &["BITFIELD", "bf", "GET", "u8"],
    &["BITFIELD", "bf", "SET", "u8", "0"],
    &["BITFIELD", "bf", "INCRBY", "u8", "0"],
    &["BITFIELD", "bf", "foo"],
    &["BITFIELD", "bf", "OVERFLOW"],
    &["BITFIELD", "bf", "OVERFLOW", "foo", "GET", "u8", "0"],
    &["BITFIELD", "bf", "OVERFLOW", "sat", "OVERFLOW", "fail"],
    &["BITFIELD", "bf", "SET", "u8", "0", "x"],
    &["BITFIELD", "bf", "INCRBY", "u8", "0", "1.5"],
    &["BITFIELD", "bf", "GET", "u8", "0", "SET", "x", "0", "1"],
    &["BITFIELD", "bf", "SET", "x", "0", "y"],
    &["BITFIELD", "bf", "SET", "u8", "x", "y"],
    &["BITFIELD", "l", "GET", "u8", "0"],
    &["BITFIELD", "l", "SET", "u8", "0", "1"],
    &["BITFIELD", "l"],
    &["BITFIELD", "l", "GET", "x", "0"],
    &["BITFIELD", "l", "GET", "u8", "0", "SET", "u8", "0", "x"],
    &["BITFIELD", "nokey", "GET", "u8", "0", "GET", "i64", "100"],
    &["EXISTS", "nokey"],
    &[
        "BITFIELD", "created", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100",
    ],
    &["GET", "created"],
    &["OBJECT", "ENCODING", "created"],
    &["BITFIELD", "n", "GET", "u8", "0", "GET", "u8", "8"],
    &[
        "BITFIELD", "n", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000",
    ],
    &["OBJECT", "ENCODING", "n"],
    &["SET", "n3", "7"],
    &[
        "BITFIELD", "n3", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000",
    ],
    &["OBJECT", "ENCODING", "n3"],
    &[
        "BITFIELD", "grow", "SET", "u8", "#3", "1", "GET", "u16", "#100",
    ],
    &["GET", "grow"],
    &["BITFIELD", "grow", "SET", "u8", "0", "0"],
    // BITFIELD_RO: GET only, refused before the type is checked.
    &["BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i16", "#1"],
    &["BITFIELD_RO", "bf"],
    &["BITFIELD_RO", "bf", "SET", "u8", "0", "1"],
    &["BITFIELD_RO", "bf", "INCRBY", "u8", "0", "1"],
    &["BITFIELD_RO", "bf", "OVERFLOW", "FAIL", "GET", "u8", "0"],
    &["BITFIELD_RO", "l", "SET", "u8", "0", "1"],
    &["BITFIELD_RO", "l", "GET", "u8", "0"],
    &["BITFIELD_RO", "l", "GET", "x", "0"],
    &["BITFIELD_RO", "nokey", "GET", "u8", "0"],
    &["BITFIELD_RO", "bf", "SET", "u8", "0", "x"],
    // Arity.
    &["SETBIT", "s", "0"],
    &["GETBIT", "s"],
    &["BITCOUNT"],
    &["BITPOS", "s"],
    &["BITOP", "AND", "d"],
    &["BITOP", "NOT", "d"],
    &["BITFIELD"],
    &["BITFIELD_RO"],
    &["COMMAND", "GETKEYS", "BITOP", "AND", "d", "a", "b"],
    &["COMMAND", "GETKEYS", "BITFIELD", "k", "GET", "u8", "0"],
];

/// A random bitmap command over a few keys: `l` is a list (WRONGTYPE),
/// `n` often an int-encoded string.
pub fn random_command(rng: &mut Rng) -> Vec<String> {
    let keys = ["k0", "k1", "k2", "n", "l"];
    let idx = [
        "0", "1", "2", "3", "7", "8", "15", "-1", "-2", "-9", "-100", "100", "x",
    ];
    let offs = [
        "0", "1", "5", "7", "8", "13", "31", "63", "64", "100", "1000", "#0", "#1", "#3", "#40",
        "-1", "x",
    ];
    let types = [
        "u1", "u3", "u8", "u16", "u63", "i1", "i5", "i8", "i32", "i64", "u64", "i0",
    ];
    let vals = [
        "0",
        "1",
        "-1",
        "5",
        "127",
        "128",
        "255",
        "-128",
        "1000",
        "-1000",
        "9223372036854775807",
        "-9223372036854775808",
        "x",
    ];
    let k = rng.pick(&keys).to_string();
    let pick = |rng: &mut Rng, v: &[&str]| rng.pick(v).to_string();
    let mut c: Vec<String> = Vec::new();
    match rng.below(17) {
        0 | 1 => {
            let off = if rng.below(4) == 0 {
                rng.below(3000).to_string()
            } else {
                rng.below(80).to_string()
            };
            let bit = pick(rng, &["0", "1", "1", "2"]);
            c.extend(["SETBIT".into(), k, off, bit]);
        }
        2 => c.extend(["GETBIT".into(), k, rng.below(90).to_string()]),
        3 | 4 => {
            c.extend(["BITCOUNT".into(), k]);
            match rng.below(4) {
                0 => {}
                1 => c.extend([pick(rng, &idx), pick(rng, &idx)]),
                _ => c.extend([
                    pick(rng, &idx),
                    pick(rng, &idx),
                    pick(rng, &["BIT", "BYTE", "bit"]),
                ]),
            }
        }
        5 | 6 => {
            c.extend(["BITPOS".into(), k, pick(rng, &["0", "1", "1", "0", "2"])]);
            let n = rng.below(4);
            if n >= 1 {
                c.push(pick(rng, &idx));
            }
            if n >= 2 {
                c.push(pick(rng, &idx));
            }
            if n >= 3 {
                c.push(pick(rng, &["BIT", "BYTE", "BIT"]));
            }
        }
        7 | 8 => {
            let op = pick(rng, &["AND", "OR", "XOR", "NOT", "and"]);
            c.extend(["BITOP".into(), op, pick(rng, &keys)]);
            let n = 1 + rng.below(3);
            for _ in 0..n {
                c.push(pick(rng, &keys));
            }
        }
        9..=11 => {
            c.extend([pick(rng, &["BITFIELD", "BITFIELD", "BITFIELD_RO"]), k]);
            for _ in 0..1 + rng.below(3) {
                match rng.below(7) {
                    0 => c.extend(["OVERFLOW".into(), pick(rng, &["WRAP", "SAT", "FAIL"])]),
                    1 | 2 => c.extend(["GET".into(), pick(rng, &types), pick(rng, &offs)]),
                    3 | 4 => c.extend([
                        "SET".into(),
                        pick(rng, &types),
                        pick(rng, &offs),
                        pick(rng, &vals),
                    ]),
                    _ => c.extend([
                        "INCRBY".into(),
                        pick(rng, &types),
                        pick(rng, &offs),
                        pick(rng, &vals),
                    ]),
                }
            }
        }
        12 => {
            let v = pick(
                rng,
                &[
                    "foobar",
                    "123",
                    "",
                    "-7",
                    "\u{7f}\u{7f}",
                    "abcdefghijklmnopqrstuvwxyz0123456789",
                ],
            );
            c.extend(["SET".into(), k, v]);
        }
        13 => c.extend(["APPEND".into(), k, pick(rng, &["a", "12", "zzzzzzzzz"])]),
        14 => c.extend([pick(rng, &["GET", "STRLEN", "OBJECT"]), k]),
        15 => c.extend(["INCR".into(), k]),
        _ => c.extend([pick(rng, &["DEL", "GET"]), k]),
    }
    if c[0] == "OBJECT" {
        c.insert(1, "ENCODING".into());
    }
    c
}
