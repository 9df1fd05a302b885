/// What `reconcile --version` prints: the release, the store schema and the report schema it speaks.
public enum ReconcileVersion {
    /// The release; raised with every resolved issue that changes what users see.
    public static let release = "0.11.0"

    /// The newest store migration this build knows (it refuses a store migrated further).
    public static var storeSchema: String { Store.migrator.migrations.last ?? "none" }

    /// One line for `--version`.
    public static var description: String {
        "\(release) (store schema \"\(storeSchema)\", report \(RunReport.currentSchema))"
    }
}
