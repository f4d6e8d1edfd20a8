//! Geo commands over TCP: Redis's documented examples, every error path,
//! keyspace notifications and propagation, and a differential run of
//! random points (poles, antimeridian and the latitude limits included)
//! and random searches against a real redis-server, byte for byte in
//! RESP2 and RESP3.

mod common;
use common::*;
use std::time::{Duration, Instant};

const SICILY: &[&str] = &[
    "GEOADD",
    "Sicily",
    "13.361389",
    "38.115556",
    "Palermo",
    "15.087269",
    "37.502669",
    "Catania",
];

fn v(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// Redis's documentation examples, with the replies Redis 7.0 gives.
#[test]
fn documented_examples_give_redis_replies() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    assert_eq!(s(&r.cmd(SICILY)), ":2\r\n");
    assert_eq!(
        s(&r.cmd(&["GEODIST", "Sicily", "Palermo", "Catania"])),
        "$11\r\n166274.1516\r\n"
    );
    assert_eq!(
        s(&r.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "km"])),
        "$8\r\n166.2742\r\n"
    );
    assert_eq!(
        s(&r.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "MI"])),
        "$8\r\n103.3182\r\n"
    );
    assert_eq!(
        s(&r.cmd(&["GEODIST", "Sicily", "Palermo", "nope"])),
        "$-1\r\n"
    );
    assert_eq!(
        s(&r.cmd(&["GEOHASH", "Sicily", "Palermo", "Catania", "nope"])),
        "*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n"
    );
    assert_eq!(
        s(&r.cmd(&["GEOPOS", "Sicily", "Palermo", "nope"])),
        "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n"
    );
    assert_eq!(
        s(&r.cmd(&["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"])),
        "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
    );
    assert_eq!(
        s(&r.cmd(&[
            "GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"
        ])),
        "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n\
         *4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"
    );
    r.cmd(&[
        "GEOADD",
        "Sicily",
        "12.758489",
        "38.788135",
        "edge1",
        "17.241510",
        "38.788135",
        "edge2",
    ]);
    assert_eq!(
        s(&r.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "ASC"
        ])),
        "*4\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n$5\r\nedge2\r\n$5\r\nedge1\r\n"
    );
    assert_eq!(
        s(&r.cmd(&[
            "GEOSEARCHSTORE",
            "key2",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "ASC",
            "COUNT",
            "3",
            "STOREDIST"
        ])),
        ":3\r\n"
    );
    assert_eq!(
        s(&r.cmd(&["ZRANGE", "key2", "0", "-1", "WITHSCORES"])),
        "*6\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n$5\r\nedge2\r\n$17\r\n279.7403417843143\r\n"
    );
    assert_eq!(s(&r.cmd(&["TYPE", "key2"])), "+zset\r\n");
    r.cmd(&["HELLO", "3"]);
    assert_eq!(
        s(&r.cmd(&["GEOPOS", "Sicily", "Palermo", "nope"])),
        "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    );
}

