import Foundation
import Logging

/// The Postgres and Redis the integration tests run against. scripts/test.sh and
/// scripts/with-test-services.sh start throw-away servers and export both URLs; without
/// them every suite fails (it never passes silently).
enum TestEnvironment {
    static let databaseVariable = "MYELIN_TEST_DATABASE_URL"
    static let redisVariable = "MYELIN_TEST_REDIS_URL"

    static func databaseURL() throws -> String { try required(databaseVariable, example: "postgres://myelin:myelin@127.0.0.1:5432/myelin") }
    static func redisURL() throws -> String { try required(redisVariable, example: "redis://127.0.0.1:6379") }

    private static func required(_ name: String, example: String) throws -> String {
        guard let v = ProcessInfo.processInfo.environment[name], !v.isEmpty else {
            throw MissingTestService(variable: name, example: example)
        }
        return v
    }

    /// Quiet unless something goes wrong.
    static func logger(_ label: String) -> Logger {
        var l = Logger(label: "myelin.it.\(label)")
        l.logLevel = .error
        return l
    }
}

struct MissingTestService: Error, CustomStringConvertible {
    let variable: String
    let example: String
    var description: String {
        "\(variable) is not set. The integration tests need a real Postgres and Redis: run them with "
            + "`scripts/with-test-services.sh swift test --filter IntegrationTests` (or scripts/test.sh), "
            + "or export \(variable) yourself (for example \(example))."
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
