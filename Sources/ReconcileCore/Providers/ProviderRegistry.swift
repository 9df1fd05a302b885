/// Builds the adapter for each provider entry of a job.
public enum ProviderRegistry {
    /// The adapter for `config`; a kind without an adapter yet is a usage failure naming it.
    public static func adapter(
        for config: ProviderConfig,
        http: HTTPClient.Configuration = .init()
    ) throws -> any ProviderAdapter {
        switch config.kind {
        case .credicorp:
            return CredicorpAdapter(config: config, httpConfiguration: http)
        case .crezco, .credify:
            throw UsageFailure(
                "provider '\(config.name)': kind \(config.kind.rawValue) is not supported by this version"
            )
        }
    }
}
