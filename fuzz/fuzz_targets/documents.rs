//! Saved documents: twin snapshots, every saved model and simulated-network states. The
//! first byte picks the kind; with its top bit set the rest is a whole document, otherwise
//! it is a body wrapped in an unsealed envelope of that kind (so the fuzzer reaches the
//! structural checks without forging a CRC). Kind 16 is a network state's CBOR bytes as
//! they are. Anything that loads must then work without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndarray::Array2;
use twin::analytics::detect::{
    Cusum, Ensemble, EwmaDetector, EwmaMonitor, FittedMahalanobis, FittedPca, HalfSpaceTrees,
    MonitorConfig, PageHinkley, Persist, RobustZScore, StreamingDetector,
};
use twin::analytics::features::BandEnergies;
use twin::analytics::health::FittedHealthIndex;
use twin::analytics::reliability::Weibull;
use twin::analytics::rul::ensemble::FittedRulEnsemble;
use twin::analytics::rul::exponential::FittedExponentialRul;
use twin::analytics::rul::regression::FittedRegressionRul;
use twin::analytics::rul::similarity::FittedSimilarityRul;
use twin::analytics::rul::UnitSeries;
use twin::connection::DataConnection;
use twin::entity::{ConveyorConfig, ConveyorDrive, PhysicalEntity};
use twin::model::ConveyorModel;
use twin::sim::connection::{NetworkState, SimNetwork};
use twin::{BatchRef, Twin, TwinSnapshot};

fn doc(format: &str, version: u32, key: &str, body: &str) -> String {
    format!("{{\"format\":\"{format}\",\"version\":{version},\"{key}\":{body}}}")
}

fn stream<D: StreamingDetector>(mut d: D) {
    for x in [0.0, 1.0, -1.0, 1e300, f64::NAN, 2.0] {
        let _ = d.update(x);
    }
}

fn unit(cols: usize) -> Option<UnitSeries> {
    if cols == 0 || cols > 64 {
        return None;
    }
    let rows = 40;
    let time: Vec<f64> = (1..=rows).map(|t| t as f64).collect();
    let values = Array2::from_shape_fn((rows, cols), |(r, c)| (r as f64 * 0.1).sin() + c as f64);
    UnitSeries::new(1, time, values).ok()
}

fn conveyor_twin() -> twin::TwinBuilder {
    let schema = ConveyorDrive::standard_schema();
    let monitor = EwmaMonitor::new(&schema, MonitorConfig::default()).expect("monitor");
    let model = ConveyorModel::new(&schema, ConveyorConfig::default()).expect("model");
    Twin::builder(schema).model(model).engine(monitor)
}

macro_rules! persist_kind {
    ($ty:ty, $text:expr, $raw:expr, $use:expr) => {{
        let text = if $raw {
            $text.to_string()
        } else {
            doc(
                <$ty as Persist>::FORMAT,
                <$ty as Persist>::VERSION,
                "model",
                $text,
            )
        };
        if let Ok(m) = <$ty>::from_json(&text) {
            #[allow(clippy::redundant_closure_call)]
            ($use)(m);
        }
    }};
}

macro_rules! rul_kind {
    ($ty:ty, $format:literal, $text:expr, $raw:expr) => {{
        let text = if $raw {
            $text.to_string()
        } else {
            doc($format, 1, "model", $text)
        };
        if let Ok(m) = <$ty>::from_json(&text) {
            if let Some(u) = unit(m.n_signals()) {
                let _ = m.predict(&u);
            }
        }
    }};
}

/// A network state that loads must run on: advance, poll, take a command, save again.
fn network_state(bytes: &[u8]) {
    let Ok(state) = NetworkState::from_bytes(bytes) else {
        return;
    };
    let n = state.devices();
    if n > 64 {
        return;
    }
    let entities: Vec<Box<dyn PhysicalEntity + Send>> = (0..n as u64)
        .map(|i| Box::new(ConveyorDrive::new(i)) as Box<dyn PhysicalEntity + Send>)
        .collect();
    let Ok(mut net) = SimNetwork::from_state(state, entities) else {
        return;
    };
    let schema = ConveyorDrive::standard_schema();
    let mut gate = twin::CommandGate::new(&schema);
    let mut out = twin::SampleBatch::new();
    for dt in [0.0, 0.5, 30.0] {
        let t = net.now_s() + dt;
        if net.advance_to(t).is_err() {
            return;
        }
        let _ = net.poll(&mut out, 1_000);
        if let Ok(id) = schema.command_id("set_speed") {
            if let Ok(c) = gate.validate(&schema, id, 1.0, twin::Timestamp::from_secs_f64(t)) {
                let _ = net.send(&c);
            }
        }
    }
    let s = net.stats();
    assert_eq!(s.sensed, s.lost + s.dropped + s.delivered + s.in_flight);
    assert_eq!(s.delivered, s.polled + s.ready);
    let _ = net.state().to_bytes();
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector & 0x7f == 16 {
        network_state(rest);
        return;
    }
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let raw = selector & 0x80 != 0;
    match selector & 0x7f {
        0 => {
            let text = if raw {
                text.to_string()
            } else {
                doc("twin.snapshot", 2, "snapshot", text)
            };
            if let Ok(snap) = TwinSnapshot::from_json(&text) {
                if let Ok(mut twin) = conveyor_twin().restore(snap) {
                    let times = [i64::MAX - 1, 0, 1];
                    let signals = [0, 1, 4];
                    let values = [1.0, 2.0, 0.5];
                    let batch = BatchRef::new(&times, &signals, &values).expect("batch");
                    let _ = twin.ingest_batch(batch);
                    let _ = twin.command("set_speed", 1.0, twin::Timestamp(i64::MAX));
                    let _ = twin.drain_insights();
                    let _ = twin.snapshot().and_then(|s| s.to_json());
                }
            }
        }
        1 => persist_kind!(FittedPca, text, raw, |m: FittedPca| {
            let _ = m.score(&vec![0.5; m.dim().min(4096)]);
        }),
        2 => persist_kind!(FittedMahalanobis, text, raw, |m: FittedMahalanobis| {
            let _ = m.score(&vec![0.5; m.dim().min(4096)]);
        }),
        3 => persist_kind!(HalfSpaceTrees, text, raw, stream),
        4 => persist_kind!(EwmaDetector, text, raw, stream),
        5 => persist_kind!(RobustZScore, text, raw, stream),
        6 => persist_kind!(Cusum, text, raw, stream),
        7 => persist_kind!(PageHinkley, text, raw, stream),
        8 => persist_kind!(Ensemble, text, raw, stream),
        9 => persist_kind!(FittedHealthIndex, text, raw, |m: FittedHealthIndex| {
            let _ = m.predict(&vec![0.5; m.dim().min(4096)]);
        }),
        10 => persist_kind!(BandEnergies, text, raw, |mut m: BandEnergies| {
            let _ = m.compute(&[0.0; 64]);
        }),
        11 => rul_kind!(FittedRegressionRul, "twin.rul.regression", text, raw),
        12 => rul_kind!(FittedExponentialRul, "twin.rul.exponential", text, raw),
        13 => rul_kind!(FittedSimilarityRul, "twin.rul.similarity", text, raw),
        14 => rul_kind!(FittedRulEnsemble, "twin.rul.ensemble", text, raw),
        15 => {
            let text = if raw {
                text.to_string()
            } else {
                doc(Weibull::FORMAT, 1, "model", text)
            };
            if let Ok(w) = Weibull::from_json(&text) {
                let _ = (w.reliability(10.0), w.mtbf());
            }
        }
        _ => {}
    }
});
