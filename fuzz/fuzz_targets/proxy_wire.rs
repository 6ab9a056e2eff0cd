//! Fuzz target for the proxy's message decoding (crates/dbguard-proxy/src/wire): startup
//! packets, the client messages it reads (Query, Parse, Bind names, Execute, Describe/Close),
//! message framing over a stream of bytes, the server messages it reads (error fields,
//! ParameterStatus, authentication codes, postgres-protocol's parser), and the prefilter the
//! proxy runs on every statement. No input may panic; what decodes encodes back to itself.
#![no_main]

use bytes::BytesMut;
use dbguard_core::sql::prefilter;
use dbguard_proxy::wire::{backend, frontend, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    match sel % 4 {
        0 => {
            if let Ok(frontend::Startup::Startup { params, .. }) = frontend::decode_startup(rest) {
                let mut out = BytesMut::new();
                if frontend::encode_startup(&params, &mut out).is_ok() {
                    match frontend::decode_startup(&out[4..]) {
                        Ok(frontend::Startup::Startup { params: again, .. }) => assert_eq!(again, params),
                        other => panic!("re-encoded startup decodes to {other:?}"),
                    }
                }
            }
        }
        1 => {
            // A client's stream: walk the frames, decode what the proxy decodes.
            let mut buf = rest;
            while let Ok(Some((tag, total))) = header(buf) {
                let Some(msg) = buf.get(..total) else { break };
                let body = &msg[5..];
                match tag {
                    b'Q' => {
                        let _ = frontend::decode_query(body);
                    }
                    b'P' => {
                        if let Ok(p) = frontend::decode_parse(body) {
                            if let Ok(text) = std::str::from_utf8(p.query) {
                                let mut out = BytesMut::new();
                                if frontend::encode_parse(p.name, text, p.param_types, &mut out).is_ok() {
                                    assert_eq!(&out[..], msg, "Parse does not round-trip");
                                }
                            }
                        }
                    }
                    b'B' => {
                        let _ = frontend::decode_bind_names(body);
                    }
                    b'E' => {
                        let _ = frontend::decode_execute(body);
                    }
                    b'C' | b'D' => {
                        let _ = frontend::decode_target(body);
                    }
                    _ => {}
                }
                buf = &buf[total..];
            }
        }
        2 => {
            let fields = backend::fields(rest);
            let mut out = BytesMut::new();
            backend::encode_fields(b'E', &fields, &mut out);
            assert_eq!(backend::fields(&out[5..]), fields);
            let _ = backend::parameter_status(rest);
            let _ = backend::auth_code(rest);
            let _ = backend::command_tag(rest);
            let _ = backend::parse(rest);
        }
        _ => {
            let p = prefilter(rest);
            assert_eq!(prefilter(&rest.to_ascii_uppercase()), p, "case changes the prefilter");
        }
    }
});
