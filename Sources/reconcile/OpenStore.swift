import ReconcileCore

/// Checks the store path of `config` (or `--store`) and opens it.
///
/// Relative paths are taken from the working directory; the error names the job file, line and
/// key (or `--store`) when the path cannot be a store.
func openStore(config: JobConfig, option: String?, creation: StoreLocation.Creation) throws -> any ReconcileStore {
    let location = try StoreLocation.check(
        option ?? config.store,
        origin: option == nil ? "\(config.file):\(config.storeLine): store" : "--store",
        creation: creation
    )
    return try Store(path: location.path)
}
