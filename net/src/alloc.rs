//! A counting global allocator: jemalloc plus a running total of live heap bytes, reported as
//! `used_memory` in `INFO memory`.
//!
//! jemalloc rather than the system allocator: its small size classes fit keel's short boxed strings
//! (glibc rounds each up to 32 bytes) and it is faster on the write path; docs/performance.md has the
//! measurements.

use std::alloc::{GlobalAlloc, Layout};

use std::sync::atomic::{AtomicUsize, Ordering};
use tikv_jemallocator::Jemalloc;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// Wraps jemalloc and counts live bytes.
pub struct CountingAllocator;

// SAFETY: every method forwards to `Jemalloc` with the caller's arguments unchanged; the counter is
// bookkeeping only and never affects the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { Jemalloc.alloc(layout) };
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { Jemalloc.dealloc(ptr, layout) };
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { Jemalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { Jemalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
            ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

/// Live heap bytes, when the binary installed [`CountingAllocator`] as its global allocator (0 otherwise).
pub fn allocated_bytes() -> u64 {
    ALLOCATED.load(Ordering::Relaxed) as u64
}
