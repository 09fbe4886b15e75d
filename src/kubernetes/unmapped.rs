//! What an app's units do that its pods cannot, each said once with what
//! happens instead: the option table's word on each option.

use super::ExportOptions;
use crate::model::AppUnits;

pub(super) fn warn(app: &AppUnits, options: &ExportOptions, warn: &mut impl FnMut(String)) {
    for text in crate::options::unmapped(app, options) {
        warn(text);
    }
}
