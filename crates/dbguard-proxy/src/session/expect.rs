//! Which server response answers which client message.
//!
//! The client side pushes one entry per forwarded message that the server answers (before the
//! bytes leave), the server side pops them as the answers come: ParseComplete, BindComplete,
//! CloseComplete, RowDescription/NoData (Describe), CommandComplete / EmptyQueryResponse /
//! PortalSuspended (Execute), ReadyForQuery (Sync, Query, FunctionCall). After an error in
//! the extended protocol the server skips everything up to the next Sync; those entries are
//! dropped when its ReadyForQuery arrives. That is how the proxy knows that an ErrorResponse
//! belongs to a statement it replaced (and says dbguard's error instead) or that a
//! CommandComplete is the soft-drop's `DO` (and says `DROP TABLE`). If the two ever disagree,
//! ReadyForQuery resynchronizes (the queue is emptied up to it); the worst outcome is an
//! error or tag shown as the server wrote it.

use std::collections::VecDeque;
use std::sync::Arc;

pub use crate::decide::Tag;
use crate::wire::backend::ProxyError;

#[derive(Debug)]
pub enum Expect {
    Parse(Tag),
    Bind,
    Close,
    Describe,
    Execute(Tag),
    Sync,
    /// A simple-protocol Query: the tags of its statements (None when all are plain) and how
    /// many have completed.
    Query(Option<Box<(Vec<Tag>, usize)>>),
    Function,
}

/// What to do with one server message.
#[derive(Debug, Clone, PartialEq)]
pub enum Handling {
    Pass,
    /// ReadyForQuery: read the status.
    Ready,
    /// A completion to read: `DO` becomes `DROP TABLE`.
    SoftDropComplete,
    /// A completion that created these tables.
    Created(Arc<[String]>),
    /// Say this error instead of the server's.
    Replace(Arc<ProxyError>),
    /// An error or notice from the soft-drop: keep it, without the PL/pgSQL context.
    Clean,
}

#[derive(Debug, Default)]
pub struct Pending {
    q: VecDeque<Expect>,
}

impl Pending {
    pub fn push(&mut self, e: Expect) {
        self.q.push_back(e);
    }

    /// Nothing is waiting for an answer.
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// The tag of the statement whose answers are coming now.
    fn current(&self) -> Option<&Tag> {
        match self.q.front()? {
            Expect::Execute(t) => Some(t),
            Expect::Query(Some(q)) => q.0.get(q.1),
            _ => None,
        }
    }

    /// Account for a server message of type `tag` and say how to treat it.
    pub fn on_message(&mut self, tag: u8) -> Handling {
        match tag {
            b'1' => {
                if matches!(self.q.front(), Some(Expect::Parse(_))) {
                    self.q.pop_front();
                }
                Handling::Pass
            }
            b'2' => self.pop_if(|e| matches!(e, Expect::Bind)),
            b'3' => self.pop_if(|e| matches!(e, Expect::Close)),
            b'n' | b'T' => self.pop_if(|e| matches!(e, Expect::Describe)),
            b'I' | b's' => self.pop_if(|e| matches!(e, Expect::Execute(_))),
            b'C' => match self.q.front_mut() {
                Some(Expect::Execute(_)) => match self.q.pop_front() {
                    Some(Expect::Execute(t)) => completion(&t),
                    _ => Handling::Pass,
                },
                Some(Expect::Query(Some(q))) => {
                    let h = q.0.get(q.1).map(completion).unwrap_or(Handling::Pass);
                    q.1 += 1;
                    h
                }
                _ => Handling::Pass,
            },
            b'E' => match self.q.front() {
                Some(Expect::Parse(_)) | Some(Expect::Execute(_)) => match self.q.pop_front() {
                    Some(Expect::Parse(t)) | Some(Expect::Execute(t)) => error(&t),
                    _ => Handling::Pass,
                },
                Some(Expect::Bind) | Some(Expect::Close) | Some(Expect::Describe) => {
                    self.q.pop_front();
                    Handling::Pass
                }
                Some(Expect::Query(Some(q))) => q.0.get(q.1).map(error).unwrap_or(Handling::Pass),
                _ => Handling::Pass,
            },
            b'N' => match self.current() {
                Some(Tag::SoftDrop) => Handling::Clean,
                _ => Handling::Pass,
            },
            b'Z' => {
                // Everything up to the Sync (or Query, FunctionCall) this answers: skipped
                // messages after an error get no answer of their own.
                while let Some(e) = self.q.pop_front() {
                    if matches!(e, Expect::Sync | Expect::Query(_) | Expect::Function) {
                        break;
                    }
                }
                Handling::Ready
            }
            _ => Handling::Pass,
        }
    }

