//! The discrete-event kernel: small `Copy` [`Event`]s in a calendar queue that allocates
//! nothing per event once warm.
//!
//! The queue is a ring of `B` buckets, each `width` nanoseconds wide, covering a window of
//! `B * width` ahead of the current bucket; events beyond the window wait in an overflow
//! heap and move into the ring as it slides. When the clock reaches a bucket, its events
//! are spread over [`FINE`] finer sub-buckets (`width / FINE` wide), and each sub-bucket is
//! sorted only when the clock reaches it: with a handful of events per bucket a sub-bucket
//! holds one or two, so a sort is nearly free, and an event scheduled a little ahead of
//! the clock (a packet's arrival a few milliseconds after it was sent) lands in a later
//! sub-bucket with a plain push instead of a sorted insertion. Only the current sub-bucket
//! is kept sorted (exact order; popped from its front, late arrivals inserted by binary
//! search). Every vector keeps its capacity, so after a warm-up a run allocates nothing.
//! With a width matched to the event density (a few dozen events per bucket) push and pop
//! cost O(1) amortised plus a heap operation on a few elements, independent of the number
//! of pending events.
//!
//! Order is total and deterministic: by time, then entity, kind, attempt and `aux`, so a
//! run never depends on insertion order.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One scheduled event: 24 bytes, `Copy`.
///
/// ```
/// assert_eq!(std::mem::size_of::<twin::sim::kernel::Event>(), 24);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// When, in nanoseconds of simulated time.
    pub time: u64,
    /// The entity the event concerns (device or gateway index).
    pub entity: u32,
    /// A model-defined tag (a report's slot number, for example).
    pub tag: u32,
    /// A payload value (a sensor reading carried by a packet, for example).
    pub value: f32,
    /// What happens (the model defines the codes).
    pub kind: u8,
    /// A small counter (transmission attempt, for example).
    pub attempt: u8,
    /// A second small index (a gateway, for example).
    pub aux: u16,
}

impl Event {
    /// An event with `value`, `attempt` and `aux` zero.
    pub const fn new(time: u64, entity: u32, kind: u8) -> Self {
        Event {
            time,
            entity,
            tag: 0,
            value: 0.0,
            kind,
            attempt: 0,
            aux: 0,
        }
    }

    #[inline]
    fn key(&self) -> (u64, u32, u8, u8, u16, u32) {
        (
            self.time,
            self.entity,
            self.kind,
            self.attempt,
            self.aux,
            self.tag,
        )
    }
}

/// Heap entry ordered so that `BinaryHeap` (a max-heap) pops the earliest event.
#[derive(Debug, Clone, Copy)]
struct Earliest(Event);

impl PartialEq for Earliest {
    fn eq(&self, other: &Self) -> bool {
        self.0.key() == other.0.key()
    }
}
impl Eq for Earliest {}
impl PartialOrd for Earliest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Earliest {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.key().cmp(&self.0.key())
    }
}

/// Put two events in order.
#[inline(always)]
fn order(a: &mut Event, b: &mut Event) {
    if b.key() < a.key() {
        std::mem::swap(a, b);
    }
}

/// Sub-buckets a bucket is spread over when the clock reaches it (a power of two).
pub const FINE: usize = 32;
const FINE_BITS: u32 = FINE.trailing_zeros();
const _: () = assert!(
    FINE.is_power_of_two() && FINE <= 32,
    "one bit per sub-bucket in a u32"
);

/// A calendar queue of [`Event`]s; see the module documentation.
///
/// ```
/// use twin::sim::kernel::{Event, EventQueue};
/// let mut q = EventQueue::new(1_000, 64);
/// for t in [500_u64, 10, 70_000, 10] {
///     q.push(Event::new(t, (t % 7) as u32, 0));
/// }
/// let times: Vec<u64> = std::iter::from_fn(|| q.pop()).map(|e| e.time).collect();
/// assert_eq!(times, vec![10, 10, 500, 70_000]);
/// ```
#[derive(Debug)]
pub struct EventQueue {
    /// Bucket width is `2^shift` ns.
    shift: u32,
    mask: usize,
    buckets: Vec<Vec<Event>>,
    /// Events in the ring buckets (not counting `fine`, `current` and `far`).
    in_ring: usize,
    /// The current bucket's sub-buckets (`shift - FINE_BITS` wide), indexed by the low
    /// bits of the absolute sub-bucket number; those after `cur_fine` are unsorted.
    fine: Vec<Vec<Event>>,
    /// Events in `fine`.
    in_fine: usize,
    /// Bit `i` set: sub-bucket `i` of `fine` holds events (so the next one is found with
    /// a count of trailing zeros, not a scan whose branches the processor cannot guess).
    fine_used: u32,
    /// The current sub-bucket, sorted earliest first; `head` is the next to pop.
    current: Vec<Event>,
    head: usize,
    /// Absolute bucket number of the current bucket.
    cur_bucket: u64,
    /// Absolute sub-bucket number of `current` (within `cur_bucket`).
    cur_fine: u64,
    far: BinaryHeap<Earliest>,
    now: u64,
}

