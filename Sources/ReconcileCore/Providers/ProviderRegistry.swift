/// Builds the adapter for each provider entry of a job.
public enum ProviderRegistry {
    /// The adapter for `config`; one adapter per kind.
    public static func adapter(
        for config: ProviderConfig,
        http: HTTPClient.Configuration = .init()
    ) -> any ProviderAdapter {
        switch config.kind {
        case .credicorp:
            return CredicorpAdapter(config: config, httpConfiguration: http)
        case .crezco:
            return CrezcoAdapter(config: config, httpConfiguration: http)
        case .credify:
            return CredifyAdapter(config: config, httpConfiguration: http)
        }
    }
}
