//! The proxy's log: one line per event on standard output (a decision on a destructive
//! statement, a refused connection, start and stop), as text or as JSON (`--json-log`).
//! Statements are redacted (passwords in SQL) and capped.

use std::io::Write;
use std::sync::Arc;

use serde_json::{Map, Value};

#[derive(Clone)]
pub struct Logger {
    json: bool,
    sink: Arc<std::sync::Mutex<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger").field("json", &self.json).finish()
    }
}

impl Logger {
    /// Lines to standard output.
    pub fn stdout(json: bool) -> Logger {
        Logger::to(json, Box::new(std::io::stdout()))
    }

    pub fn to(json: bool, sink: Box<dyn Write + Send>) -> Logger {
        Logger {
            json,
            sink: Arc::new(std::sync::Mutex::new(sink)),
        }
    }

    /// One event: a name, a sentence for people, and fields (`Value::Null` fields are left out).
    pub fn event(&self, event: &str, message: &str, fields: &[(&str, Value)]) {
        let line = if self.json {
            let mut m = Map::new();
            m.insert("time".into(), Value::String(now_rfc3339()));
            m.insert("event".into(), Value::String(event.into()));
            for (k, v) in fields {
                if !v.is_null() {
                    m.insert((*k).into(), v.clone());
                }
            }
            m.insert("message".into(), Value::String(message.into()));
            Value::Object(m).to_string()
        } else {
            let mut s = format!("{} {event}: {message}", now_rfc3339());
            for (k, v) in fields {
                match v {
                    Value::Null => {}
                    Value::String(t) => s.push_str(&format!(" {k}={}", quote(t))),
                    other => s.push_str(&format!(" {k}={other}")),
                }
            }
            s
        };
        if let Ok(mut w) = self.sink.lock() {
            let _ = writeln!(w, "{line}");
            let _ = w.flush();
        }
    }
}

fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '=') {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// Now, RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn lines() {
        #[derive(Clone, Default)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let log = Logger::to(true, Box::new(buf.clone()));
        log.event(
            "decision",
            "refused",
            &[("kinds", serde_json::json!(["truncate"])), ("x", Value::Null)],
        );
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["event"], "decision");
        assert_eq!(v["kinds"][0], "truncate");
        assert!(v.get("x").is_none());
        let buf = Buf::default();
        Logger::to(false, Box::new(buf.clone())).event("start", "listening", &[("at", Value::String("a b".into()))]);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("start: listening at=\"a b\""), "{text}");
    }
}
