//! Messages from clients: the few the proxy reads (the startup packet, `Query`, `Parse`, and
//! the names in `Bind`, `Execute`, `Describe` and `Close`), and the two it rewrites (`Query`,
//! `Parse`). Everything else is forwarded as the client sent it. Pure functions over byte
//! slices: no panics on any input (fuzzed: `fuzz/fuzz_targets/proxy_frontend.rs`).
//!
//! postgres-protocol writes frontend messages but does not read them, so the reading is here:
//! a message is a type byte, a big-endian length that counts itself, and a body; strings are
//! NUL-terminated.

use bytes::{BufMut, BytesMut};

use super::WireError;

/// `SSLRequest` code in a startup packet.
pub const SSL_REQUEST: i32 = 80877103;
/// `GSSENCRequest` code.
pub const GSSENC_REQUEST: i32 = 80877104;
/// `CancelRequest` code.
pub const CANCEL_REQUEST: i32 = 80877102;
/// Protocol 3.0.
pub const PROTOCOL_3_0: i32 = 196608;
/// The server's own limit for a startup packet (`MAX_STARTUP_PACKET_LENGTH`).
pub const MAX_STARTUP: usize = 10_000;

/// A decoded startup packet (the body after its length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    Ssl,
    GssEnc,
    Cancel {
        pid: i32,
        key: i32,
    },
    Startup {
        version: i32,
        params: Vec<(String, String)>,
    },
}

/// Decode the startup packet's body (everything after the 4-byte length).
pub fn decode_startup(body: &[u8]) -> Result<Startup, WireError> {
    let code = be_i32(body, 0).ok_or(WireError::Malformed("startup packet shorter than 8 bytes"))?;
    match code {
        SSL_REQUEST if body.len() == 4 => Ok(Startup::Ssl),
        GSSENC_REQUEST if body.len() == 4 => Ok(Startup::GssEnc),
        CANCEL_REQUEST if body.len() == 12 => Ok(Startup::Cancel {
            pid: be_i32(body, 4).unwrap_or(0),
            key: be_i32(body, 8).unwrap_or(0),
        }),
        SSL_REQUEST | GSSENC_REQUEST | CANCEL_REQUEST => {
            Err(WireError::Malformed("request packet of the wrong length"))
        }
        v if v >> 16 == 3 => {
            let mut params = Vec::new();
            let mut rest = &body[4..];
            loop {
                let (key, after) = cstr(rest).ok_or(WireError::Malformed("startup parameter without its NUL"))?;
                rest = after;
                if key.is_empty() {
                    break;
                }
                let (value, after) = cstr(rest).ok_or(WireError::Malformed("startup value without its NUL"))?;
                rest = after;
                let key = std::str::from_utf8(key).map_err(|_| WireError::Malformed("startup parameter not UTF-8"))?;
                let value = std::str::from_utf8(value).map_err(|_| WireError::Malformed("startup value not UTF-8"))?;
                params.push((key.to_string(), value.to_string()));
            }
            if !rest.is_empty() {
                return Err(WireError::Malformed("bytes after the startup parameters"));
            }
            Ok(Startup::Startup { version: v, params })
        }
        _ => Err(WireError::Unsupported(format!(
            "protocol version {}.{}",
            code >> 16,
            code & 0xffff
        ))),
    }
}

/// Encode a protocol 3.0 startup packet with these parameters.
pub fn encode_startup(params: &[(String, String)], out: &mut BytesMut) -> Result<(), WireError> {
    let iter = params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    postgres_protocol::message::frontend::startup_message(iter, out)
        .map_err(|_| WireError::Malformed("startup parameter holds a NUL byte"))
}

/// A `Parse` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parse<'a> {
    pub name: &'a [u8],
    pub query: &'a [u8],
    /// The parameter-type section as sent (count, then OIDs), kept byte for byte.
    pub param_types: &'a [u8],
}

/// The query string of a `Query` message body.
pub fn decode_query(body: &[u8]) -> Result<&[u8], WireError> {
    let (q, rest) = cstr(body).ok_or(WireError::Malformed("Query without its NUL"))?;
    if !rest.is_empty() {
        return Err(WireError::Malformed("bytes after the Query string"));
    }
    Ok(q)
}

/// A `Parse` message body.
pub fn decode_parse(body: &[u8]) -> Result<Parse<'_>, WireError> {
    let (name, rest) = cstr(body).ok_or(WireError::Malformed("Parse without a statement name"))?;
    let (query, rest) = cstr(rest).ok_or(WireError::Malformed("Parse without its query"))?;
    let count = be_i16(rest, 0).ok_or(WireError::Malformed("Parse without its parameter count"))?;
    if count < 0 || rest.len() != 2 + 4 * count as usize {
        return Err(WireError::Malformed("Parse parameter types do not match their count"));
    }
    Ok(Parse {
        name,
        query,
        param_types: rest,
    })
}

/// The portal and statement names at the start of a `Bind` body (the rest, parameters, may
/// still be on its way: only this prefix is needed).
pub fn decode_bind_names(prefix: &[u8]) -> Option<(&[u8], &[u8])> {
    let (portal, rest) = cstr(prefix)?;
    let (stmt, _) = cstr(rest)?;
    Some((portal, stmt))
}

