import TestSupport
import FederationClient
import Foundation
import MatrixCore
import Storage
import Testing

/// Two servers, each on a database of its own, talking over TLS: one's users look up the
/// other's, and signed requests are checked for real.
@Suite(.serialized) struct FederationTests {
    /// Runs `body` with two federated servers A and B.
    func withTwoServers(_ body: @escaping @Sendable (FederatedServer, FederatedServer) async throws -> Void) async throws {
        try await withFreshDatabase { dbA in
            try await withFreshDatabase { dbB in
                try await FederatedServer.run(db: dbA.db) { a in
                    try await FederatedServer.run(db: dbB.db) { b in try await body(a, b) }
                }
            }
        }
    }

    @Test func profilesAndAliasesOfAnotherServer() async throws {
        try await withTwoServers { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob", displayname: "Bob of B")
            let profile = try await a.ok(.get, "/_matrix/client/v3/profile/\(HTTPPath.escape(bob.userID))", token: alice.token)
            #expect(profile["displayname"]?.stringValue == "Bob of B")
            let name = try await a.ok(.get, "/_matrix/client/v3/profile/\(HTTPPath.escape(bob.userID))/displayname")
            #expect(name == ["displayname": "Bob of B"])
            let missing = try await a.request(.get, "/_matrix/client/v3/profile/\(HTTPPath.escape("@nobody:" + b.name))")
            #expect(missing.status == .notFound && missing.errcode == "M_NOT_FOUND", "\(missing)")

            let room = try await b.createRoom(bob)
            _ = try await b.ok(.put, "/_matrix/client/v3/directory/room/\(HTTPPath.escape("#fed:" + b.name))", token: bob.token,
                               json: ["room_id": .string(room)])
            let alias = try await a.ok(.get, "/_matrix/client/v3/directory/room/\(HTTPPath.escape("#fed:" + b.name))")
            #expect(alias["room_id"]?.stringValue == room)
            #expect(alias["servers"]?[0]?.stringValue == b.name)
            let noAlias = try await a.request(.get, "/_matrix/client/v3/directory/room/\(HTTPPath.escape("#nope:" + b.name))")
            #expect(noAlias.status == .notFound, "\(noAlias)")

            // B's published rooms, listed for A's user through A.
            let published = try await b.createRoom(bob, ["preset": "public_chat", "visibility": "public", "name": "Listed"])
            let listed = try await a.ok(.post, "/_matrix/client/v3/publicRooms?server=\(HTTPPath.escape(b.name))", token: alice.token,
                                        json: ["filter": ["generic_search_term": "Listed"]])
            #expect(listed["chunk"]?.arrayValue?.compactMap { $0["room_id"]?.stringValue } == [published], "\(listed)")
            let all = try await a.ok(.get, "/_matrix/client/v3/publicRooms?server=\(HTTPPath.escape(b.name))")
            #expect(all["chunk"]?.arrayValue?.contains { $0["room_id"]?.stringValue == published } == true, "\(all)")
        }
    }

    @Test func deviceKeysOfAnotherServerAndFailures() async throws {
        try await withTwoServers { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob")
            let device = try SigningKey.generate(version: "DEV_bob")
            let keys: JSON = ["user_id": .string(bob.userID), "device_id": "DEV_bob",
                              "algorithms": ["m.olm.v1.curve25519-aes-sha2"],
                              "keys": ["ed25519:DEV_bob": .string(device.verifyKey.base64)]]
            _ = try await b.ok(.post, "/_matrix/client/v3/keys/upload", token: bob.token,
                               json: ["device_keys": try keys.signed(by: device, as: bob.userID),
                                      "one_time_keys": ["signed_curve25519:AAAA": ["key": "otk"]]])
            // A server that is not there goes in failures, and does not hold up the answer.
            let dead = "localhost:\(try freeLocalPort())"
            let started = ContinuousClock.now
            let answer = try await a.ok(.post, "/_matrix/client/v3/keys/query", token: alice.token,
                                        json: ["device_keys": [bob.userID: [], "@x:\(dead)": []]])
            #expect(ContinuousClock.now - started < .seconds(8))
            #expect(answer["device_keys"]?[bob.userID]?["DEV_bob"]?["keys"]?["ed25519:DEV_bob"]?.stringValue == device.verifyKey.base64)
            #expect(answer["failures"]?[dead] != nil, "\(answer)")
            #expect(answer["failures"]?[b.name] == nil, "\(answer)")

            let claimed = try await a.ok(.post, "/_matrix/client/v3/keys/claim", token: alice.token,
                                         json: ["one_time_keys": [bob.userID: ["DEV_bob": "signed_curve25519"]]])
            #expect(claimed["one_time_keys"]?[bob.userID]?["DEV_bob"]?["signed_curve25519:AAAA"]?["key"]?.stringValue == "otk")

            // Another server sees the devices, without their names.
            let devices = try await b.signedRequest("GET", "/_matrix/federation/v1/user/devices/\(FederationPath.encode(bob.userID))",
                                                    origin: a.name, key: a.api.signingKey)
            #expect(devices.json["devices"]?[0]?["device_id"]?.stringValue == "DEV_bob")
            #expect((devices.json["stream_id"]?.intValue ?? 0) > 0)
        }
    }

    @Test func unsignedForgedAndMisaddressedRequestsAreRefused() async throws {
        try await withTwoServers { a, b in
            _ = try await b.makeUser("bob", displayname: "Bob")
            let uri = FederationPath.target("/_matrix/federation/v1/query/profile", query: [("user_id", "@bob:\(b.name)")])
            let good = try await b.signedRequest("GET", uri, origin: a.name, key: a.api.signingKey)
            #expect(good.status == .ok && good.json["displayname"]?.stringValue == "Bob", "\(good)")

            let unsigned = try await b.federationRequest("GET", uri)
            #expect(unsigned.status == .unauthorized && unsigned.errcode == "M_UNAUTHORIZED", "\(unsigned)")
            // Signed by a key that is not A's, under A's key ID.
            let impostor = try SigningKey(seed: try SigningKey.generate().seed, version: a.api.signingKey.version)
            let forged = try await b.signedRequest("GET", uri, origin: a.name, key: impostor)
            #expect(forged.status == .unauthorized && forged.errcode == "M_UNAUTHORIZED", "\(forged)")
            let wrongDestination = try await b.signedRequest("GET", uri, origin: a.name, key: a.api.signingKey, destination: "elsewhere.org")
            #expect(wrongDestination.status == .unauthorized && wrongDestination.errcode == "M_UNAUTHORIZED", "\(wrongDestination)")
            // A good signature over another request does not carry over.
            let other = SignedRequest(method: "GET", uri: uri + "&field=displayname", origin: a.name, destination: b.name, content: nil)
            let replayed = try await b.federationRequest("GET", uri, headers: [("Authorization", other.authorization(signedBy: a.api.signingKey).headerValue)])
            #expect(replayed.status == .unauthorized, "\(replayed)")
            let unknownKey = try await b.signedRequest("GET", uri, origin: a.name, key: try SigningKey.generate(version: "nope"))
            #expect(unknownKey.status == .unauthorized, "\(unknownKey)")
            let malformed = try await b.federationRequest("GET", uri, headers: [("Authorization", "X-Matrix origin=\"a")])
            #expect(malformed.status == .badRequest && malformed.errcode == "M_UNAUTHORIZED", "\(malformed)")
            let notJSON = try await b.federationRequest("POST", "/_matrix/federation/v1/user/keys/query",
                                                        headers: [("Authorization", "X-Matrix origin=a,key=b,sig=c")], body: Array("{nope".utf8))
            #expect(notJSON.status == .badRequest && notJSON.errcode == "M_NOT_JSON", "\(notJSON)")
            let unknownEndpoint = try await b.signedRequest("GET", "/_matrix/federation/v1/nothing", origin: a.name, key: a.api.signingKey)
            #expect(unknownEndpoint.status == .notFound && unknownEndpoint.errcode == "M_UNRECOGNIZED", "\(unknownEndpoint)")
        }
    }

    @Test func notaryServesKeysItFetched() async throws {
        try await withTwoServers { a, b in
            let got = try await b.federationRequest("GET", "/_matrix/key/v2/query/\(FederationPath.encode(a.name))")
            #expect(got.status == .ok, "\(got)")
            let response = try #require(got.json["server_keys"]?[0])
            let aKey = a.api.signingKey.verifyKey, bKey = b.api.signingKey.verifyKey
            #expect(response["verify_keys"]?[aKey.keyID]?["key"]?.stringValue == aKey.base64)
            #expect(response.hasValidSignature(of: a.name, with: aKey))
            #expect(response.hasValidSignature(of: b.name, with: bKey))

            let query: JSON = ["server_keys": .object([a.name: [:], b.name: [:], "localhost:\(try freeLocalPort())": [:]])]
            let batch = try await b.federationRequest("POST", "/_matrix/key/v2/query", body: query.canonicalBytes)
            let servers = (batch.json["server_keys"]?.arrayValue ?? []).compactMap { $0["server_name"]?.stringValue }
            #expect(Set(servers) == [a.name, b.name], "\(batch)")
            let bad = try await b.federationRequest("POST", "/_matrix/key/v2/query", body: Array(#"{"server_keys":5}"#.utf8))
            #expect(bad.status == .badRequest && bad.errcode == "M_BAD_JSON", "\(bad)")
        }
    }

    /// A cached key is used while valid (a wrong one then fails the request) and fetched
    /// again once it has expired.
    @Test func cachedKeysAreUsedUntilTheyExpire() async throws {
        try await withFreshDatabase { dbA in
            try await withFreshDatabase { dbB in
                try await FederatedServer.run(db: dbA.db) { a in
                    let wrong = try SigningKey.generate().verifyKey.base64
                    let keyID = a.api.signingKey.keyID
                    let store = ServerKeyStore(db: dbB.db)
                    let now = Int64(Date().timeIntervalSince1970 * 1000)
                    try await store.store(server: a.name, responseJSON: "{}", validUntilTS: now + 3_600_000, fetchedTS: now,
                                          keys: [StoredServerKey(serverName: a.name, keyID: keyID, verifyKey: wrong,
                                                                 validUntilTS: now + 3_600_000, expiredTS: nil)])
                    try await FederatedServer.run(db: dbB.db) { b in
                        let uri = "/_matrix/federation/v1/publicRooms"
                        let r = try await b.signedRequest("GET", uri, origin: a.name, key: a.api.signingKey)
                        #expect(r.status == .unauthorized, "a valid cached key is trusted, so the real signature fails: \(r)")
                    }
                    try await store.store(server: a.name, responseJSON: "{}", validUntilTS: now - 1, fetchedTS: now - 10,
                                          keys: [StoredServerKey(serverName: a.name, keyID: keyID, verifyKey: wrong,
                                                                 validUntilTS: now - 1, expiredTS: nil)])
                    try await FederatedServer.run(db: dbB.db) { b in
                        let r = try await b.signedRequest("GET", "/_matrix/federation/v1/publicRooms", origin: a.name, key: a.api.signingKey)
                        #expect(r.status == .ok, "an expired key is fetched again: \(r)")
                        let stored = try await store.keys(of: a.name)
                        #expect(stored.first?.verifyKey == a.api.signingKey.verifyKey.base64)
                        #expect((stored.first?.validUntilTS ?? 0) <= Int64(Date().timeIntervalSince1970 * 1000) + 7 * 86_400_000)
                    }
                }
            }
        }
    }
}
