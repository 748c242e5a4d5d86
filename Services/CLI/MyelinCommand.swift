import ArgumentParser
import AsyncHTTPClient
import ClientAPIService
import Crypto
import FederationSenderService
import Foundation
import Logging
import MatrixCore
import ServiceKit
import Storage

@main
struct MyelinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "myelin",
        abstract: "Myelin, a Matrix homeserver.",
        subcommands: [Serve.self, Migrate.self, RegisterUser.self, GenerateKeys.self])
}

func makeLogger(_ config: ServerConfig, _ label: String) -> Logger {
    var l = Logger(label: label)
    l.logLevel = config.logLevel
    return l
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the services (configured from MYELIN_* environment variables).")

    @Flag(help: "Run every service in this one process.")
    var all = false

    @Flag(help: ArgumentHelp(
        "With --all: leave outbound federation out of this process.",
        discussion: "Run `myelin-federation-sender` beside it instead, against the same database and Redis, so the sender can be scaled, restarted or killed on its own."))
    var withoutFederationSender = false

    func run() async throws {
        ProcessDefaults.apply()
        let config = ServerConfig()
        let logger = makeLogger(config, "myelin")
        guard all else {
            throw ValidationError("name the services to run; --all runs every one in this process")
        }
        let embedSender = !withoutFederationSender
        // The other services share the client API's database pool and federation client.
        try await ClientAPIServer.run(config: config, logger: logger, alongside: { api in
            guard embedSender else { return [] }
            let sender = try FederationSender(db: api.db, federation: api.federation, redisURL: config.redisURL,
                                              config: FederationSenderServer.senderConfig(config),
                                              logger: makeLogger(config, "myelin.federation-sender"))
            return [ClosureService { await sender.run() }]
        })
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations and exit.")

    func run() async throws {
        let config = ServerConfig()
        let logger = makeLogger(config, "myelin.migrate")
        // A one-off run: no connections kept open beyond what it uses.
        let db = try Database(url: config.databaseURL, minConnections: 0, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { g in
            g.addTask { await db.run() }
            let applied = try await Migrator(db: db).migrate()
            print(applied.isEmpty ? "schema up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
            g.cancelAll()
        }
    }
}

struct GenerateKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate-keys", abstract: "Write a new ed25519 signing key file.")

    @Option(help: "Where to write the key.")
    var output: String

    @Flag(help: "Replace an existing file.")
    var force = false

    func run() async throws {
        if FileManager.default.fileExists(atPath: output), !force {
            print("\(output) exists; keeping it (use --force to replace)")
            return
        }
        let key = try SigningKey.generate()
        _ = FileManager.default.createFile(atPath: output, contents: Data((key.keyFileLine + "\n").utf8),
                                       attributes: [.posixPermissions: 0o600])
        print("wrote \(key.keyID) to \(output)")
    }
}

/// Like Synapse's register_new_matrix_user: asks the server for a nonce and registers with an
/// HMAC of the shared secret.
struct RegisterUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "register-user", abstract: "Register a user with the shared secret.")

    @Option(help: "Base URL of the server.") var serverURL = "http://127.0.0.1:8008"
    @Option(help: "Shared secret (default: MYELIN_REGISTRATION_SHARED_SECRET).") var sharedSecret: String?
    @Option(help: "Localpart of the new user.") var user: String
    @Option(help: "Password of the new user.") var password: String
    @Flag(help: "Make the user a server admin.") var admin = false

    func run() async throws {
        guard let secret = sharedSecret ?? ProcessInfo.processInfo.environment["MYELIN_REGISTRATION_SHARED_SECRET"] else {
            throw ValidationError("no shared secret given")
        }
        // AsyncHTTPClient, not URLSession: FoundationNetworking would load libcurl and its
        // libraries into every server process this binary runs.
        let endpoint = serverURL + "/_synapse/admin/v1/register"
        let client = HTTPClient.shared
        let (nonceStatus, nonceBody) = try await Self.fetch(client, HTTPClientRequest(url: endpoint))
        guard nonceStatus == 200, let nonce = try? JSON.parse(nonceBody)["nonce"]?.stringValue else {
            throw ValidationError("server gave no nonce: \(String(decoding: nonceBody, as: UTF8.self))")
        }
        var message = Data()
        for (i, part) in [nonce, user, password, admin ? "admin" : "notadmin"].enumerated() {
            if i > 0 { message.append(0) }
            message.append(contentsOf: Array(part.utf8))
        }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        let body: JSON = ["nonce": .string(nonce), "username": .string(user), "password": .string(password),
                          "admin": .bool(admin), "mac": .string(Hex.encode(mac))]
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(body.canonicalBytes)
        let (status, data) = try await Self.fetch(client, request)
        guard status == 200, let uid = (try? JSON.parse(data))?["user_id"]?.stringValue else {
            throw ValidationError("registration failed: \(String(decoding: data, as: UTF8.self))")
        }
        print("registered \(uid)")
    }

    private static func fetch(_ client: HTTPClient, _ request: HTTPClientRequest) async throws -> (UInt, [UInt8]) {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, Array(body.readableBytesView))
    }
}
