//! Streams in the RDB: STREAM_LISTPACKS_2 (Redis 7.0) written, 1 to 3
//! read. Each node here is one of Redis's listpacks keyed by its master
//! ID: the master entry (count, deleted, the master fields, a 0), then
//! per entry its flags, the ID deltas, [field count, fields,] values and
//! the element count that lets Redis walk a listpack backwards.

use crate::listpack::{self, Builder, Elem};
use crate::rdb::{ty, Error, Reader, Writer};
use emberkv_core::types::stream::{CGroup, Consumer, Id, Nack, Node, Stream};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::sync::Arc;

const F_DELETED: i64 = 1;
const F_SAMEFIELDS: i64 = 2;

fn raw_id(id: Id) -> [u8; 16] {
    let mut b = [0; 16];
    b[..8].copy_from_slice(&id.ms.to_be_bytes());
    b[8..].copy_from_slice(&id.seq.to_be_bytes());
    b
}

fn node_listpack(master: Id, n: &Node) -> Vec<u8> {
    let mut b = Builder::new();
    b.push_int(n.live() as i64);
    b.push_int((n.count() - n.live()) as i64);
    let fields: Vec<&[u8]> = n.master_fields().collect();
    b.push_int(fields.len() as i64);
    for f in &fields {
        b.push(f);
    }
    b.push_int(0);
    for e in n.entries(master) {
        let flags = e.flags as i64;
        b.push_int(flags);
        b.push_int(e.id.ms.wrapping_sub(master.ms) as i64);
        b.push_int(e.id.seq.wrapping_sub(master.seq) as i64);
        let same = flags & F_SAMEFIELDS != 0;
        if !same {
            b.push_int(e.nfields as i64);
        }
        for (f, v) in n.pairs(&e) {
            if !same {
                b.push(f);
            }
            b.push(v);
        }
        let lp_count = if same {
            e.nfields + 3
        } else {
            2 * e.nfields + 4
        };
        b.push_int(lp_count as i64);
    }
    b.finish()
}

pub fn write_stream<W: Write>(w: &mut Writer<W>, s: &Stream) -> io::Result<()> {
    w.length(s.node_count() as u64)?;
    for (master, n) in s.nodes() {
        w.string(&raw_id(*master))?;
        w.string(&node_listpack(*master, n))?;
    }
    w.length(s.length)?;
    for v in [
        s.last_id.ms,
        s.last_id.seq,
        s.first_id.ms,
        s.first_id.seq,
        s.max_deleted.ms,
        s.max_deleted.seq,
        s.entries_added,
    ] {
        w.length(v)?;
    }
    let Some(groups) = &s.groups else {
        return w.length(0);
    };
    w.length(groups.len() as u64)?;
    for (name, g) in groups.iter() {
        w.string(name)?;
        w.length(g.last_id.ms)?;
        w.length(g.last_id.seq)?;
        // -1 (not known) is written as the 64-bit length it casts to.
        w.length(g.entries_read as u64)?;
        w.length(g.pel.len() as u64)?;
        for (id, nack) in &g.pel {
            w.raw(&raw_id(*id))?;
            w.ms(nack.delivery_time)?;
            w.length(nack.delivery_count)?;
        }
        w.length(g.consumers.len() as u64)?;
        for (cname, c) in &g.consumers {
            w.string(cname)?;
            w.ms(c.seen_time)?;
            w.length(c.pel.len() as u64)?;
            for id in &c.pel {
                w.raw(&raw_id(*id))?;
            }
        }
    }
    Ok(())
}

fn read_raw_id(r: &mut Reader<'_>) -> Result<Id, Error> {
    let b = r.bytes(16)?;
    Ok(Id::new(
        u64::from_be_bytes(b[..8].try_into().expect("8")),
        u64::from_be_bytes(b[8..].try_into().expect("8")),
    ))
}

