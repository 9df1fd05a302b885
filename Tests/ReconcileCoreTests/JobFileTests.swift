import Foundation
import Testing

@testable import ReconcileCore

@Suite struct JobFileTests {
    let environment = [
        "CREDICORP_API_KEY": "sk_live_123", "CREDICORP_WHSEC": Fixture.secret,
        "CREDICORP_WHSEC_PREVIOUS": Fixture.otherSecret, "CREZCO_API_KEY": "crezco_key",
        "CREDIFY_API_KEY": "credify_key", "CREDIFY_PUBLIC_KEY": Data(repeating: 7, count: 32).base64EncodedString(),
    ]

    func job(_ provider: String = "", top: String = "") -> String {
        """
        name: nightly
        store: var/reconcile.sqlite
        lookback: 8d
        reports: var/reports
        \(top)
        providers:
          - name: credicorp
            kind: credicorp
            base_url: https://api.credicorp.example
            api_key_env: CREDICORP_API_KEY
            signing_secrets_env: [CREDICORP_WHSEC, CREDICORP_WHSEC_PREVIOUS]
        \(provider)
        """
    }

    @Test func validJobLoads() throws {
        let config = try JobFile.parse(
            text: job("    endpoint_id: whend_1\n    rate_limit: 5"),
            file: "j.yml",
            environment: environment
        )
        #expect(config.name == "nightly")
        #expect(config.lookback == 8 * 86_400)
        #expect(config.retention == 90 * 86_400)
        let provider = try #require(config.providers.first)
        #expect(provider.retryWindow == 72 * 3600)
        #expect(provider.rateLimit == 5)
        #expect(provider.signingSecrets.map(\.variable) == ["CREDICORP_WHSEC", "CREDICORP_WHSEC_PREVIOUS"])
    }

