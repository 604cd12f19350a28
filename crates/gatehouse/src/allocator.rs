//! The memory allocator: mimalloc, for every allocation the Rust code makes.
//!
//! glibc's allocator gives threads arenas that they lock; with an arena per core (which kept the
//! memory of a burst of sign-ins in check) tokio's workers and the blocking pool share them, and a
//! block freed on another thread than the one that allocated it (every response body, every
//! request's headers) waits for that arena's lock. `perf` showed futex waits and wake-ups under
//! malloc, realloc and free in every scenario; with mimalloc, whose per-thread heaps free across
//! threads without a lock, the server needs about a quarter less CPU per token request
//! (`docs/performance.md`).
//!
//! Two settings keep the memory low:
//! - built without transparent huge pages (the `no_thp` feature), or each touched 2 MiB region of
//!   its arena would count whole;
//! - memory freed stays with mimalloc for a short delay, and is only given back on a later call into
//!   the allocator. A server that has gone quiet makes none, so [`release_free_memory`] runs after
//!   start-up (the dummy password hash alone leaves 19 MiB) and every few seconds.
//!
//! This is the one place in the workspace with `unsafe` code (one call into mimalloc).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives freed memory back to the system now instead of at the allocator's next use.
pub fn release_free_memory() {
    #[expect(
        unsafe_code,
        reason = "mi_collect has no safe wrapper; it takes a flag and touches only mimalloc's own state"
    )]
    // SAFETY: mi_collect is thread-safe, takes no pointers and only frees memory that no live
    // allocation uses.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}
