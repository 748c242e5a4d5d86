// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "myelin",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "myelin", targets: ["MyelinCLI"]),
        .executable(name: "myelin-client-api", targets: ["ClientAPIMain"]),
        .executable(name: "myelin-federation-sender", targets: ["FederationSenderMain"]),
    ],
    dependencies: [
        // traits: [] drops swift-configuration and stops rebuilds when switching build/test.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CHiredis", path: "Shared/CHiredis", pkgConfig: "hiredis",
                       providers: [.apt(["libhiredis-dev"])]),
        .target(name: "MatrixCore", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
        ], path: "Shared/MatrixCore"),
        .target(name: "Bus", dependencies: [
            "CHiredis", "MatrixCore",
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Shared/Bus"),
        .target(name: "Storage", dependencies: [
            "MatrixCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Shared/Storage", resources: [.copy("Migrations")]),
        // Outbound server-server HTTP: discovery, X-Matrix signing, remote server keys.
        .target(name: "FederationClient", dependencies: [
            "MatrixCore", "Storage",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Shared/FederationClient"),
        .target(name: "RoomServer", dependencies: [
            "MatrixCore", "Storage", "Bus",
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Shared/RoomServer"),
        .target(name: "ServiceKit", dependencies: [
            "MatrixCore", "Storage", "Bus",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], path: "Shared/ServiceKit"),
        .target(name: "ClientAPIService", dependencies: [
            "MatrixCore", "Storage", "Bus", "RoomServer", "ServiceKit", "FederationClient",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Services/ClientAPI/ClientAPIService"),
        .executableTarget(name: "ClientAPIMain", dependencies: [
            "ClientAPIService", "ServiceKit",
        ], path: "Services/ClientAPI/Main"),
        .target(name: "FederationSenderService", dependencies: [
            "MatrixCore", "Storage", "Bus", "FederationClient", "ServiceKit",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ], path: "Services/FederationSender/FederationSenderService"),
        .executableTarget(name: "FederationSenderMain", dependencies: [
            "FederationSenderService", "ServiceKit",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Services/FederationSender/Main"),
        .executableTarget(name: "MyelinCLI", dependencies: [
            "ClientAPIService", "FederationSenderService", "ServiceKit", "Storage", "MatrixCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], path: "Services/CLI"),
        .testTarget(name: "MatrixCoreTests", dependencies: ["MatrixCore"], path: "Tests/MatrixCoreTests"),
        .testTarget(name: "FederationClientTests", dependencies: [
            "FederationClient", "MatrixCore", "Storage",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/FederationClientTests"),
        // Helpers more than one test target uses.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "BusTests", dependencies: ["Bus", "TestSupport"], path: "Tests/BusTests"),
        .testTarget(name: "IntegrationTests", dependencies: [
            "ClientAPIService", "ServiceKit", "Storage", "RoomServer", "Bus", "MatrixCore", "FederationClient", "TestSupport",
            "FederationSenderService",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/IntegrationTests"),
    ]
)