    @Test func aRetentionShorterThanTheEventLogOrLookbackIsRefused() throws {
        #expect(throws: JobFileError.self) {
            try JobFile.parse(text: job(top: "retention: 7d"), file: "j.yml", environment: environment)
        }
        do {
            _ = try JobFile.parse(text: job(top: "retention: 29d"), file: "j.yml", environment: environment)
            Issue.record("a 29-day retention loaded")
        } catch {
            #expect("\(error)".contains("j.yml:5: retention is '29d'"), "\(error)")
            #expect("\(error)".contains("at least 30d"))
        }
        let kept = try JobFile.parse(text: job(top: "retention: 30d"), file: "j.yml", environment: environment)
        #expect(kept.retention == 30 * 86_400)
    }

    @Test func aPostgresStoreTakesItsPasswordFromTheEnvironmentAndNeverFromTheURL() throws {
        func parse(_ store: String, password: String? = "STORE_PASSWORD", resolving: Bool = true) throws -> JobConfig {
            let text = job().replacingOccurrences(
                of: "store: var/reconcile.sqlite",
                with: "store: \(store)" + (password.map { "\nstore_password_env: \($0)" } ?? "")
            )
            var environment = self.environment
            environment["STORE_PASSWORD"] = "pw-in-the-environment"
            return try JobFile.parse(text: text, file: "j.yml", environment: environment, resolvingSecrets: resolving)
        }
        let config = try parse("postgres://reconcile@db.internal:5433/payments")
        #expect(config.storePassword?.value == "pw-in-the-environment")
        #expect(config.storePassword?.variable == "STORE_PASSWORD")
        let reading = try parse("postgresql://reconcile@127.0.0.1/payments", resolving: false)
        #expect(reading.storePassword?.value == "pw-in-the-environment", "read-only commands talk to the store too")
        #expect(try parse("var/reconcile.sqlite", password: nil).storePassword == nil)

        func refusal(_ store: String, password: String? = "STORE_PASSWORD") -> String {
            do {
                _ = try parse(store, password: password)
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        let withSecret = refusal("postgres://reconcile:hunter2@db.internal/payments")
        #expect(withSecret.contains("j.yml:2: store is") && withSecret.contains("carries a password"), "\(withSecret)")
        #expect(!withSecret.contains("hunter2"), "the password in the URL is not repeated")
        #expect(refusal("postgres://reconcile@db.internal/payments", password: nil).contains("'store_password_env'"))
        #expect(
            refusal("postgres://reconcile@db.internal/payments", password: "UNSET_VARIABLE").contains(
                "UNSET_VARIABLE, which is not set"
            )
        )
        #expect(refusal("postgres://db.internal/payments").contains("names no user"))
        #expect(refusal("var/reconcile.sqlite").contains("store is a SQLite file"))
        let pasted = refusal("var/reconcile.sqlite", password: "hunter2-the-password")
        #expect(!pasted.contains("hunter2"), "a password pasted in store_password_env is not repeated: \(pasted)")
    }

    @Test func shippedNightlyJobIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try JobFile.load(
            path: root.appendingPathComponent("Jobs/nightly.yml").path,
            environment: environment
        )
        #expect(config.providers.map(\.kind) == [.credicorp, .crezco, .credify])
        let windows: [TimeInterval] = [72 * 3600, 48 * 3600, 72 * 3600]
        #expect(config.providers.map(\.retryWindow) == windows)
        #expect(config.providers.last?.webhookURL == "https://hooks.example.com/credify")
    }

    @Test(arguments: [
        ("    colour: blue", "j.yml:12: unknown key 'colour'"),
        ("    retry_window: 3 days", "j.yml:12: retry_window is '3 days'"),
        ("    retry_window: 0h", "j.yml:12: retry_window is '0h'"),
        ("    rate_limit: fast", "j.yml:12: rate_limit is 'fast'"),
        ("    webhook_url: https://x", "j.yml:12: unknown key 'webhook_url'"),
    ])
    func badProviderEntriesAreRefused(extra: String, message: String) {
        #expect {
            try JobFile.parse(text: job(extra), file: "j.yml", environment: environment)
        } throws: { error in
            guard let failure = error as? JobFileError else { return false }
            return failure.exitStatus == 2 && failure.description.hasPrefix(message)
        }
    }

    @Test func httpOnANonLoopbackHostIsRefused() {
        let text = job().replacingOccurrences(of: "https://api.credicorp.example", with: "http://api.credicorp.example")
        #expect(throws: JobFileError.self) { try JobFile.parse(text: text, file: "j.yml", environment: environment) }
        let loopback = job().replacingOccurrences(of: "https://api.credicorp.example", with: "http://127.0.0.1:8080")
        #expect(throws: Never.self) { try JobFile.parse(text: loopback, file: "j.yml", environment: environment) }
    }

    @Test func missingEnvironmentNamesTheVariableNotAValue() {
        var partial = environment
        partial["CREDICORP_WHSEC_PREVIOUS"] = nil
        #expect {
            try JobFile.parse(text: job(), file: "j.yml", environment: partial)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("CREDICORP_WHSEC_PREVIOUS") && text.contains("j.yml:11")
                && !text.contains("sk_live_123")
        }
    }

    @Test func unknownTopLevelKeyAndBadLookbackAreRefused() {
        #expect(throws: JobFileError.self) {
            try JobFile.parse(text: job(top: "colour: red"), file: "j.yml", environment: environment)
        }
        let badLookback = job().replacingOccurrences(of: "lookback: 8d", with: "lookback: 8 days")
        #expect(throws: JobFileError.self) {
            try JobFile.parse(text: badLookback, file: "j.yml", environment: environment)
        }
    }

    @Test func aSecretThatIsNotWhsecBase64IsRefusedWithoutShowingIt() {
        var bad = environment
        bad["CREDICORP_WHSEC"] = "whsec_***not base64***"
        #expect {
            try JobFile.parse(text: job(), file: "j.yml", environment: bad)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("CREDICORP_WHSEC") && !text.contains("not base64***")
        }
    }
}
