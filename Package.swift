// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "webhook-reconcile",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "reconcile", targets: ["reconcile"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // zlib, for gzipped captures (Capture/GzipReader.swift).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // One process-wide SQLite setting, made before the first connection (Store/SQLiteProcess.swift).
        .systemLibrary(
            name: "CSQLiteSettings",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "ReconcileCore",
            dependencies: [
                "CCurl",
                "CZlib",
                "CSQLiteSettings",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the statements ingest runs per line (Store/DirectStatement.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                // PostgreSQL stores and the claims of many hosts (docs/postgres.md).
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .target(
            name: "ReconcileSandbox",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "reconcile",
            dependencies: [
                "ReconcileCore",
                "ReconcileSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Serves a generated provider world on 127.0.0.1 for `make bench-run` (benchmarks/run.sh).
        .executableTarget(
            name: "reconcile-world",
            dependencies: [
                "ReconcileSandbox",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/World"
        ),
        .testTarget(
            name: "ReconcileCoreTests",
            dependencies: ["ReconcileCore", "ReconcileSandbox", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .testTarget(
            name: "ReconcileSandboxTests",
            dependencies: ["ReconcileSandbox"]
        ),
        .testTarget(
            name: "ReconcileCLITests",
            dependencies: ["ReconcileCore", "ReconcileSandbox", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, only when asked (`make fuzz`): RECONCILE_FUZZ=1 with `-sanitize=fuzzer`; never in `swift test`.
if Context.environment["RECONCILE_FUZZ"] == "1" {
    for name in ["FuzzJSON", "FuzzCapture", "FuzzJobFile"] {
        package.targets.append(
            .executableTarget(
                name: name,
                dependencies: [
                    "ReconcileCore", .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "Fuzz/\(name)"
            )
        )
    }
}
