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
//! Three settings keep the memory low:
//! - built without transparent huge pages (the `no_thp` feature), or each touched 2 MiB region of
//!   its arena would count whole;
//! - memory freed stays with mimalloc for a short delay, and is only given back on a later call into
//!   the allocator. A server that has gone quiet makes none, so [`release_free_memory`] runs after
//!   start-up (the dummy password hash alone leaves 19 MiB) and every few seconds;
//! - during start-up, freed memory goes back at once ([`return_freed_memory_at_once`]): start-up
//!   frees on several threads (the async workers run the migrations and the first queries), and
//!   memory a thread has freed is only given back by that thread's next call into the allocator,
//!   which an idle worker never makes. Measured: a freshly started server held 4 MiB less this way.
//!   Serving then goes back to mimalloc's short delay, which saved 4–5 % of a refresh's CPU.
//!
//! This is the one place in the workspace with `unsafe` code (calls into mimalloc).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (milliseconds before freed memory is given back): its number in
/// mimalloc.h's `mi_option_e`, which the -sys crate does not name.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Its default.
const DEFAULT_PURGE_DELAY_MS: std::ffi::c_long = 10;

/// `true`: memory freed from now on goes back to the system at once (for start-up); `false`: after
/// mimalloc's default short delay (for serving).
pub fn return_freed_memory_at_once(at_once: bool) {
    let delay = if at_once { 0 } else { DEFAULT_PURGE_DELAY_MS };
    #[expect(
        unsafe_code,
        reason = "mi_option_set has no safe wrapper; it stores one number in mimalloc's option table"
    )]
    // SAFETY: mi_option_set takes plain values and only writes mimalloc's own option table, which
    // it reads atomically.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, delay);
    }
}

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
