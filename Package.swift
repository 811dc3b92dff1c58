// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Svar",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "svar", targets: ["svar"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Pure: questionnaires, text packs, value sets and scoring. No I/O.
        .target(name: "SvarInstruments"),
        // Edge: finds and reads the bundled (or overridden) instruments/ and web/ folders.
        .target(
            name: "SvarAssets",
            dependencies: ["SvarInstruments"],
            resources: [.copy("instruments"), .copy("web")]
        ),
        // Edge: the Hummingbird application.
        .target(
            name: "SvarWeb",
            dependencies: [
                "SvarInstruments",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "svar",
            dependencies: [
                "SvarInstruments", "SvarAssets", "SvarWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "SvarInstrumentsTests", dependencies: ["SvarInstruments", "SvarAssets"]),
        .testTarget(
            name: "SvarWebTests",
            dependencies: [
                "SvarWeb", "SvarAssets",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