/// Fixed commands (every error path, the edges of each option) on both
/// servers, in RESP2 and RESP3.
fn cases() -> Vec<Vec<String>> {
    let mut c: Vec<Vec<String>> = vec![
        v(SICILY),
        v(&["SET", "str", "v"]),
        v(&["GEOADD", "k", "1", "2"]),
        v(&["GEOADD", "k", "1", "2", "m", "x"]),
        v(&["GEOADD", "k", "nx", "xx", "1", "2", "m"]),
        v(&["GEOADD", "k", "XX", "NX", "1", "2", "m"]),
        v(&["GEOADD", "k", "gt", "1", "2", "m"]),
        v(&["GEOADD", "k", "nx", "ch", "xx"]),
        v(&["GEOADD", "k", "ch", "ch", "ch"]),
        v(&["GEOADD", "k", "200", "1", "m"]),
        v(&["GEOADD", "k", "1", "90", "m"]),
        v(&["GEOADD", "k", "-180.000001", "0", "m"]),
        v(&["GEOADD", "k", "abc", "1", "m"]),
        v(&["GEOADD", "k", "1", "abc", "m"]),
        v(&["GEOADD", "k", "inf", "1", "m"]),
        v(&["GEOADD", "k", "1", "-inf", "m"]),
        v(&["GEOADD", "k", "nan", "1", "m"]),
        v(&["GEOADD", "k", " 1", "1", "m"]),
        v(&["GEOADD", "k", "1", "2", "a", "200", "1", "b"]),
        v(&["EXISTS", "k"]),
        v(&[
            "GEOADD",
            "k",
            "180",
            "85.05112878",
            "top",
            "-180",
            "-85.05112878",
            "bottom",
        ]),
        v(&[
            "GEOADD",
            "k",
            "0",
            "0",
            "zero",
            "1e-3",
            "-1e-3",
            "tiny",
            "179.99999",
            "0",
            "am",
        ]),
        v(&[
            "GEOADD", "k", "ch", "0", "0", "zero", "1", "1", "zero", "2", "2", "new",
        ]),
        v(&[
            "GEOADD", "k", "nx", "ch", "5", "5", "zero", "6", "6", "new2",
        ]),
        v(&[
            "GEOADD", "k", "xx", "ch", "5", "5", "zero", "6", "6", "new3",
        ]),
        v(&["GEOADD", "k", "xx", "0", "0", "zero"]),
        v(&["GEOADD", "nokey", "xx", "1", "2", "m"]),
        v(&["EXISTS", "nokey"]),
        v(&["GEOADD", "str", "1", "2", "m"]),
        v(&["GEOADD", "str", "200", "2", "m"]),
        v(&["GEOADD", "str", "1", "2"]),
        v(&["ZRANGE", "k", "0", "-1", "WITHSCORES"]),
        v(&["GEOPOS", "k", "top", "bottom", "zero", "tiny", "am", "nope"]),
        v(&[
            "GEOHASH", "k", "top", "bottom", "zero", "tiny", "am", "nope",
        ]),
        v(&["GEOPOS", "nokey", "a", "b"]),
        v(&["GEOHASH", "nokey", "a"]),
        v(&["GEOPOS", "str", "a"]),
        v(&["GEOHASH", "str", "a"]),
        v(&["GEOPOS", "k"]),
        v(&["GEODIST", "k", "top", "bottom"]),
        v(&["GEODIST", "k", "zero", "tiny", "ft"]),
        v(&["GEODIST", "k", "zero", "zero"]),
        v(&["GEODIST", "k", "zero", "am", "Km"]),
        v(&["GEODIST", "k", "zero", "nope"]),
        v(&["GEODIST", "k", "zero", "tiny", "parsec"]),
        v(&["GEODIST", "k", "zero", "tiny", "km", "extra"]),
        v(&["GEODIST", "nokey", "a", "b"]),
        v(&["GEODIST", "nokey", "a", "b", "bad"]),
        v(&["GEODIST", "str", "a", "b"]),
        v(&["GEODIST", "k", "a"]),
        // ZADD'ed scores that are no GEOADD score decode as on Redis.
        v(&[
            "ZADD",
            "z",
            "-1",
            "neg",
            "1e30",
            "big",
            "1.5",
            "frac",
            "4503599627370496",
            "top",
        ]),
        v(&["GEOPOS", "z", "neg", "big", "frac", "top"]),
        v(&["GEOHASH", "z", "neg", "big", "frac", "top"]),
        v(&[
            "GEORADIUS",
            "z",
            "0",
            "0",
            "20000",
            "km",
            "WITHHASH",
            "WITHCOORD",
            "ASC",
        ]),
    ];
    let radius: &[&[&str]] = &[
        &["15", "37", "200", "km"],
        &[
            "15",
            "37",
            "200",
            "km",
            "WITHDIST",
            "WITHCOORD",
            "WITHHASH",
            "ASC",
        ],
        &["15", "37", "200", "km", "withdist", "desc"],
        &["15", "37", "200", "km", "COUNT", "1"],
        &["15", "37", "200", "km", "COUNT", "1", "DESC"],
        &["15", "37", "200", "km", "COUNT", "1", "ANY"],
        &["15", "37", "200", "km", "ANY", "COUNT", "5"],
        &["15", "37", "200", "km", "COUNT", "0"],
        &["15", "37", "200", "km", "COUNT", "-1"],
        &["15", "37", "200", "km", "COUNT", "x"],
        &["15", "37", "200", "km", "COUNT"],
        &["15", "37", "200", "km", "ANY"],
        &["15", "37", "200", "km", "ANY", "COUNT", "x"],
        &["15", "37", "200", "km", "STORE"],
        &["15", "37", "200", "km", "STORE", "d", "WITHDIST"],
        &["15", "37", "200", "km", "WITHHASH", "STOREDIST", "d"],
        &["15", "37", "200", "km", "STORE", "d", "ANY"],
        &["15", "37", "200", "km", "BYBOX", "1", "1", "km"],
        &["15", "37", "200", "km", "FROMMEMBER", "Palermo"],
        &["15", "37", "-1", "km"],
        &["15", "37", "abc", "km"],
        &["15", "37", "200", "parsec"],
        &["15", "37", "200", "km", "foo"],
        &["200", "37", "200", "km"],
        &["15", "86", "200", "km"],
        &["x", "37", "200", "km"],
        &["15", "37", "0", "m"],
        &[
            "13.361389338970184",
            "38.115556395496299",
            "0",
            "m",
            "WITHDIST",
        ],
        &["15", "37", "inf", "km", "WITHDIST", "ASC"],
        &["15", "37", "1e-300", "km"],
        &["15", "37", "30000", "km", "DESC"],
        &["-179.9", "85", "5000", "km", "ASC"],
    ];
    for a in radius {
        for name in ["GEORADIUS", "GEORADIUS_RO"] {
            let mut x = v(&[name, "Sicily"]);
            x.extend(v(a));
            c.push(x);
        }
    }
    for a in [&["nokey"][..], &["str"]] {
        for tail in [
            &["15", "37", "200", "km"][..],
            &["200", "37", "200", "km"],
            &["15", "37", "200", "km", "STORE", "Sicily2"],
            &["15", "37", "200", "km", "x"],
        ] {
            let mut x = v(&["GEORADIUS"]);
            x.extend(v(a));
            x.extend(v(tail));
            c.push(x);
        }
    }
    c.push(v(&[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "d",
    ]));
    c.push(v(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]));
    c.push(v(&["OBJECT", "ENCODING", "d"]));
    c.push(v(&[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STOREDIST",
        "d",
        "COUNT",
        "1",
    ]));
    c.push(v(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]));
    c.push(v(&[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "e",
        "STOREDIST",
        "d",
    ]));
    c.push(v(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]));
    c.push(v(&["EXISTS", "e"]));
    c.push(v(&[
        "GEORADIUS",
        "Sicily",
        "0",
        "0",
        "1",
        "km",
        "STORE",
        "d",
    ]));
    c.push(v(&["EXISTS", "d"]));
    c.push(v(&["SET", "d", "x"]));
    c.push(v(&[
        "GEORADIUS",
        "nokey",
        "0",
        "0",
        "1",
        "km",
        "STORE",
        "d",
    ]));
    c.push(v(&["EXISTS", "d"]));
    c.push(v(&[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "str2",
    ]));
    c.push(v(&[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "Sicily",
    ]));
    c.push(v(&["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"]));
    c.push(v(SICILY));
    let bymember: &[&[&str]] = &[
        &["Sicily", "Palermo", "200", "km", "WITHDIST", "ASC"],
        &["Sicily", "Palermo", "200", "km", "WITHCOORD", "COUNT", "1"],
        &["Sicily", "nope", "200", "km"],
        &["Sicily", "nope", "x", "km"],
        &["Sicily", "Palermo", "x", "km"],
        &["Sicily", "Palermo", "-5", "km"],
        &["Sicily", "Palermo", "200", "yd"],
        &["Sicily", "Palermo", "200", "km", "STORE", "d"],
        &["Sicily", "Palermo", "200", "km", "STOREDIST", "d", "DESC"],
        &["nokey", "m", "abc", "xx"],
        &["nokey", "m", "abc", "xx", "WITHDIST"],
        &["nokey", "m", "abc", "xx", "bad"],
        &["nokey", "m", "abc", "xx", "STORE", "d"],
        &["str", "m", "1", "km"],
    ];
    for a in bymember {
        for name in ["GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"] {
            let mut x = v(&[name]);
            x.extend(v(a));
            c.push(x);
        }
    }
    c.push(v(&["EXISTS", "d"]));
    let search: &[&[&str]] = &[
        &["FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "WITHCOORD",
            "WITHDIST",
            "WITHHASH",
        ],
        &[
            "FROMMEMBER",
            "Palermo",
            "BYBOX",
            "200",
            "100",
            "km",
            "DESC",
            "WITHDIST",
        ],
        &[
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "200",
            "km",
            "COUNT",
            "1",
            "ANY",
        ],
        &[
            "BYRADIUS",
            "200",
            "km",
            "FROMMEMBER",
            "Catania",
            "COUNT",
            "2",
        ],
        &["FROMMEMBER", "nope", "BYRADIUS", "200", "km"],
        &["FROMLONLAT", "15", "37"],
        &["BYRADIUS", "200", "km"],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "1",
            "km",
        ],
        &[
            "FROMMEMBER",
            "Palermo",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "1",
            "km",
        ],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "1",
            "km",
            "BYBOX",
            "1",
            "1",
            "km",
        ],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "1",
            "1",
            "km",
            "BYRADIUS",
            "1",
            "km",
        ],
        &["FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"],
        &["FROMLONLAT", "15", "37", "BYBOX", "a", "1", "km"],
        &["FROMLONLAT", "15", "37", "BYBOX", "1", "b", "km"],
        &["FROMLONLAT", "15", "37", "BYBOX", "1", "1", "parsec"],
        &["FROMLONLAT", "15", "37", "BYBOX", "1", "1"],
        &["FROMLONLAT", "15", "37", "BYRADIUS", "-1", "km"],
        &["FROMLONLAT", "15", "97", "BYRADIUS", "1", "km"],
        &["FROMLONLAT", "15", "BYRADIUS", "1", "km"],
        &["FROMMEMBER"],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "STORE",
            "d",
        ],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "STOREDIST",
        ],
        &["FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ANY"],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "WITHDIST",
            "ANY",
        ],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "COUNT",
            "0",
        ],
        &["FROMLONLAT", "15", "37", "BYBOX", "0", "0", "km"],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "1000",
            "20",
            "km",
            "ASC",
            "WITHDIST",
        ],
        &[
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "20",
            "1000",
            "km",
            "ASC",
            "WITHDIST",
        ],
    ];
    for a in search {
        for (name, src) in [
            ("GEOSEARCH", &["Sicily"][..]),
            ("geosearch", &["nokey"]),
            ("GeoSearch", &["str"]),
            ("GEOSEARCHSTORE", &["d", "Sicily"]),
            ("geosearchstore", &["d", "nokey"]),
            ("GEOSEARCHSTORE", &["d", "str"]),
        ] {
            let mut x = v(&[name]);
            x.extend(v(src));
            x.extend(v(a));
            c.push(x);
            if name.eq_ignore_ascii_case("geosearchstore") {
                c.push(v(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]));
            }
        }
    }
    c.push(v(&[
        "GEOSEARCHSTORE",
        "str",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
        "STOREDIST",
    ]));
    c.push(v(&["TYPE", "str"]));
    c.push(v(&[
        "GEOSEARCHSTORE",
        "d",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
        "STOREDIST",
        "WITHHASH",
    ]));
    c.push(v(&[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
        "STOREDIST",
        "d",
    ]));
    for (cmd, args) in [
        (
            "GEORADIUS",
            &[
                "Sicily",
                "15",
                "37",
                "1",
                "km",
                "STORE",
                "a",
                "STOREDIST",
                "b",
            ][..],
        ),
        (
            "GEORADIUS",
            &[
                "Sicily",
                "15",
                "37",
                "1",
                "km",
                "STOREDIST",
                "b",
                "STORE",
                "a",
            ],
        ),
        (
            "GEORADIUSBYMEMBER",
            &["Sicily", "m", "1", "km", "STORE", "a"],
        ),
        (
            "GEORADIUS_RO",
            &["Sicily", "15", "37", "1", "km", "STORE", "a"],
        ),
        (
            "GEOSEARCHSTORE",
            &["d", "s", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        ),
        (
            "GEOSEARCH",
            &["s", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        ),
        ("GEOADD", &["k", "1", "2", "m"]),
    ] {
        let mut x = v(&["COMMAND", "GETKEYS", cmd]);
        x.extend(v(args));
        c.push(x);
    }
    c
}

fn run_cases(resp3: bool) {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (redis.raw(), ember.raw());
    if resp3 {
        a.cmd(&["HELLO", "3"]);
        b.cmd(&["HELLO", "3"]);
    }
    for c in cases() {
        let args: Vec<&str> = c.iter().map(|x| x.as_str()).collect();
        let (ra, rb) = (a.cmd(&args), b.cmd(&args));
        assert_eq!(s(&rb), s(&ra), "{c:?} (resp3 {resp3})");
    }
}

#[test]
fn commands_and_errors_match_redis() {
    run_cases(false);
}

#[test]
fn commands_and_errors_match_redis_in_resp3() {
    run_cases(true);
}

/// A coordinate pair: mostly around a few centres (a pole, the
/// antimeridian, the equator, the latitude limits), some anywhere.
fn point(rng: &mut Rng) -> (String, String) {
    let centres = [
        (13.4, 38.1),
        (179.9, 10.0),
        (-179.95, -20.0),
        (0.0, 84.9),
        (100.0, -84.99),
        (0.0, 0.0),
        (-45.0, 66.5),
    ];
    match rng.below(12) {
        0 => {
            let lon = rng.pick(&["-180", "180", "179.99999", "-179.99999", "0", "-0"]);
            let lat = rng.pick(&[
                "85.05112878",
                "-85.05112878",
                "85.05",
                "-85.0511",
                "0",
                "80.1",
            ]);
            (lon.into(), lat.into())
        }
        1 | 2 => {
            let lon = rng.below(360_000_000) as f64 / 1e6 - 180.0;
            let lat = rng.below(170_102_256) as f64 / 1e6 - 85.051128;
            (format!("{lon:.6}"), format!("{lat:.6}"))
        }
        _ => {
            let (cx, cy) = centres[rng.below(centres.len() as u64) as usize];
            let dx = (rng.below(4_000_001) as f64 - 2_000_000.0) / 1e6;
            let dy = (rng.below(2_000_001) as f64 - 1_000_000.0) / 1e6;
            let mut lon = cx + dx;
            if lon > 180.0 {
                lon -= 360.0;
            } else if lon < -180.0 {
                lon += 360.0;
            }
            let lat = (cy + dy).clamp(-85.05, 85.05);
            (format!("{lon:.7}"), format!("{lat:.7}"))
        }
    }
}

fn size(rng: &mut Rng) -> (String, &'static str) {
    let unit = rng.pick(&["m", "km", "mi", "ft", "KM"]);
    let meters = match rng.below(10) {
        0 => 0.0,
        1 => 10.0,
        2 => 5_000.0,
        3..=5 => 50_000.0 + rng.below(300_000) as f64,
        6 | 7 => 500_000.0 + rng.below(1_000_000) as f64,
        8 => 5_000_000.0,
        _ => 21_000_000.0,
    };
    let per = match unit {
        "m" => 1.0,
        "km" | "KM" => 1000.0,
        "mi" => 1609.34,
        _ => 0.3048,
    };
    (format!("{:.3}", meters / per), unit)
}

/// The WITH*, order and COUNT options in a random order.
fn options(rng: &mut Rng, with: bool) -> Vec<String> {
    let mut o: Vec<Vec<String>> = Vec::new();
    if with {
        for w in ["WITHCOORD", "WITHDIST", "WITHHASH"] {
            if rng.below(2) == 0 {
                o.push(v(&[w]));
            }
        }
    }
    match rng.below(3) {
        0 => o.push(v(&["ASC"])),
        1 => o.push(v(&["DESC"])),
        _ => {}
    }
    if rng.below(3) == 0 {
        let n = (1 + rng.below(6)).to_string();
        o.push(v(&["COUNT", &n]));
        if rng.below(3) == 0 {
            o.push(v(&["ANY"]));
        }
    }
    for i in (1..o.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        o.swap(i, j);
    }
    o.concat()
}

fn random_command(rng: &mut Rng) -> Vec<String> {
    let key = rng.pick(&["g0", "g1"]).to_string();
    let member = |rng: &mut Rng| format!("m{}", rng.below(150));
    let mut c = Vec::new();
    match rng.below(16) {
        0..=3 => {
            c.push("GEOADD".to_string());
            c.push(key);
            for o in ["NX", "XX", "CH"] {
                if rng.below(8) == 0 {
                    c.push(o.into());
                }
            }
            for _ in 0..1 + rng.below(4) {
                let (lon, lat) = point(rng);
                c.extend([lon, lat, member(rng)]);
            }
        }
        4 => {
            c.extend(v(&["GEOPOS", &key]));
            c.extend((0..3).map(|_| member(rng)));
        }
        5 => {
            c.extend(v(&["GEOHASH", &key]));
            c.extend((0..3).map(|_| member(rng)));
        }
        6 => {
            c.extend(v(&["GEODIST", &key]));
            c.extend([member(rng), member(rng)]);
            if rng.below(2) == 0 {
                c.push(rng.pick(&["m", "km", "mi", "ft"]).into());
            }
        }
        7 | 8 => {
            let (lon, lat) = point(rng);
            let (r, u) = size(rng);
            let name = rng.pick(&["GEORADIUS", "GEORADIUS_RO"]);
            c.extend([name.to_string(), key, lon, lat, r, u.into()]);
            c.extend(options(rng, true));
        }
        9 => {
            let (r, u) = size(rng);
            let name = rng.pick(&["GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"]);
            c.extend([name.to_string(), key, member(rng), r, u.into()]);
            c.extend(options(rng, true));
        }
        10..=12 => {
            c.extend(v(&["GEOSEARCH", &key]));
            let m = member(rng);
            c.extend(search_args(rng, m));
            c.extend(options(rng, true));
        }
        13 => {
            c.extend(v(&["GEOSEARCHSTORE", "dst", &key]));
            let m = member(rng);
            c.extend(search_args(rng, m));
            c.extend(options(rng, false));
            if rng.below(2) == 0 {
                c.push("STOREDIST".into());
            }
        }
        14 => {
            let (lon, lat) = point(rng);
            let (r, u) = size(rng);
            c.extend(["GEORADIUS".to_string(), key, lon, lat, r, u.into()]);
            c.extend(options(rng, false));
            c.extend(v(&[rng.pick(&["STORE", "STOREDIST"]), "dst"]));
        }
        _ => {
            let k = rng.pick(&["g0", "g1", "dst"]);
            c.extend(v(&["ZRANGE", k, "0", "-1", "WITHSCORES"]));
        }
    }
    c
}

fn search_args(rng: &mut Rng, member: String) -> Vec<String> {
    let mut a = if rng.below(3) == 0 {
        vec!["FROMMEMBER".to_string(), member]
    } else {
        let (lon, lat) = point(rng);
        vec!["FROMLONLAT".to_string(), lon, lat]
    };
    let (r, u) = size(rng);
    if rng.below(2) == 0 {
        a.extend(["BYRADIUS".to_string(), r, u.into()]);
    } else {
        let (h, _) = size(rng);
        a.extend(["BYBOX".to_string(), r, h, u.into()]);
    }
    a
}

/// The elements of an aggregate reply, sorted: Redis leaves the order of
/// COUNT ... ANY without ASC/DESC unspecified.
fn sorted(r: &[u8]) -> Vec<u8> {
    if !r.starts_with(b"*") || r.starts_with(b"*-1") {
        return r.to_vec();
    }
    let nl = r.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let mut items = Vec::new();
    let mut at = nl;
    while at < r.len() {
        let n = reply_len(&r[at..]).unwrap();
        items.push(r[at..at + n].to_vec());
        at += n;
    }
    items.sort();
    let mut out = r[..nl].to_vec();
    for i in items {
        out.extend(i);
    }
    out
}

fn normalize(c: &[String], r: &[u8]) -> Vec<u8> {
    let has = |w: &str| c.iter().any(|a| a.eq_ignore_ascii_case(w));
    if has("ANY") && !has("ASC") && !has("DESC") {
        sorted(r)
    } else {
        r.to_vec()
    }
}

fn run_random(seed: u64, n: usize, resp3: bool, small: bool) {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (redis.raw(), ember.raw());
    let mut setup = Vec::new();
    if resp3 {
        setup.push(v(&["HELLO", "3"]));
    }
    if small {
        setup.push(v(&["CONFIG", "SET", "zset-max-listpack-entries", "4"]));
    }
    let mut rng = Rng(seed);
    // A populated start, so searches find points from the first one.
    for _ in 0..60 {
        let mut c = v(&["GEOADD", rng.pick(&["g0", "g1"])]);
        for _ in 0..5 {
            let (lon, lat) = point(&mut rng);
            c.extend([lon, lat, format!("m{}", rng.below(150))]);
        }
        setup.push(c);
    }
    for c in &setup {
        let args: Vec<&str> = c.iter().map(|x| x.as_str()).collect();
        let (ra, rb) = (a.cmd(&args), b.cmd(&args));
        // HELLO's reply carries the client id.
        if c[0] != "HELLO" {
            assert_eq!(s(&rb), s(&ra), "setup {c:?}");
        }
    }
    // Searches that found something: the run must exercise real results.
    let mut hits = 0;
    for i in 0..n {
        let c = random_command(&mut rng);
        let args: Vec<&str> = c.iter().map(|x| x.as_str()).collect();
        let (ra, rb) = (a.cmd(&args), b.cmd(&args));
        if c[0].starts_with("GEO") && (ra.starts_with(b"*") || ra.starts_with(b":")) {
            hits += (ra.len() > 4 && &ra[..4] != b"*0\r\n" && &ra[..4] != b":0\r\n") as usize;
        }
        assert_eq!(
            s(&normalize(&c, &rb)),
            s(&normalize(&c, &ra)),
            "reply #{i} differs for {c:?} (seed {seed:#x}, resp3 {resp3}, small {small})"
        );
    }
    assert!(hits > n / 5, "only {hits} of {n} commands found points");
    for k in ["g0", "g1", "dst"] {
        let c = ["ZRANGE", k, "0", "-1", "WITHSCORES"];
        assert_eq!(s(&b.cmd(&c)), s(&a.cmd(&c)), "final {k}");
    }
}

#[test]
fn random_points_and_searches_match_redis() {
    run_random(0x6a09e667f3bcc908, 6000, false, false);
    run_random(0x510e527fade682d1, 4000, false, false);
}

#[test]
fn random_points_and_searches_match_redis_in_resp3() {
    run_random(0xbb67ae8584caa73b, 4000, true, false);
}

#[test]
fn random_points_and_searches_match_redis_with_large_encodings() {
    run_random(0x3c6ef372fe94f82b, 5000, false, true);
    run_random(0x9b05688c2b3e6c1f, 3000, true, true);
}

/// The keyspace events of every geo write, as Redis names them.
#[test]
fn notifications_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let events = |port: u16| -> Vec<String> {
        let mut sub = Raw::connect(port);
        let mut c = Raw::connect(port);
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        let cmds: &[&[&str]] = &[
            SICILY,
            &["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"],
            &["GEOADD", "Sicily", "xx", "1", "1", "nope"],
            &["GEOADD", "Sicily", "ch", "1", "1", "Palermo"],
            &["GEORADIUS", "Sicily", "15", "37", "500", "km", "STORE", "d"],
            &[
                "GEORADIUS",
                "Sicily",
                "15",
                "37",
                "500",
                "km",
                "STOREDIST",
                "d",
            ],
            &[
                "GEORADIUSBYMEMBER",
                "Sicily",
                "Catania",
                "1",
                "km",
                "STORE",
                "d2",
            ],
            &[
                "GEOSEARCHSTORE",
                "d",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "500",
                "km",
            ],
            &[
                "GEOSEARCHSTORE",
                "d",
                "Sicily",
                "FROMLONLAT",
                "0",
                "0",
                "BYRADIUS",
                "1",
                "km",
            ],
            &[
                "GEOSEARCHSTORE",
                "d",
                "Sicily",
                "FROMLONLAT",
                "0",
                "0",
                "BYRADIUS",
                "1",
                "km",
            ],
            &["SET", "d", "x"],
            &["GEORADIUS", "nokey", "15", "37", "500", "km", "STORE", "d"],
            &["GEORADIUS_RO", "Sicily", "15", "37", "500", "km"],
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMMEMBER",
                "Catania",
                "BYBOX",
                "1",
                "1",
                "km",
            ],
            &["SET", "end", "1"],
        ];
        for cmd in cmds {
            c.cmd(cmd);
        }
        let mut got = Vec::new();
        sub.reply();
        loop {
            let m = s(&sub.reply());
            let done = m.contains("\r\nend\r\n");
            got.push(m);
            if done {
                return got;
            }
        }
    };
    assert_eq!(events(ember.port), events(redis.port));
}

