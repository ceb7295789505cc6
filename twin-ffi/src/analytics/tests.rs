//! Calls the analytics functions as C would: every pointer NULL in turn gives
//! `TWIN_RESULT_NULL_PARAMETER`; wrong lengths, NaN, bad settings and bad documents give
//! their codes and leave outputs untouched; the numbers are the real ones.

use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};

use super::*;
use crate::result::{twin_last_error_message, TwinResult};

const NULLP: TwinResult = TwinResult::NullParameter;

fn c(s: &str) -> *const c_char {
    s.as_ptr().cast()
}

fn last_error() -> String {
    let mut buf = [0 as c_char; 1024];
    let mut len = 0;
    // SAFETY: valid buffer and length pointer.
    let r = unsafe { twin_last_error_message(buf.as_mut_ptr(), buf.len(), &mut len) };
    assert_eq!(r, TwinResult::Ok);
    // SAFETY: NUL-terminated by the call.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// SplitMix64 uniform and Box-Muller normal numbers, seeded.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (((z ^ (z >> 31)) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Read a JSON document out of a `_to_json` function: size query, then the text.
fn json_of(f: impl Fn(*mut c_char, usize, *mut usize) -> TwinResult) -> String {
    let mut len = 0usize;
    assert_eq!(f(null_mut(), 0, &mut len), TwinResult::Ok);
    // too small by one: refused, nothing written
    let mut buf = vec![b'x' as c_char; len + 1];
    let mut got = 7usize;
    assert_eq!(
        f(buf.as_mut_ptr(), len, &mut got),
        TwinResult::BufferTooSmall
    );
    assert_eq!(got, 7);
    assert!(buf.iter().all(|&b| b == b'x' as c_char));
    assert_eq!(f(buf.as_mut_ptr(), len + 1, &mut got), TwinResult::Ok);
    assert_eq!(got, len);
    // SAFETY: NUL-terminated by the call.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .expect("utf8")
        .to_string()
}

fn temp_path(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("twin-ffi-{}-{name}.json", std::process::id()))
        .to_string_lossy()
        .into_owned()
}

// ---------- settings ----------

