//! Payload codecs and schema imports: SenML JSON and CBOR packs, flat JSON objects, DTDL
//! and WoT documents. The first byte picks the decoder. A decoded pack must account for
//! every record (samples plus refusals) and feed a twin without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twin::codec::decode_object;
use twin::codec::senml::{self, Mapping};
use twin::entity::ConveyorDrive;
use twin::schema::dtdl::{self, DtdlOptions};
use twin::schema::wot::{self, WotOptions};
use twin::{Timestamp, Twin};

fn feed(decoded: &senml::Decoded) {
    let schema = ConveyorDrive::standard_schema();
    if let Ok(mut twin) = Twin::builder(schema).build() {
        let r = twin.ingest_batch(decoded.batch.as_ref());
        assert_eq!(r.accepted + r.rejected(), decoded.batch.len());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let schema = ConveyorDrive::standard_schema();
    let mapping = Mapping {
        strip_prefix: Some("urn:dev:conveyor:".into()),
    };
    let now = Timestamp(1_700_000_000_000_000_000);
    match selector % 7 {
        0 => {
            if let Ok(records) = senml::parse_json(rest, now) {
                if let Ok(d) = senml::decode_json(rest, &schema, &mapping, now) {
                    assert_eq!(d.batch.len() + d.refused.len(), records.len());
                    feed(&d);
                }
            }
        }
        1 => {
            if let Ok(records) = senml::parse_cbor(rest, now) {
                if let Ok(d) = senml::decode_cbor(rest, &schema, &mapping, now) {
                    assert_eq!(d.batch.len() + d.refused.len(), records.len());
                    feed(&d);
                }
            }
        }
        2 => {
            if let Ok(d) = decode_object(rest, &schema, now) {
                feed(&d);
            }
        }
        sel => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            let skip = sel % 2 == 1;
            let imported = if sel < 5 {
                dtdl::import(
                    text,
                    DtdlOptions {
                        skip_unsupported: skip,
                        ..Default::default()
                    },
                )
                .map(|i| i.schema)
            } else {
                wot::import(
                    text,
                    WotOptions {
                        skip_unsupported: skip,
                        ..Default::default()
                    },
                )
                .map(|i| i.schema)
            };
            if let Ok(s) = imported {
                let json = serde_json::to_string(&s).expect("serializes");
                assert_eq!(twin::Schema::from_json(&json).expect("parses"), s);
            }
        }
    }
});
