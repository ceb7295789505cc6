//! A global allocator that counts allocations, for the tests that show a hot path
//! allocates nothing per sample, step or event. A test binary includes it with
//! `#[path = "common/counting_alloc.rs"] mod counting_alloc;` and reads
//! [`allocations`] before and after the work.
//!
//! Each thread counts its own allocations: the test harness's main thread can still be
//! allocating (after spawning the test's thread) while a measurement has begun, and a
//! process-wide count would then differ from run to run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Const-initialised with no destructor: usable from inside the allocator, on any
    // thread, at any point of its life.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// Every call is forwarded unchanged to the system allocator; allocations, zeroed
// allocations and reallocations count one each.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations this thread has made so far (reallocations included).
pub fn allocations() -> usize {
    ALLOCS.with(Cell::get)
}

/// Check that this thread's allocations are counted (a control for tests whose claim is
/// a count of zero, or two equal counts).
pub fn check_counts() {
    let before = allocations();
    let b = std::hint::black_box(Box::new(7_u64));
    drop(b);
    assert_eq!(
        allocations() - before,
        1,
        "the counting allocator is not counting"
    );
}
