import ArgumentParser
extension Reconcile {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the whole job against the built-in sandbox.")
        func run() async throws {}
    }
}
