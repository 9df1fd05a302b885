import Foundation

extension SandboxCombinedHistory {
    /// A job file for all three providers against `server`, and the environment its `*_env` keys name.
    ///
    /// - Parameters:
    ///   - name: The job's `name`.
    ///   - store: The `store` path.
    ///   - reports: The `reports` folder.
    ///   - baseURL: The base URL of a provider, such as ``SandboxServer/baseURL(for:)``.
    ///   - variablePrefix: Prepended to every environment variable name (the demo uses `DEMO_`).
    ///   - extra: Top-level lines appended to the job (`metrics: …`, `repair: false`).
    /// - Returns: The YAML text and the environment variables with the secrets.
    public func jobFile(
        name: String,
        store: String,
        reports: String,
        baseURL: (String) -> String,
        variablePrefix: String = "",
        extra: String = ""
    ) -> (text: String, environment: [String: String]) {
        let prefix = variablePrefix
        let text = """
            name: \(name)
            store: \(store)
            lookback: 8d
            reports: \(reports)
            \(extra)
            providers:
              - name: \(credicorp.providerName)
                kind: credicorp
                base_url: \(baseURL("credicorp"))
                api_key_env: \(prefix)CREDICORP_API_KEY
                signing_secrets_env: [\(prefix)CREDICORP_WHSEC, \(prefix)CREDICORP_WHSEC_PREVIOUS]
                endpoint_id: \(credicorp.endpointID)
              - name: \(crezco.providerName)
                kind: crezco
                base_url: \(baseURL("crezco"))
                api_key_env: \(prefix)CREZCO_API_KEY
              - name: \(credify.providerName)
                kind: credify
                base_url: \(baseURL("credify"))
                api_key_env: \(prefix)CREDIFY_API_KEY
                public_key_env: \(prefix)CREDIFY_PUBLIC_KEY
                webhook_url: \(credify.webhookURL)

            """
        let environment = [
            prefix + "CREDICORP_API_KEY": credicorp.apiKey, prefix + "CREDICORP_WHSEC": credicorp.currentSecret,
            prefix + "CREDICORP_WHSEC_PREVIOUS": credicorp.previousSecret, prefix + "CREZCO_API_KEY": crezco.apiKey,
            prefix + "CREDIFY_API_KEY": credify.apiKey, prefix + "CREDIFY_PUBLIC_KEY": credify.publicKeyBase64,
        ]
        return (text, environment)
    }

    /// Every secret and key of the three histories, for tests that search output for them.
    public var secrets: [String] {
        [credicorp.apiKey, credicorp.currentSecret, credicorp.previousSecret, crezco.apiKey, credify.apiKey]
    }
}
