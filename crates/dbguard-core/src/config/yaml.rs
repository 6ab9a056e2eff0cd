//! A small YAML reader for configuration files (Rails' `config/database.yml`): the first
//! document as a tree of text, with anchors, aliases and `<<` merge keys resolved the way
//! Ruby's Psych resolves them, since Psych is what Rails loads the file with.
//!
//! Built on saphyr-parser's events rather than a ready-made tree because a tree loader
//! copies every alias: ten nested anchors each used twice make a small file expand to
//! millions of nodes. Here alias copies are counted against a budget and nesting is
//! capped, so a hostile file is an error, never exhausted memory or a blown stack: a
//! tree [`parse`] returns has at most [`NODE_BUDGET`] nodes and is at most [`MAX_DEPTH`]
//! levels high (what the fuzz target and the property tests check).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Most nodes the tree may hold once aliases are expanded.
pub const NODE_BUDGET: usize = 100_000;
/// Deepest nesting accepted (database.yml needs three or four levels): the most levels of
/// sequences and mappings in a returned tree, see [`Node::height`].
pub const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// `~`, `null`, or nothing.
    Null,
    /// Any other scalar, as written (numbers and booleans too).
    Scalar(String),
    Seq(Vec<Node>),
    /// Keys in insertion order; a repeated key replaces the earlier value in place (as a Ruby Hash does).
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(String, Node)]> {
        match self {
            Node::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Nodes in this tree (keys not counted). Recursive: meant for trees from [`parse`],
    /// whose height is bounded by [`MAX_DEPTH`].
    pub fn count(&self) -> usize {
        match self {
            Node::Null | Node::Scalar(_) => 1,
            Node::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Node::Map(entries) => 1 + entries.iter().map(|(_, v)| v.count()).sum::<usize>(),
        }
    }

    /// Levels of sequences and mappings: 0 for a scalar, 1 for `[a]` or `{}`.
    pub fn height(&self) -> usize {
        match self {
            Node::Null | Node::Scalar(_) => 0,
            Node::Seq(items) => 1 + items.iter().map(Node::height).max().unwrap_or(0),
            Node::Map(entries) => 1 + entries.iter().map(|(_, v)| v.height()).max().unwrap_or(0),
        }
    }
}

/// A key being read: its text, and whether it is a plain `<<` (a merge, not a string key).
enum Key {
    Text(String),
    Merge,
    /// A sequence or mapping used as a key: its value is dropped, as no config key looks like that.
    Complex,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        anchor: usize,
        height: usize,
    },
    Map {
        entries: Entries,
        key: Option<Key>,
        anchor: usize,
        height: usize,
    },
}

struct Builder {
    stack: Vec<Frame>,
    /// Anchor id -> (node, node count, height).
    anchors: HashMap<usize, (Node, usize, usize)>,
    nodes: usize,
    root: Option<Node>,
}

/// Parse the first document of `text`. Errors say what and where (never the content).
pub fn parse(text: &str) -> Result<Node, String> {
    // saphyr-parser is fuzzed and returns errors; should it panic anyway, that is a
    // file we cannot read, not a crash of the hook.
    std::panic::catch_unwind(|| parse_inner(text))
        .unwrap_or_else(|_| Err("the YAML parser failed on this file".to_string()))
}

