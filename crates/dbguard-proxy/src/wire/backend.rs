//! Messages from the server: read with postgres-protocol where the proxy needs their content
//! (authentication requests, BackendKeyData, ParameterStatus, ErrorResponse fields), and the
//! few the proxy writes to clients itself (its own errors, ReadyForQuery, BackendKeyData with
//! the proxy's cancel keys, NegotiateProtocolVersion, a rewritten CommandComplete).

use bytes::{BufMut, BytesMut};
use postgres_protocol::message::backend::Message;

use super::WireError;

/// Parse one whole server message (type byte, length, body).
pub fn parse(whole: &[u8]) -> Result<Message, WireError> {
    // postgres-protocol reserves room for the length a message claims when fewer bytes are
    // there (it waits for them): only a complete message goes to it (found by fuzzing).
    if super::header(whole)?.map(|(_, total)| total) != Some(whole.len()) {
        return Err(WireError::Malformed("server message of the wrong length"));
    }
    let mut buf = BytesMut::from(whole);
    match Message::parse(&mut buf) {
        Ok(Some(m)) if buf.is_empty() => Ok(m),
        Ok(_) => Err(WireError::Malformed("server message of the wrong length")),
        Err(_) => Err(WireError::Malformed("unreadable server message")),
    }
}

/// The authentication request code of an `R` body (0: OK, 3: cleartext, 5: MD5, 10: SASL...).
pub fn auth_code(body: &[u8]) -> Option<i32> {
    let s = body.get(..4)?;
    Some(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// One field of an ErrorResponse or NoticeResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub code: u8,
    pub value: String,
}

/// The fields of an ErrorResponse or NoticeResponse body.
pub fn fields(body: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some((&code, after)) = rest.split_first() {
        if code == 0 {
            break;
        }
        let Some(nul) = after.iter().position(|&b| b == 0) else {
            break;
        };
        out.push(Field {
            code,
            value: String::from_utf8_lossy(&after[..nul]).into_owned(),
        });
        rest = &after[nul + 1..];
    }
    out
}

/// An ErrorResponse (or NoticeResponse with `tag` b'N') with these fields.
pub fn encode_fields(tag: u8, fields: &[Field], out: &mut BytesMut) {
    let mut len = 4 + 1;
    for f in fields {
        len += 1 + f.value.len() + 1;
    }
    out.put_u8(tag);
    out.put_i32(len as i32);
    for f in fields {
        out.put_u8(f.code);
        out.put_slice(f.value.replace('\0', " ").as_bytes());
        out.put_u8(0);
    }
    out.put_u8(0);
}

/// An error the proxy says itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyError {
    /// ERROR or FATAL.
    pub severity: &'static str,
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl ProxyError {
    pub fn fatal(code: &str, message: impl Into<String>) -> ProxyError {
        ProxyError {
            severity: "FATAL",
            code: code.to_string(),
            message: message.into(),
            detail: None,
            hint: None,
        }
    }

    pub fn fields(&self) -> Vec<Field> {
        let mut f = vec![
            Field {
                code: b'S',
                value: self.severity.to_string(),
            },
            Field {
                code: b'V',
                value: self.severity.to_string(),
            },
            Field {
                code: b'C',
                value: self.code.clone(),
            },
            Field {
                code: b'M',
                value: self.message.clone(),
            },
        ];
        if let Some(d) = &self.detail {
            f.push(Field {
                code: b'D',
                value: d.clone(),
            });
        }
        if let Some(h) = &self.hint {
            f.push(Field {
                code: b'H',
                value: h.clone(),
            });
        }
        f
    }

    pub fn encode(&self, out: &mut BytesMut) {
        encode_fields(b'E', &self.fields(), out);
    }
}

/// `ReadyForQuery` with a transaction status (`I`, `T`, `E`).
pub fn encode_ready(status: u8, out: &mut BytesMut) {
    out.put_u8(b'Z');
    out.put_i32(5);
    out.put_u8(status);
}

/// `BackendKeyData`.
pub fn encode_key_data(pid: i32, key: i32, out: &mut BytesMut) {
    out.put_u8(b'K');
    out.put_i32(12);
    out.put_i32(pid);
    out.put_i32(key);
}

/// `CommandComplete` with this tag.
pub fn encode_command_complete(tag: &str, out: &mut BytesMut) {
    out.put_u8(b'C');
    out.put_i32((4 + tag.len() + 1) as i32);
    out.put_slice(tag.as_bytes());
    out.put_u8(0);
}

/// `NegotiateProtocolVersion`: the newest minor version served, and the options not understood.
pub fn encode_negotiate(minor: i32, unrecognized: &[String], out: &mut BytesMut) {
    let len = 4 + 4 + 4 + unrecognized.iter().map(|o| o.len() + 1).sum::<usize>();
    out.put_u8(b'v');
    out.put_i32(len as i32);
    out.put_i32(minor);
    out.put_i32(unrecognized.len() as i32);
    for o in unrecognized {
        out.put_slice(o.as_bytes());
        out.put_u8(0);
    }
}

/// Name and value of a ParameterStatus body.
pub fn parameter_status(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let nul = body.iter().position(|&b| b == 0)?;
    let (name, rest) = (&body[..nul], &body[nul + 1..]);
    let nul = rest.iter().position(|&b| b == 0)?;
    Some((name, &rest[..nul]))
}

/// The tag of a CommandComplete body.
pub fn command_tag(body: &[u8]) -> &[u8] {
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    &body[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_length_is_never_allocated() {
        // Found by fuzzing: a header claiming 3 GB made postgres-protocol reserve it.
        let msg = [b'E', 0xc5, 0, 0, 2, b'E'];
        assert!(parse(&msg).is_err());
    }

    #[test]
    fn error_round_trip_through_postgres_protocol() {
        let e = ProxyError {
            severity: "ERROR",
            code: "DGP01".into(),
            message: "refused".into(),
            detail: Some("d".into()),
            hint: Some("h".into()),
        };
        let mut out = BytesMut::new();
        e.encode(&mut out);
        match parse(&out).unwrap() {
            Message::ErrorResponse(body) => {
                use postgres_protocol::message::backend::ErrorFields;
                let _: Option<ErrorFields> = None;
                let got = fields(&out[5..]);
                assert_eq!(got, e.fields());
                drop(body);
            }
            _ => panic!("not an error"),
        }
        let mut z = BytesMut::new();
        encode_ready(b'T', &mut z);
        assert!(matches!(parse(&z).unwrap(), Message::ReadyForQuery(b) if b.status() == b'T'));
        let mut k = BytesMut::new();
        encode_key_data(1, 2, &mut k);
        assert!(matches!(parse(&k).unwrap(), Message::BackendKeyData(b) if b.process_id() == 1 && b.secret_key() == 2));
        let mut c = BytesMut::new();
        encode_command_complete("DROP TABLE", &mut c);
        assert!(matches!(parse(&c).unwrap(), Message::CommandComplete(b) if b.tag().unwrap() == "DROP TABLE"));
        assert_eq!(parameter_status(b"a\0b\0"), Some((&b"a"[..], &b"b"[..])));
    }
}
