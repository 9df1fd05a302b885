import Foundation
import Testing

@testable import ReconcileCore

/// Job files that try to break the job: huge numbers, huge strings, YAML tricks, odd files (#9).
@Suite struct JobFileHardeningTests {
    let environment = [
        "CREDICORP_API_KEY": "sk_live_123", "CREDICORP_WHSEC": Fixture.secret,
        "CREDICORP_WHSEC_PREVIOUS": Fixture.otherSecret,
    ]

    /// A valid job whose provider entry gets `provider` appended (line 11 on) and whose top level gets `top` (line 5).
    func job(_ provider: String = "", top: String = "", lookback: String = "8d", name: String = "nightly") -> String {
        """
        name: \(name)
        store: var/reconcile.sqlite
        lookback: \(lookback)
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

    /// The refusal of `text`, or nil when it loaded.
    func refusal(_ text: String) -> JobFileError? {
        do {
            _ = try JobFile.parse(text: text, file: "j.yml", environment: environment)
            return nil
        } catch let error as JobFileError {
            return error
        } catch {
            return nil
        }
    }

    @Test(arguments: [
        ("200000000000d", "j.yml:3: lookback is '200000000000d'"),
        ("9223372036854775807s", "j.yml:3: lookback is '9223372036854775807s'"),
        ("3651d", "j.yml:3: lookback is '3651d'"),
        ("0d", "j.yml:3: lookback is '0d'"),
        ("-5d", "j.yml:3: lookback is '-5d'"),
        ("+5d", "j.yml:3: lookback is '+5d'"),
        ("٣d", "j.yml:3: lookback is '٣d'"),
        ("1.5d", "j.yml:3: lookback is '1.5d'"),
    ])
    func everyDurationIsPositiveAndBounded(value: String, message: String) throws {
        let error = try #require(refusal(job(lookback: value)))
        #expect(error.exitStatus == 2)
        #expect(error.description.hasPrefix(message), "\(error)")
        #expect(error.description.contains("at most 3650d"))
    }

    @Test(arguments: [
        "    retry_window: 9223372036854775807s", "    retry_window: 0s", "    deadline: 2d", "    deadline: 0s",
    ])
    func providerDurationsAreBounded(extra: String) throws {
        let error = try #require(refusal(job(extra)))
        #expect(
            error.description.hasPrefix(
                "j.yml:12: \(extra.split(separator: ":")[0].trimmingCharacters(in: .whitespaces)) is"
            )
        )
    }

    @Test func theLongestDurationAndTheDeadlineAndRowCapLoad() throws {
        let config = try JobFile.parse(
            text: job(
                "    retry_window: 3650d\n    deadline: 30m\n    max_rows: 1000",
                top: "retention: 3650d",
                lookback: "3650d"
            ),
            file: "j.yml",
            environment: environment
        )
        #expect(config.lookback == 3650 * 86_400)
        #expect(config.providers.first?.deadline == 1800)
        #expect(config.providers.first?.maxRows == 1000)
        let defaults = try JobFile.parse(text: job(), file: "j.yml", environment: environment)
        #expect(defaults.providers.first?.deadline == 7200)
        #expect(defaults.providers.first?.maxRows == 500_000)
    }

    @Test(arguments: ["0.0001", "0", "10001", "10000.5", "0x10", "1e2", "nan", "inf", "-1", "1.2.3"])
    func rateLimitIsADecimalFromATenthToTenThousand(value: String) throws {
        let error = try #require(refusal(job("    rate_limit: \(value)")))
        #expect(error.description.hasPrefix("j.yml:12: rate_limit is"), "\(error)")
    }

    @Test(arguments: [0.1, 1000, 10_000])
    func rateLimitBoundsLoad(value: Double) throws {
        let config = try JobFile.parse(text: job("    rate_limit: \(value)"), file: "j.yml", environment: environment)
        #expect(config.providers.first?.rateLimit == value)
    }

    @Test(arguments: [50, 10_000_001])
    func maxRowsIsBounded(value: Int) throws {
        let error = try #require(refusal(job("    max_rows: \(value)")))
        #expect(error.description.hasPrefix("j.yml:12: max_rows is '\(value)'"))
    }

    @Test func aHugeNameIsRefusedWithoutBeingEchoed() throws {
        let fifty = try #require(refusal(job(name: String(repeating: "a", count: 50 << 20))))
        #expect(fifty.description.hasPrefix("j.yml: cannot read the job file: the file is larger than 1 MiB"))
        let half = try #require(refusal(job(name: String(repeating: "a", count: 500_000))))
        #expect(half.description.hasPrefix("j.yml:1: name is 'aaaa"))
        #expect(half.description.count < 400, "the message is short: \(half.description.count) characters")
        #expect(half.description.contains("(500000 characters)"))
    }

    @Test(arguments: ["../etc", "a/b", "night ly", "-x", "ünï", String(repeating: "n", count: 65), "a\\u0000b"])
    func namesAreShortAndSafeForFileNamesAndMetrics(name: String) throws {
        let error = try #require(refusal(job(name: "\"\(name)\"")))
        #expect(error.description.hasPrefix("j.yml:1: name is"), "\(error)")
    }

    @Test func pathsAndUrlsAreBounded() throws {
        let long = String(repeating: "d/", count: 600)
        let store = try #require(refusal(job().replacingOccurrences(of: "var/reconcile.sqlite", with: long)))
        #expect(store.description.hasPrefix("j.yml:2: store is"))
        #expect(store.description.contains("at most 1024 characters"))
    }

    @Test func aLookbackBeyondTheDefaultRetentionIsRefusedNamingBoth() throws {
        let error = try #require(refusal(job(lookback: "400d")))
        #expect(error.description.hasPrefix("j.yml:3: lookback is '400d'"), "\(error)")
        #expect(error.description.contains("retention"))
        let kept = try JobFile.parse(
            text: job(top: "retention: 400d", lookback: "400d"),
            file: "j.yml",
            environment: environment
        )
        #expect(kept.retention == 400 * 86_400)
    }

    @Test(arguments: [
        ("store: &s var/x.sqlite", "anchor"),
        ("metrics: *missing", "alias"),
        ("metrics: !!str var/m.prom", "tag"),
        ("metrics: !custom var/m.prom", "tag"),
        ("repair: !!bool true", "tag"),
    ])
    func anchorsAliasesAndTagsAreRefused(top: String, word: String) throws {
        let error = try #require(refusal(job(top: top)))
        #expect(error.description.hasPrefix("j.yml:5: not a valid YAML job file"), "\(error)")
        #expect(error.description.contains(word))
    }

    @Test func anAliasBombIsRefusedBeforeItExpands() throws {
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            bomb +=
                "l\(level): &l\(level) ["
                + Array(repeating: level == 1 ? "*a" : "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let started = ContinuousClock.now
        let error = try #require(refusal(bomb + job()))
        #expect(error.description.contains("j.yml:1: not a valid YAML job file: an anchor"), "\(error)")
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func aPercentTagDirectiveIsRefused() throws {
        let error = try #require(refusal("%TAG ! tag:example.com,2026:\n---\n" + job()))
        #expect(error.description.contains("%TAG"), "\(error)")
    }

    @Test(arguments: [("name: again", 5), ("    kind: crezco", 12)])
    func aRepeatedKeyIsRefused(line: String, number: Int) throws {
        let text = number == 5 ? job(top: line) : job(line)
        let error = try #require(refusal(text))
        #expect(error.description.contains("twice"), "\(error)")
        #expect(error.description.hasPrefix("j.yml:"))
    }

    @Test func aBaseURLWithUserinfoIsRefusedWithoutThePassword() throws {
        for url in ["https://user:hunter2secret@api.credicorp.example", "http://user:hunter2secret@example.com/x"] {
            let error = try #require(
                refusal(job().replacingOccurrences(of: "https://api.credicorp.example", with: url))
            )
            #expect(error.description.hasPrefix("j.yml:9: base_url is"), "\(error)")
            #expect(!error.description.contains("hunter2secret"))
            #expect(!error.description.contains("user:"))
        }
    }

    @Test func aSecretPastedInsteadOfAVariableNameIsNotEchoed() throws {
        let text = job().replacingOccurrences(
            of: "api_key_env: CREDICORP_API_KEY",
            with: "api_key_env: sk-live/abc+def"
        )
        let error = try #require(refusal(text))
        #expect(error.description.hasPrefix("j.yml:10: api_key_env is"))
        #expect(!error.description.contains("sk-live/abc+def"))
    }

    @Test func oddFilesAreRefusedWithExitTwo() async throws {
        try await withTemporaryDirectory { folder in
            func load(_ path: String) -> String {
                do {
                    _ = try JobFile.load(path: path, environment: environment)
                    return "loaded"
                } catch let error as JobFileError {
                    return error.exitStatus == 2 ? error.description : "exit \(error.exitStatus)"
                } catch {
                    return "\(error)"
                }
            }
            #expect(load(folder.path).contains("is a directory"))
            #expect(load(folder.appendingPathComponent("none.yml").path).contains("no file"))

            let big = folder.appendingPathComponent("big.yml")
            try Data((job() + "\n" + String(repeating: "# padding\n", count: 110_000)).utf8).write(to: big)
            #expect(load(big.path).contains("larger than 1 MiB"))

            let latin = folder.appendingPathComponent("latin.yml")
            var bytes = Data(job().utf8)
            bytes.append(contentsOf: [0x0A, 0x23, 0x20, 0xFF, 0xFE, 0x0A])  // "\n# \xFF\xFE\n": line 13
            try bytes.write(to: latin)
            #expect(load(latin.path).hasPrefix("\(latin.path):13: not a valid YAML job file: bytes that are not UTF-8"))

            let good = folder.appendingPathComponent("good.yml")
            try Data(job().utf8).write(to: good)
            #expect(load(good.path) == "loaded")
        }
    }
}