fn parse_inner(text: &str) -> Result<Node, String> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
    };
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.map_err(|e| format!("invalid YAML: {e}"))?;
        let at = || format!("line {}", span.start.line());
        match ev {
            Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => {}
            Event::StreamEnd | Event::DocumentEnd => {
                if b.root.is_some() || matches!(ev, Event::StreamEnd) {
                    break;
                }
            }
            Event::Scalar(v, style, anchor, _tag) => {
                let plain = style == ScalarStyle::Plain;
                // A plain `<<` in key position is a merge; the frame decides which position it is.
                let merge_key = plain && v == "<<";
                let node = if plain && matches!(v.as_ref(), "" | "~" | "null" | "Null" | "NULL") {
                    Node::Null
                } else {
                    Node::Scalar(v.into_owned())
                };
                b.finish(node, 1, 0, anchor, merge_key)
                    .map_err(|e| format!("{e} ({})", at()))?;
            }
            Event::Alias(id) => {
                let (node, count, height) = b
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| format!("an alias names an unknown anchor ({})", at()))?;
                b.finish(node, count, height, 0, false)
                    .map_err(|e| format!("{e} ({})", at()))?;
            }
            Event::SequenceStart(anchor, _) => {
                b.open(
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        height: 0,
                    },
                    &at,
                )?;
            }
            Event::MappingStart(anchor, _) => {
                b.open(
                    Frame::Map {
                        entries: Entries::default(),
                        key: None,
                        anchor,
                        height: 0,
                    },
                    &at,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, height) = match b.stack.pop() {
                    Some(Frame::Seq { items, anchor, height }) => (Node::Seq(items), anchor, height),
                    Some(Frame::Map {
                        entries,
                        anchor,
                        height,
                        ..
                    }) => (Node::Map(entries.list), anchor, height),
                    None => return Err(format!("unbalanced YAML ({})", at())),
                };
                // The node's own count was added when it was opened.
                b.finish(node, 0, height + 1, anchor, false)
                    .map_err(|e| format!("{e} ({})", at()))?;
            }
        }
        if b.root.is_some() && b.stack.is_empty() {
            break;
        }
    }
    Ok(b.root.unwrap_or(Node::Null))
}

impl Builder {
    fn open(&mut self, frame: Frame, at: &dyn Fn() -> String) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("YAML nested too deeply ({})", at()));
        }
        self.count(1)?;
        self.stack.push(frame);
        Ok(())
    }

    fn count(&mut self, n: usize) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > NODE_BUDGET {
            return Err("YAML too large once aliases are expanded".into());
        }
        Ok(())
    }

    /// A complete node (`count` nodes, `height` levels below it) arrives at the current position.
    fn finish(
        &mut self,
        node: Node,
        count: usize,
        height: usize,
        anchor: usize,
        merge_key: bool,
    ) -> Result<(), String> {
        self.count(count)?;
        if self.stack.len() + height > MAX_DEPTH {
            return Err("YAML nested too deeply".into());
        }
        if anchor > 0 {
            // The kept copy counts too: nested anchors would otherwise copy a tree once per level.
            let size = node.count();
            self.count(size)?;
            self.anchors.insert(anchor, (node.clone(), size, height));
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, height: h, .. }) => {
                *h = (*h).max(height);
                items.push(node);
            }
            Some(Frame::Map {
                entries,
                key,
                height: h,
                ..
            }) => match key.take() {
                None => {
                    *key = Some(match node {
                        _ if merge_key => Key::Merge,
                        Node::Scalar(s) => Key::Text(s),
                        Node::Null => Key::Text(String::new()),
                        Node::Seq(_) | Node::Map(_) => Key::Complex,
                    });
                }
                Some(Key::Text(k)) => {
                    *h = (*h).max(height);
                    entries.insert(k, node);
                }
                Some(Key::Merge) => {
                    *h = (*h).max(height.saturating_sub(1));
                    merge(entries, node);
                }
                Some(Key::Complex) => {}
            },
        }
        Ok(())
    }
}

/// A mapping being built: its entries in order, and where each key is. The index keeps
/// a mapping of many keys (or many merges) linear: finding the earlier slot of a key by
/// scanning made a 600 KB file of 50,000 keys take minutes.
#[derive(Default)]
struct Entries {
    list: Vec<(String, Node)>,
    index: HashMap<String, usize>,
}

impl Entries {
    /// A repeated key replaces the earlier value in place, as a Ruby Hash does.
    fn insert(&mut self, k: String, v: Node) {
        match self.index.get(&k).and_then(|&i| self.list.get_mut(i)) {
            Some(slot) => slot.1 = v,
            None => {
                self.index.insert(k.clone(), self.list.len());
                self.list.push((k, v));
            }
        }
    }
}

