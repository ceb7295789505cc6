//! One million devices reporting once a minute for one simulated hour (the periodic-sensor
//! model of `benches/sim.rs`): prints the wall time, events per second and the peak
//! resident memory. `cargo run --release --example sim_scale [devices] [horizon_s] [runs]`
//! (with several runs, the rate printed last is their median).

use std::time::Instant;
use twin::sim::{run, Scenario};

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat` (clock
/// ticks of 10 ms): on a shared machine the CPU time of the runs says what one core does
/// better than the wall time, which includes time the process waited for a core.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn main() -> Result<(), twin::Error> {
    let mut args = std::env::args().skip(1);
    let devices: u32 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let horizon: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3_600.0);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1).max(1);
    let mut s = Scenario::single(devices, 60.0, horizon);
    s.groups[0].jitter_s = 1.0;
    s.gateways[0].link.latency_s = 0.01;
    s.metrics.per_device = false;
    let mut rates = Vec::with_capacity(runs);
    let mut last = None;
    let mut wall = 0.0;
    let (mut all_events, cpu0) = (0u64, cpu_seconds());
    for _ in 0..runs {
        let t0 = Instant::now();
        let r = run(&s)?;
        wall = t0.elapsed().as_secs_f64();
        rates.push(r.summary.events as f64 / wall);
        all_events += r.summary.events;
        last = Some(r);
    }
    let Some(r) = last else {
        return Ok(());
    };
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!("devices        {devices}");
    println!("horizon_s      {horizon}");
    println!("reports        {}", r.summary.reports);
    println!("delivered      {}", r.summary.delivered);
    println!("events         {}", r.summary.events);
    println!("wall_s         {wall:.2}");
    println!("events_per_s   {:.0}", r.summary.events as f64 / wall);
    if let Some(m) = peak_rss_mib() {
        println!("peak_rss_mib   {m:.0}");
    }
    if runs > 1 {
        println!(
            "runs           {runs}, events_per_s min/median/max {:.0} / {median:.0} / {:.0}",
            rates[0],
            rates[rates.len() - 1]
        );
    }
    if let (Some(a), Some(b)) = (cpu0, cpu_seconds()) {
        if b > a {
            println!(
                "cpu            {:.2} s for {runs} run(s): {:.0} events per CPU second",
                b - a,
                all_events as f64 / (b - a)
            );
        }
    }
    println!("SIM_EVENTS_PER_SEC={median:.0}");
    Ok(())
}