/// The portal of an `Execute` body.
pub fn decode_execute(body: &[u8]) -> Result<&[u8], WireError> {
    let (portal, rest) = cstr(body).ok_or(WireError::Malformed("Execute without a portal name"))?;
    if rest.len() != 4 {
        return Err(WireError::Malformed("Execute without its row limit"));
    }
    Ok(portal)
}

/// `Describe` and `Close`: 'S' (statement) or 'P' (portal), and the name.
pub fn decode_target(body: &[u8]) -> Result<(u8, &[u8]), WireError> {
    let (&kind, rest) = body
        .split_first()
        .ok_or(WireError::Malformed("Describe/Close without a kind"))?;
    let (name, rest) = cstr(rest).ok_or(WireError::Malformed("Describe/Close without a name"))?;
    if !rest.is_empty() || !matches!(kind, b'S' | b'P') {
        return Err(WireError::Malformed("malformed Describe/Close"));
    }
    Ok((kind, name))
}

/// A `Query` message with this text.
pub fn encode_query(text: &str, out: &mut BytesMut) -> Result<(), WireError> {
    postgres_protocol::message::frontend::query(text, out).map_err(|_| WireError::Malformed("query holds a NUL byte"))
}

/// A `Parse` message with this statement name, text and the original parameter-type section.
pub fn encode_parse(name: &[u8], text: &str, param_types: &[u8], out: &mut BytesMut) -> Result<(), WireError> {
    if text.as_bytes().contains(&0) || name.contains(&0) {
        return Err(WireError::Malformed("Parse holds a NUL byte"));
    }
    let len = 4 + name.len() + 1 + text.len() + 1 + param_types.len();
    let len = i32::try_from(len).map_err(|_| WireError::TooLarge(len))?;
    out.put_u8(b'P');
    out.put_i32(len);
    out.put_slice(name);
    out.put_u8(0);
    out.put_slice(text.as_bytes());
    out.put_u8(0);
    out.put_slice(param_types);
    Ok(())
}

/// A `CancelRequest` packet.
pub fn encode_cancel(pid: i32, key: i32, out: &mut BytesMut) {
    postgres_protocol::message::frontend::cancel_request(pid, key, out);
}

fn cstr(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let nul = b.iter().position(|&c| c == 0)?;
    Some((&b[..nul], &b[nul + 1..]))
}

fn be_i32(b: &[u8], at: usize) -> Option<i32> {
    let s = b.get(at..at + 4)?;
    Some(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be_i16(b: &[u8], at: usize) -> Option<i16> {
    let s = b.get(at..at + 2)?;
    Some(i16::from_be_bytes([s[0], s[1]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_round_trip() {
        let params = vec![
            ("user".to_string(), "app".to_string()),
            ("database".to_string(), "shop".to_string()),
        ];
        let mut out = BytesMut::new();
        encode_startup(&params, &mut out).unwrap();
        assert_eq!(
            decode_startup(&out[4..]).unwrap(),
            Startup::Startup {
                version: PROTOCOL_3_0,
                params
            }
        );
        assert_eq!(decode_startup(&SSL_REQUEST.to_be_bytes()).unwrap(), Startup::Ssl);
        let mut c = BytesMut::new();
        encode_cancel(7, -9, &mut c);
        assert_eq!(decode_startup(&c[4..]).unwrap(), Startup::Cancel { pid: 7, key: -9 });
        assert!(decode_startup(&[0, 1]).is_err());
        assert!(decode_startup(&(5_i32 << 16).to_be_bytes()).is_err());
        assert!(decode_startup(&[0, 3, 0, 0, b'u', 0]).is_err());
    }

    #[test]
    fn parse_round_trip_keeps_parameter_types() {
        let mut out = BytesMut::new();
        encode_parse(b"s1", "SELECT $1", &[0, 1, 0, 0, 0, 23], &mut out).unwrap();
        let p = decode_parse(&out[5..]).unwrap();
        assert_eq!(p.name, b"s1");
        assert_eq!(p.query, b"SELECT $1");
        assert_eq!(p.param_types, &[0, 1, 0, 0, 0, 23]);
        assert!(decode_parse(b"s\0q\0\0\x02\0\0\0\x17").is_err());
        assert!(decode_parse(b"s\0q\0\xff\xff").is_err());
    }

    #[test]
    fn small_messages() {
        assert_eq!(decode_query(b"SELECT 1\0").unwrap(), b"SELECT 1");
        assert!(decode_query(b"SELECT 1").is_err());
        assert!(decode_query(b"a\0b").is_err());
        assert_eq!(decode_bind_names(b"p\0s\0\0\0"), Some((&b"p"[..], &b"s"[..])));
        assert_eq!(decode_bind_names(b"p\0s"), None);
        assert_eq!(decode_execute(b"\0\0\0\0\0").unwrap(), b"");
        assert_eq!(decode_target(b"Sx\0").unwrap(), (b'S', &b"x"[..]));
        assert!(decode_target(b"Qx\0").is_err());
    }
}