/// Psych's `<<`: a mapping is merged over the keys read so far (keys after `<<` win);
/// a sequence of mappings is merged with the earlier ones winning among themselves.
/// Anything else stays an ordinary `<<` key.
fn merge(entries: &mut Entries, value: Node) {
    match value {
        Node::Map(m) => {
            for (k, v) in m {
                entries.insert(k, v);
            }
        }
        Node::Seq(items) if items.iter().all(|i| matches!(i, Node::Map(_))) => {
            let mut combined = Entries::default();
            for item in items.into_iter().rev() {
                if let Node::Map(m) = item {
                    for (k, v) in m {
                        combined.insert(k, v);
                    }
                }
            }
            for (k, v) in combined.list {
                entries.insert(k, v);
            }
        }
        other => entries.insert("<<".into(), other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Scalar(v.into())
    }

    #[test]
    fn anchors_and_merges_like_psych() {
        let doc = "default: &default\n  adapter: postgresql\n  pool: 5\n  host: localhost\n\ndevelopment:\n  <<: *default\n  database: app_dev\n  host: db\n\nother:\n  host: early\n  <<: *default\n";
        let n = parse(doc).unwrap();
        let dev = n.get("development").unwrap();
        assert_eq!(dev.get("adapter"), Some(&s("postgresql")));
        assert_eq!(dev.get("host"), Some(&s("db")));
        assert_eq!(dev.get("database"), Some(&s("app_dev")));
        // Psych merges over the keys read before `<<`.
        assert_eq!(n.get("other").unwrap().get("host"), Some(&s("localhost")));
        let seq = parse("a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n").unwrap();
        let c = seq.get("c").unwrap();
        assert_eq!((c.get("x"), c.get("z")), (Some(&s("1")), Some(&s("2"))));
        // Quoted `<<` is an ordinary key.
        let q = parse("a: &a {x: 1}\nb:\n  '<<': *a\n").unwrap();
        assert!(q.get("b").unwrap().get("<<").is_some());
        assert_eq!(parse("a: ~\nb:\nc: null\n").unwrap().get("b"), Some(&Node::Null));
    }

    /// A mapping of many keys, and many merges of a large anchor, finish fast (they were
    /// quadratic: minutes for a 600 KB file).
    #[test]
    fn large_mappings_are_linear() {
        let mut big = String::from("development:\n");
        for i in 0..49_000 {
            big.push_str(&format!("  k{i}: v\n"));
        }
        let start = std::time::Instant::now();
        let n = parse(&big).unwrap();
        assert_eq!(
            n.get("development").and_then(Node::as_map).map(<[_]>::len),
            Some(49_000)
        );
        let mut merges = String::from("a: &a {");
        for i in 0..2_000 {
            merges.push_str(&format!("k{i}: v, "));
        }
        merges.push_str("}\nb: {");
        for i in 0..40 {
            merges.push_str(&format!("<<: *a, x{i}: y, "));
        }
        merges.push_str("}\n");
        assert_eq!(
            parse(&merges).unwrap().get("b").and_then(Node::as_map).map(<[_]>::len),
            Some(2_040)
        );
        // Generous for debug builds on a loaded machine; the quadratic version took minutes.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn hostile_input_is_an_error() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&bomb).unwrap_err().contains("too large"));
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).is_err());
        let mut chain = String::from("a0: &a0 [[[[[[[[[[x]]]]]]]]]]\n");
        for i in 1..20 {
            chain.push_str(&format!("a{i}: &a{i} [[[[[[[[[[*a{}]]]]]]]]]]\n", i - 1));
        }
        assert!(parse(&chain).unwrap_err().contains("deep"));
        for junk in ["a: *nope", "{", "a: [", "- a\nb: c", "\u{0}", "a: b: c", "? [a]\n: b\n"] {
            let _ = parse(junk);
        }
        assert_eq!(parse("").unwrap(), Node::Null);
    }
}
