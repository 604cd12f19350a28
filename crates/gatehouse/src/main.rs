use std::process::ExitCode;

fn main() -> ExitCode {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    // Before the runtime starts its threads: glibc reads these when a thread first allocates.
    gatehouse::allocator::tune(cores);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(gatehouse::cli::run())
}
