use super::read::{self, Len, Str};
use super::*;

fn written(f: impl FnOnce(&mut Writer<&mut Vec<u8>>), compress: bool) -> Vec<u8> {
    let mut v = Vec::new();
    let mut w = Writer::new(&mut v, compress);
    f(&mut w);
    w.into_inner().unwrap();
    v
}

#[test]
fn lengths_use_redis_widths() {
    for (n, bytes) in [
        (0u64, vec![0x00]),
        (63, vec![0x3f]),
        (64, vec![0x40, 0x40]),
        (16383, vec![0x7f, 0xff]),
        (16384, vec![0x80, 0, 0, 0x40, 0]),
        (u32::MAX as u64, vec![0x80, 0xff, 0xff, 0xff, 0xff]),
        (1 << 32, vec![0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
    ] {
        let b = written(|w| w.length(n).unwrap(), false);
        assert_eq!(b, bytes, "{n}");
        assert_eq!(Reader::new(&b, 0).len_or_enc(), Ok(Len::Plain(n)));
    }
}

#[test]
fn integer_strings_take_the_integer_encodings() {
    for (s, bytes) in [
        (&b"0"[..], vec![0xc0, 0]),
        (b"-128", vec![0xc0, 0x80]),
        (b"300", vec![0xc1, 0x2c, 0x01]),
        (b"-70000", vec![0xc2, 0x90, 0xee, 0xfe, 0xff]),
        // Not canonical, or past 32 bits: raw text.
        (b"007", vec![3, b'0', b'0', b'7']),
        (b"+1", vec![2, b'+', b'1']),
        (b"-0", vec![2, b'-', b'0']),
        (b"4294967296", [&[10u8][..], b"4294967296"].concat()),
    ] {
        let b = written(|w| w.string(s).unwrap(), true);
        assert_eq!(b, bytes, "{:?}", String::from_utf8_lossy(s));
        assert_eq!(Reader::new(&b, 0).string().unwrap(), s);
    }
    let b = written(|w| w.string(b"-70000").unwrap(), false);
    assert_eq!(Reader::new(&b, 0).string_or_int(), Ok(Str::Int(-70000)));
}

#[test]
fn long_strings_are_lzf_compressed_when_it_saves_four_bytes() {
    let s = b"abcabcabcabcabcabcabcabcabcabcabcabc".to_vec();
    let b = written(|w| w.string(&s).unwrap(), true);
    assert_eq!(b[0], 0xc3);
    assert!(b.len() < s.len());
    assert_eq!(Reader::new(&b, 0).string().unwrap(), s);
    // Off, or incompressible: raw.
    let b = written(|w| w.string(&s).unwrap(), false);
    assert_eq!(b[0] as usize, s.len());
    let noise: Vec<u8> = (0..64u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let b = written(|w| w.string(&noise).unwrap(), true);
    assert_eq!(b[0] as usize, noise.len());
}

#[test]
fn faults_name_their_offset() {
    let b = [0x05, b'a', b'b'];
    let e = Reader::new(&b, 100).string().unwrap_err();
    assert_eq!(e.offset, 101);
    assert!(e.to_string().contains("at offset 101"), "{e}");
    // A length the file cannot hold.
    let b = [0x80, 0xff, 0xff, 0xff, 0xff, 0];
    assert_eq!(Reader::new(&b, 0).count(1).unwrap_err().offset, 0);
    // A corrupt LZF body.
    let b = [0xc3, 0x02, 0x10, 0xff, 0xff];
    assert!(Reader::new(&b, 0)
        .string()
        .unwrap_err()
        .what
        .contains("LZF"));
    // A claimed length no LZF body of that size can give (4 GiB from 2
    // bytes) is refused before anything is allocated for it.
    let b = [0xc3, 0x02, 0x80, 0xff, 0xff, 0xff, 0xff, 0x01, 0x41];
    let e = Reader::new(&b, 0).string().unwrap_err();
    assert!(e.what.contains("LZF"), "{e}");
}

#[test]
fn the_trailer_is_redis_crc64() {
    // CRC-64/REDIS's check value.
    assert_eq!(Crc64::of(b"123456789"), 0xe9c6d914c4b8d9ca);
    let mut v = Vec::new();
    let mut w = Writer::new(&mut v, true);
    w.header(VERSION).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    w.finish(true).unwrap();
    assert_eq!(&v[..9], b"REDIS0010");
    assert_eq!(read::header(&mut Reader::new(&v, 0)), Ok(10));
    assert_eq!(read::check_crc(&v), Ok(()));
    let n = v.len();
    v[n - 9] ^= 1;
    assert!(read::check_crc(&v)
        .unwrap_err()
        .what
        .contains("wrong RDB checksum"));
    assert!(read::header(&mut Reader::new(b"REDIS0012", 0)).is_err());
}