/// GEOADD goes to replicas and the AOF as the ZADD it is; the STORE forms
/// as they were sent; reads as nothing.
#[test]
fn propagation_matches_redis() {
    let (port, stream, srv) = common::start_in_process(&["--server-threads", "1"]);
    let mut e = Raw::connect(port);
    e.cmd(SICILY);
    e.cmd(&[
        "GEOADD",
        "Sicily",
        "CH",
        "xx",
        "13.361389",
        "38.115556",
        "Palermo",
        "1",
        "2",
        "new",
    ]);
    e.cmd(&["GEOADD", "Sicily", "nx", "1", "2", "Palermo", "3", "4", "x"]);
    e.cmd(&["GEOPOS", "Sicily", "x"]);
    e.cmd(&["GEORADIUS_RO", "Sicily", "15", "37", "500", "km"]);
    e.cmd(&["GEORADIUS", "Sicily", "15", "37", "500", "km", "STORE", "d"]);
    e.cmd(&["GEORADIUS", "Sicily", "15", "37", "500", "km"]);
    e.cmd(&[
        "GEOSEARCHSTORE",
        "d",
        "Sicily",
        "FROMLONLAT",
        "0",
        "0",
        "BYRADIUS",
        "1",
        "km",
    ]);
    e.cmd(&[
        "GEOSEARCHSTORE",
        "d",
        "Sicily",
        "FROMLONLAT",
        "0",
        "0",
        "BYRADIUS",
        "1",
        "km",
    ]);
    let mark = srv.stream.mark();
    let end = Instant::now() + Duration::from_secs(10);
    while !srv.stream.reached(mark) {
        assert!(Instant::now() < end, "stream did not catch up");
        std::thread::sleep(Duration::from_millis(1));
    }
    let got = std::mem::take(&mut *stream.lock());
    let want: Vec<Vec<&[u8]>> = vec![
        vec![b"SELECT", b"0"],
        vec![
            b"zadd",
            b"Sicily",
            b"3479099956230698",
            b"Palermo",
            b"3479447370796909",
            b"Catania",
        ],
        vec![
            b"zadd",
            b"Sicily",
            b"nx",
            b"3378080408407459",
            b"Palermo",
            b"3379626039612548",
            b"x",
        ],
        vec![
            b"GEORADIUS",
            b"Sicily",
            b"15",
            b"37",
            b"500",
            b"km",
            b"STORE",
            b"d",
        ],
        vec![
            b"GEOSEARCHSTORE",
            b"d",
            b"Sicily",
            b"FROMLONLAT",
            b"0",
            b"0",
            b"BYRADIUS",
            b"1",
            b"km",
        ],
    ];
    let want: Vec<u8> = want.iter().flat_map(|c| encode(c)).collect();
    assert_eq!(s(&got), s(&want));
}

