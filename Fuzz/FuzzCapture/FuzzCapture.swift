import Crypto
import Dispatch
import Foundation
import Logging

@testable import ReconcileCore

/// Fixed test keys and configurations: every fuzzed line is verified by all three providers' adapters.
enum FuzzKeys {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let crezcoKeyID = "key_fuzz"
    static let webhookURL = "https://hooks.example.com/credify"
    static let crezco = (try? P256.Signing.PrivateKey(rawRepresentation: seed("crezco"))) ?? P256.Signing.PrivateKey()
    static let credify =
        (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed("credify"))) ?? Curve25519.Signing.PrivateKey()

    static func seed(_ name: String) -> Data { Data(SHA256.hash(data: Data("fuzz key \(name)".utf8))) }

    static func config(_ name: String, _ kind: ProviderKind) -> ProviderConfig {
        ProviderConfig(
            name: name,
            kind: kind,
            baseURL: "http://127.0.0.1:9",
            apiKey: Secret(variable: "KEY", value: "k"),
            signingSecrets: kind == .credicorp ? [Secret(variable: "S", value: secret)] : [],
            endpointID: nil,
            publicKey: kind == .credify
                ? Secret(variable: "P", value: credify.publicKey.rawRepresentation.base64EncodedString()) : nil,
            webhookURL: kind == .credify ? webhookURL : nil,
            retryWindow: 3600,
            rateLimit: 1000
        )
    }
}

/// What the fuzzer shares between inputs: the adapters and a key ring whose store holds the Crezco key.
final class FuzzWorld: @unchecked Sendable {
    static let shared = FuzzWorld()

    let credicorp = CredicorpAdapter(config: FuzzKeys.config("credicorp", .credicorp))
    let crezco = CrezcoAdapter(config: FuzzKeys.config("crezco", .crezco))
    let credify = CredifyAdapter(config: FuzzKeys.config("credify", .credify))
    let ring: PublicKeyRing

    init() {
        let path = NSTemporaryDirectory() + "reconcile-fuzz-\(getpid()).sqlite"
        guard let store = try? Store(path: path),
            (try? store.saveProviderKey(
                provider: "crezco",
                keyID: FuzzKeys.crezcoKeyID,
                algorithm: "ES256",
                publicKey: FuzzKeys.crezco.publicKey.pemRepresentation,
                at: Date(timeIntervalSince1970: 0)
            )) != nil
        else { fatalError("fuzz store at \(path) cannot be opened") }
        ring = PublicKeyRing(store: store, logger: Logger(label: "fuzz"), now: Date(timeIntervalSince1970: 0))
    }

    /// Runs every verifier on `delivery`, waiting for the async adapters on this thread.
    func verifyAll(_ delivery: CapturedDelivery) {
        let done = DispatchSemaphore(value: 0)
        let crezcoKnown = delivery.header("crezco-public-key-id") == FuzzKeys.crezcoKeyID
        let trace = ProcessInfo.processInfo.environment["RECONCILE_FUZZ_TRACE"] != nil
        Task {
            var verdicts = [
                try? await self.credicorp.verify(delivery, keys: self.ring),
                try? await self.credify.verify(delivery, keys: self.ring),
            ]
            // Any other key id would be fetched from Crezco (the network): only the kept one is used.
            if crezcoKnown { verdicts.append(try? await self.crezco.verify(delivery, keys: self.ring)) }
            if trace { print(delivery.provider, verdicts.map { String(describing: $0).prefix(90) }) }
            done.signal()
        }
        done.wait()
        if let signature = delivery.header("crezco-signature") {
            _ = CrezcoECDSA.verify(body: delivery.body, signature: signature, key: FuzzKeys.crezco.publicKey)
        }
        if let header = delivery.header("webhook-signature"),
            let key = StandardWebhooksV1.key(fromSecret: FuzzKeys.secret)
        {
            _ = StandardWebhooksV1.verify(
                id: delivery.header("webhook-id") ?? "",
                timestamp: delivery.header("webhook-timestamp") ?? "",
                body: delivery.body,
                header: header,
                keys: [key]
            )
        }
    }
}

/// libFuzzer entry: one capture line through `CapturedDelivery.parse` and every signature verifier.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let line = Data(bytes: start, count: count)
    _ = CapturedDelivery.salvageProvider(line)
    guard let delivery = try? CapturedDelivery.parse(line: line) else { return 0 }
    FuzzWorld.shared.verifyAll(delivery)
    return 0
}

/// libFuzzer set-up: with `RECONCILE_FUZZ_WRITE_SEEDS=DIR`, writes validly signed seed lines there and exits.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
)
    -> CInt
{
    guard let folder = ProcessInfo.processInfo.environment["RECONCILE_FUZZ_WRITE_SEEDS"] else { return 0 }
    for (name, line) in FuzzSeeds.lines() {
        try? Data(line.utf8).write(to: URL(fileURLWithPath: folder).appendingPathComponent(name))
    }
    exit(0)
}
