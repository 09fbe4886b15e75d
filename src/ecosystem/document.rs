//! An ecosystem file as a tree of values, whatever its format: TOML, YAML,
//! JSON, or what a JavaScript file evaluates to. Every key and value keeps
//! the byte range it came from, so the validator reports each mistake at its
//! place in any format.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// One value and where it stands in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Range<usize>,
    pub value: Value,
}

/// A key of a table and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Integer(i64),
    /// As written, for a value that must be kept as text (an environment
    /// variable), and as a number.
    Float(String),
    Boolean(bool),
    /// YAML's `~`, JSON's and JavaScript's `null`.
    Null,
    /// A TOML date or time, which no option takes.
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

/// The entries of a table, in the file's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub entries: Vec<(Key, Node)>,
}

impl Node {
    pub fn new(span: Range<usize>, value: Value) -> Node {
        Node { span, value }
    }

    pub fn get_ref(&self) -> &Value {
        &self.value
    }

    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

impl Key {
    pub fn get_ref(&self) -> &str {
        &self.name
    }

    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(table) => Some(table),
            _ => None,
        }
    }

    pub fn is_table(&self) -> bool {
        matches!(self, Value::Table(_))
    }
}

impl Table {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_key_value(key).map(|(_, value)| value)
    }

    pub fn get_key_value(&self, key: &str) -> Option<(&Key, &Node)> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, v)| (k, v))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// The tree of a parsed TOML document, its keys in the file's order.
pub fn from_toml(table: &DeTable, span: Range<usize>) -> Node {
    let mut entries: Vec<(Key, Node)> = table
        .iter()
        .map(|(key, value)| {
            let key = Key {
                name: key.get_ref().to_string(),
                span: key.span(),
            };
            (key, from_toml_value(value.get_ref(), value.span()))
        })
        .collect();
    // The parser's tables are sorted by name.
    entries.sort_by_key(|(key, _)| key.span.start);
    Node::new(span, Value::Table(Table { entries }))
}

fn from_toml_value(value: &DeValue, span: Range<usize>) -> Node {
    let value = match value {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Integer(n),
            // Beyond 64 bits: no option takes it, so it is reported as invalid.
            Err(_) => Value::Float(i.as_str().to_owned()),
        },
        DeValue::Float(f) => Value::Float(f.as_str().to_owned()),
        DeValue::Boolean(b) => Value::Boolean(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| from_toml_value(item.get_ref(), item.span()))
                .collect(),
        ),
        DeValue::Table(table) => return from_toml(table, span),
    };
    Node::new(span, value)
}

/// Where each key and value of `root` stands, as the path a JavaScript
/// programmer would write to it (`apps[0].env.PORT`), by the offset where
/// it starts: for a document with no text of its own to show.
pub fn key_paths(root: &Node) -> Vec<(usize, String)> {
    let mut paths = Vec::new();
    collect_paths(root, String::new(), &mut paths);
    paths.sort_by_key(|(start, _)| *start);
    paths
}

fn collect_paths(node: &Node, path: String, paths: &mut Vec<(usize, String)>) {
    match &node.value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_paths(item, format!("{path}[{index}]"), paths);
            }
        }
        Value::Table(table) => {
            for (key, value) in table.iter() {
                let identifier = key.name.chars().enumerate().all(|(i, c)| {
                    c == '_' || c == '$' || c.is_ascii_alphabetic() || i > 0 && c.is_ascii_digit()
                }) && !key.name.is_empty();
                let child = match (identifier, path.is_empty()) {
                    (true, true) => key.name.clone(),
                    (true, false) => format!("{path}.{}", key.name),
                    (false, _) => format!("{path}[{:?}]", key.name),
                };
                paths.push((key.span.start, child.clone()));
                collect_paths(value, child, paths);
            }
        }
        _ => {}
    }
    paths.push((node.span.start, path));
}
