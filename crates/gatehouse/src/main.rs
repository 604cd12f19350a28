use std::process::ExitCode;

fn main() -> ExitCode {
    // Start-up's temporary memory goes back as soon as it is freed; `serve` turns this off once
    // it is ready (see `gatehouse::allocator`).
    gatehouse::allocator::return_freed_memory_at_once(true);
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