    fn pop_if(&mut self, f: impl Fn(&Expect) -> bool) -> Handling {
        if self.q.front().is_some_and(f) {
            self.q.pop_front();
        }
        Handling::Pass
    }
}

fn completion(t: &Tag) -> Handling {
    match t {
        Tag::SoftDrop => Handling::SoftDropComplete,
        Tag::Creates(names) => Handling::Created(names.clone()),
        _ => Handling::Pass,
    }
}

fn error(t: &Tag) -> Handling {
    match t {
        Tag::Refused(e) => Handling::Replace(e.clone()),
        Tag::SoftDrop => Handling::Clean,
        _ => Handling::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal() -> Arc<ProxyError> {
        Arc::new(ProxyError::fatal("DGP01", "no"))
    }

    #[test]
    fn pipeline_with_a_refused_parse_after_a_good_one() {
        let mut p = Pending::default();
        p.push(Expect::Parse(Tag::Plain));
        p.push(Expect::Bind);
        p.push(Expect::Execute(Tag::Plain));
        p.push(Expect::Parse(Tag::Refused(refusal())));
        p.push(Expect::Bind);
        p.push(Expect::Execute(Tag::Plain));
        p.push(Expect::Sync);
        assert_eq!(p.on_message(b'1'), Handling::Pass);
        assert_eq!(p.on_message(b'2'), Handling::Pass);
        assert_eq!(p.on_message(b'D'), Handling::Pass);
        assert_eq!(p.on_message(b'C'), Handling::Pass);
        assert!(matches!(p.on_message(b'E'), Handling::Replace(_)));
        // The server skips Bind and Execute; ReadyForQuery ends the batch.
        assert_eq!(p.on_message(b'Z'), Handling::Ready);
        assert!(p.is_empty());
    }

    #[test]
    fn an_earlier_error_is_not_taken_for_the_refusal() {
        let mut p = Pending::default();
        p.push(Expect::Parse(Tag::Plain));
        p.push(Expect::Parse(Tag::Refused(refusal())));
        p.push(Expect::Sync);
        assert_eq!(p.on_message(b'E'), Handling::Pass, "the first Parse failed on its own");
        assert_eq!(p.on_message(b'Z'), Handling::Ready);
        assert!(p.is_empty());
    }

    #[test]
    fn simple_query_statements_in_order() {
        let mut p = Pending::default();
        p.push(Expect::Query(Some(Box::new((
            vec![Tag::Plain, Tag::SoftDrop, Tag::Refused(refusal())],
            0,
        )))));
        assert_eq!(p.on_message(b'T'), Handling::Pass);
        assert_eq!(p.on_message(b'D'), Handling::Pass);
        assert_eq!(p.on_message(b'C'), Handling::Pass);
        assert_eq!(p.on_message(b'N'), Handling::Clean);
        assert_eq!(p.on_message(b'C'), Handling::SoftDropComplete);
        assert!(matches!(p.on_message(b'E'), Handling::Replace(_)));
        assert_eq!(p.on_message(b'Z'), Handling::Ready);
        assert!(p.is_empty());
    }

    #[test]
    fn describe_and_portal_suspension() {
        let mut p = Pending::default();
        p.push(Expect::Describe);
        p.push(Expect::Execute(Tag::SoftDrop));
        p.push(Expect::Execute(Tag::Plain));
        p.push(Expect::Sync);
        assert_eq!(p.on_message(b't'), Handling::Pass);
        assert_eq!(p.on_message(b'n'), Handling::Pass);
        assert_eq!(p.on_message(b'C'), Handling::SoftDropComplete);
        assert_eq!(p.on_message(b's'), Handling::Pass);
        assert_eq!(p.on_message(b'Z'), Handling::Ready);
        assert!(p.is_empty());
    }
}

/// The queue against a model of the server's extended-protocol rules: whatever the client
/// pipelines and wherever the server fails, each error of a refused Parse (and only those) is
/// replaced, each soft-drop completion (and only those) renamed, and every batch ends with an
/// empty queue.
#[cfg(test)]
mod model {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone, Copy)]
    enum Msg {
        Parse { refused: bool, fails: bool },
        Bind { fails: bool },
        Describe,
        Execute { soft_drop: bool, rows: u8, fails: bool },
        Sync,
    }

    fn msg() -> impl Strategy<Value = Msg> {
        prop_oneof![
            (any::<bool>(), prop::bool::weighted(0.1)).prop_map(|(refused, fails)| Msg::Parse { refused, fails }),
            prop::bool::weighted(0.1).prop_map(|fails| Msg::Bind { fails }),
            Just(Msg::Describe),
            (any::<bool>(), 0u8..3, prop::bool::weighted(0.1)).prop_map(|(soft_drop, rows, fails)| Msg::Execute {
                soft_drop,
                rows,
                fails
            }),
            Just(Msg::Sync),
        ]
    }

    proptest! {
        #[test]
        fn replies_are_matched_to_their_messages(mut batch in prop::collection::vec(msg(), 0..40)) {
            batch.push(Msg::Sync);
            let refusal = Arc::new(ProxyError::fatal("DGP01", "no"));
            let mut p = Pending::default();
            for m in &batch {
                p.push(match *m {
                    Msg::Parse { refused: true, .. } => Expect::Parse(Tag::Refused(refusal.clone())),
                    Msg::Parse { .. } => Expect::Parse(Tag::Plain),
                    Msg::Bind { .. } => Expect::Bind,
                    Msg::Describe => Expect::Describe,
                    Msg::Execute { soft_drop: true, .. } => Expect::Execute(Tag::SoftDrop),
                    Msg::Execute { .. } => Expect::Execute(Tag::Plain),
                    Msg::Sync => Expect::Sync,
                });
            }
            // The server: answers in order, skips to Sync after an error.
            let mut replies: Vec<(u8, Handling)> = Vec::new();
            let mut skipping = false;
            for m in &batch {
                if skipping && !matches!(m, Msg::Sync) {
                    continue;
                }
                match *m {
                    Msg::Parse { refused: true, .. } => {
                        replies.push((b'E', Handling::Replace(refusal.clone())));
                        skipping = true;
                    }
                    Msg::Parse { fails: true, .. } | Msg::Bind { fails: true } => {
                        replies.push((b'E', Handling::Pass));
                        skipping = true;
                    }
                    Msg::Parse { .. } => replies.push((b'1', Handling::Pass)),
                    Msg::Bind { .. } => replies.push((b'2', Handling::Pass)),
                    Msg::Describe => {
                        replies.push((b't', Handling::Pass));
                        replies.push((b'T', Handling::Pass));
                    }
                    Msg::Execute { soft_drop, rows, fails } => {
                        for _ in 0..rows {
                            replies.push((b'D', Handling::Pass));
                        }
                        if soft_drop {
                            replies.push((b'N', Handling::Clean));
                        }
                        if fails {
                            replies.push((b'E', if soft_drop { Handling::Clean } else { Handling::Pass }));
                            skipping = true;
                        } else if soft_drop {
                            replies.push((b'C', Handling::SoftDropComplete));
                        } else {
                            replies.push((b'C', Handling::Pass));
                        }
                    }
                    Msg::Sync => {
                        replies.push((b'Z', Handling::Ready));
                        skipping = false;
                    }
                }
            }
            for (tag, want) in replies {
                prop_assert_eq!(p.on_message(tag), want, "reply {}", tag as char);
            }
            prop_assert!(p.is_empty());
        }
    }
}
