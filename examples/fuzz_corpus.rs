//! Writes the seed corpus of the fuzz targets in `fuzz/` from real documents: schemas,
//! a twin snapshot, every saved model kind, a simulated network's state, SenML packs, DTDL
//! and WoT documents.
//!
//! ```text
//! cargo run --release --example fuzz_corpus
//! ```
//! The seeds are committed under `fuzz/corpus/<target>/`; rerun this after a format change.

use std::fs;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use twin::analytics::detect::{
    Cusum, CusumConfig, Ensemble, EnsembleConfig, EwmaConfig, EwmaDetector, EwmaMonitor,
    HalfSpaceTrees, HstConfig, MahalanobisDetector, MonitorConfig, PageHinkley, PageHinkleyConfig,
    PcaDetector, Persist, RobustConfig, RobustZScore, StreamingDetector,
};
use twin::analytics::features::{BandConfig, BandEnergies};
use twin::analytics::health::{HealthIndex, HealthMethod};
use twin::analytics::reliability::Weibull;
use twin::analytics::rul::ensemble::RulEnsemble;
use twin::analytics::rul::exponential::ExponentialRul;
use twin::analytics::rul::regression::{RegressionConfig, RegressionRul};
use twin::analytics::rul::similarity::SimilarityRul;
use twin::analytics::rul::{CalibrationConfig, Fleet, UnitSeries};
use twin::codec::senml;
use twin::connection::DataConnection;
use twin::entity::{ConveyorConfig, ConveyorDrive};
use twin::model::ConveyorModel;
use twin::sim::connection::SimNetwork;
use twin::sim::network::{LinkConfig, LossModel};
use twin::{BatchRef, CommandGate, SampleBatch, Schema, Twin};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Res<()> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join(name), bytes)?;
    Ok(())
}

/// A seed of the `documents` target: `kind | 0x80` + the whole document, and `kind` + the
/// document's body (the part under its body key).
fn document(dir: &Path, name: &str, kind: u8, json: &str) -> Res<()> {
    let mut raw = vec![kind | 0x80];
    raw.extend_from_slice(json.as_bytes());
    write(dir, &format!("{name}-sealed"), &raw)?;
    let value: serde_json::Value = serde_json::from_str(json)?;
    let body = ["model", "snapshot"]
        .iter()
        .find_map(|k| value.get(*k))
        .ok_or("no body")?;
    let mut wrapped = vec![kind];
    wrapped.extend_from_slice(serde_json::to_string(body)?.as_bytes());
    write(dir, &format!("{name}-body"), &wrapped)?;
    Ok(())
}

fn warm<D: StreamingDetector>(mut d: D) -> D {
    for i in 0..200 {
        d.update((i as f64 * 0.3).sin() + if i == 150 { 5.0 } else { 0.0 });
    }
    d
}