fn read_id(r: &mut Reader<'_>) -> Result<Id, Error> {
    Ok(Id::new(r.length()?, r.length()?))
}

/// One node's listpack, checked element by element.
fn read_node(r: &mut Reader<'_>, at: u64, master: Id, blob: &[u8]) -> Result<Node, Error> {
    let bad = |what: &str| Error {
        offset: at,
        what: format!("Stream listpack integrity check failed: {what}"),
    };
    let elems = listpack::decode(blob).map_err(|_| bad("invalid listpack"))?;
    let mut it = elems.iter();
    let int = |it: &mut std::slice::Iter<'_, Elem<'_>>| -> Result<i64, Error> {
        match it.next() {
            Some(Elem::Int(v)) => Ok(*v),
            Some(Elem::Str(s)) => std::str::from_utf8(s)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| bad("integer expected")),
            None => Err(bad("truncated entry")),
        }
    };
    let bytes = |e: Option<&Elem<'_>>| -> Result<Vec<u8>, Error> {
        e.map(|e| e.to_vec()).ok_or_else(|| bad("truncated entry"))
    };
    let count = int(&mut it)?;
    let deleted = int(&mut it)?;
    let nmaster = int(&mut it)?;
    if !(0..=elems.len() as i64).contains(&nmaster) || count < 0 || deleted < 0 {
        return Err(bad("master entry"));
    }
    let fields: Vec<Vec<u8>> = (0..nmaster)
        .map(|_| bytes(it.next()))
        .collect::<Result<_, _>>()?;
    if int(&mut it)? != 0 {
        return Err(bad("master entry terminator"));
    }
    let mref: Vec<&[u8]> = fields.iter().map(|f| &f[..]).collect();
    let mut node = Node::new(&mref);
    let (mut live, mut dead) = (0, 0);
    let mut prev: Option<Id> = None;
    while it.len() > 0 {
        let flags = int(&mut it)?;
        let id = Id::new(
            master.ms.wrapping_add(int(&mut it)? as u64),
            master.seq.wrapping_add(int(&mut it)? as u64),
        );
        if id < master || prev.is_some_and(|p| id <= p) {
            return Err(bad("entry IDs out of order"));
        }
        prev = Some(id);
        let same = flags & F_SAMEFIELDS != 0;
        let n = if same { nmaster } else { int(&mut it)? };
        if n < 0 || n as usize > it.len() {
            return Err(bad("field count"));
        }
        let mut owned: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(n as usize);
        let mut mfields = fields.iter();
        for _ in 0..n {
            let f = match mfields.next() {
                Some(f) if same => f.clone(),
                _ => bytes(it.next())?,
            };
            owned.push((f, bytes(it.next())?));
        }
        let want = if same { n + 3 } else { 2 * n + 4 };
        if int(&mut it)? != want {
            return Err(bad("entry element count"));
        }
        let pairs: Vec<(&[u8], &[u8])> = owned.iter().map(|(f, v)| (&f[..], &v[..])).collect();
        let del = flags & F_DELETED != 0;
        node.push_loaded(master, id, &pairs, del);
        if del {
            dead += 1;
        } else {
            live += 1;
        }
    }
    if live != count || dead != deleted {
        return Err(bad("entry counters"));
    }
    if live + dead == 0 {
        return r.fail("Empty listpack inside stream");
    }
    node.shrink();
    Ok(node)
}

