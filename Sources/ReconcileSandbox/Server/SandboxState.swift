import Foundation

/// The running sandbox's shared mutable state: the world, active faults and the request log.
actor SandboxState {
    /// What a request gets before normal answering.
    enum Admission: Sendable {
        /// Answer this at once (a fault, or no such provider).
        case answer(SandboxAPIResponse)
        /// Wait, then answer normally.
        case delay(milliseconds: Int, SandboxAPIRequest, provider: String)
        /// Answer normally.
        case proceed(SandboxAPIRequest, provider: String)
    }

    /// A one-shot world change waiting for its `remaining`-th matching request to be answered.
    struct WorldTrigger: Sendable {
        var remaining: Int
        var provider: String
        var pathPrefix: String
        var change: @Sendable (inout SandboxWorld) -> Void
    }

    /// A request's admission and the world changes due once it has been answered.
    struct Admitted: Sendable {
        var admission: Admission
        var changesAfterAnswer: [@Sendable (inout SandboxWorld) -> Void]
    }

    private(set) var world: SandboxWorld
    private var faults: [SandboxFault] = []
    private var triggers: [WorldTrigger] = []
    private(set) var log: [SandboxRequestRecord] = []
    /// Requests being answered now, and the most there have been at once.
    private var answering = 0
    private(set) var mostAtOnce = 0

    init(world: SandboxWorld) {
        self.world = world
    }

    func updateWorld(_ change: @Sendable (inout SandboxWorld) -> Void) {
        change(&world)
    }

    func apply(_ changes: [@Sendable (inout SandboxWorld) -> Void]) {
        for change in changes { change(&world) }
    }

    func setFaults(_ faults: [SandboxFault]) {
        self.faults = faults
    }

    func addTrigger(_ trigger: WorldTrigger) {
        triggers.append(trigger)
    }

    func clearLog() {
        log.removeAll()
        mostAtOnce = answering
    }

    /// A request is being answered, from its arrival until its answer is made.
    func began() {
        answering += 1
        mostAtOnce = max(mostAtOnce, answering)
    }

    func ended() {
        answering -= 1
    }

    /// Records the request, decides whether a fault takes it and collects the world changes due after it.
    func admit(
        method: String,
        fullPath: String,
        rawQuery: String?,
        authorization: String?,
        crezcoKey: String?
    ) -> Admitted {
        let admission = decide(
            method: method,
            fullPath: fullPath,
            rawQuery: rawQuery,
            authorization: authorization,
            crezcoKey: crezcoKey
        )
        guard let record = log.last, let provider = record.provider else {
            return Admitted(admission: admission, changesAfterAnswer: [])
        }
        var due: [@Sendable (inout SandboxWorld) -> Void] = []
        for index in triggers.indices
        where triggers[index].provider == provider && record.path.hasPrefix(triggers[index].pathPrefix) {
            triggers[index].remaining -= 1
            if triggers[index].remaining <= 0 { due.append(triggers[index].change) }
        }
        triggers.removeAll { $0.remaining <= 0 }
        return Admitted(admission: admission, changesAfterAnswer: due)
    }

    private func decide(
        method: String,
        fullPath: String,
        rawQuery: String?,
        authorization: String?,
        crezcoKey: String?
    ) -> Admission {
        // `/accounts/NAME/PROVIDER/…`: one of many accounts, all answered from the one world.
        var account: String?
        var below = Substring(fullPath)
        let accountParts = fullPath.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: true)
        if accountParts.count == 3, accountParts[0] == "accounts" {
            account = String(accountParts[1])
            below = accountParts[2]
        }
        let segments = below.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true)
        let provider = segments.first.map(String.init)
        let known = provider.map(Self.providers.contains) ?? false
        let relative = known ? "/" + (segments.count > 1 ? String(segments[1]) : "") : fullPath
        log.append(
            SandboxRequestRecord(
                method: method,
                provider: known ? provider : nil,
                path: relative,
                query: rawQuery,
                account: account
            )
        )
        guard known, let provider else {
            return .answer(.error(404, type: "not_found", message: "no provider at \(fullPath)"))
        }
        let request = SandboxAPIRequest(
            method: method,
            path: relative,
            query: SandboxAPIRequest.parseQuery(rawQuery),
            authorization: authorization,
            crezcoKey: crezcoKey
        )
        guard let index = faults.firstIndex(where: { $0.matches(provider: provider, path: relative) }) else {
            return .proceed(request, provider: provider)
        }
        let fault = faults[index]
        if let times = fault.times { faults[index].times = times - 1 }
        if case .slow(let milliseconds) = fault.kind {
            return .delay(milliseconds: milliseconds, request, provider: provider)
        }
        return .answer(fault.response ?? .error(500, .serverError, provider: provider, message: "unhandled fault"))
    }

    /// The provider's normal answer, from the world as it is now.
    func answer(_ request: SandboxAPIRequest, provider: String) -> SandboxAPIResponse {
        switch provider {
        case CredicorpAPI.providerName: CredicorpAPI.respond(to: request, world: world.credicorp, now: world.now)
        case CrezcoAPI.providerName: CrezcoAPI.respond(to: request, world: world.crezco, now: world.now)
        case CredifyAPI.providerName: CredifyAPI.respond(to: request, world: world.credify)
        default: .error(404, type: "not_found", message: "no provider '\(provider)'")
        }
    }

    /// Provider path segments the server answers.
    static let providers: Set<String> = [CredicorpAPI.providerName, CrezcoAPI.providerName, CredifyAPI.providerName]
}
