//! YAML 1.2, as PM2's js-yaml reads it: one document, no key twice in a
//! mapping, anchors and aliases, and `<<` merge keys.

use std::ops::Range;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::findings::ReadFinding;
use super::number;
use crate::ecosystem::diagnostic::Diagnostics;
use crate::ecosystem::document::{Key, Node, Table, Value};

/// Reads YAML; a syntax error is recorded with its place.
pub fn read(source: &str, diagnostics: &mut Diagnostics) -> Option<Node> {
    let offsets = Offsets::new(source);
    let documents = match MarkedYaml::load_from_str(source) {
        Ok(documents) => documents,
        Err(error) => {
            let start = offsets.at(error.marker().index());
            let why = error.info().to_string();
            let span = start..offsets.next(start);
            diagnostics.report(Some(span), ReadFinding::YamlInvalid { why });
            return None;
        }
    };
    let reader = Reader { offsets };
    match documents.as_slice() {
        [] => Some(Node::new(0..0, Value::Null)),
        [document] => reader.node(document, diagnostics),
        [_, second, ..] => {
            let start = reader.offsets.at(second.span.start.index());
            let span = start..reader.offsets.next(start);
            diagnostics.report(Some(span), ReadFinding::YamlDocuments);
            None
        }
    }
}

/// saphyr counts characters; spans are byte offsets.
struct Offsets(Vec<usize>);

impl Offsets {
    fn new(source: &str) -> Offsets {
        let mut offsets: Vec<usize> = source.char_indices().map(|(byte, _)| byte).collect();
        offsets.push(source.len());
        Offsets(offsets)
    }

    fn at(&self, char_index: usize) -> usize {
        self.0[char_index.min(self.0.len() - 1)]
    }

    /// The offset of the character after the one at `byte`.
    fn next(&self, byte: usize) -> usize {
        let index = self.0.partition_point(|&b| b <= byte);
        self.0.get(index).copied().unwrap_or(byte)
    }
}

struct Reader {
    offsets: Offsets,
}

impl Reader {
    fn span(&self, node: &MarkedYaml) -> Range<usize> {
        let start = self.offsets.at(node.span.start.index());
        start..self.offsets.at(node.span.end.index()).max(start)
    }

    fn node(&self, yaml: &MarkedYaml, diagnostics: &mut Diagnostics) -> Option<Node> {
        let span = self.span(yaml);
        let value = match &yaml.data {
            YamlData::Value(scalar) => scalar_value(scalar),
            YamlData::Representation(text, _, _) => Value::String(text.to_string()),
            YamlData::Sequence(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.node(item, diagnostics))
                    .collect::<Option<_>>()?,
            ),
            YamlData::Mapping(mapping) => Value::Table(self.table(mapping, diagnostics)?),
            YamlData::Tagged(tag, _) => {
                let tag = tag.to_string();
                diagnostics.report(Some(span), ReadFinding::YamlTag { tag });
                return None;
            }
            YamlData::Alias(_) | YamlData::BadValue => {
                diagnostics.report(Some(span), ReadFinding::YamlUnreadable);
                return None;
            }
        };
        Some(Node::new(span, value))
    }

    fn table(
        &self,
        mapping: &saphyr::AnnotatedMapping<'_, MarkedYaml<'_>>,
        diagnostics: &mut Diagnostics,
    ) -> Option<Table> {
        let mut table = Table::default();
        let explicit: Vec<&str> = mapping.keys().filter_map(|key| key.data.as_str()).collect();
        for (key, value) in mapping {
            let key_span = self.span(key);
            let name = match &key.data {
                // Merged where `<<` stands; the mapping's own keys win, and
                // an earlier merge over a later one.
                YamlData::Value(Scalar::String(s)) if s == "<<" => {
                    for (key, value) in self.merge(value, diagnostics)? {
                        let name = key.name.as_str();
                        if !explicit.contains(&name) && table.get(name).is_none() {
                            table.entries.push((key, value));
                        }
                    }
                    continue;
                }
                YamlData::Value(scalar) => key_name(scalar, &key_span, diagnostics)?,
                _ => {
                    diagnostics.report(Some(key_span), ReadFinding::YamlKeyNotText);
                    return None;
                }
            };
            let value = self.node(value, diagnostics)?;
            table.entries.push((
                Key {
                    name,
                    span: key_span,
                },
                value,
            ));
        }
        Some(table)
    }

    /// The entries `<<` merges in: a mapping, or a list of mappings.
    fn merge(&self, value: &MarkedYaml, diagnostics: &mut Diagnostics) -> Option<Vec<(Key, Node)>> {
        let sources: Vec<&MarkedYaml> = match &value.data {
            YamlData::Sequence(items) => items.iter().collect(),
            _ => vec![value],
        };
        let mut entries = Vec::new();
        for source in sources {
            match &source.data {
                YamlData::Mapping(mapping) => {
                    entries.extend(self.table(mapping, diagnostics)?.entries)
                }
                _ => {
                    let span = self.span(source);
                    diagnostics.report(Some(span), ReadFinding::YamlMergeNotMapping);
                    return None;
                }
            }
        }
        Some(entries)
    }
}

fn scalar_value(scalar: &Scalar) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Boolean(*b),
        Scalar::Integer(n) => Value::Integer(*n),
        Scalar::FloatingPoint(f) => number(f.into_inner()),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

/// A scalar key as text, as JavaScript turns every key into a string.
fn key_name(scalar: &Scalar, span: &Range<usize>, diagnostics: &mut Diagnostics) -> Option<String> {
    match scalar_value(scalar) {
        Value::String(s) | Value::Float(s) => Some(s),
        Value::Integer(n) => Some(n.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        Value::Null => Some("null".to_owned()),
        _ => {
            diagnostics.report(Some(span.clone()), ReadFinding::YamlKeyNotPlain);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_ok(text: &str) -> Node {
        let mut diagnostics = Diagnostics::default();
        let node = read(text, &mut diagnostics);
        assert!(diagnostics.items.is_empty(), "{:?}", diagnostics.items);
        node.expect("reads")
    }

    #[test]
    fn spans_are_bytes_and_merges_apply() {
        let text = "defaults: &d\n  instances: 2\n  script: \"é.js\"\napps:\n  - <<: *d\n    name: ä\n    instances: 4\n";
        let document = read_ok(text);
        let top = document.value.as_table().unwrap();
        let app = &top.get("apps").unwrap().value.as_array().unwrap()[0];
        let app = app.value.as_table().unwrap();
        let keys: Vec<&str> = app.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(keys, ["script", "name", "instances"]);
        assert_eq!(app.get("instances").unwrap().value, Value::Integer(4));
        let name = app.get("name").unwrap();
        assert_eq!(&text[name.span()], "ä");
        assert_eq!(&text[app.get("script").unwrap().span()], "\"é.js\"");
    }

    #[test]
    fn one_document_and_no_key_twice() {
        for (text, at) in [
            ("apps: []\n---\napps: []\n", "apps: []\n"),
            ("apps:\n  - name: a\n    name: b\n", "name: b"),
        ] {
            let mut diagnostics = Diagnostics::default();
            assert!(read(text, &mut diagnostics).is_none(), "{text}");
            let span = diagnostics.items[0].span.clone().unwrap();
            assert_eq!(span.start, text.rfind(at).unwrap(), "{text}");
        }
    }
}
