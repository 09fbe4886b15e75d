#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nodeunits_fuzz::read_units(data));
