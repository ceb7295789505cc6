//! The cost of the C ABI: the same ingest through `libtwin.so` (loaded as a C program
//! would link it, calls through the dynamic symbol table) and in Rust, side by side.
//!
//! ```text
//! cargo build --release -p twin-ffi && cargo bench --bench ffi
//! ```
//! The shared library is looked up at `$TWIN_FFI_LIB`, else
//! `${CARGO_TARGET_DIR:-target}/release/libtwin.so`. Figures go in BENCHMARKS.md.

use std::ffi::{c_char, c_void};
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use twin::analytics::detect::{EwmaMonitor, MonitorConfig};
use twin::{BatchRef, Sample, Schema, SignalId, SignalSpec, Timestamp, Twin};

const SIGNALS: u32 = 8;
const SAMPLES: usize = 1 << 16;

#[repr(C)]
#[derive(Default)]
struct IngestReport {
    accepted: usize,
    rejected: usize,
}

type SchemaFromJson = unsafe extern "C" fn(*const c_char, usize, *mut *mut c_void) -> u32;
type TwinNew = unsafe extern "C" fn(*const c_void, *mut *mut c_void) -> u32;
type Free = unsafe extern "C" fn(*mut c_void);
type Ingest = unsafe extern "C" fn(*mut c_void, i64, u32, f64) -> u32;
type IngestBatch = unsafe extern "C" fn(
    *mut c_void,
    *const i64,
    *const u32,
    *const f64,
    usize,
    *mut IngestReport,
) -> u32;

/// The C functions the benchmark calls, resolved from the shared library.
struct CApi {
    _lib: libloading::Library,
    schema_from_json: SchemaFromJson,
    schema_free: Free,
    twin_new: TwinNew,
    twin_free: Free,
    ingest: Ingest,
    ingest_batch: IngestBatch,
}

impl CApi {
    fn load() -> CApi {
        let path = std::env::var_os("TWIN_FFI_LIB")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let target = std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
                target.join("release").join("libtwin.so")
            });
        // SAFETY: libtwin runs no initialisation code with preconditions when loaded.
        let lib = unsafe { libloading::Library::new(&path) }.unwrap_or_else(|e| {
            panic!(
                "cannot load {}: {e}; build it first with `cargo build --release -p twin-ffi`",
                path.display()
            )
        });
        // SAFETY: each symbol is looked up with the signature include/twin.h declares.
        unsafe {
            CApi {
                schema_from_json: *lib.get(b"twin_schema_from_json\0").expect("symbol"),
                schema_free: *lib.get(b"twin_schema_free\0").expect("symbol"),
                twin_new: *lib.get(b"twin_twin_new\0").expect("symbol"),
                twin_free: *lib.get(b"twin_twin_free\0").expect("symbol"),
                ingest: *lib.get(b"twin_twin_ingest\0").expect("symbol"),
                ingest_batch: *lib.get(b"twin_twin_ingest_batch\0").expect("symbol"),
                _lib: lib,
            }
        }
    }
}

/// A twin made through the C interface (with the EWMA monitor, as `twin_twin_new` does).
struct CTwin<'a> {
    api: &'a CApi,
    twin: *mut c_void,
}

impl<'a> CTwin<'a> {
    fn new(api: &'a CApi, schema_json: &str) -> CTwin<'a> {
        let mut schema = std::ptr::null_mut();
        let mut twin = std::ptr::null_mut();
        // SAFETY: valid string and out pointers; the schema is freed after the twin copied it.
        unsafe {
            assert_eq!(
                (api.schema_from_json)(schema_json.as_ptr().cast(), schema_json.len(), &mut schema),
                0
            );
            assert_eq!((api.twin_new)(schema, &mut twin), 0);
            (api.schema_free)(schema);
        }
        CTwin { api, twin }
    }
}

impl Drop for CTwin<'_> {
    fn drop(&mut self) {
        // SAFETY: a live twin, freed once.
        unsafe { (self.api.twin_free)(self.twin) }
    }
}

fn schema() -> Schema {
    let mut b = Schema::builder("bench");
    for i in 0..SIGNALS {
        b = b.telemetry(
            SignalSpec::new(format!("s{i}"), "")
                .range(-1e6, 1e6)
                .alarm_high(1e5),
        );
    }
    b.build().expect("schema")
}

fn rust_twin(schema: &Schema) -> Twin {
    let monitor = EwmaMonitor::new(schema, MonitorConfig::default()).expect("monitor");
    Twin::builder(schema.clone())
        .engine(monitor)
        .build()
        .expect("twin")
}

/// Interleaved samples of 8 signals, one scan per millisecond, values with mild noise
/// (the data of `benches/ingest.rs`).
fn columns() -> (Vec<i64>, Vec<u32>, Vec<f64>) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut t = Vec::with_capacity(SAMPLES);
    let mut s = Vec::with_capacity(SAMPLES);
    let mut v = Vec::with_capacity(SAMPLES);
    for k in 0..SAMPLES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        t.push((k as i64 / SIGNALS as i64) * 1_000_000);
        s.push(k as u32 % SIGNALS);
        v.push(100.0 + (state >> 11) as f64 / (1u64 << 53) as f64);
    }
    (t, s, v)
}

fn bench_ffi(c: &mut Criterion) {
    let api = CApi::load();
    let schema = schema();
    let json = serde_json::to_string(&schema).expect("schema json");
    let (t, s, v) = columns();

    // Both sides accept every sample, so they do the same work.
    let check = CTwin::new(&api, &json);
    let mut report = IngestReport::default();
    // SAFETY: three columns of SAMPLES elements and a valid report.
    let r = unsafe {
        (api.ingest_batch)(
            check.twin,
            t.as_ptr(),
            s.as_ptr(),
            v.as_ptr(),
            SAMPLES,
            &mut report,
        )
    };
    assert_eq!((r, report.accepted), (0, SAMPLES));
    assert_eq!(
        rust_twin(&schema)
            .ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"))
            .accepted,
        SAMPLES
    );
    drop(check);

    let mut g = c.benchmark_group("ffi");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    g.bench_function("rust_batch_65536", |b| {
        b.iter_batched_ref(
            || rust_twin(&schema),
            |tw| {
                black_box(
                    tw.ingest_batch(BatchRef::new(&t, &s, &v).expect("batch"))
                        .accepted,
                )
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("c_batch_65536", |b| {
        b.iter_batched_ref(
            || CTwin::new(&api, &json),
            |tw| {
                let mut report = IngestReport::default();
                // SAFETY: as above.
                let r = unsafe {
                    (api.ingest_batch)(
                        tw.twin,
                        t.as_ptr(),
                        s.as_ptr(),
                        v.as_ptr(),
                        SAMPLES,
                        &mut report,
                    )
                };
                black_box((r, report.accepted))
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("rust_single_65536", |b| {
        b.iter_batched_ref(
            || rust_twin(&schema),
            |tw| {
                for k in 0..SAMPLES {
                    let _ =
                        black_box(tw.ingest(Sample::new(Timestamp(t[k]), SignalId(s[k]), v[k])));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("c_single_65536", |b| {
        b.iter_batched_ref(
            || CTwin::new(&api, &json),
            |tw| {
                for k in 0..SAMPLES {
                    // SAFETY: a live twin.
                    black_box(unsafe { (api.ingest)(tw.twin, t[k], s[k], v[k]) });
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_ffi);
criterion_main!(benches);
