import Testing

@testable import ReconcileCore

/// The order in which a host of a shared run (`run --shard I/N`) tries the job's entries.
@Suite struct ShardTests {
    static let providers = (0..<7).map { "p\($0)" }

    @Test func eachHostTriesItsOwnShardFirstThenTheNextAndEveryEntryOnce() throws {
        let orders = try (1...3).map { try Shard(parsing: "\($0)/3").ordered(Self.providers) }
        // Entry k is shard k mod 3 + 1's; the other lines are shard 1's, first.
        #expect(orders[0] == ["*", "p0", "p3", "p6", "p1", "p4", "p2", "p5"])
        #expect(orders[1] == ["p1", "p4", "p2", "p5", "*", "p0", "p3", "p6"])
        #expect(orders[2] == ["p2", "p5", "*", "p0", "p3", "p6", "p1", "p4"])
        for order in orders {
            #expect(order.sorted() == (["*"] + Self.providers).sorted(), "every entry, once")
        }
        // Hosts started together reach for different entries first.
        #expect(Set(orders.map(\.first)).count == 3)
        #expect(try Shard(parsing: "1/1").ordered(Self.providers) == ["*"] + Self.providers)
        #expect(try Shard(parsing: "5/8").ordered(["a", "b"]) == ["*", "a", "b"], "more shards than entries")
    }

    @Test(arguments: ["0/3", "4/3", "3", "a/b", "1/0", "-1/3", "1/3/5", "", "1/10001"])
    func aShardThatIsNotIOfNIsRefusedNamingIt(text: String) {
        let error = #expect(throws: UsageFailure.self) { try Shard(parsing: text) }
        #expect(error?.message.contains("--shard \(text)") == true)
    }
}