#[test]
fn settings_merge_over_defaults_and_refuse_unknown_keys() {
    use twin::analytics::detect::{EwmaConfig, PcaComponents, PcaDetector};
    let d: EwmaConfig = super::settings("", "EWMA").expect("empty");
    assert_eq!(d, EwmaConfig::default());
    let t: EwmaConfig = super::settings(r#"{"threshold": 0.99}"#, "EWMA").expect("patch");
    assert_eq!(t.threshold, 0.99);
    assert_eq!(t.alpha, EwmaConfig::default().alpha);
    let e = super::settings::<EwmaConfig>(r#"{"thresold": 0.99}"#, "EWMA").expect_err("typo");
    assert_eq!(e, TwinResult::InvalidInput);
    assert!(super::settings::<EwmaConfig>("[1]", "EWMA").is_err());
    assert!(super::settings::<EwmaConfig>("{", "EWMA").is_err());
    // an enum variant is replaced whole
    let p: PcaDetector = super::settings(r#"{"components": {"fixed": 2}}"#, "PCA").expect("pca");
    assert_eq!(p.components, PcaComponents::Fixed(2));
}

// ---------- detectors ----------

fn new_detector(kind: u32, config: &str) -> *mut TwinDetector {
    let mut out = null_mut();
    // SAFETY: valid arguments.
    let r = unsafe { twin_detector_new(kind, c(config), config.len(), &mut out) };
    assert_eq!(r, TwinResult::Ok, "{}", last_error());
    out
}

/// A noisy level with one spike at `spike`.
fn spiky_series(n: usize, spike: usize) -> Vec<f64> {
    let mut rng = Rng(42);
    (0..n)
        .map(|i| {
            let x = 10.0 + 0.5 * rng.normal();
            if i == spike {
                x + 8.0
            } else {
                x
            }
        })
        .collect()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of numerics in the interpreter; runs natively and in the C tests under ASan and valgrind"
)]
fn every_detector_kind_flags_the_spike_and_round_trips() {
    let xs = spiky_series(3_000, 2_500);
    for kind in 0..=5u32 {
        let d = new_detector(kind, "");
        let mut kind_out = TwinDetectorKind::Cusum;
        // SAFETY: live detector.
        assert_eq!(
            unsafe { twin_detector_kind(d, &mut kind_out) },
            TwinResult::Ok
        );
        assert_eq!(kind_out as u32, kind);
        let mut det = vec![TwinDetection::default(); xs.len()];
        // SAFETY: buffers of the right sizes.
        let r = unsafe {
            twin_detector_update_batch(d, xs.as_ptr(), 2_000, det.as_mut_ptr(), det.len())
        };
        assert_eq!(r, TwinResult::Ok);
        // save mid-stream, reload, both continue identically
        // SAFETY: live detector, checked buffers.
        let json = json_of(|b, cap, len| unsafe { twin_detector_to_json(d, b, cap, len) });
        let mut back = null_mut();
        // SAFETY: valid arguments.
        let r = unsafe { twin_detector_from_json(c(&json), json.len(), &mut back) };
        assert_eq!(r, TwinResult::Ok, "{kind}: {}", last_error());
        for (i, &x) in xs.iter().enumerate().skip(2_000) {
            let (mut a, mut b) = (TwinDetection::default(), TwinDetection::default());
            // SAFETY: live detectors.
            unsafe {
                assert_eq!(twin_detector_update(d, x, &mut a), TwinResult::Ok);
                assert_eq!(twin_detector_update(back, x, &mut b), TwinResult::Ok);
            }
            assert_eq!(a, b, "kind {kind} at {i}");
            assert!((0.0..=1.0).contains(&a.likelihood));
            det[i] = a;
        }
        if kind != TwinDetectorKind::Cusum as u32 && kind != TwinDetectorKind::PageHinkley as u32 {
            // anomaly detectors: the spike raises an alarm; false alarms on 2,500 normal
            // values stay near the nominal 0.1% per member (at most 12, under 0.5%)
            assert_eq!(det[2_500].alarm, 1, "kind {kind} misses the spike");
            let others = det[500..]
                .iter()
                .enumerate()
                .filter(|(i, d)| d.alarm == 1 && *i + 500 != 2_500)
                .count();
            assert!(others <= 12, "kind {kind}: {others} false alarms");
        }
        // SAFETY: live handles, freed once.
        unsafe {
            twin_detector_free(d);
            twin_detector_free(back);
        }
    }
}

#[test]
fn detector_bad_arguments() {
    let mut out = std::ptr::dangling_mut::<TwinDetector>();
    let sentinel = out;
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        assert_eq!(
            twin_detector_new(9, null(), 0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(out, sentinel);
        assert!(last_error().contains("9 is not a TwinDetectorKind"));
        let bad = r#"{"threshold": 1.5}"#;
        assert_eq!(
            twin_detector_new(0, c(bad), bad.len(), &mut out),
            TwinResult::InvalidInput
        );
        let typo = r#"{"alfa": 0.1}"#;
        assert_eq!(
            twin_detector_new(0, c(typo), typo.len(), &mut out),
            TwinResult::InvalidInput
        );
        assert!(
            last_error().contains("unknown setting `alfa`"),
            "{}",
            last_error()
        );
        assert_eq!(out, sentinel);
        assert_eq!(twin_detector_new(0, null(), 3, &mut out), NULLP);
        assert_eq!(twin_detector_new(0, null(), 0, null_mut()), NULLP);
        twin_detector_free(null_mut());

        let d = new_detector(0, "");
        let mut det = TwinDetection::default();
        let mut kind = TwinDetectorKind::Ewma;
        assert_eq!(twin_detector_kind(null(), &mut kind), NULLP);
        assert_eq!(twin_detector_kind(d, null_mut()), NULLP);
        assert_eq!(twin_detector_update(null_mut(), 1.0, &mut det), NULLP);
        assert_eq!(twin_detector_update(d, 1.0, null_mut()), NULLP);
        // NaN is skipped: a quiet detection
        assert_eq!(twin_detector_update(d, f64::NAN, &mut det), TwinResult::Ok);
        assert_eq!(det, TwinDetection::default());
        let xs = [1.0, 2.0, 3.0];
        let mut outs = [TwinDetection::default(); 2];
        assert_eq!(
            twin_detector_update_batch(null_mut(), xs.as_ptr(), 3, outs.as_mut_ptr(), 2),
            NULLP
        );
        assert_eq!(
            twin_detector_update_batch(d, null(), 3, outs.as_mut_ptr(), 2),
            NULLP
        );
        assert_eq!(
            twin_detector_update_batch(d, xs.as_ptr(), 3, null_mut(), 2),
            NULLP
        );
        assert_eq!(
            twin_detector_update_batch(d, xs.as_ptr(), 3, outs.as_mut_ptr(), 2),
            TwinResult::BufferTooSmall
        );
        assert_eq!(
            twin_detector_update_batch(d, null(), 0, null_mut(), 0),
            TwinResult::Ok
        );
        let mut len = 0;
        assert_eq!(
            twin_detector_to_json(null(), null_mut(), 0, &mut len),
            NULLP
        );
        assert_eq!(twin_detector_to_json(d, null_mut(), 0, null_mut()), NULLP);
        let mut back = sentinel;
        assert_eq!(twin_detector_from_json(null(), 2, &mut back), NULLP);
        assert_eq!(twin_detector_from_json(c("{}"), 2, null_mut()), NULLP);
        for bad in [
            "{not json",
            r#"{"format": "twin.detect.ewma", "version": 99, "model": {}}"#,
            r#"{"format": "twin.detect.fitted_pca", "version": 1, "model": {}}"#,
            r#"{"version": 1}"#,
        ] {
            assert_eq!(
                twin_detector_from_json(c(bad), bad.len(), &mut back),
                TwinResult::Serialization,
                "{bad}"
            );
            assert_eq!(back, sentinel);
        }
        assert!(last_error().contains("format"), "{}", last_error());
        let path = temp_path("detector");
        assert_eq!(twin_detector_save(null(), c(&path), path.len()), NULLP);
        assert_eq!(twin_detector_save(d, null(), 4), NULLP);
        assert_eq!(twin_detector_save(d, c(&path), path.len()), TwinResult::Ok);
        assert_eq!(twin_detector_load(null(), 4, &mut back), NULLP);
        assert_eq!(twin_detector_load(c(&path), path.len(), null_mut()), NULLP);
        assert_eq!(
            twin_detector_load(c(&path), path.len(), &mut back),
            TwinResult::Ok
        );
        twin_detector_free(back);
        let _ = std::fs::remove_file(&path);
        let missing = "/nonexistent/dir/x.json";
        assert_eq!(
            twin_detector_load(c(missing), missing.len(), &mut back),
            TwinResult::Io
        );
        assert_eq!(
            twin_detector_save(d, c(missing), missing.len()),
            TwinResult::Io
        );
        twin_detector_free(d);
    }
}

// ---------- multivariate ----------

/// Three variables driven by one factor, plus noise.
fn factor_data(rows: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng(seed);
    let mut v = Vec::with_capacity(rows * 3);
    for _ in 0..rows {
        let f = rng.normal();
        for w in [1.0, 2.0, -1.0] {
            v.push(w * f + 0.05 * rng.normal());
        }
    }
    v
}

#[test]
fn multivariate_fit_score_save_and_bad_input() {
    let data = factor_data(500, 3);
    for kind in [TwinMultivariateKind::Pca, TwinMultivariateKind::Mahalanobis] {
        let mut m = null_mut();
        // SAFETY: valid arguments.
        let r = unsafe {
            twin_multivariate_fit(
                kind as u32,
                data.as_ptr(),
                data.len(),
                500,
                3,
                null(),
                0,
                &mut m,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let mut k = TwinMultivariateKind::Pca;
        let mut cols = 0;
        // SAFETY: live model.
        assert_eq!(
            unsafe { twin_multivariate_info(m, &mut k, &mut cols) },
            TwinResult::Ok
        );
        assert_eq!((k, cols), (kind, 3));
        // on the factor's line vs off it
        let rows = [0.5, 1.0, -0.5, 0.5, -1.0, -0.5];
        let mut s = [TwinMultivariateScore::default(); 2];
        // SAFETY: valid buffers.
        let r = unsafe { twin_multivariate_score(m, rows.as_ptr(), 6, 2, s.as_mut_ptr(), 2) };
        assert_eq!(r, TwinResult::Ok);
        assert_eq!((s[0].alarm, s[1].alarm), (0, 1), "{kind:?}: {s:?}");
        assert!(s[1].likelihood > 0.999);
        // save and load score identically
        // SAFETY: live model.
        let json = json_of(|b, cap, len| unsafe { twin_multivariate_to_json(m, b, cap, len) });
        let mut back = null_mut();
        let mut s2 = [TwinMultivariateScore::default(); 2];
        // SAFETY: valid arguments.
        unsafe {
            assert_eq!(
                twin_multivariate_from_json(c(&json), json.len(), &mut back),
                TwinResult::Ok
            );
            assert_eq!(
                twin_multivariate_score(back, rows.as_ptr(), 6, 2, s2.as_mut_ptr(), 2),
                TwinResult::Ok
            );
        }
        assert_eq!(s, s2);
        // SAFETY: every pointer is valid or NULL as each case says.
        unsafe {
            let sentinel = [TwinMultivariateScore {
                statistic: -1.0,
                ..Default::default()
            }; 2];
            let mut o = sentinel;
            assert_eq!(
                twin_multivariate_score(m, rows.as_ptr(), 5, 2, o.as_mut_ptr(), 2),
                TwinResult::InvalidInput
            );
            assert!(
                last_error().contains("2 rows × 3 columns need 6"),
                "{}",
                last_error()
            );
            assert_eq!(
                twin_multivariate_score(m, rows.as_ptr(), 6, 2, o.as_mut_ptr(), 1),
                TwinResult::BufferTooSmall
            );
            let nan = [f64::NAN, 1.0, 1.0];
            assert_eq!(
                twin_multivariate_score(m, nan.as_ptr(), 3, 1, o.as_mut_ptr(), 2),
                TwinResult::NonFinite
            );
            assert_eq!(o, sentinel);
            assert_eq!(
                twin_multivariate_score(null(), rows.as_ptr(), 6, 2, o.as_mut_ptr(), 2),
                NULLP
            );
            assert_eq!(
                twin_multivariate_score(m, null(), 6, 2, o.as_mut_ptr(), 2),
                NULLP
            );
            assert_eq!(
                twin_multivariate_score(m, rows.as_ptr(), 6, 2, null_mut(), 2),
                NULLP
            );
            assert_eq!(twin_multivariate_info(null(), &mut k, &mut cols), NULLP);
            assert_eq!(twin_multivariate_info(m, null_mut(), &mut cols), NULLP);
            assert_eq!(twin_multivariate_info(m, &mut k, null_mut()), NULLP);
            let mut len = 0;
            assert_eq!(
                twin_multivariate_to_json(null(), null_mut(), 0, &mut len),
                NULLP
            );
            assert_eq!(
                twin_multivariate_to_json(m, null_mut(), 0, null_mut()),
                NULLP
            );
            let path = temp_path(&format!("mv{}", kind as u32));
            assert_eq!(twin_multivariate_save(null(), c(&path), path.len()), NULLP);
            assert_eq!(twin_multivariate_save(m, null(), 3), NULLP);
            assert_eq!(
                twin_multivariate_save(m, c(&path), path.len()),
                TwinResult::Ok
            );
            let mut loaded = null_mut();
            assert_eq!(twin_multivariate_load(null(), 3, &mut loaded), NULLP);
            assert_eq!(
                twin_multivariate_load(c(&path), path.len(), null_mut()),
                NULLP
            );
            assert_eq!(
                twin_multivariate_load(c(&path), path.len(), &mut loaded),
                TwinResult::Ok
            );
            let _ = std::fs::remove_file(&path);
            twin_multivariate_free(loaded);
            twin_multivariate_free(back);
            twin_multivariate_free(m);
        }
    }
    // fitting errors
    let mut out = std::ptr::dangling_mut::<TwinMultivariate>();
    let sentinel = out;
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        assert_eq!(
            twin_multivariate_fit(
                0,
                data.as_ptr(),
                data.len() - 1,
                500,
                3,
                null(),
                0,
                &mut out
            ),
            TwinResult::InvalidInput
        );
        let mut nan = data.clone();
        nan[40] = f64::NAN;
        assert_eq!(
            twin_multivariate_fit(1, nan.as_ptr(), nan.len(), 500, 3, null(), 0, &mut out),
            TwinResult::NonFinite
        );
        assert_eq!(
            twin_multivariate_fit(0, data.as_ptr(), 15, 5, 3, null(), 0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_multivariate_fit(7, data.as_ptr(), data.len(), 500, 3, null(), 0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(out, sentinel);
        assert_eq!(
            twin_multivariate_fit(0, null(), 3, 1, 3, null(), 0, &mut out),
            NULLP
        );
        assert_eq!(
            twin_multivariate_fit(0, data.as_ptr(), data.len(), 500, 3, null(), 0, null_mut()),
            NULLP
        );
        let mut back = sentinel;
        assert_eq!(twin_multivariate_from_json(null(), 1, &mut back), NULLP);
        assert_eq!(twin_multivariate_from_json(c("{}"), 2, null_mut()), NULLP);
        let garbage = "{\"format\": \"twin.detect.fitted_pca\", \"version\": 1, \"model\": 3}";
        assert_eq!(
            twin_multivariate_from_json(c(garbage), garbage.len(), &mut back),
            TwinResult::Serialization
        );
        assert_eq!(back, sentinel);
        twin_multivariate_free(null_mut());
    }
}

// ---------- features ----------

#[test]
fn features_block_rolling_and_bands() {
    let sine: Vec<f64> = (0..400)
        .map(|i| 2.0 * (i as f64 * std::f64::consts::TAU / 100.0).sin())
        .collect();
    let mut f = TwinConditionFeatures::default();
    // SAFETY: valid buffers.
    unsafe {
        assert_eq!(
            twin_features_compute(sine.as_ptr(), sine.len(), &mut f),
            TwinResult::Ok
        );
    }
    assert!((f.rms - 2f64.sqrt()).abs() < 1e-12);
    assert!((f.crest_factor - 2f64.sqrt()).abs() < 1e-12);
    assert!((f.kurtosis - 1.5).abs() < 1e-12);
    assert_eq!(f.count, 400);
    let mut w = vec![TwinConditionFeatures::default(); 301];
    let mut n = 0;
    // SAFETY: valid buffers.
    unsafe {
        assert_eq!(
            twin_features_rolling(sine.as_ptr(), 400, 100, w.as_mut_ptr(), 301, &mut n),
            TwinResult::Ok
        );
    }
    assert_eq!(n, 301);
    assert!(w
        .iter()
        .all(|f| (f.rms - 2f64.sqrt()).abs() < 1e-9 && f.count == 100));
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        let mut n = 77;
        assert_eq!(
            twin_features_rolling(sine.as_ptr(), 400, 100, w.as_mut_ptr(), 300, &mut n),
            TwinResult::BufferTooSmall
        );
        assert_eq!(
            twin_features_rolling(sine.as_ptr(), 400, 0, w.as_mut_ptr(), 301, &mut n),
            TwinResult::InvalidInput
        );
        assert_eq!(n, 77);
        // shorter than the window: no windows
        assert_eq!(
            twin_features_rolling(sine.as_ptr(), 50, 100, null_mut(), 0, &mut n),
            TwinResult::Ok
        );
        assert_eq!(n, 0);
        let nan = [1.0, f64::NAN];
        assert_eq!(
            twin_features_compute(nan.as_ptr(), 2, &mut f),
            TwinResult::NonFinite
        );
        assert_eq!(
            twin_features_compute(null(), 0, &mut f),
            TwinResult::InvalidInput
        );
        assert_eq!(twin_features_compute(null(), 2, &mut f), NULLP);
        assert_eq!(twin_features_compute(sine.as_ptr(), 2, null_mut()), NULLP);
        assert_eq!(
            twin_features_rolling(null(), 2, 1, w.as_mut_ptr(), 2, &mut n),
            NULLP
        );
        assert_eq!(
            twin_features_rolling(sine.as_ptr(), 2, 1, null_mut(), 2, &mut n),
            NULLP
        );
        assert_eq!(
            twin_features_rolling(sine.as_ptr(), 2, 1, w.as_mut_ptr(), 2, null_mut()),
            NULLP
        );
    }
    // band energies: a 50 Hz tone of amplitude 2 sampled at 1 kHz, 1000 values: energy
    // N A² / 2 = 2000, all in the 40-60 Hz band
    let fs = 1_000.0;
    let tone: Vec<f64> = (0..1_000)
        .map(|i| 2.0 * (std::f64::consts::TAU * 50.0 * i as f64 / fs).sin())
        .collect();
    let edges = [0.0, 40.0, 60.0, 500.0];
    let mut b = null_mut();
    let mut e = [0.0; 3];
    // SAFETY: valid arguments.
    unsafe {
        assert_eq!(
            twin_band_energies_new(fs, 1_000, edges.as_ptr(), 4, 0, &mut b),
            TwinResult::Ok
        );
        let (mut nb, mut frame) = (0, 0);
        assert_eq!(
            twin_band_energies_info(b, &mut nb, &mut frame),
            TwinResult::Ok
        );
        assert_eq!((nb, frame), (3, 1_000));
        assert_eq!(
            twin_band_energies_compute(b, tone.as_ptr(), 1_000, e.as_mut_ptr(), 3),
            TwinResult::Ok
        );
    }
    assert!(
        (e[1] - 2_000.0).abs() < 1e-6 && e[0] < 1e-9 && e[2] < 1e-9,
        "{e:?}"
    );
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        let mut o = [-1.0; 3];
        assert_eq!(
            twin_band_energies_compute(b, tone.as_ptr(), 999, o.as_mut_ptr(), 3),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_band_energies_compute(b, tone.as_ptr(), 1_000, o.as_mut_ptr(), 2),
            TwinResult::InvalidInput
        );
        assert_eq!(o, [-1.0; 3]);
        assert_eq!(
            twin_band_energies_compute(null_mut(), tone.as_ptr(), 1_000, o.as_mut_ptr(), 3),
            NULLP
        );
        assert_eq!(
            twin_band_energies_compute(b, null(), 1_000, o.as_mut_ptr(), 3),
            NULLP
        );
        assert_eq!(
            twin_band_energies_compute(b, tone.as_ptr(), 1_000, null_mut(), 3),
            NULLP
        );
        let (mut nb, mut frame) = (0, 0);
        assert_eq!(twin_band_energies_info(null(), &mut nb, &mut frame), NULLP);
        assert_eq!(twin_band_energies_info(b, null_mut(), &mut frame), NULLP);
        assert_eq!(twin_band_energies_info(b, &mut nb, null_mut()), NULLP);
        let bad_edges = [0.0, 600.0];
        let mut out = std::ptr::dangling_mut::<TwinBandEnergies>();
        assert_eq!(
            twin_band_energies_new(fs, 1_000, bad_edges.as_ptr(), 2, 0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(out, std::ptr::dangling_mut());
        assert_eq!(
            twin_band_energies_new(fs, 1_000, null(), 2, 0, &mut out),
            NULLP
        );
        assert_eq!(
            twin_band_energies_new(fs, 1_000, edges.as_ptr(), 4, 0, null_mut()),
            NULLP
        );
        let json = json_of(|buf, cap, len| twin_band_energies_to_json(b, buf, cap, len));
        let mut back = null_mut();
        assert_eq!(
            twin_band_energies_from_json(c(&json), json.len(), &mut back),
            TwinResult::Ok
        );
        assert_eq!(
            twin_band_energies_compute(back, tone.as_ptr(), 1_000, o.as_mut_ptr(), 3),
            TwinResult::Ok
        );
        assert_eq!(o, e);
        let mut len = 0;
        assert_eq!(
            twin_band_energies_to_json(null(), null_mut(), 0, &mut len),
            NULLP
        );
        assert_eq!(
            twin_band_energies_to_json(b, null_mut(), 0, null_mut()),
            NULLP
        );
        assert_eq!(twin_band_energies_from_json(null(), 1, &mut out), NULLP);
        assert_eq!(
            twin_band_energies_from_json(c(&json), json.len(), null_mut()),
            NULLP
        );
        let path = temp_path("bands");
        assert_eq!(twin_band_energies_save(null(), c(&path), path.len()), NULLP);
        assert_eq!(twin_band_energies_save(b, null(), 2), NULLP);
        assert_eq!(
            twin_band_energies_save(b, c(&path), path.len()),
            TwinResult::Ok
        );
        let mut loaded = null_mut();
        assert_eq!(twin_band_energies_load(null(), 2, &mut loaded), NULLP);
        assert_eq!(
            twin_band_energies_load(c(&path), path.len(), null_mut()),
            NULLP
        );
        assert_eq!(
            twin_band_energies_load(c(&path), path.len(), &mut loaded),
            TwinResult::Ok
        );
        let _ = std::fs::remove_file(&path);
        twin_band_energies_free(loaded);
        twin_band_energies_free(back);
        twin_band_energies_free(b);
        twin_band_energies_free(null_mut());
    }
}

// ---------- health index ----------

/// Runs to failure of one feature that grows with wear and one that does not, long format.
fn health_runs() -> (Vec<u64>, Vec<f64>) {
    let mut ids = Vec::new();
    let mut data = Vec::new();
    for (run, len) in [(1u64, 200usize), (2, 260), (3, 230)] {
        for i in 0..len {
            let life = i as f64 / (len - 1) as f64;
            let noise = (((i * 7 + run as usize * 13) % 11) as f64 - 5.0) * 0.01;
            ids.push(run);
            data.push(1.0 + 3.0 * life * life + noise);
            data.push(0.5 + noise);
        }
    }
    (ids, data)
}

#[test]
fn health_index_fits_predicts_and_refuses_bad_input() {
    let (ids, data) = health_runs();
    let mut hi = null_mut();
    // SAFETY: valid arguments.
    let r = unsafe {
        twin_health_index_fit_runs(
            ids.as_ptr(),
            ids.len(),
            data.as_ptr(),
            data.len(),
            2,
            null(),
            0,
            &mut hi,
        )
    };
    assert_eq!(r, TwinResult::Ok, "{}", last_error());
    let x = [1.0, 0.5, 4.0, 0.5, 100.0, 0.5];
    let mut h = [0.0; 3];
    // SAFETY: valid buffers.
    unsafe {
        assert_eq!(
            twin_health_index_predict(hi, x.as_ptr(), 6, 3, h.as_mut_ptr(), 3),
            TwinResult::Ok
        );
    }
    assert!(h[0] > 0.95 && h[1] < 0.05 && h[2] == 0.0, "{h:?}");
    // labelled fit: the midpoint between healthy and failed is about 0.5
    let healthy = [
        1.0, 10.0, 1.1, 10.2, 0.9, 9.9, 1.0, 10.1, 1.05, 10.0, 0.95, 9.8,
    ];
    let failed = [
        3.0, 10.1, 3.2, 9.9, 2.9, 10.0, 3.1, 10.2, 3.0, 9.8, 2.8, 10.0,
    ];
    let cfg = r#"{"method": "pca"}"#;
    let mut lab = null_mut();
    // SAFETY: valid arguments.
    unsafe {
        let r = twin_health_index_fit_labelled(
            healthy.as_ptr(),
            12,
            6,
            failed.as_ptr(),
            12,
            6,
            2,
            c(cfg),
            cfg.len(),
            &mut lab,
        );
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        let mid = [2.0, 10.0];
        let mut m = [0.0];
        assert_eq!(
            twin_health_index_predict(lab, mid.as_ptr(), 2, 1, m.as_mut_ptr(), 1),
            TwinResult::Ok
        );
        assert!((m[0] - 0.5).abs() < 0.1, "{m:?}");
        let mut cols = 0;
        assert_eq!(twin_health_index_cols(lab, &mut cols), TwinResult::Ok);
        assert_eq!(cols, 2);
        twin_health_index_free(lab);
    }
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        let json = json_of(|b, cap, len| twin_health_index_to_json(hi, b, cap, len));
        let mut back = null_mut();
        assert_eq!(
            twin_health_index_from_json(c(&json), json.len(), &mut back),
            TwinResult::Ok
        );
        let mut h2 = [0.0; 3];
        assert_eq!(
            twin_health_index_predict(back, x.as_ptr(), 6, 3, h2.as_mut_ptr(), 3),
            TwinResult::Ok
        );
        assert_eq!(h, h2);
        twin_health_index_free(back);
        let version = json.replacen("\"version\":1", "\"version\":2", 1);
        let mut out = std::ptr::dangling_mut::<TwinHealthIndex>();
        assert_eq!(
            twin_health_index_from_json(c(&version), version.len(), &mut out),
            TwinResult::Serialization
        );
        assert!(last_error().contains("version 2"), "{}", last_error());
        let mut nan = data.clone();
        nan[11] = f64::NAN;
        assert_eq!(
            twin_health_index_fit_runs(
                ids.as_ptr(),
                ids.len(),
                nan.as_ptr(),
                nan.len(),
                2,
                null(),
                0,
                &mut out
            ),
            TwinResult::NonFinite
        );
        assert_eq!(
            twin_health_index_fit_runs(
                ids.as_ptr(),
                ids.len(),
                data.as_ptr(),
                data.len() - 2,
                2,
                null(),
                0,
                &mut out
            ),
            TwinResult::InvalidInput
        );
        let split = [1u64, 2, 1];
        assert_eq!(
            twin_health_index_fit_runs(split.as_ptr(), 3, data.as_ptr(), 6, 2, null(), 0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_health_index_fit_labelled(
                healthy.as_ptr(),
                11,
                6,
                failed.as_ptr(),
                12,
                6,
                2,
                null(),
                0,
                &mut out
            ),
            TwinResult::InvalidInput
        );
        assert_eq!(out, std::ptr::dangling_mut());
        assert_eq!(
            twin_health_index_fit_runs(null(), 3, data.as_ptr(), 6, 2, null(), 0, &mut out),
            NULLP
        );
        assert_eq!(
            twin_health_index_fit_runs(ids.as_ptr(), 3, null(), 6, 2, null(), 0, &mut out),
            NULLP
        );
        assert_eq!(
            twin_health_index_fit_runs(ids.as_ptr(), 3, data.as_ptr(), 6, 2, null(), 0, null_mut()),
            NULLP
        );
        assert_eq!(
            twin_health_index_fit_labelled(
                null(),
                12,
                6,
                failed.as_ptr(),
                12,
                6,
                2,
                null(),
                0,
                &mut out
            ),
            NULLP
        );
        assert_eq!(
            twin_health_index_fit_labelled(
                healthy.as_ptr(),
                12,
                6,
                null(),
                12,
                6,
                2,
                null(),
                0,
                &mut out
            ),
            NULLP
        );
        assert_eq!(
            twin_health_index_fit_labelled(
                healthy.as_ptr(),
                12,
                6,
                failed.as_ptr(),
                12,
                6,
                2,
                null(),
                0,
                null_mut()
            ),
            NULLP
        );
        let mut o = [-1.0; 3];
        assert_eq!(
            twin_health_index_predict(hi, x.as_ptr(), 5, 3, o.as_mut_ptr(), 3),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_health_index_predict(hi, x.as_ptr(), 6, 3, o.as_mut_ptr(), 2),
            TwinResult::BufferTooSmall
        );
        assert_eq!(o, [-1.0; 3]);
        assert_eq!(
            twin_health_index_predict(null(), x.as_ptr(), 6, 3, o.as_mut_ptr(), 3),
            NULLP
        );
        assert_eq!(
            twin_health_index_predict(hi, null(), 6, 3, o.as_mut_ptr(), 3),
            NULLP
        );
        assert_eq!(
            twin_health_index_predict(hi, x.as_ptr(), 6, 3, null_mut(), 3),
            NULLP
        );
        let mut cols = 0;
        assert_eq!(twin_health_index_cols(null(), &mut cols), NULLP);
        assert_eq!(twin_health_index_cols(hi, null_mut()), NULLP);
        let mut len = 0;
        assert_eq!(
            twin_health_index_to_json(null(), null_mut(), 0, &mut len),
            NULLP
        );
        assert_eq!(
            twin_health_index_to_json(hi, null_mut(), 0, null_mut()),
            NULLP
        );
        assert_eq!(twin_health_index_from_json(null(), 2, &mut out), NULLP);
        assert_eq!(twin_health_index_from_json(c("{}"), 2, null_mut()), NULLP);
        let path = temp_path("health");
        assert_eq!(twin_health_index_save(null(), c(&path), path.len()), NULLP);
        assert_eq!(twin_health_index_save(hi, null(), 2), NULLP);
        assert_eq!(
            twin_health_index_save(hi, c(&path), path.len()),
            TwinResult::Ok
        );
        let mut loaded = null_mut();
        assert_eq!(twin_health_index_load(null(), 2, &mut loaded), NULLP);
        assert_eq!(
            twin_health_index_load(c(&path), path.len(), null_mut()),
            NULLP
        );
        assert_eq!(
            twin_health_index_load(c(&path), path.len(), &mut loaded),
            TwinResult::Ok
        );
        let _ = std::fs::remove_file(&path);
        twin_health_index_free(loaded);
        twin_health_index_free(hi);
        twin_health_index_free(null_mut());
    }
}

// ---------- RUL ----------

/// A fleet in long format whose units wear as `exp(-RUL/30)` in two sensors plus noise;
/// lives `120 + 10 (i mod 12)`.
fn wear_fleet(seed: u64, n: usize) -> (Vec<u64>, Vec<f64>, Vec<f64>) {
    let mut rng = Rng(seed);
    let (mut ids, mut cycles, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let life = 120 + 10 * (i % 12);
        for r in 0..life {
            let wear = (-((life - 1 - r) as f64) / 30.0).exp();
            ids.push(i as u64);
            cycles.push((r + 1) as f64);
            values.push(10.0 + 2.0 * wear + 0.05 * rng.normal());
            values.push(5.0 - wear + 0.05 * rng.normal());
        }
    }
    (ids, cycles, values)
}

const QUICK: &str = r#"{"features": {"window": 20},
  "learner": {"Boosting": {"n_trees": 60, "max_depth": 3, "learning_rate": 0.15}}, "cap": 100.0,
  "calibration": {"folds": 3, "stride": 4, "min_history": 20, "seed": 1, "threads": 2}}"#;

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of numerics in the interpreter; runs natively and in the C tests under ASan and valgrind"
)]
fn rul_fits_predicts_within_its_interval_and_round_trips() {
    let (ids, cycles, values) = wear_fleet(6, 24);
    let mut m = null_mut();
    // SAFETY: valid arguments.
    let r = unsafe {
        twin_rul_fit(
            TwinRulKind::Regression as u32,
            ids.as_ptr(),
            ids.len(),
            cycles.as_ptr(),
            cycles.len(),
            values.as_ptr(),
            values.len(),
            2,
            c(QUICK),
            QUICK.len(),
            &mut m,
        )
    };
    assert_eq!(r, TwinResult::Ok, "{}", last_error());
    let mut kind = TwinRulKind::Ensemble;
    // SAFETY: live model.
    assert_eq!(unsafe { twin_rul_kind(m, &mut kind) }, TwinResult::Ok);
    assert_eq!(kind, TwinRulKind::Regression);
    let mut held = TwinRulHeldOut::default();
    // SAFETY: live model; NULL output refused.
    unsafe {
        assert_eq!(twin_rul_held_out(m, &mut held), TwinResult::Ok);
        assert_eq!(twin_rul_held_out(m, null_mut()), NULLP);
        assert_eq!(twin_rul_held_out(null(), &mut held), NULLP);
    }
    // 3 folds, every 4th cycle from the 20th of 24 units of 120-230 cycles
    assert!(
        held.points > 500 && held.rmse_capped > 0.0 && held.rmse_capped < 20.0,
        "{held:?}"
    );
    // fresh units cut 30 cycles before failure: true RUL 29
    let (fid, fcyc, fval) = wear_fleet(7, 8);
    let mut covered = 0;
    let mut start = 0;
    let mut first = None;
    while start < fid.len() {
        let end = fid[start..]
            .iter()
            .position(|&u| u != fid[start])
            .map_or(fid.len(), |p| start + p);
        let keep = end - start - 30;
        let mut p = TwinRulPrediction::default();
        // SAFETY: valid buffers.
        let r = unsafe {
            twin_rul_predict(
                m,
                fcyc[start..].as_ptr(),
                keep,
                fval[2 * start..].as_ptr(),
                2 * keep,
                2,
                &mut p,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        assert!(
            p.lower <= p.rul && p.rul <= p.upper && p.level == 0.9,
            "{p:?}"
        );
        assert!((p.rul - 29.0).abs() < 15.0, "{p:?}");
        if p.lower <= 29.0 && 29.0 <= p.upper {
            covered += 1;
        }
        first.get_or_insert((start, keep, p));
        start = end;
    }
    assert!(covered >= 6, "{covered} of 8 intervals cover the truth");
    // the fleet call predicts each unit at its last cycle
    let mut preds = vec![TwinRulPrediction::default(); 8];
    let mut n = 0;
    // SAFETY: valid buffers.
    unsafe {
        let r = twin_rul_predict_fleet(
            m,
            fid.as_ptr(),
            fid.len(),
            fcyc.as_ptr(),
            fcyc.len(),
            fval.as_ptr(),
            fval.len(),
            2,
            preds.as_mut_ptr(),
            8,
            &mut n,
        );
        assert_eq!(r, TwinResult::Ok);
        assert_eq!(n, 8);
        let r = twin_rul_predict_fleet(
            m,
            fid.as_ptr(),
            fid.len(),
            fcyc.as_ptr(),
            fcyc.len(),
            fval.as_ptr(),
            fval.len(),
            2,
            preds.as_mut_ptr(),
            7,
            &mut n,
        );
        assert_eq!(r, TwinResult::BufferTooSmall);
    }
    assert!(preds.iter().all(|p| p.rul < 15.0), "{preds:?}");
    // save, load: identical predictions
    // SAFETY: live model.
    let json = json_of(|b, cap, len| unsafe { twin_rul_to_json(m, b, cap, len) });
    let (s, keep, p) = first.expect("a unit");
    let mut back = null_mut();
    let mut q = TwinRulPrediction::default();
    // SAFETY: valid arguments.
    unsafe {
        assert_eq!(
            twin_rul_from_json(c(&json), json.len(), &mut back),
            TwinResult::Ok
        );
        assert_eq!(
            twin_rul_predict(
                back,
                fcyc[s..].as_ptr(),
                keep,
                fval[2 * s..].as_ptr(),
                2 * keep,
                2,
                &mut q
            ),
            TwinResult::Ok
        );
    }
    assert_eq!(p, q);
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        let sentinel = TwinRulPrediction {
            rul: -1.0,
            ..Default::default()
        };
        let mut o = sentinel;
        assert_eq!(
            twin_rul_predict(m, fcyc.as_ptr(), 10, fval.as_ptr(), 19, 2, &mut o),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_rul_predict(m, fcyc.as_ptr(), 10, fval.as_ptr(), 30, 3, &mut o),
            TwinResult::InvalidInput
        );
        let mut nan = fval[..20].to_vec();
        nan[3] = f64::NAN;
        assert_eq!(
            twin_rul_predict(m, fcyc.as_ptr(), 10, nan.as_ptr(), 20, 2, &mut o),
            TwinResult::NonFinite
        );
        assert_eq!(o, sentinel);
        assert_eq!(
            twin_rul_predict(null(), fcyc.as_ptr(), 10, fval.as_ptr(), 20, 2, &mut o),
            NULLP
        );
        assert_eq!(
            twin_rul_predict(m, null(), 10, fval.as_ptr(), 20, 2, &mut o),
            NULLP
        );
        assert_eq!(
            twin_rul_predict(m, fcyc.as_ptr(), 10, null(), 20, 2, &mut o),
            NULLP
        );
        assert_eq!(
            twin_rul_predict(m, fcyc.as_ptr(), 10, fval.as_ptr(), 20, 2, null_mut()),
            NULLP
        );
        let mut n = 0;
        let pf = |ids: *const u64,
                  cyc: *const f64,
                  val: *const f64,
                  out: *mut TwinRulPrediction,
                  n: *mut usize| {
            twin_rul_predict_fleet(m, ids, 4, cyc, 4, val, 8, 2, out, 8, n)
        };
        assert_eq!(
            pf(
                null(),
                fcyc.as_ptr(),
                fval.as_ptr(),
                preds.as_mut_ptr(),
                &mut n
            ),
            NULLP
        );
        assert_eq!(
            pf(
                fid.as_ptr(),
                null(),
                fval.as_ptr(),
                preds.as_mut_ptr(),
                &mut n
            ),
            NULLP
        );
        assert_eq!(
            pf(
                fid.as_ptr(),
                fcyc.as_ptr(),
                null(),
                preds.as_mut_ptr(),
                &mut n
            ),
            NULLP
        );
        assert_eq!(
            pf(
                fid.as_ptr(),
                fcyc.as_ptr(),
                fval.as_ptr(),
                null_mut(),
                &mut n
            ),
            NULLP
        );
        assert_eq!(
            pf(
                fid.as_ptr(),
                fcyc.as_ptr(),
                fval.as_ptr(),
                preds.as_mut_ptr(),
                null_mut()
            ),
            NULLP
        );
        assert_eq!(
            twin_rul_predict_fleet(
                null(),
                fid.as_ptr(),
                4,
                fcyc.as_ptr(),
                4,
                fval.as_ptr(),
                8,
                2,
                preds.as_mut_ptr(),
                8,
                &mut n
            ),
            NULLP
        );
        let mut k = TwinRulKind::Exponential;
        assert_eq!(twin_rul_kind(null(), &mut k), NULLP);
        assert_eq!(twin_rul_kind(m, null_mut()), NULLP);
        let mut len = 0;
        assert_eq!(twin_rul_to_json(null(), null_mut(), 0, &mut len), NULLP);
        assert_eq!(twin_rul_to_json(m, null_mut(), 0, null_mut()), NULLP);
        let mut out = std::ptr::dangling_mut::<TwinRulModel>();
        assert_eq!(twin_rul_from_json(null(), 2, &mut out), NULLP);
        assert_eq!(twin_rul_from_json(c(&json), json.len(), null_mut()), NULLP);
        let corrupt = &json[..json.len() / 2];
        assert_eq!(
            twin_rul_from_json(c(corrupt), corrupt.len(), &mut out),
            TwinResult::Serialization
        );
        let future = json.replacen("\"version\":1", "\"version\":9", 1);
        assert_eq!(
            twin_rul_from_json(c(&future), future.len(), &mut out),
            TwinResult::Serialization
        );
        assert_eq!(out, std::ptr::dangling_mut());
        let path = temp_path("rul");
        assert_eq!(twin_rul_save(null(), c(&path), path.len()), NULLP);
        assert_eq!(twin_rul_save(m, null(), 2), NULLP);
        assert_eq!(twin_rul_save(m, c(&path), path.len()), TwinResult::Ok);
        let mut loaded = null_mut();
        assert_eq!(twin_rul_load(null(), 2, &mut loaded), NULLP);
        assert_eq!(twin_rul_load(c(&path), path.len(), null_mut()), NULLP);
        assert_eq!(
            twin_rul_load(c(&path), path.len(), &mut loaded),
            TwinResult::Ok
        );
        let _ = std::fs::remove_file(&path);
        twin_rul_free(loaded);
        twin_rul_free(back);
        twin_rul_free(m);
        twin_rul_free(null_mut());
    }
}

#[test]
fn rul_fit_refuses_bad_fleets() {
    let (ids, cycles, values) = wear_fleet(1, 6);
    let mut out = std::ptr::dangling_mut::<TwinRulModel>();
    let fit = |kind: u32,
               ids: &[u64],
               cycles: &[f64],
               values: &[f64],
               cfg: &str,
               out: *mut *mut TwinRulModel| {
        // SAFETY: slices and string are valid.
        unsafe {
            twin_rul_fit(
                kind,
                ids.as_ptr(),
                ids.len(),
                cycles.as_ptr(),
                cycles.len(),
                values.as_ptr(),
                values.len(),
                2,
                c(cfg),
                cfg.len(),
                out,
            )
        }
    };
    assert_eq!(
        fit(2, &ids, &cycles[1..], &values, QUICK, &mut out),
        TwinResult::InvalidInput
    );
    assert!(last_error().contains("unit ids but"), "{}", last_error());
    assert_eq!(
        fit(2, &ids, &cycles, &values[1..], QUICK, &mut out),
        TwinResult::InvalidInput
    );
    let mut nan = values.clone();
    nan[101] = f64::NAN;
    assert_eq!(
        fit(2, &ids, &cycles, &nan, QUICK, &mut out),
        TwinResult::NonFinite
    );
    // two units are too few
    let two = ids.iter().position(|&u| u == 2).expect("unit 2");
    assert_eq!(
        fit(
            2,
            &ids[..two],
            &cycles[..two],
            &values[..2 * two],
            QUICK,
            &mut out
        ),
        TwinResult::InvalidInput
    );
    assert_eq!(
        fit(2, &ids, &cycles, &values, r#"{"cap": -1}"#, &mut out),
        TwinResult::InvalidInput
    );
    assert_eq!(
        fit(2, &ids, &cycles, &values, r#"{"kap": 1}"#, &mut out),
        TwinResult::InvalidInput
    );
    assert_eq!(
        fit(4, &ids, &cycles, &values, "", &mut out),
        TwinResult::InvalidInput
    );
    assert_eq!(out, std::ptr::dangling_mut());
    assert_eq!(fit(2, &ids, &cycles, &values, QUICK, null_mut()), NULLP);
    // SAFETY: NULL buffers with non-zero lengths are refused before use.
    unsafe {
        assert_eq!(
            twin_rul_fit(
                2,
                null(),
                3,
                cycles.as_ptr(),
                3,
                values.as_ptr(),
                6,
                2,
                null(),
                0,
                &mut out
            ),
            NULLP
        );
        assert_eq!(
            twin_rul_fit(
                2,
                ids.as_ptr(),
                3,
                null(),
                3,
                values.as_ptr(),
                6,
                2,
                null(),
                0,
                &mut out
            ),
            NULLP
        );
        assert_eq!(
            twin_rul_fit(
                2,
                ids.as_ptr(),
                3,
                cycles.as_ptr(),
                3,
                null(),
                6,
                2,
                null(),
                0,
                &mut out
            ),
            NULLP
        );
        assert_eq!(
            twin_rul_fit(
                2,
                ids.as_ptr(),
                3,
                cycles.as_ptr(),
                3,
                values.as_ptr(),
                6,
                2,
                null(),
                4,
                &mut out
            ),
            NULLP
        );
    }
}

// ---------- estimation ----------

/// Constant velocity, position measured: F = [1 1; 0 1], DWPA noise.
fn cv_model() -> *mut TwinStateModel {
    let f = [1.0, 1.0, 0.0, 1.0];
    let h = [1.0, 0.0];
    let q = [0.0625, 0.125, 0.125, 0.25];
    let r = [4.0];
    let mut m = null_mut();
    // SAFETY: valid arguments.
    let res = unsafe {
        twin_state_model_linear_new(
            2,
            1,
            0,
            TwinTimeDomain::Discrete as u32,
            1.0,
            f.as_ptr(),
            4,
            null(),
            0,
            h.as_ptr(),
            2,
            null(),
            0,
            q.as_ptr(),
            4,
            r.as_ptr(),
            1,
            null(),
            0,
            0.0,
            &mut m,
        )
    };
    assert_eq!(res, TwinResult::Ok, "{}", last_error());
    m
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of numerics in the interpreter; runs natively and in the C tests under ASan and valgrind"
)]
fn filters_track_constant_velocity_and_round_trip() {
    let model = cv_model();
    for kind in [
        TwinFilterKind::Kalman,
        TwinFilterKind::Unscented,
        TwinFilterKind::Particle,
    ] {
        let x0 = [0.0, 0.0];
        let p0 = [100.0, 0.0, 0.0, 100.0];
        let cfg = if kind == TwinFilterKind::Particle {
            r#"{"particles": 2000, "seed": 3}"#
        } else {
            ""
        };
        let mut e = null_mut();
        // SAFETY: valid arguments.
        let r = unsafe {
            twin_estimator_new(
                model,
                kind as u32,
                x0.as_ptr(),
                2,
                p0.as_ptr(),
                4,
                c(cfg),
                cfg.len(),
                &mut e,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{kind:?}: {}", last_error());
        // truth: x = 10 - t, measured exactly
        for t in 1..=60 {
            let z = [10.0 - f64::from(t)];
            // SAFETY: live estimator, valid buffers.
            unsafe {
                assert_eq!(twin_estimator_predict(e, null(), 0, 1.0), TwinResult::Ok);
                assert_eq!(twin_estimator_update(e, z.as_ptr(), 1), TwinResult::Ok);
            }
        }
        let mut mean = [0.0; 2];
        let mut n = 0;
        // SAFETY: valid buffers.
        unsafe {
            assert_eq!(
                twin_estimator_mean(e, mean.as_mut_ptr(), 2, &mut n),
                TwinResult::Ok
            );
        }
        assert_eq!(n, 2);
        assert!(
            (mean[0] + 50.0).abs() < 1.0 && (mean[1] + 1.0).abs() < 0.1,
            "{kind:?}: {mean:?}"
        );
        // save, load, continue identically
        // SAFETY: live estimator.
        let json = json_of(|b, cap, len| unsafe { twin_estimator_to_json(e, b, cap, len) });
        let mut back = null_mut();
        // SAFETY: valid arguments.
        unsafe {
            assert_eq!(
                twin_estimator_from_json(c(&json), json.len(), &mut back),
                TwinResult::Ok
            );
            for h in [e, back] {
                assert_eq!(twin_estimator_predict(h, null(), 0, 1.0), TwinResult::Ok);
                assert_eq!(
                    twin_estimator_update(h, [-51.0].as_ptr(), 1),
                    TwinResult::Ok
                );
            }
            let (mut a, mut b) = ([0.0; 4], [0.0; 4]);
            assert_eq!(
                twin_estimator_covariance(e, a.as_mut_ptr(), 4, &mut n),
                TwinResult::Ok
            );
            assert_eq!(
                twin_estimator_covariance(back, b.as_mut_ptr(), 4, &mut n),
                TwinResult::Ok
            );
            assert_eq!(n, 4);
            assert_eq!(a, b);
            twin_estimator_free(back);
            twin_estimator_free(e);
        }
    }
    // SAFETY: live model, freed once.
    unsafe { twin_state_model_free(model) };
}

#[test]
fn time_of_event_on_a_linear_wear_model_is_the_analytic_time() {
    // wear' = rate, event at wear = 1; x = [wear, rate] = [0.1, 0.003]: 300 time units
    let a = [0.0, 1.0, 0.0, 0.0];
    let h = [1.0, 0.0];
    let r = [1e-4];
    let w = [1.0, 0.0];
    let mut m = null_mut();
    // SAFETY: valid arguments.
    unsafe {
        let res = twin_state_model_linear_new(
            2,
            1,
            0,
            TwinTimeDomain::Continuous as u32,
            0.0,
            a.as_ptr(),
            4,
            null(),
            0,
            h.as_ptr(),
            2,
            null(),
            0,
            null(),
            0,
            r.as_ptr(),
            1,
            w.as_ptr(),
            2,
            1.0,
            &mut m,
        );
        assert_eq!(res, TwinResult::Ok, "{}", last_error());
    }
    let x0 = [0.1, 0.003];
    let p0 = [1e-20, 0.0, 0.0, 1e-20];
    let mut e = null_mut();
    let cfg = r#"{"samples": 4, "dt": 0.7, "horizon": 1000.0}"#;
    let mut samples = [0.0; 4];
    let mut s = TwinTimeOfEvent::default();
    // SAFETY: valid arguments.
    unsafe {
        assert_eq!(
            twin_estimator_new(m, 0, x0.as_ptr(), 2, p0.as_ptr(), 4, null(), 0, &mut e),
            TwinResult::Ok
        );
        let r = twin_estimator_time_of_event(
            e,
            null(),
            0,
            c(cfg),
            cfg.len(),
            samples.as_mut_ptr(),
            4,
            &mut s,
        );
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
    }
    assert!(
        samples.iter().all(|t| (t - 300.0).abs() < 1e-3),
        "{samples:?}"
    );
    assert_eq!((s.samples, s.reached), (4, 4));
    assert!((s.median - 300.0).abs() < 1e-3 && s.fraction_reached == 1.0);
    // beyond the horizon: +inf, never NaN
    let short = r#"{"samples": 4, "dt": 0.7, "horizon": 200.0}"#;
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        assert_eq!(
            twin_estimator_time_of_event(
                e,
                null(),
                0,
                c(short),
                short.len(),
                samples.as_mut_ptr(),
                4,
                &mut s
            ),
            TwinResult::Ok
        );
        assert!(samples.iter().all(|t| *t == f64::INFINITY));
        assert_eq!(s.reached, 0);
        assert!(s.mean == f64::INFINITY && s.median == f64::INFINITY && !s.std_dev.is_nan());
        let before = s;
        assert_eq!(
            twin_estimator_time_of_event(
                e,
                null(),
                0,
                c(cfg),
                cfg.len(),
                samples.as_mut_ptr(),
                3,
                &mut s
            ),
            TwinResult::BufferTooSmall
        );
        assert_eq!(
            twin_estimator_time_of_event(
                e,
                [1.0].as_ptr(),
                1,
                c(cfg),
                cfg.len(),
                null_mut(),
                0,
                &mut s
            ),
            TwinResult::InvalidInput
        );
        assert_eq!(s, before);
        assert_eq!(
            twin_estimator_time_of_event(null(), null(), 0, null(), 0, null_mut(), 0, &mut s),
            NULLP
        );
        assert_eq!(
            twin_estimator_time_of_event(e, null(), 0, null(), 0, null_mut(), 0, null_mut()),
            NULLP
        );
        assert_eq!(
            twin_estimator_time_of_event(e, null(), 0, null(), 0, null_mut(), 4, &mut s),
            NULLP
        );
        assert_eq!(
            twin_estimator_time_of_event(e, null(), 1, null(), 0, null_mut(), 0, &mut s),
            NULLP
        );
        assert_eq!(
            twin_estimator_time_of_event(e, null(), 0, null(), 2, null_mut(), 0, &mut s),
            NULLP
        );
        twin_estimator_free(e);
        twin_state_model_free(m);
    }
    // a model without an event has no time of event
    let model = cv_model();
    let mut e = null_mut();
    // SAFETY: valid arguments.
    unsafe {
        assert_eq!(
            twin_estimator_new(
                model,
                1,
                [0.0, 0.0].as_ptr(),
                2,
                [1.0, 0.0, 0.0, 1.0].as_ptr(),
                4,
                null(),
                0,
                &mut e
            ),
            TwinResult::Ok
        );
        assert_eq!(
            twin_estimator_time_of_event(e, null(), 0, null(), 0, null_mut(), 0, &mut s),
            TwinResult::InvalidInput
        );
        assert!(last_error().contains("no event"), "{}", last_error());
        twin_estimator_free(e);
        twin_state_model_free(model);
    }
}

#[test]
fn state_model_and_estimator_bad_arguments() {
    let f = [1.0, 1.0, 0.0, 1.0];
    let h = [1.0, 0.0];
    let r = [4.0];
    let mut out = std::ptr::dangling_mut::<TwinStateModel>();
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        let lin = |f: *const f64,
                   fl: usize,
                   h: *const f64,
                   r: *const f64,
                   rv: f64,
                   td: u32,
                   out: *mut *mut TwinStateModel| {
            let _ = rv;
            twin_state_model_linear_new(
                2,
                1,
                0,
                td,
                1.0,
                f,
                fl,
                null(),
                0,
                h,
                2,
                null(),
                0,
                null(),
                0,
                r,
                1,
                null(),
                0,
                0.0,
                out,
            )
        };
        assert_eq!(
            lin(f.as_ptr(), 3, h.as_ptr(), r.as_ptr(), 0.0, 0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(
            lin(f.as_ptr(), 4, h.as_ptr(), r.as_ptr(), 0.0, 5, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(
            lin(f.as_ptr(), 4, h.as_ptr(), [-1.0].as_ptr(), 0.0, 0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(
            lin(
                f.as_ptr(),
                4,
                h.as_ptr(),
                [f64::NAN].as_ptr(),
                0.0,
                0,
                &mut out
            ),
            TwinResult::NonFinite
        );
        // sizes whose products overflow are a clear error, not an overflow
        let huge = twin_state_model_linear_new(
            1 << 40,
            1,
            0,
            0,
            1.0,
            f.as_ptr(),
            4,
            null(),
            0,
            h.as_ptr(),
            2,
            null(),
            0,
            null(),
            0,
            r.as_ptr(),
            1,
            null(),
            0,
            0.0,
            &mut out,
        );
        assert_eq!(huge, TwinResult::InvalidInput);
        assert!(
            last_error().contains("`a` has 4 values"),
            "{}",
            last_error()
        );
        let stray_b = twin_state_model_linear_new(
            2,
            1,
            0,
            0,
            1.0,
            f.as_ptr(),
            4,
            h.as_ptr(),
            2,
            h.as_ptr(),
            2,
            null(),
            0,
            null(),
            0,
            r.as_ptr(),
            1,
            null(),
            0,
            0.0,
            &mut out,
        );
        assert_eq!(stray_b, TwinResult::InvalidInput);
        let short_event = twin_state_model_linear_new(
            2,
            1,
            0,
            0,
            1.0,
            f.as_ptr(),
            4,
            null(),
            0,
            h.as_ptr(),
            2,
            null(),
            0,
            null(),
            0,
            r.as_ptr(),
            1,
            h.as_ptr(),
            1,
            0.0,
            &mut out,
        );
        assert_eq!(short_event, TwinResult::InvalidInput);
        let many = r#"{"particles": 20000000}"#;
        let mut pf = std::ptr::dangling_mut::<TwinEstimator>();
        let lin_model = cv_model();
        assert_eq!(
            twin_estimator_new(
                lin_model,
                2,
                [0.0, 0.0].as_ptr(),
                2,
                [1.0, 0.0, 0.0, 1.0].as_ptr(),
                4,
                c(many),
                many.len(),
                &mut pf
            ),
            TwinResult::InvalidInput
        );
        assert_eq!(pf, std::ptr::dangling_mut());
        twin_state_model_free(lin_model);
        assert_eq!(out, std::ptr::dangling_mut());
        assert_eq!(
            lin(null(), 4, h.as_ptr(), r.as_ptr(), 0.0, 0, &mut out),
            NULLP
        );
        assert_eq!(
            lin(f.as_ptr(), 4, null(), r.as_ptr(), 0.0, 0, &mut out),
            NULLP
        );
        assert_eq!(
            lin(f.as_ptr(), 4, h.as_ptr(), null(), 0.0, 0, &mut out),
            NULLP
        );
        assert_eq!(
            lin(f.as_ptr(), 4, h.as_ptr(), r.as_ptr(), 0.0, 0, null_mut()),
            NULLP
        );
        for (b, bl, d, dl, q, ql, w, wl) in [
            (
                null(),
                2usize,
                null(),
                0usize,
                null(),
                0usize,
                null(),
                0usize,
            ),
            (null(), 0, null(), 1, null(), 0, null(), 0),
            (null(), 0, null(), 0, null(), 4, null(), 0),
            (null(), 0, null(), 0, null(), 0, null(), 2),
        ] {
            let res = twin_state_model_linear_new(
                2,
                1,
                1,
                0,
                1.0,
                f.as_ptr(),
                4,
                b,
                bl,
                h.as_ptr(),
                2,
                d,
                dl,
                q,
                ql,
                r.as_ptr(),
                1,
                w,
                wl,
                0.0,
                &mut out,
            );
            assert_eq!(res, NULLP);
        }
        // battery
        let mut bat = null_mut();
        assert_eq!(
            twin_state_model_battery_new(null(), 0, null(), 0, null(), 0, &mut bat),
            TwinResult::Ok
        );
        let mut x = [0.0; 4];
        let mut n = 0;
        assert_eq!(
            twin_state_model_initial_state(bat, x.as_mut_ptr(), 4, &mut n),
            TwinResult::Ok
        );
        assert_eq!(n, 4);
        assert_eq!(
            twin_state_model_initial_state(bat, x.as_mut_ptr(), 3, &mut n),
            TwinResult::BufferTooSmall
        );
        assert_eq!(
            twin_state_model_initial_state(null(), x.as_mut_ptr(), 4, &mut n),
            NULLP
        );
        assert_eq!(
            twin_state_model_initial_state(bat, null_mut(), 4, &mut n),
            NULLP
        );
        assert_eq!(
            twin_state_model_initial_state(bat, x.as_mut_ptr(), 4, null_mut()),
            NULLP
        );
        let (mut s, mut i, mut o) = (0, 0, 0);
        assert_eq!(
            twin_state_model_dims(bat, &mut s, &mut i, &mut o),
            TwinResult::Ok
        );
        assert_eq!((s, i, o), (4, 1, 2));
        assert_eq!(twin_state_model_dims(null(), &mut s, &mut i, &mut o), NULLP);
        assert_eq!(
            twin_state_model_dims(bat, null_mut(), &mut i, &mut o),
            NULLP
        );
        assert_eq!(
            twin_state_model_dims(bat, &mut s, null_mut(), &mut o),
            NULLP
        );
        assert_eq!(
            twin_state_model_dims(bat, &mut s, &mut i, null_mut()),
            NULLP
        );
        // one second at 2 A: the charge drops by 2 C; the voltage is about 4.1 V
        let mut next = [0.0; 4];
        assert_eq!(
            twin_state_model_step(
                bat,
                x.as_ptr(),
                4,
                [2.0].as_ptr(),
                1,
                1.0,
                next.as_mut_ptr(),
                4
            ),
            TwinResult::Ok
        );
        assert!((x[1] - next[1] - 2.0).abs() < 1e-3, "{x:?} -> {next:?}");
        let mut z = [0.0; 2];
        assert_eq!(
            twin_state_model_output(bat, x.as_ptr(), 4, [2.0].as_ptr(), 1, z.as_mut_ptr(), 2),
            TwinResult::Ok
        );
        assert!((3.9..4.3).contains(&z[1]), "{z:?}");
        assert_eq!(
            twin_state_model_step(
                bat,
                x.as_ptr(),
                3,
                [2.0].as_ptr(),
                1,
                1.0,
                next.as_mut_ptr(),
                4
            ),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_state_model_step(
                bat,
                x.as_ptr(),
                4,
                [2.0].as_ptr(),
                1,
                0.0,
                next.as_mut_ptr(),
                4
            ),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_state_model_step(
                bat,
                x.as_ptr(),
                4,
                [f64::NAN].as_ptr(),
                1,
                1.0,
                next.as_mut_ptr(),
                4
            ),
            TwinResult::NonFinite
        );
        assert_eq!(
            twin_state_model_step(
                bat,
                x.as_ptr(),
                4,
                [2.0].as_ptr(),
                1,
                1.0,
                next.as_mut_ptr(),
                3
            ),
            TwinResult::BufferTooSmall
        );
        assert_eq!(
            twin_state_model_step(
                null(),
                x.as_ptr(),
                4,
                [2.0].as_ptr(),
                1,
                1.0,
                next.as_mut_ptr(),
                4
            ),
            NULLP
        );
        assert_eq!(
            twin_state_model_step(bat, null(), 4, [2.0].as_ptr(), 1, 1.0, next.as_mut_ptr(), 4),
            NULLP
        );
        assert_eq!(
            twin_state_model_step(bat, x.as_ptr(), 4, null(), 1, 1.0, next.as_mut_ptr(), 4),
            NULLP
        );
        assert_eq!(
            twin_state_model_step(bat, x.as_ptr(), 4, [2.0].as_ptr(), 1, 1.0, null_mut(), 4),
            NULLP
        );
        assert_eq!(
            twin_state_model_output(bat, x.as_ptr(), 4, [2.0].as_ptr(), 1, z.as_mut_ptr(), 1),
            TwinResult::BufferTooSmall
        );
        assert_eq!(
            twin_state_model_output(null(), x.as_ptr(), 4, [2.0].as_ptr(), 1, z.as_mut_ptr(), 2),
            NULLP
        );
        assert_eq!(
            twin_state_model_output(bat, null(), 4, [2.0].as_ptr(), 1, z.as_mut_ptr(), 2),
            NULLP
        );
        assert_eq!(
            twin_state_model_output(bat, x.as_ptr(), 4, null(), 1, z.as_mut_ptr(), 2),
            NULLP
        );
        assert_eq!(
            twin_state_model_output(bat, x.as_ptr(), 4, [2.0].as_ptr(), 1, null_mut(), 2),
            NULLP
        );
        let bad = r#"{"q_max": -1.0}"#;
        assert_eq!(
            twin_state_model_battery_new(c(bad), bad.len(), null(), 0, null(), 0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_state_model_battery_new(null(), 0, [0.1; 3].as_ptr(), 3, null(), 0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_state_model_battery_new(null(), 0, null(), 0, [0.1; 3].as_ptr(), 3, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(out, std::ptr::dangling_mut());
        assert_eq!(
            twin_state_model_battery_new(null(), 2, null(), 0, null(), 0, &mut out),
            NULLP
        );
        assert_eq!(
            twin_state_model_battery_new(null(), 0, null(), 4, null(), 0, &mut out),
            NULLP
        );
        assert_eq!(
            twin_state_model_battery_new(null(), 0, null(), 0, null(), 2, &mut out),
            NULLP
        );
        assert_eq!(
            twin_state_model_battery_new(null(), 0, null(), 0, null(), 0, null_mut()),
            NULLP
        );

        // estimators
        let lin = cv_model();
        let mut e = std::ptr::dangling_mut::<TwinEstimator>();
        let x0 = [0.0, 0.0];
        let p0 = [1.0, 0.0, 0.0, 1.0];
        assert_eq!(
            twin_estimator_new(
                lin,
                0,
                x0.as_ptr(),
                2,
                [1.0, 2.0, 0.0, 1.0].as_ptr(),
                4,
                null(),
                0,
                &mut e
            ),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_estimator_new(lin, 0, x0.as_ptr(), 1, p0.as_ptr(), 4, null(), 0, &mut e),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_estimator_new(
                lin,
                0,
                x0.as_ptr(),
                2,
                p0.as_ptr(),
                4,
                c("{\"a\":1}"),
                7,
                &mut e
            ),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_estimator_new(
                lin,
                2,
                x0.as_ptr(),
                2,
                p0.as_ptr(),
                4,
                c("{\"particles\":0}"),
                15,
                &mut e
            ),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_estimator_new(lin, 3, x0.as_ptr(), 2, p0.as_ptr(), 4, null(), 0, &mut e),
            TwinResult::InvalidInput
        );
        assert_eq!(e, std::ptr::dangling_mut());
        assert_eq!(
            twin_estimator_new(null(), 0, x0.as_ptr(), 2, p0.as_ptr(), 4, null(), 0, &mut e),
            NULLP
        );
        assert_eq!(
            twin_estimator_new(lin, 0, null(), 2, p0.as_ptr(), 4, null(), 0, &mut e),
            NULLP
        );
        assert_eq!(
            twin_estimator_new(lin, 0, x0.as_ptr(), 2, null(), 4, null(), 0, &mut e),
            NULLP
        );
        assert_eq!(
            twin_estimator_new(lin, 0, x0.as_ptr(), 2, p0.as_ptr(), 4, null(), 1, &mut e),
            NULLP
        );
        assert_eq!(
            twin_estimator_new(
                lin,
                0,
                x0.as_ptr(),
                2,
                p0.as_ptr(),
                4,
                null(),
                0,
                null_mut()
            ),
            NULLP
        );
        assert_eq!(
            twin_estimator_new(lin, 1, x0.as_ptr(), 2, p0.as_ptr(), 4, null(), 0, &mut e),
            TwinResult::Ok
        );
        let mut mean = [7.0; 2];
        let mut n = 0;
        // a wrong step for a discrete model, a wrong measurement length, NaN: refused, the
        // estimate unchanged
        assert_eq!(
            twin_estimator_predict(e, null(), 0, 0.5),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_estimator_update(e, [1.0, 2.0].as_ptr(), 2),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_estimator_update(e, [f64::NAN].as_ptr(), 1),
            TwinResult::NonFinite
        );
        assert_eq!(
            twin_estimator_mean(e, mean.as_mut_ptr(), 2, &mut n),
            TwinResult::Ok
        );
        assert_eq!(mean, x0);
        assert_eq!(twin_estimator_predict(null_mut(), null(), 0, 1.0), NULLP);
        assert_eq!(twin_estimator_predict(e, null(), 1, 1.0), NULLP);
        assert_eq!(twin_estimator_update(null_mut(), [1.0].as_ptr(), 1), NULLP);
        assert_eq!(twin_estimator_update(e, null(), 1), NULLP);
        assert_eq!(
            twin_estimator_mean(e, mean.as_mut_ptr(), 1, &mut n),
            TwinResult::BufferTooSmall
        );
        assert_eq!(
            twin_estimator_mean(null(), mean.as_mut_ptr(), 2, &mut n),
            NULLP
        );
        assert_eq!(twin_estimator_mean(e, null_mut(), 2, &mut n), NULLP);
        assert_eq!(
            twin_estimator_mean(e, mean.as_mut_ptr(), 2, null_mut()),
            NULLP
        );
        let mut cov = [0.0; 4];
        assert_eq!(
            twin_estimator_covariance(e, cov.as_mut_ptr(), 3, &mut n),
            TwinResult::BufferTooSmall
        );
        assert_eq!(
            twin_estimator_covariance(null(), cov.as_mut_ptr(), 4, &mut n),
            NULLP
        );
        assert_eq!(twin_estimator_covariance(e, null_mut(), 4, &mut n), NULLP);
        assert_eq!(
            twin_estimator_covariance(e, cov.as_mut_ptr(), 4, null_mut()),
            NULLP
        );
        let mut kind = TwinFilterKind::Kalman;
        let (mut s, mut i, mut o) = (0, 0, 0);
        assert_eq!(
            twin_estimator_info(e, &mut kind, &mut s, &mut i, &mut o),
            TwinResult::Ok
        );
        assert_eq!((kind, s, i, o), (TwinFilterKind::Unscented, 2, 0, 1));
        assert_eq!(
            twin_estimator_info(null(), &mut kind, &mut s, &mut i, &mut o),
            NULLP
        );
        assert_eq!(
            twin_estimator_info(e, null_mut(), &mut s, &mut i, &mut o),
            NULLP
        );
        assert_eq!(
            twin_estimator_info(e, &mut kind, null_mut(), &mut i, &mut o),
            NULLP
        );
        assert_eq!(
            twin_estimator_info(e, &mut kind, &mut s, null_mut(), &mut o),
            NULLP
        );
        assert_eq!(
            twin_estimator_info(e, &mut kind, &mut s, &mut i, null_mut()),
            NULLP
        );
        let mut len = 0;
        assert_eq!(
            twin_estimator_to_json(null(), null_mut(), 0, &mut len),
            NULLP
        );
        assert_eq!(twin_estimator_to_json(e, null_mut(), 0, null_mut()), NULLP);
        let mut back = std::ptr::dangling_mut::<TwinEstimator>();
        assert_eq!(twin_estimator_from_json(null(), 1, &mut back), NULLP);
        assert_eq!(twin_estimator_from_json(c("{}"), 2, null_mut()), NULLP);
        let wrong = r#"{"format":"twin.kalman_filter","version":1,"model":{}}"#;
        assert_eq!(
            twin_estimator_from_json(c(wrong), wrong.len(), &mut back),
            TwinResult::Serialization
        );
        assert_eq!(back, std::ptr::dangling_mut());
        let path = temp_path("estimator");
        assert_eq!(twin_estimator_save(null(), c(&path), path.len()), NULLP);
        assert_eq!(twin_estimator_save(e, null(), 2), NULLP);
        assert_eq!(twin_estimator_save(e, c(&path), path.len()), TwinResult::Ok);
        assert_eq!(twin_estimator_load(null(), 2, &mut back), NULLP);
        assert_eq!(twin_estimator_load(c(&path), path.len(), null_mut()), NULLP);
        assert_eq!(
            twin_estimator_load(c(&path), path.len(), &mut back),
            TwinResult::Ok
        );
        let _ = std::fs::remove_file(&path);
        twin_estimator_free(back);
        twin_estimator_free(e);
        twin_estimator_free(null_mut());
        twin_state_model_free(lin);
        twin_state_model_free(bat);
        twin_state_model_free(null_mut());
    }
}

// ---------- reliability ----------

/// Weibull(k, λ) times by inversion, right-censored at `censor`.
fn weibull_sample(k: f64, lambda: f64, n: usize, censor: f64, seed: u64) -> (Vec<f64>, Vec<u8>) {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let t = lambda * (-rng.uniform().ln()).powf(1.0 / k);
            if t > censor {
                (censor, 0)
            } else {
                (t, 1)
            }
        })
        .unzip()
}

#[test]
fn weibull_recovers_known_parameters_and_refuses_bad_input() {
    let (times, failed) = weibull_sample(2.0, 1000.0, 2_000, 1500.0, 11);
    let mut w = null_mut();
    // SAFETY: valid arguments.
    let r = unsafe {
        twin_weibull_fit(
            times.as_ptr(),
            times.len(),
            failed.as_ptr(),
            failed.len(),
            null(),
            0,
            &mut w,
        )
    };
    assert_eq!(r, TwinResult::Ok, "{}", last_error());
    let mut p = TwinWeibullParams::default();
    // SAFETY: live handle.
    assert_eq!(unsafe { twin_weibull_params(w, &mut p) }, TwinResult::Ok);
    // standard errors with 2000 units: about 0.04 on k and 12 on λ
    assert!((p.shape - 2.0).abs() < 0.12, "{p:?}");
    assert!((p.scale - 1000.0).abs() < 40.0, "{p:?}");
    assert!(p.shape_lower < 2.0 && 2.0 < p.shape_upper, "{p:?}");
    assert_eq!(p.fitted, 1);
    assert_eq!(p.failures + p.suspensions, 2_000);
    assert!(p.suspensions > 0);
    let mut v = 0.0;
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        let mut known = null_mut();
        assert_eq!(twin_weibull_new(2.0, 1000.0, &mut known), TwinResult::Ok);
        let mut kp = TwinWeibullParams::default();
        assert_eq!(twin_weibull_params(known, &mut kp), TwinResult::Ok);
        assert!((kp.mtbf - 1000.0 * std::f64::consts::PI.sqrt() / 2.0).abs() < 1e-9);
        assert_eq!(kp.fitted, 0);
        assert_eq!(
            twin_weibull_reliability(known, 1000.0, &mut v),
            TwinResult::Ok
        );
        assert!((v - (-1.0f64).exp()).abs() < 1e-15);
        assert_eq!(
            twin_weibull_conditional_reliability(known, 1000.0, 500.0, &mut v),
            TwinResult::Ok
        );
        assert!((v - (1.0 - 1.5f64.powi(2)).exp()).abs() < 1e-12);
        assert_eq!(twin_weibull_hazard(known, 500.0, &mut v), TwinResult::Ok);
        assert!((v - 2.0 / 1000.0 * 0.5).abs() < 1e-15);
        assert_eq!(twin_weibull_quantile(known, 0.1, &mut v), TwinResult::Ok);
        assert!((v - kp.b10).abs() < 1e-9);
        v = -3.0;
        assert_eq!(
            twin_weibull_quantile(known, 1.0, &mut v),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_weibull_conditional_reliability(known, -1.0, 5.0, &mut v),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_weibull_reliability(known, f64::NAN, &mut v),
            TwinResult::NonFinite
        );
        assert_eq!(
            twin_weibull_hazard(known, f64::INFINITY, &mut v),
            TwinResult::NonFinite
        );
        assert_eq!(v, -3.0);
        for f in [
            twin_weibull_reliability,
            twin_weibull_hazard,
            twin_weibull_quantile,
        ] {
            assert_eq!(f(null(), 0.5, &mut v), NULLP);
            assert_eq!(f(known, 0.5, null_mut()), NULLP);
        }
        assert_eq!(
            twin_weibull_conditional_reliability(null(), 1.0, 1.0, &mut v),
            NULLP
        );
        assert_eq!(
            twin_weibull_conditional_reliability(known, 1.0, 1.0, null_mut()),
            NULLP
        );
        assert_eq!(twin_weibull_params(null(), &mut kp), NULLP);
        assert_eq!(twin_weibull_params(known, null_mut()), NULLP);
        let mut out = std::ptr::dangling_mut::<TwinWeibull>();
        assert_eq!(
            twin_weibull_new(0.0, 1.0, &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_weibull_new(1.0, f64::NAN, &mut out),
            TwinResult::NonFinite
        );
        assert_eq!(twin_weibull_new(1.0, 1.0, null_mut()), NULLP);
        // fit errors
        assert_eq!(
            twin_weibull_fit(times.as_ptr(), 10, failed.as_ptr(), 9, null(), 0, &mut out),
            TwinResult::InvalidInput
        );
        let nan = [100.0, f64::NAN, 300.0];
        assert_eq!(
            twin_weibull_fit(nan.as_ptr(), 3, [1u8; 3].as_ptr(), 3, null(), 0, &mut out),
            TwinResult::NonFinite
        );
        assert_eq!(
            twin_weibull_fit(times.as_ptr(), 2, [1u8, 0].as_ptr(), 2, null(), 0, &mut out),
            TwinResult::InvalidInput
        );
        let bad = r#"{"confidence": 2}"#;
        assert_eq!(
            twin_weibull_fit(
                times.as_ptr(),
                10,
                failed.as_ptr(),
                10,
                c(bad),
                bad.len(),
                &mut out
            ),
            TwinResult::InvalidInput
        );
        assert_eq!(out, std::ptr::dangling_mut());
        assert_eq!(
            twin_weibull_fit(null(), 2, failed.as_ptr(), 2, null(), 0, &mut out),
            NULLP
        );
        assert_eq!(
            twin_weibull_fit(times.as_ptr(), 2, null(), 2, null(), 0, &mut out),
            NULLP
        );
        assert_eq!(
            twin_weibull_fit(times.as_ptr(), 2, failed.as_ptr(), 2, null(), 1, &mut out),
            NULLP
        );
        assert_eq!(
            twin_weibull_fit(times.as_ptr(), 2, failed.as_ptr(), 2, null(), 0, null_mut()),
            NULLP
        );
        // an exponential fit (fixed shape 1): scale = time on test / failures
        let exp_cfg = r#"{"fixed_shape": 1.0, "min_failures": 1}"#;
        let t = [100.0, 200.0, 300.0, 400.0];
        let mut e = null_mut();
        assert_eq!(
            twin_weibull_fit(
                t.as_ptr(),
                4,
                [1u8, 1, 0, 1].as_ptr(),
                4,
                c(exp_cfg),
                exp_cfg.len(),
                &mut e
            ),
            TwinResult::Ok
        );
        assert_eq!(twin_weibull_params(e, &mut kp), TwinResult::Ok);
        assert!(
            (kp.scale - 1000.0 / 3.0).abs() < 1e-9 && kp.shape == 1.0,
            "{kp:?}"
        );
        twin_weibull_free(e);
        // persistence
        let json = json_of(|b, cap, len| twin_weibull_to_json(w, b, cap, len));
        let mut back = null_mut();
        assert_eq!(
            twin_weibull_from_json(c(&json), json.len(), &mut back),
            TwinResult::Ok
        );
        let mut bp = TwinWeibullParams::default();
        assert_eq!(twin_weibull_params(back, &mut bp), TwinResult::Ok);
        assert_eq!(bp, p);
        let tampered = json.replacen(&format!("\"shape\":{}", p.shape), "\"shape\":-2.0", 1);
        assert_ne!(tampered, json);
        assert_eq!(
            twin_weibull_from_json(c(&tampered), tampered.len(), &mut out),
            TwinResult::Serialization
        );
        let mut len = 0;
        assert_eq!(twin_weibull_to_json(null(), null_mut(), 0, &mut len), NULLP);
        assert_eq!(twin_weibull_to_json(w, null_mut(), 0, null_mut()), NULLP);
        assert_eq!(twin_weibull_from_json(null(), 2, &mut out), NULLP);
        assert_eq!(
            twin_weibull_from_json(c(&json), json.len(), null_mut()),
            NULLP
        );
        let path = temp_path("weibull");
        assert_eq!(twin_weibull_save(null(), c(&path), path.len()), NULLP);
        assert_eq!(twin_weibull_save(w, null(), 2), NULLP);
        assert_eq!(twin_weibull_save(w, c(&path), path.len()), TwinResult::Ok);
        let mut loaded = null_mut();
        assert_eq!(twin_weibull_load(null(), 2, &mut loaded), NULLP);
        assert_eq!(twin_weibull_load(c(&path), path.len(), null_mut()), NULLP);
        assert_eq!(
            twin_weibull_load(c(&path), path.len(), &mut loaded),
            TwinResult::Ok
        );
        let _ = std::fs::remove_file(&path);
        assert_eq!(out, std::ptr::dangling_mut());
        twin_weibull_free(loaded);
        twin_weibull_free(back);
        twin_weibull_free(known);
        twin_weibull_free(w);
        twin_weibull_free(null_mut());
    }
}

#[test]
fn read_only_models_may_be_shared_between_threads() {
    fn shared<T: Sync + Send>() {}
    shared::<TwinMultivariate>();
    shared::<TwinHealthIndex>();
    shared::<TwinRulModel>();
    shared::<TwinWeibull>();
    // the others may move between threads between calls
    fn movable<T: Send>() {}
    movable::<TwinDetector>();
    movable::<TwinBandEnergies>();
    movable::<TwinStateModel>();
    movable::<TwinEstimator>();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of numerics in the interpreter; runs natively and in the C tests under ASan and valgrind"
)]
fn every_rul_kind_fits_through_settings_and_loads_as_its_kind() {
    use twin::analytics::rul::ensemble::{Component, EnsembleConfig};
    use twin::analytics::rul::exponential::ExponentialRulConfig;
    use twin::analytics::rul::similarity::SimilarityConfig;
    // the full defaults of each kind parse as its settings
    for kind in 0..4u32 {
        // SAFETY: the size query and a buffer of the reported size.
        let json = json_of(|b, cap, len| unsafe { twin_rul_default_settings(kind, b, cap, len) });
        assert!(json.contains("calibration"), "{json}");
    }
    let mut len = 0;
    // SAFETY: every pointer is valid or NULL as each case says.
    unsafe {
        assert_eq!(
            twin_rul_default_settings(4, null_mut(), 0, &mut len),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_rul_default_settings(0, null_mut(), 0, null_mut()),
            NULLP
        );
        assert_eq!(twin_rul_default_settings(0, null_mut(), 3, &mut len), NULLP);
    }
    let quick =
        r#""calibration": {"folds": 3, "stride": 4, "min_history": 20, "seed": 1, "threads": 2}"#;
    let cal: serde_json::Value = serde_json::from_str(&format!("{{{quick}}}")).expect("json");
    let mut ens = serde_json::to_value(EnsembleConfig {
        components: vec![
            Component::Similarity(SimilarityConfig {
                window: 40,
                neighbours: 5,
                indicator: twin::analytics::rul::indicator::IndicatorConfig {
                    cap: 100.0,
                    ..Default::default()
                },
                ..SimilarityConfig::default()
            }),
            Component::Exponential(ExponentialRulConfig {
                indicator: twin::analytics::rul::indicator::IndicatorConfig {
                    cap: 100.0,
                    ..Default::default()
                },
                ..ExponentialRulConfig::default()
            }),
        ],
        cap: 100.0,
        ..EnsembleConfig::default()
    })
    .expect("ensemble settings");
    ens["calibration"] = cal["calibration"].clone();
    let settings = [
        (
            TwinRulKind::Exponential,
            format!(r#"{{"indicator": {{"cap": 100.0}}, {quick}}}"#),
        ),
        (
            TwinRulKind::Similarity,
            format!(r#"{{"window": 40, "neighbours": 5, "indicator": {{"cap": 100.0}}, {quick}}}"#),
        ),
        (TwinRulKind::Ensemble, ens.to_string()),
    ];
    let (ids, cycles, values) = wear_fleet(5, 24);
    let (fid, fcyc, fval) = wear_fleet(99, 1);
    let keep = fid.len() - 30; // 29 cycles of life left
    for (kind, cfg) in settings {
        let mut m = null_mut();
        // SAFETY: valid arguments.
        let r = unsafe {
            twin_rul_fit(
                kind as u32,
                ids.as_ptr(),
                ids.len(),
                cycles.as_ptr(),
                cycles.len(),
                values.as_ptr(),
                values.len(),
                2,
                c(&cfg),
                cfg.len(),
                &mut m,
            )
        };
        assert_eq!(r, TwinResult::Ok, "{kind:?}: {}", last_error());
        let mut p = TwinRulPrediction::default();
        // SAFETY: valid buffers.
        let r =
            unsafe { twin_rul_predict(m, fcyc.as_ptr(), keep, fval.as_ptr(), 2 * keep, 2, &mut p) };
        assert_eq!(r, TwinResult::Ok);
        assert!(
            (p.rul - 29.0).abs() < 12.0 && p.lower <= p.rul && p.rul <= p.upper,
            "{kind:?}: {p:?}"
        );
        // SAFETY: live model.
        let json = json_of(|b, cap, len| unsafe { twin_rul_to_json(m, b, cap, len) });
        let mut back = null_mut();
        let mut k = TwinRulKind::Regression;
        let mut q = TwinRulPrediction::default();
        // SAFETY: valid arguments; handles freed once.
        unsafe {
            assert_eq!(
                twin_rul_from_json(c(&json), json.len(), &mut back),
                TwinResult::Ok
            );
            assert_eq!(twin_rul_kind(back, &mut k), TwinResult::Ok);
            assert_eq!(
                twin_rul_predict(
                    back,
                    fcyc.as_ptr(),
                    keep,
                    fval.as_ptr(),
                    2 * keep,
                    2,
                    &mut q
                ),
                TwinResult::Ok
            );
            twin_rul_free(back);
            twin_rul_free(m);
        }
        assert_eq!((k, q), (kind, p));
    }
}

/// Long-format columns of a fleet, as a C caller would pass them.
fn long_format(fleet: &twin::analytics::rul::Fleet) -> (Vec<u64>, Vec<f64>, Vec<f64>) {
    let (mut ids, mut cycles, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for u in fleet.units() {
        for (r, row) in u.values().rows().into_iter().enumerate() {
            ids.push(u.id());
            cycles.push(u.time()[r]);
            values.extend(row.iter().copied());
        }
    }
    (ids, cycles, values)
}

/// NASA C-MAPSS FD001 through the C API with the quick boosting settings of the Rust test
/// (`tests/rul.rs`): standard protocol, RUL capped at 125 in training, the last cycle of
/// each test unit scored against the true RUL. Not under miri: it reads the benchmark files
/// (miri isolates the file system) and fits on 20,000 rows, hours in the interpreter; the
/// same calls on small fleets are interpreted in the tests above.
#[test]
#[cfg_attr(miri, ignore)]
fn cmapss_fd001_through_the_c_api() {
    use twin::analytics::rul::cmapss::{self, FD001_SENSORS};
    use twin::analytics::rul::metrics::{coverage, phm08_score, rmse};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/data/cmapss");
    let load = |name: &str| {
        cmapss::load(dir.join(name))
            .and_then(|f| f.select_signals(&FD001_SENSORS))
            .expect("C-MAPSS file")
    };
    let (train, test) = (load("train_FD001.txt"), load("test_FD001.txt"));
    let truth = cmapss::load_rul(dir.join("RUL_FD001.txt")).expect("RUL file");
    let cfg = r#"{"features": {"window": 200, "smoothing": 0.2, "recent": 20},
      "learner": {"Boosting": {"n_trees": 60, "learning_rate": 0.15, "max_depth": 4, "colsample": 0.5}},
      "cap": 125.0,
      "calibration": {"folds": 3, "stride": 3, "min_history": 31, "seed": 7, "threads": 2}}"#;
    let (ids, cycles, values) = long_format(&train);
    let n = FD001_SENSORS.len();
    let mut model = null_mut();
    // SAFETY: valid arguments.
    let r = unsafe {
        twin_rul_fit(
            TwinRulKind::Regression as u32,
            ids.as_ptr(),
            ids.len(),
            cycles.as_ptr(),
            cycles.len(),
            values.as_ptr(),
            values.len(),
            n,
            c(cfg),
            cfg.len(),
            &mut model,
        )
    };
    assert_eq!(r, TwinResult::Ok, "{}", last_error());
    let (tid, tcyc, tval) = long_format(&test);
    let mut preds = vec![TwinRulPrediction::default(); 100];
    let mut got = 0;
    // SAFETY: valid buffers; the model is freed once.
    unsafe {
        let r = twin_rul_predict_fleet(
            model,
            tid.as_ptr(),
            tid.len(),
            tcyc.as_ptr(),
            tcyc.len(),
            tval.as_ptr(),
            tval.len(),
            n,
            preds.as_mut_ptr(),
            preds.len(),
            &mut got,
        );
        assert_eq!(r, TwinResult::Ok, "{}", last_error());
        twin_rul_free(model);
    }
    assert_eq!(got, 100);
    let p: Vec<f64> = preds.iter().map(|p| p.rul).collect();
    let iv: Vec<(f64, f64)> = preds.iter().map(|p| (p.lower, p.upper)).collect();
    let (e, s, cov) = (
        rmse(&p, &truth),
        phm08_score(&p, &truth),
        coverage(&iv, &truth),
    );
    eprintln!("FD001 through the C API: RMSE {e:.2}, PHM08 {s:.1}, coverage {cov:.2}");
    // the bounds of the Rust test: the C API gives the engine's own numbers
    assert!(e < 13.0, "RMSE {e}");
    assert!(s < 400.0, "PHM08 {s}");
    assert!(cov >= 0.85, "coverage {cov}");
}

/// Documents saved through the C API are the Rust crate's own, in both directions.
#[test]
fn saved_models_are_shared_with_the_rust_api() {
    use twin::analytics::detect::{FittedPca, PcaDetector, Persist, RobustZScore};
    use twin::analytics::reliability::Weibull;
    // C -> Rust
    let data = factor_data(300, 8);
    let mut m = null_mut();
    // SAFETY: valid arguments.
    let r =
        unsafe { twin_multivariate_fit(0, data.as_ptr(), data.len(), 300, 3, null(), 0, &mut m) };
    assert_eq!(r, TwinResult::Ok);
    // SAFETY: live model.
    let json = json_of(|b, cap, len| unsafe { twin_multivariate_to_json(m, b, cap, len) });
    let rust = FittedPca::from_json(&json).expect("a C document loads in Rust");
    let x = [0.3, 0.7, -0.2];
    let mut s = [TwinMultivariateScore::default()];
    // SAFETY: valid buffers; freed once.
    unsafe {
        assert_eq!(
            twin_multivariate_score(m, x.as_ptr(), 3, 1, s.as_mut_ptr(), 1),
            TwinResult::Ok
        );
        twin_multivariate_free(m);
    }
    let rs = rust.score(&x).expect("score");
    assert_eq!(
        (s[0].t2, s[0].spe, s[0].likelihood),
        (rs.t2, rs.spe, rs.likelihood)
    );
    let direct = PcaDetector::default()
        .fit(&ndarray::Array2::from_shape_vec((300, 3), data).expect("shape"))
        .expect("fit");
    assert_eq!(direct, rust, "the C fit is the Rust fit");
    // Rust -> C
    let mut d = RobustZScore::default();
    for i in 0..500 {
        let _ = twin::analytics::detect::StreamingDetector::update(&mut d, f64::from(i % 7));
    }
    let json = d.to_json().expect("json");
    let mut h = null_mut();
    let (mut a, mut k) = (TwinDetection::default(), TwinDetectorKind::Ewma);
    // SAFETY: valid arguments; freed once.
    unsafe {
        assert_eq!(
            twin_detector_from_json(c(&json), json.len(), &mut h),
            TwinResult::Ok
        );
        assert_eq!(twin_detector_kind(h, &mut k), TwinResult::Ok);
        assert_eq!(twin_detector_update(h, 40.0, &mut a), TwinResult::Ok);
        twin_detector_free(h);
    }
    let b = twin::analytics::detect::StreamingDetector::update(&mut d, 40.0);
    assert_eq!(k, TwinDetectorKind::RobustZ);
    assert_eq!(a, TwinDetection::from(b));
    let w = Weibull::new(2.5, 80.0)
        .expect("weibull")
        .to_json()
        .expect("json");
    let mut hw = null_mut();
    let mut p = TwinWeibullParams::default();
    // SAFETY: valid arguments; freed once.
    unsafe {
        assert_eq!(
            twin_weibull_from_json(c(&w), w.len(), &mut hw),
            TwinResult::Ok
        );
        assert_eq!(twin_weibull_params(hw, &mut p), TwinResult::Ok);
        twin_weibull_free(hw);
    }
    assert_eq!((p.shape, p.scale), (2.5, 80.0));
}

#[test]
fn time_of_event_refuses_an_unreasonable_sample_count() {
    let (mut bat, mut e) = (null_mut(), null_mut());
    let x0 = [292.1, 7856.3254, 0.0, 0.0];
    let mut p0 = [0.0; 16];
    for i in 0..4 {
        p0[i * 5] = 1e-2;
    }
    let many = r#"{"samples": 20000000}"#;
    let mut s = TwinTimeOfEvent::default();
    // SAFETY: valid arguments; handles freed once.
    unsafe {
        assert_eq!(
            twin_state_model_battery_new(null(), 0, null(), 0, [2.0, 0.02].as_ptr(), 2, &mut bat),
            TwinResult::Ok
        );
        assert_eq!(
            twin_estimator_new(bat, 1, x0.as_ptr(), 4, p0.as_ptr(), 16, null(), 0, &mut e),
            TwinResult::Ok,
            "{}",
            last_error()
        );
        assert_eq!(
            twin_estimator_time_of_event(
                e,
                [2.0].as_ptr(),
                1,
                c(many),
                many.len(),
                null_mut(),
                0,
                &mut s
            ),
            TwinResult::InvalidInput
        );
        assert!(
            last_error().contains("20000000 samples"),
            "{}",
            last_error()
        );
        assert_eq!(s, TwinTimeOfEvent::default());
        twin_estimator_free(e);
        twin_state_model_free(bat);
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of numerics in the interpreter; runs natively and in the C tests under ASan and valgrind"
)]
fn ensemble_members_are_chosen_by_name() {
    // EWMA and CUSUM: a lasting shift of one standard deviation is found by the drift member
    let cfg = r#"{"members": ["ewma", "cusum"], "fusion": "max"}"#;
    let d = new_detector(TwinDetectorKind::Ensemble as u32, cfg);
    let mut rng = Rng(4);
    let xs: Vec<f64> = (0..4_000)
        .map(|i| 5.0 + rng.normal() + if i >= 3_000 { 1.0 } else { 0.0 })
        .collect();
    let mut det = vec![TwinDetection::default(); xs.len()];
    // SAFETY: valid buffers; freed once.
    unsafe {
        assert_eq!(
            twin_detector_update_batch(d, xs.as_ptr(), xs.len(), det.as_mut_ptr(), det.len()),
            TwinResult::Ok
        );
    }
    // SAFETY: live detector.
    let json = json_of(|b, cap, len| unsafe { twin_detector_to_json(d, b, cap, len) });
    // SAFETY: freed once.
    unsafe { twin_detector_free(d) };
    assert!(json.contains("\"detector\":\"cusum\"") && !json.contains("\"detector\":\"hst\""));
    let found = det[3_000..]
        .iter()
        .position(|d| d.alarm == 1)
        .expect("the shift is found");
    assert!(found < 300, "found after {found} values");
    let mut out = std::ptr::dangling_mut::<TwinDetector>();
    for bad in [
        r#"{"members": ["ewma", "lstm"]}"#,
        r#"{"members": "ewma"}"#,
        r#"{"members": []}"#,
    ] {
        // SAFETY: valid arguments.
        let r = unsafe { twin_detector_new(5, c(bad), bad.len(), &mut out) };
        assert_eq!(r, TwinResult::InvalidInput, "{bad}");
        assert_eq!(out, std::ptr::dangling_mut());
    }
    assert!(last_error().contains("1 to 64 members"), "{}", last_error());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of numerics in the interpreter; runs natively and in the C tests under ASan and valgrind"
)]
fn multivariate_half_space_trees_score_points() {
    // points on the diagonal are normal; one off it is not
    let cfg = r#"{"dim": 2, "seed": 3}"#;
    let d = new_detector(TwinDetectorKind::Hst as u32, cfg);
    let mut dim = 0;
    let mut det = TwinDetection::default();
    // SAFETY: every pointer is valid or NULL as each case says; freed once.
    unsafe {
        assert_eq!(twin_detector_dim(d, &mut dim), TwinResult::Ok);
        assert_eq!(dim, 2);
        for i in 0..3_000u32 {
            let a = f64::from((i * 7919) % 997) / 997.0;
            assert_eq!(
                twin_detector_update_vector(d, [a, a].as_ptr(), 2, &mut det),
                TwinResult::Ok
            );
        }
        assert_eq!(
            twin_detector_update_vector(d, [0.5, 0.5].as_ptr(), 2, &mut det),
            TwinResult::Ok
        );
        assert_eq!(det.alarm, 0);
        assert_eq!(
            twin_detector_update_vector(d, [0.9, 0.1].as_ptr(), 2, &mut det),
            TwinResult::Ok
        );
        assert_eq!(det.alarm, 1, "{det:?}");
        // a saved forest reloads with its dimension
        let json = json_of(|b, cap, len| twin_detector_to_json(d, b, cap, len));
        let mut back = null_mut();
        assert_eq!(
            twin_detector_from_json(c(&json), json.len(), &mut back),
            TwinResult::Ok
        );
        let mut other = TwinDetection::default();
        assert_eq!(
            twin_detector_update_vector(d, [0.2, 0.8].as_ptr(), 2, &mut det),
            TwinResult::Ok
        );
        assert_eq!(
            twin_detector_update_vector(back, [0.2, 0.8].as_ptr(), 2, &mut other),
            TwinResult::Ok
        );
        assert_eq!(det, other);
        twin_detector_free(back);
        // scalars and wrong lengths are refused, the output untouched
        let before = det;
        assert_eq!(
            twin_detector_update(d, 0.5, &mut det),
            TwinResult::InvalidInput
        );
        assert!(
            last_error().contains("twin_detector_update_vector"),
            "{}",
            last_error()
        );
        let mut outs = [TwinDetection::default(); 1];
        assert_eq!(
            twin_detector_update_batch(d, [0.5].as_ptr(), 1, outs.as_mut_ptr(), 1),
            TwinResult::InvalidInput
        );
        assert_eq!(
            twin_detector_update_vector(d, [0.5].as_ptr(), 1, &mut det),
            TwinResult::InvalidInput
        );
        assert_eq!(det, before);
        assert_eq!(
            twin_detector_update_vector(null_mut(), [0.5].as_ptr(), 1, &mut det),
            NULLP
        );
        assert_eq!(twin_detector_update_vector(d, null(), 2, &mut det), NULLP);
        assert_eq!(
            twin_detector_update_vector(d, [0.5, 0.5].as_ptr(), 2, null_mut()),
            NULLP
        );
        assert_eq!(twin_detector_dim(null(), &mut dim), NULLP);
        assert_eq!(twin_detector_dim(d, null_mut()), NULLP);
        twin_detector_free(d);
        // univariate detectors take one-coordinate points too
        let e = new_detector(TwinDetectorKind::Ewma as u32, "");
        assert_eq!(
            twin_detector_update_vector(e, [1.0].as_ptr(), 1, &mut det),
            TwinResult::Ok
        );
        assert_eq!(
            twin_detector_update_vector(e, [1.0, 2.0].as_ptr(), 2, &mut det),
            TwinResult::InvalidInput
        );
        twin_detector_free(e);
        let mut out = std::ptr::dangling_mut::<TwinDetector>();
        let bad = r#"{"dim": 0}"#;
        assert_eq!(
            twin_detector_new(4, c(bad), bad.len(), &mut out),
            TwinResult::InvalidInput
        );
        let bad = r#"{"dim": "two"}"#;
        assert_eq!(
            twin_detector_new(4, c(bad), bad.len(), &mut out),
            TwinResult::InvalidInput
        );
        assert_eq!(out, std::ptr::dangling_mut());
    }
}