/// `rdb_changes_since_last_save` moves as on Redis: GEOADD by the points
/// added or moved (as ZADD), the STORE forms by the members stored.
#[test]
fn dirty_counts_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let cmds: &[&[&str]] = &[
        SICILY,
        &[
            "GEOADD",
            "Sicily",
            "1",
            "1",
            "Palermo",
            "2",
            "2",
            "x",
            "15.087269",
            "37.502669",
            "Catania",
        ],
        &["GEOADD", "Sicily", "nx", "1", "1", "Palermo"],
        &[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "20000",
            "km",
            "STORE",
            "d",
        ],
        &[
            "GEOSEARCHSTORE",
            "d",
            "Sicily",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "m",
        ],
        &[
            "GEOSEARCHSTORE",
            "d",
            "Sicily",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "m",
        ],
        &[
            "GEOSEARCHSTORE",
            "d",
            "Sicily",
            "FROMMEMBER",
            "x",
            "BYBOX",
            "20000",
            "20000",
            "km",
        ],
    ];
    let changes = |srv: &Server| -> i64 {
        info_field(srv, "persistence", "rdb_changes_since_last_save")
            .parse()
            .unwrap()
    };
    let (mut a, mut b) = (redis.raw(), ember.raw());
    for c in cmds {
        let (ca, cb) = (changes(&redis), changes(&ember));
        a.cmd(c);
        b.cmd(c);
        assert_eq!(changes(&ember) - cb, changes(&redis) - ca, "{c:?}");
    }
}
