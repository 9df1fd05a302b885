import Foundation
import Logging
import Testing

@testable import ReconcileCore

/// What the hostile-provider suites share: a window, quick clients, readers and failure checks.
enum Hostile {
    static let until = Date(timeIntervalSince1970: 1_783_670_400)  // 2026-07-10T08:00:00Z
    static let since = until.addingTimeInterval(-8 * 86_400)
    static let apiKey = "sk_test_hostile_key"

    /// Short timeouts and few retries, so every test ends in seconds.
    static func quick(attempts: Int = 2, deadline: Duration? = nil, maxBody: Int = 1 << 20) -> HTTPClient.Configuration
    {
        var configuration = HTTPClient.Configuration()
        configuration.connectTimeout = .seconds(2)
        configuration.totalTimeout = .seconds(2)
        configuration.retry.maxAttempts = attempts
        configuration.retry.baseDelay = .milliseconds(20)
        configuration.retry.maxDelay = .milliseconds(40)
        configuration.maxBodyBytes = maxBody
        configuration.deadline = deadline
        return configuration
    }

    /// A reader of `kind` against `baseURL`.
    static func reader(
        _ kind: ProviderKind,
        _ baseURL: String,
        http: HTTPClient.Configuration = quick(),
        maxRows: Int = ProviderConfig.defaultMaxRows
    ) -> any ProviderReader {
        var config: ProviderConfig
        switch kind {
        case .credicorp: config = Fixture.credicorpConfig(baseURL: baseURL)
        case .crezco: config = Fixture.crezcoConfig(baseURL: baseURL, apiKey: apiKey)
        case .credify:
            config = Fixture.credifyConfig(
                baseURL: baseURL,
                apiKey: apiKey,
                publicKey: Data(repeating: 1, count: 32).base64EncodedString(),
                webhookURL: "https://h/c"
            )
        }
        config.apiKey = Secret(variable: "KEY", value: apiKey)
        config.maxRows = maxRows
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        return ProviderRegistry.adapter(for: config, http: http).makeReader(logger: quiet)
    }

    /// The error `body` throws, checked to be a provider failure that names the provider and never the key.
    static func failure(provider: String = "credicorp", _ body: () async throws -> Void) async -> ProviderError? {
        do {
            try await body()
            return nil
        } catch let error as ProviderError {
            #expect(error.exitStatus == 3)
            #expect(error.description.hasPrefix("\(provider): "), "\(error)")
            #expect(!error.description.contains(apiKey))
            return error
        } catch {
            Issue.record("not a ProviderError: \(error)")
            return nil
        }
    }

}

/// A thread-safe counter for scripts that answer differently the first time.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    /// The current value, then one more.
    func next() -> Int {
        lock.withLock {
            defer { value += 1 }
            return value
        }
    }
}