fn fleet() -> Res<Fleet> {
    let units = (0..10u64)
        .map(|u| {
            let life = 50 + 5 * u as usize;
            let time: Vec<f64> = (1..=life).map(|t| t as f64).collect();
            let vals = Array2::from_shape_fn((life, 2), |(r, c)| {
                let rul = (life - 1 - r) as f64;
                (1.0 + c as f64) * (-(rul / 15.0)).exp() + 0.01 * ((r * 7 + u as usize) % 5) as f64
            });
            UnitSeries::new(u, time, vals)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Fleet::new(units)?)
}

fn main() -> Res<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus");

    // Schemas.
    let dir = root.join("schema_json");
    let conveyor = ConveyorDrive::standard_schema();
    write(
        &dir,
        "conveyor",
        serde_json::to_string(&conveyor)?.as_bytes(),
    )?;
    write(
        &dir,
        "pump",
        br#"{"name":"pump","telemetry":[{"name":"flow","unit":"m3/h","min":0,"max":500,"alarm_high":420}],
"properties":[{"name":"flow_setpoint","unit":"m3/h","min":0,"max":400}],
"commands":[{"name":"set_flow","unit":"m3/h","min":0,"max":400,"max_rate":10,"property":"flow_setpoint"}]}"#,
    )?;

    // Documents.
    let dir = root.join("documents");
    let monitor = EwmaMonitor::new(&conveyor, MonitorConfig::default())?;
    let model = ConveyorModel::new(&conveyor, ConveyorConfig::default())?;
    let mut twin = Twin::builder(conveyor.clone())
        .model(model)
        .engine(monitor)
        .build()?;
    let times: Vec<i64> = (0..40).map(|i| i * 1_000_000_000).collect();
    let signals: Vec<u32> = (0..40).map(|i| i % 4).collect();
    let values: Vec<f64> = (0..40).map(|i| 0.5 + 0.01 * f64::from(i % 7)).collect();
    twin.ingest_batch(BatchRef::new(&times, &signals, &values)?);
    twin.command("set_speed", 1.5, twin::Timestamp(50_000_000_000))?;
    document(&dir, "snapshot", 0, &twin.snapshot()?.to_json()?)?;

    // A network state with packets on a jittered, lossy, bandwidth-bound link, samples
    // waiting and a command on its way.
    let link = LinkConfig {
        latency_s: 0.3,
        jitter_s: 0.2,
        bandwidth_bps: Some(2_000.0),
        queue_bytes: 400,
        loss: LossModel::Bernoulli { p: 0.1 },
    };
    let mut net = SimNetwork::new(link, 5)?;
    for (i, period) in [0.5, 1.0, 1.5].into_iter().enumerate() {
        net.add_device(Box::new(ConveyorDrive::new(i as u64)), period)?;
    }
    net.advance_to(20.0)?;
    let mut taken = SampleBatch::new();
    net.poll(&mut taken, 10)?;
    let set_speed = conveyor.command_id("set_speed")?;
    net.send(&CommandGate::new(&conveyor).validate(
        &conveyor,
        set_speed,
        1.2,
        twin::Timestamp::from_secs_f64(20.0),
    )?)?;
    net.advance_to(20.1)?;
    let mut seed = vec![16u8];
    seed.extend_from_slice(&net.state().to_bytes()?);
    write(&dir, "network-state", &seed)?;

    let data = Array2::from_shape_fn((200, 3), |(i, j)| {
        let f = (i as f64 * 0.1).sin();
        [1.0, 2.0, -1.0][j] * f + (((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.5) * 0.05
    });
    document(
        &dir,
        "pca",
        1,
        &PcaDetector::default().fit(&data)?.to_json()?,
    )?;
    document(
        &dir,
        "mahalanobis",
        2,
        &MahalanobisDetector::default().fit(&data)?.to_json()?,
    )?;
    document(
        &dir,
        "hst",
        3,
        &warm(HalfSpaceTrees::new(HstConfig::default())?).to_json()?,
    )?;
    document(
        &dir,
        "ewma",
        4,
        &warm(EwmaDetector::new(EwmaConfig::default())?).to_json()?,
    )?;
    document(
        &dir,
        "robust",
        5,
        &warm(RobustZScore::new(RobustConfig::default())?).to_json()?,
    )?;
    document(
        &dir,
        "cusum",
        6,
        &warm(Cusum::new(CusumConfig::default())?).to_json()?,
    )?;
    document(
        &dir,
        "page_hinkley",
        7,
        &warm(PageHinkley::new(PageHinkleyConfig::default())?).to_json()?,
    )?;
    document(
        &dir,
        "ensemble",
        8,
        &warm(Ensemble::new(
            vec![EwmaDetector::default().into(), Cusum::default().into()],
            EnsembleConfig::default(),
        )?)
        .to_json()?,
    )?;
    let runs: Vec<Array2<f64>> = (0..4)
        .map(|k| {
            Array2::from_shape_fn((30 + k, 2), |(r, c)| {
                (r as f64) * (1.0 + c as f64) + k as f64
            })
        })
        .collect();
    let hi = HealthIndex {
        method: HealthMethod::Pca,
        ..HealthIndex::default()
    }
    .fit_runs(&runs)?;
    document(&dir, "health", 9, &hi.to_json()?)?;
    let mut bands = BandEnergies::new(BandConfig::new(1000.0, 64, vec![0.0, 100.0, 250.0, 500.0]))?;
    bands.compute(&[0.5; 64])?;
    document(&dir, "bands", 10, &bands.to_json()?)?;

    let fleet = fleet()?;
    let quick = CalibrationConfig {
        folds: 3,
        stride: 4,
        min_history: 10,
        seed: 1,
        threads: 2,
        ..CalibrationConfig::default()
    };
    let reg = RegressionRul::new(RegressionConfig {
        cap: 40.0,
        calibration: quick.clone(),
        ..RegressionConfig::default()
    })?;
    document(&dir, "rul_regression", 11, &reg.fit(&fleet)?.to_json()?)?;
    let exp_cfg = twin::analytics::rul::exponential::ExponentialRulConfig {
        calibration: quick.clone(),
        ..Default::default()
    };
    document(
        &dir,
        "rul_exponential",
        12,
        &ExponentialRul::new(exp_cfg)?.fit(&fleet)?.to_json()?,
    )?;
    let sim_cfg = twin::analytics::rul::similarity::SimilarityConfig {
        calibration: quick.clone(),
        ..Default::default()
    };
    document(
        &dir,
        "rul_similarity",
        13,
        &SimilarityRul::new(sim_cfg)?.fit(&fleet)?.to_json()?,
    )?;
    let ens_cfg = twin::analytics::rul::ensemble::EnsembleConfig {
        calibration: quick,
        ..Default::default()
    };
    document(
        &dir,
        "rul_ensemble",
        14,
        &RulEnsemble::new(ens_cfg)?.fit(&fleet)?.to_json()?,
    )?;
    document(&dir, "weibull", 15, &Weibull::new(1.5, 100.0)?.to_json()?)?;

    // Codecs: SenML JSON and CBOR, a flat object, DTDL and WoT.
    let dir = root.join("codecs");
    let batch = BatchRef::new(&times[..8], &signals[..8], &values[..8])?;
    let mut json = vec![0u8];
    json.extend(senml::encode_json(&conveyor, batch, "urn:dev:conveyor:")?);
    write(&dir, "senml-json", &json)?;
    let mut cbor = vec![1u8];
    cbor.extend(senml::encode_cbor(&conveyor, batch, "urn:dev:conveyor:")?);
    write(&dir, "senml-cbor", &cbor)?;
    write(
        &dir,
        "object",
        b"\x02{\"load\": 0.7, \"vibration\": 2.5, \"belt_speed\": \"fast\"}",
    )?;
    write(
        &dir,
        "dtdl",
        br#"{"@context":"dtmi:dtdl:context;3","@id":"dtmi:example:Fan;1","@type":"Interface","displayName":"Fan",
"contents":[{"@type":["Telemetry","AngularVelocity"],"name":"speed","schema":"double","unit":"revolutionPerMinute"},
{"@type":"Property","name":"targetSpeed","schema":"double","writable":true},
{"@type":"Command","name":"setSpeed","request":{"name":"rpm","schema":"integer"}}]}"#
            .iter()
            .fold(vec![3u8], |mut v, b| {
                v.push(*b);
                v
            })
            .as_slice(),
    )?;
    let wot: &[u8] = br#"{"@context":"https://www.w3.org/2022/wot/td/v1.1","title":"Lamp",
"properties":{"brightness":{"type":"integer","minimum":0,"maximum":100,"unit":"%"},"power":{"type":"number","unit":"W","readOnly":true}},
"actions":{"fade":{"input":{"type":"number","minimum":0,"maximum":10}}},
"events":{"overheat":{"data":{"type":"number","unit":"Cel"}}}}"#;
    let mut td = vec![5u8];
    td.extend_from_slice(wot);
    write(&dir, "wot", &td)?;
    let _: Schema = conveyor;
    println!("seeds written under {}", root.display());
    Ok(())
}
