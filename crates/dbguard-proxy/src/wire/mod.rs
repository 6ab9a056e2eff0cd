//! The PostgreSQL wire protocol (version 3), as much as the proxy needs: message framing,
//! the client messages it reads or rewrites ([`frontend`]) and the server messages it reads
//! or writes itself ([`backend`]). Everything else crosses the proxy byte for byte.

pub mod backend;
pub mod frontend;

/// What is wrong with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    Malformed(&'static str),
    /// A message longer than the proxy accepts (its length in bytes).
    TooLarge(usize),
    Unsupported(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Malformed(m) => write!(f, "malformed message: {m}"),
            WireError::TooLarge(n) => write!(f, "message of {n} bytes is larger than the proxy accepts"),
            WireError::Unsupported(m) => write!(f, "unsupported: {m}"),
        }
    }
}

impl std::error::Error for WireError {}

/// The header of the message at the start of `buf`: its type byte and total size (type byte
/// and length included). None until 5 bytes are there. A length below 4 is malformed.
pub fn header(buf: &[u8]) -> Result<Option<(u8, usize)>, WireError> {
    let Some(h) = buf.get(..5) else { return Ok(None) };
    let len = i32::from_be_bytes([h[1], h[2], h[3], h[4]]);
    if len < 4 {
        return Err(WireError::Malformed("message length below 4"));
    }
    Ok(Some((h[0], 1 + len as usize)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(header(b"Q\0\0"), Ok(None));
        assert_eq!(header(b"Q\0\0\0\x09SELE"), Ok(Some((b'Q', 10))));
        assert!(header(b"Q\0\0\0\x03").is_err());
        assert!(header(b"Q\xff\xff\xff\xff").is_err());
        assert_eq!(header(b"d\x7f\xff\xff\xff"), Ok(Some((b'd', 1 + i32::MAX as usize))));
    }
}
