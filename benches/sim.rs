//! Discrete-event speed on the periodic-sensor model: N devices each report once a minute
//! (uniform phase, 1 s jitter), each report is a packet that crosses a 10 ms link to one
//! gateway; two events per report (sense-and-send, arrival). One core.
//!
//! `cargo bench --bench sim`; `benches/sim_vs_simpy.sh` runs it beside SimPy on the same
//! model (`benches/peers/simpy_sensors.py`). Figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use twin::sim::kernel::{Event, EventQueue};
use twin::sim::{run, Scenario};

/// The periodic-sensor scenario of the benchmark and of the SimPy peer.
fn periodic(devices: u32, horizon_s: f64) -> Scenario {
    let mut s = Scenario::single(devices, 60.0, horizon_s);
    s.groups[0].jitter_s = 1.0;
    s.gateways[0].link.latency_s = 0.01;
    s.metrics.per_device = false;
    s
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.sample_size(10);
    for (name, devices, horizon) in [
        ("periodic_10k_devices_1h", 10_000u32, 3_600.0),
        ("periodic_1m_devices_5min", 1_000_000, 300.0),
    ] {
        let s = periodic(devices, horizon);
        let events = run(&s).expect("valid scenario").summary.events;
        g.throughput(Throughput::Elements(events));
        g.bench_function(name, |b| {
            b.iter(|| black_box(run(black_box(&s)).expect("runs").summary.events))
        });
    }
    // The bare queue: a hold model of 10,000 pending events (pop one, push one later).
    let n = 10_000u64;
    let ops = 1_000_000u64;
    g.throughput(Throughput::Elements(ops));
    g.bench_function("queue_hold_10k_pending", |b| {
        b.iter(|| {
            let period = 60_000_000_000u64;
            let mut q = EventQueue::for_load(n as usize, period);
            let mut s = 1u64;
            for d in 0..n {
                q.push(Event::new(
                    twin::sim::rng::next_u64(&mut s) % period,
                    d as u32,
                    0,
                ));
            }
            for _ in 0..ops {
                let e = q.pop().expect("non-empty");
                let jitter = twin::sim::rng::next_u64(&mut s) % 1_000_000_000;
                q.push(Event::new(
                    e.time + period - 500_000_000 + jitter,
                    e.entity,
                    0,
                ));
            }
            black_box(q.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