/// A stream value of RDB type `t` (STREAM_LISTPACKS 1 to 3).
pub fn read_stream(r: &mut Reader<'_>, t: u8) -> Result<Stream, Error> {
    let mut s = Stream::default();
    let nodes = r.count(2)?;
    // The last entry ID so far: nodes must not overlap, or a range walk
    // and the next XADD would meet IDs out of order.
    let mut last_entry: Option<Id> = None;
    for _ in 0..nodes {
        let at = r.offset();
        let key = r.string()?;
        if key.len() != 16 {
            return r.fail("Stream node key entry is not the size of a stream ID");
        }
        let master = Id::new(
            u64::from_be_bytes(key[..8].try_into().expect("8")),
            u64::from_be_bytes(key[8..].try_into().expect("8")),
        );
        if last_entry.is_some_and(|m| master <= m) {
            return Err(Error {
                offset: at,
                what: "Stream nodes out of order or overlapping".into(),
            });
        }
        let at = r.offset();
        let blob = r.string()?;
        let node = read_node(r, at, master, &blob)?;
        last_entry = Some(node.last_id(master));
        s.insert_loaded_node(master, node);
    }
    s.length = r.length()?;
    s.last_id = read_id(r)?;
    if t >= ty::STREAM_LISTPACKS_2 {
        s.first_id = read_id(r)?;
        s.max_deleted = read_id(r)?;
        s.entries_added = r.length()?;
    } else {
        // Redis 7.0's upgrade of a 5.0/6.x stream: entries_added is the
        // length, the first ID the first live entry.
        s.entries_added = s.length;
        s.first_id = s.edge_id(false).unwrap_or_default();
    }
    if last_entry.is_some_and(|m| s.last_id < m) {
        return r.fail("Stream last_id smaller than the stream's last entry");
    }
    let live: u64 = s.nodes().map(|(_, n)| n.live()).sum();
    if live != s.length {
        return r.fail("Stream length inconsistent with its entries");
    }
    let ngroups = r.count(1)?;
    if ngroups > 0 {
        let mut groups = BTreeMap::new();
        for _ in 0..ngroups {
            let name = r.string()?;
            let last = read_id(r)?;
            let entries_read = if t >= ty::STREAM_LISTPACKS_2 {
                r.length()? as i64
            } else {
                // Not in files from before 7.0: Redis estimates it.
                s.estimate_distance(last).map_or(-1, |d| d as i64)
            };
            let mut g = CGroup::new(last, entries_read);
            let npel = r.count(16 + 8 + 1)?;
            // The owner until a consumer's PEL claims the entry (compared
            // by pointer: a consumer may be named "").
            let unowned: Arc<[u8]> = Arc::from(&b""[..]);
            for _ in 0..npel {
                let id = read_raw_id(r)?;
                let delivery_time = r.ms()?;
                let delivery_count = r.length()?;
                let nack = Nack {
                    delivery_time,
                    delivery_count,
                    consumer: unowned.clone(),
                };
                if g.pel.insert(id, nack).is_some() {
                    return r.fail("Duplicated global PEL entry loading stream consumer group");
                }
            }
            let nconsumers = r.count(1 + 8 + 1)?;
            for _ in 0..nconsumers {
                let cname: Arc<[u8]> = Arc::from(r.string()?);
                let seen_time = r.ms()?;
                if t >= ty::STREAM_LISTPACKS_3 {
                    let _active_time = r.ms()?;
                }
                let n = r.count(16)?;
                let mut pel = BTreeSet::new();
                for _ in 0..n {
                    let id = read_raw_id(r)?;
                    match g.pel.get_mut(&id) {
                        Some(nack) if Arc::ptr_eq(&nack.consumer, &unowned) => {
                            nack.consumer = cname.clone()
                        }
                        _ => return r.fail("Consumer PEL entry not found in group global PEL"),
                    }
                    pel.insert(id);
                }
                if g.consumers
                    .insert(cname, Consumer { seen_time, pel })
                    .is_some()
                {
                    return r.fail("Duplicated consumer name in stream consumer group");
                }
            }
            if g.pel.values().any(|n| Arc::ptr_eq(&n.consumer, &unowned)) {
                return r.fail("Group PEL entry without a consumer");
            }
            if groups.insert(name.into_boxed_slice(), g).is_some() {
                return r.fail("Duplicated consumer group name");
            }
        }
        s.groups = Some(Box::new(groups));
    }
    Ok(s)
}
