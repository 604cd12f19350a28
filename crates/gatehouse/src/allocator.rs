//! glibc's allocator, set up for a small server before the first thread starts.
//!
//! glibc gives a thread that finds the allocator busy an arena of its own, up to eight per core, and
//! keeps what is freed in each arena for that arena's next use. A server thread pool (tokio's
//! workers, its blocking pool where passwords are hashed, one thread per SQLite connection) spreads
//! over many arenas that way, and after a burst of requests each holds memory nobody uses: that was
//! most of the 100-125 MiB peak measured in `docs/performance.md`. glibc also raises its threshold
//! for serving a large block straight from the system each time such a block is freed, so argon2's
//! 19 MiB working memory ends up inside an arena, where freeing it keeps it.
//!
//! So, before any thread exists: as many arenas as cores, and a fixed threshold for large blocks
//! (large blocks come from and go back to the system). Only on Linux with glibc; elsewhere nothing.
//! This is the one place in the workspace with `unsafe` code (two calls into the C library).

/// Blocks of this size and larger are mapped from the system and returned to it when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 256 * 1024;

/// Sets up glibc's allocator. Call first thing in `main`, before any thread starts (glibc reads the
/// arena limit when a thread first allocates).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune(cores: usize) {
    let arenas = i32::try_from(cores.clamp(1, 8)).unwrap_or(2);
    #[expect(
        unsafe_code,
        reason = "mallopt has no safe wrapper; it only sets allocator parameters and is called before other threads exist"
    )]
    // SAFETY: mallopt takes two integers and changes allocator parameters; no pointers are involved,
    // and no other thread is allocating yet.
    let ok = unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas) == 1
            && libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    };
    if !ok {
        eprintln!("warning: could not tune the memory allocator (mallopt failed)");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune(_cores: usize) {}
