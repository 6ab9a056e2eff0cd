//! Property tests for the proxy's message decoding: no input panics a decoder, and what the
//! proxy re-encodes (startup packets, Parse messages, error fields) decodes to what it was.

use bytes::BytesMut;
use dbguard_proxy::wire::{backend, frontend, header};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    "[^\u{0}]{0,40}"
}

proptest! {
    #[test]
    fn decoders_take_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = frontend::decode_startup(&bytes);
        let _ = frontend::decode_query(&bytes);
        let _ = frontend::decode_parse(&bytes);
        let _ = frontend::decode_bind_names(&bytes);
        let _ = frontend::decode_execute(&bytes);
        let _ = frontend::decode_target(&bytes);
        let _ = header(&bytes);
        let _ = backend::fields(&bytes);
        let _ = backend::parameter_status(&bytes);
        let _ = backend::parse(&bytes);
    }

    #[test]
    fn startup_packets_round_trip(params in prop::collection::vec((text(), text()), 0..8)) {
        let params: Vec<(String, String)> = params.into_iter().filter(|(k, _)| !k.is_empty()).collect();
        let mut out = BytesMut::new();
        frontend::encode_startup(&params, &mut out).unwrap();
        let len = i32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize;
        prop_assert_eq!(len, out.len());
        match frontend::decode_startup(&out[4..]) {
            Ok(frontend::Startup::Startup { version, params: again }) => {
                prop_assert_eq!(version, frontend::PROTOCOL_3_0);
                prop_assert_eq!(again, params);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn parse_messages_round_trip(name in text(), sql in text(), oids in prop::collection::vec(any::<u32>(), 0..5)) {
        let mut types = (oids.len() as i16).to_be_bytes().to_vec();
        for o in &oids {
            types.extend_from_slice(&o.to_be_bytes());
        }
        let mut out = BytesMut::new();
        frontend::encode_parse(name.as_bytes(), &sql, &types, &mut out).unwrap();
        prop_assert_eq!(header(&out).unwrap(), Some((b'P', out.len())));
        let p = frontend::decode_parse(&out[5..]).unwrap();
        prop_assert_eq!(p.name, name.as_bytes());
        prop_assert_eq!(p.query, sql.as_bytes());
        prop_assert_eq!(p.param_types, &types[..]);
    }

    #[test]
    fn error_fields_round_trip(fields in prop::collection::vec((1u8..=255, text()), 0..8)) {
        let fields: Vec<backend::Field> = fields.into_iter().map(|(code, value)| backend::Field { code, value }).collect();
        let mut out = BytesMut::new();
        backend::encode_fields(b'E', &fields, &mut out);
        prop_assert_eq!(header(&out).unwrap(), Some((b'E', out.len())));
        prop_assert_eq!(backend::fields(&out[5..]), fields);
    }
}
