use std::collections::BTreeSet;

use super::*;
use crate::ecosystem::keys::find;

#[test]
fn every_option_has_one_row_and_one_spelling_names_one_option() {
    let mut spellings = BTreeSet::new();
    for known in app_options() {
        for spelling in known.spellings() {
            assert!(
                spellings.insert(spelling.clone()),
                "`{spelling}` is in two rows"
            );
            assert_eq!(
                find(app_options(), &spelling).map(|k| k.name),
                Some(known.name)
            );
        }
    }
}

#[test]
fn a_row_is_documented_by_its_doc_or_by_what_happens_instead() {
    for row in table() {
        let ignored = matches!(row.key.handling, Handling::Ignored(_));
        assert_eq!(row.doc.is_none(), ignored, "`{}`", row.key.name);
        if ignored {
            assert!(
                row.directives.is_empty() && row.describe.is_none(),
                "`{}`",
                row.key.name
            );
        }
    }
}

#[test]
fn each_directive_belongs_to_one_option() {
    let mut keys = BTreeSet::new();
    for directive in table().iter().flat_map(|row| &row.directives) {
        let key = (directive.unit, directive.section, directive.key);
        assert!(keys.insert(key), "{}", directive.key);
    }
}

#[test]
fn the_profile_row_is_documented_but_is_no_key() {
    assert!(table().iter().any(|row| row.key.name == PROFILE_ROW));
    assert!(!app_options().iter().any(|known| known.name == PROFILE_ROW));
}