impl EventQueue {
    /// A queue with buckets `width_ns` wide (rounded up to a power of two) and `buckets`
    /// buckets (rounded up to a power of two, at least 2).
    pub fn new(width_ns: u64, buckets: usize) -> Self {
        let n = buckets.max(2).next_power_of_two();
        // At least one nanosecond per sub-bucket.
        let shift = width_ns
            .max(1)
            .next_power_of_two()
            .trailing_zeros()
            .max(FINE_BITS);
        EventQueue {
            shift,
            mask: n - 1,
            buckets: (0..n).map(|_| Vec::new()).collect(),
            in_ring: 0,
            fine: (0..FINE).map(|_| Vec::new()).collect(),
            in_fine: 0,
            fine_used: 0,
            current: Vec::new(),
            head: 0,
            cur_bucket: 0,
            cur_fine: 0,
            far: BinaryHeap::new(),
            now: 0,
        }
    }

    /// A queue sized for `pending` simultaneously pending events spread over `span_ns`
    /// (for example one report per device per period): about `pending / 16` buckets (a
    /// power of two) whose width, a power of two so that a bucket number is a shift and
    /// not a division, makes the window cover at least 1.25 spans. Each bucket reserves
    /// its mean occupancy `m` plus `5·sqrt(m) + 4` up front (an overflow has a probability
    /// near 1e-7 per bucket fill when arrivals are Poisson), so a steady load allocates
    /// practically nothing once running; a bucket that does overflow keeps its larger
    /// capacity.
    pub fn for_load(pending: usize, span_ns: u64) -> Self {
        let buckets = (pending / 16).clamp(16, 1 << 22).next_power_of_two();
        let width = ((span_ns.max(1) as f64 * 1.25) / buckets as f64)
            .ceil()
            .max(1.0) as u64;
        let mut q = Self::new(width, buckets);
        let w = (1u64 << q.shift) as f64;
        let mean = pending as f64 * w / span_ns.max(1) as f64;
        let per = (mean + 5.0 * mean.sqrt() + 4.0).ceil() as usize;
        for b in &mut q.buckets {
            b.reserve_exact(per);
        }
        // A sub-bucket holds its share of a bucket plus events scheduled into it from
        // inside the bucket (as many again, at most).
        let fine_mean = 2.0 * mean / FINE as f64;
        let fine_per = (fine_mean + 5.0 * fine_mean.sqrt() + 4.0).ceil() as usize;
        for f in &mut q.fine {
            f.reserve_exact(fine_per);
        }
        q.current.reserve_exact(fine_per);
        q
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.in_ring + self.in_fine + (self.current.len() - self.head) + self.far.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pending events, in no particular order (for saving a model's state; pushing
    /// them into a new queue gives the same pops, since events pop in the total order of
    /// their fields).
    ///
    /// ```
    /// use twin::sim::kernel::{Event, EventQueue};
    /// let mut q = EventQueue::new(1_000, 64);
    /// for t in [5_u64, 900, 70_000, 10_000_000] {
    ///     q.push(Event::new(t, 1, 0));
    /// }
    /// q.pop();
    /// let mut left: Vec<u64> = q.pending().map(|e| e.time).collect();
    /// left.sort();
    /// assert_eq!(left, vec![900, 70_000, 10_000_000]);
    /// ```
    pub fn pending(&self) -> impl Iterator<Item = Event> + '_ {
        self.current[self.head..]
            .iter()
            .chain(self.fine.iter().flatten())
            .chain(self.buckets.iter().flatten())
            .chain(self.far.iter().map(|e| &e.0))
            .copied()
    }

    /// The time of the last event popped.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Bytes held by the queue's storage (capacities, not lengths).
    pub fn heap_bytes(&self) -> usize {
        let ev = std::mem::size_of::<Event>();
        self.buckets.capacity() * std::mem::size_of::<Vec<Event>>()
            + self
                .buckets
                .iter()
                .map(|b| b.capacity() * ev)
                .sum::<usize>()
            + self.fine.capacity() * std::mem::size_of::<Vec<Event>>()
            + self.fine.iter().map(|f| f.capacity() * ev).sum::<usize>()
            + (self.current.capacity() + self.far.capacity()) * ev
    }

    /// Schedule an event. An event earlier than the last one popped is delivered next (the
    /// queue never goes back in time; models should not schedule in the past).
    #[inline(always)]
    pub fn push(&mut self, e: Event) {
        let b = e.time >> self.shift;
        if b <= self.cur_bucket {
            self.push_near(e);
        } else if b < self.cur_bucket + self.buckets.len() as u64 {
            self.buckets[(b as usize) & self.mask].push(e);
            self.in_ring += 1;
        } else {
            self.push_far(e);
        }
    }

    /// Beyond the window: into the overflow heap (out of line, so that `push` stays small
    /// enough to inline).
    #[cold]
    #[inline(never)]
    fn push_far(&mut self, e: Event) {
        self.far.push(Earliest(e));
    }

    /// Place an event of the current bucket (or earlier): into the sorted current
    /// sub-bucket if it is due there (or earlier), else into its sub-bucket.
    #[inline(always)]
    fn push_near(&mut self, e: Event) {
        let f = e.time >> (self.shift - FINE_BITS);
        if f <= self.cur_fine {
            self.insert_current(e);
        } else {
            self.fine[(f as usize) & (FINE - 1)].push(e);
            self.in_fine += 1;
            self.fine_used |= 1 << (f as u32 & (FINE as u32 - 1));
        }
    }

    /// Remove and return the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        loop {
            if let Some(&e) = self.current.get(self.head) {
                self.head += 1;
                self.now = e.time;
                return Some(e);
            }
            if self.in_fine > 0 {
                self.next_fine();
                continue;
            }
            let next = if self.in_ring == 0 {
                // Jump straight to the overflow's earliest bucket.
                let Earliest(top) = *self.far.peek()?;
                top.time >> self.shift
            } else {
                self.cur_bucket + 1
            };
            self.enter_bucket(next);
        }
    }

    /// Make bucket `b` current: its ring events and the overflow's events now inside the
    /// window go to their places, the bucket's into its sub-buckets.
    fn enter_bucket(&mut self, b: u64) {
        self.cur_bucket = b;
        self.cur_fine = b << FINE_BITS;
        self.current.clear();
        self.head = 0;
        let slot = (b as usize) & self.mask;
        let mut bucket = std::mem::take(&mut self.buckets[slot]);
        self.in_ring -= bucket.len();
        for e in bucket.drain(..) {
            self.push_near(e);
        }
        self.buckets[slot] = bucket;
        self.refill_from_far();
    }

    /// Advance to the next non-empty sub-bucket of the current bucket and sort it into
    /// `current` (which is empty: every event of the earlier sub-buckets has been popped).
    fn next_fine(&mut self) {
        // Every event in `fine` lies after `cur_fine` within the current bucket, so the
        // lowest set bit is the next sub-bucket with events.
        let i = self.fine_used.trailing_zeros() as usize;
        debug_assert!(i < FINE && (i as u64) > (self.cur_fine & (FINE as u64 - 1)));
        self.fine_used &= self.fine_used - 1;
        self.cur_fine = (self.cur_fine & !(FINE as u64 - 1)) | i as u64;
        let f = &mut self.fine[i & (FINE - 1)];
        self.in_fine -= f.len();
        // Swap the vectors rather than copy the events: the sub-bucket becomes the current
        // one, and the spent current vector (emptied) its storage.
        self.current.clear();
        self.head = 0;
        std::mem::swap(&mut self.current, f);
        // Sub-buckets hold one to three events as a rule: sort those in place.
        match self.current.as_mut_slice() {
            [] | [_] => {}
            [a, b] => order(a, b),
            [a, b, c] => {
                order(a, b);
                order(b, c);
                order(a, b);
            }
            more => more.sort_unstable_by_key(Event::key),
        }
    }

    /// Move overflow events that now fall inside the window into the ring (or the current
    /// bucket).
    fn refill_from_far(&mut self) {
        let end = self.cur_bucket + self.buckets.len() as u64;
        while let Some(Earliest(top)) = self.far.peek().copied() {
            let b = top.time >> self.shift;
            if b >= end {
                break;
            }
            self.far.pop();
            if b <= self.cur_bucket {
                self.push_near(top);
            } else {
                self.buckets[(b as usize) & self.mask].push(top);
                self.in_ring += 1;
            }
        }
    }

    /// Insert into the sorted current sub-bucket: later events (the usual case) go near
    /// the end, so the move is short. Out of line: most events go to a later sub-bucket.
    #[inline(never)]
    fn insert_current(&mut self, e: Event) {
        if self.head > 1024 && self.head * 2 > self.current.len() {
            // A long stay in one sub-bucket: drop the popped prefix.
            self.current.drain(..self.head);
            self.head = 0;
        }
        let k = e.key();
        match self.current.last() {
            Some(last) if last.key() > k => {
                let at = self.head + self.current[self.head..].partition_point(|x| x.key() <= k);
                self.current.insert(at, e);
            }
            _ => self.current.push(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng;

    #[test]
    fn pops_in_total_order_with_interleaved_pushes() {
        let mut s = 12345_u64;
        let mut q = EventQueue::new(100, 16);
        let mut reference: Vec<(u64, u32)> = Vec::new();
        for i in 0..2_000u32 {
            let t = (rng::uniform(&mut s) * 1e5) as u64;
            q.push(Event::new(t, i, 1));
            reference.push((t, i));
        }
        let mut popped = Vec::new();
        let mut i = 2_000u32;
        while let Some(e) = q.pop() {
            popped.push((e.time, e.entity));
            // Hold model: every popped event schedules a later one, sometimes far ahead.
            if i < 20_000 {
                let dt = if i % 97 == 0 {
                    3_000_000
                } else {
                    (rng::uniform(&mut s) * 5e3) as u64
                };
                q.push(Event::new(e.time + dt, i, 2));
                reference.push((e.time + dt, i));
                i += 1;
            }
        }
        reference.sort();
        assert_eq!(popped, reference);
        assert!(q.is_empty());
    }

    #[test]
    fn sub_buckets_keep_the_total_order() {
        // The engine's pattern: every popped "report" schedules the next one a period
        // later and an "arrival" a little later (inside the same bucket, in a later
        // sub-bucket, or the same sub-bucket); some events land at equal times, some in
        // the past, some beyond the window. Checked against a sort of everything pushed.
        let n = 2_000u32;
        let period = 60_000_000_000u64;
        let mut q = EventQueue::for_load(n as usize, period);
        let mut s = 99u64;
        let mut pushed: Vec<Event> = Vec::new();
        let push = |q: &mut EventQueue, pushed: &mut Vec<Event>, e: Event| {
            q.push(e);
            pushed.push(e);
        };
        for d in 0..n {
            let t = (rng::uniform(&mut s) * period as f64) as u64;
            push(&mut q, &mut pushed, Event::new(t, d, 0));
        }
        let mut popped = Vec::new();
        let mut last = 0u64;
        while let Some(e) = q.pop() {
            assert!(e.time >= last, "time went back");
            last = e.time;
            popped.push(e);
            if e.kind != 0 || e.time > 5 * period {
                continue;
            }
            let u = rng::uniform(&mut s);
            let arrival = if u < 0.1 {
                e.time // same time, other kind
            } else if u < 0.2 {
                e.time + 1_000 // same sub-bucket
            } else if u < 0.25 {
                e.time + 40 * period // beyond the window
            } else {
                e.time + (rng::uniform(&mut s) * 2e8) as u64 // up to 200 ms later
            };
            let mut a = Event::new(arrival, e.entity, 3);
            a.tag = popped.len() as u32;
            push(&mut q, &mut pushed, a);
            let jitter = (rng::uniform(&mut s) * 1e9) as u64;
            push(
                &mut q,
                &mut pushed,
                Event::new(e.time + period - 500_000_000 + jitter, e.entity, 0),
            );
        }
        pushed.sort_by_key(Event::key);
        assert_eq!(popped.len(), pushed.len());
        assert!(popped.iter().zip(&pushed).all(|(a, b)| a.key() == b.key()));
        assert!(q.is_empty());
    }

    #[test]
    fn allocation_stops_after_warm_up() {
        let n = 10_000usize;
        let period = 60_000_000_000u64;
        let mut q = EventQueue::for_load(n, period);
        let mut s = 7u64;
        for d in 0..n as u32 {
            q.push(Event::new(
                (rng::uniform(&mut s) * period as f64) as u64,
                d,
                0,
            ));
        }
        // A steady hold model for 40 periods: count how often the storage changes size in
        // the second half (each bucket has been filled about 9 times by then).
        let (mut count, mut changes, mut late) = (0usize, 0usize, 0usize);
        let mut bytes = q.heap_bytes();
        while let Some(e) = q.pop() {
            if e.time > 40 * period {
                break;
            }
            let jitter = (rng::uniform(&mut s) * 1e9) as u64;
            q.push(Event::new(
                e.time + period - 500_000_000 + jitter,
                e.entity,
                0,
            ));
            count += 1;
            let now = q.heap_bytes();
            if now != bytes {
                changes += 1;
                if e.time > 20 * period {
                    late += 1;
                }
            }
            bytes = now;
        }
        assert!(count > 39 * n);
        // The reserved room suffices: nothing grows after the first period (the overflow
        // heap fills while the initial events spread out), none in the second half.
        assert_eq!(
            late, 0,
            "{late} late reallocations ({changes} in all) in {count} events"
        );
        assert_eq!(q.len(), n - 1);
    }
}
