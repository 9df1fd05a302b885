import Logging
import ReconcileCore

/// Opens the store of `config` (or `--store`) for `body`, and closes it after, whatever happens.
///
/// A path is taken from the working directory; the error names the job file, line and key (or
/// `--store`) when the target cannot be a store.
func withStore<T>(
    config: JobConfig,
    option: String?,
    creation: StoreLocation.Creation,
    logger: Logger = Logger(label: "reconcile.store"),
    _ body: (any ReconcileStore, String) async throws -> T
) async throws -> T {
    let opened = try await OpenedStore.open(
        option ?? config.store,
        origin: option == nil ? "\(config.file):\(config.storeLine): store" : "--store",
        password: config.storePassword,
        creation: creation,
        logger: logger
    )
    do {
        let result = try await body(opened.store, opened.location)
        await opened.close()
        return result
    } catch {
        await opened.close()
        throw error
    }
}
