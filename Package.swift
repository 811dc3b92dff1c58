// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Svar",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "svar", targets: ["svar"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Pure: questionnaires, text packs, value sets and scoring. No I/O.
        .target(name: "SvarInstruments"),
        // Pure: identity numbers, pathway rules, the invitation state machine, schedule protocols, link tokens.
        .target(name: "SvarDomain", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Pure: the FHIR R4 mapping of a forwarded response and the registry target protocol.
        .target(
            name: "SvarRegistry",
            dependencies: ["SvarDomain", "SvarInstruments", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The storage contract: the Store protocol, its records, the identity vault and where a database is. No database library.
        .target(
            name: "SvarStore",
            dependencies: [
                "SvarDomain", "SvarInstruments", "SvarRegistry",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Edge: the storage contract on SQLite (GRDB): Svar's own database and the local registry store.
        .target(
            name: "SvarSQLite",
            dependencies: [
                "SvarStore", "SvarDomain", "SvarInstruments", "SvarRegistry",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Edge: the storage contract on PostgreSQL 15+ (PostgresNIO), for several `svar serve` instances on one database,
        // and the local registry store in a schema of its own.
        .target(
            name: "SvarPostgres",
            dependencies: [
                "SvarStore", "SvarDomain", "SvarInstruments", "SvarRegistry",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Edge: finds and reads the bundled (or overridden) instruments/ and web/ folders.
        .target(
            name: "SvarAssets",
            dependencies: ["SvarInstruments", "SvarDomain"],
            resources: [.copy("instruments"), .copy("web")]
        ),
        // libcurl (Debian libcurl4-openssl-dev) for SMTP: typed wrappers over its variadic setters.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Edge: notifiers (SMTP through libcurl, SMS gateway over HTTPS, file mailbox), message templates and the
        // FHIR registry client.
        .target(
            name: "SvarDelivery",
            dependencies: [
                "CCurl", "SvarDomain", "SvarInstruments", "SvarRegistry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Use cases over the store: enrolment, pathway events, the scheduler pass, links, configuration.
        .target(
            name: "SvarServices",
            dependencies: [
                "SvarDomain", "SvarStore", "SvarInstruments", "SvarDelivery", "SvarRegistry",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Edge: the Hummingbird application.
        .target(
            name: "SvarWeb",
            dependencies: [
                "SvarInstruments", "SvarDomain", "SvarStore", "SvarServices",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "svar",
            dependencies: [
                "SvarInstruments", "SvarAssets", "SvarWeb", "SvarDomain", "SvarStore", "SvarSQLite", "SvarPostgres", "SvarServices",
                "SvarRegistry", "SvarDelivery",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // bench/smtp's client: the SMTP notifier against a local server, reused connection versus one per message.
        .executableTarget(name: "svar-bench-smtp", dependencies: ["SvarDelivery"], path: "bench/smtp-client"),
        // Test support: the storage engines a test runs on (SQLite; PostgreSQL when SVAR_TEST_POSTGRES_URL is set).
        .target(name: "SvarTestSupport", dependencies: ["SvarStore", "SvarSQLite", "SvarPostgres"], path: "Tests/SvarTestSupport"),
        // The vectors are read from disk by path (also by e2e), not bundled.
        .testTarget(name: "SvarInstrumentsTests", dependencies: ["SvarInstruments", "SvarAssets"], exclude: ["Vectors"]),
        .testTarget(name: "SvarDomainTests", dependencies: ["SvarDomain"]),
        .testTarget(
            name: "SvarDeliveryTests",
            dependencies: [
                "SvarDelivery", "SvarAssets", "SvarServices", "SvarStore", "SvarSQLite", "SvarDomain", "SvarInstruments", "SvarRegistry",
                "SvarTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "SvarForwardingTests",
            dependencies: [
                "SvarRegistry", "SvarDelivery", "SvarAssets", "SvarServices", "SvarStore", "SvarSQLite", "SvarDomain", "SvarInstruments",
                "SvarTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "SvarStoreTests",
            dependencies: [
                "SvarStore", "SvarSQLite", "SvarPostgres", "SvarDomain", "SvarAssets", "SvarServices", "SvarRegistry",
                "SvarInstruments", "SvarTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]),
        .testTarget(
            name: "SvarWebTests",
            dependencies: [
                "SvarWeb", "SvarAssets", "SvarStore", "SvarSQLite", "SvarDomain", "SvarServices", "SvarDelivery",
                "SvarTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
