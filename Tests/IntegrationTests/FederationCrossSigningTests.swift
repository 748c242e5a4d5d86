import FederationClient
import Foundation
import MatrixCore
import Storage
import Testing

/// Cross-signing keys of another server's users: B takes A's `m.signing_key_update` (and
/// refuses one whose self-signing key its master key did not sign), and a device-list
/// update whose `prev_id` B has not seen makes B fetch the user's devices from A again.
@Suite(.serialized) struct FederationCrossSigningTests {
    /// A cross-signing key named by its own public key, signed by `signer` when given.
    func crossKey(_ user: String, _ usage: String, _ key: SigningKey, signer: SigningKey? = nil) throws -> JSON {
        let pub = key.verifyKey.base64
        var json: JSON = ["user_id": .string(user), "usage": [.string(usage)], "keys": .object(["ed25519:" + pub: .string(pub)])]
        if let signer, let bytes = json.signableBytes {
            json = try json.addingSignature(Base64.encodeUnpadded(signer.sign(bytes)), keyID: "ed25519:" + signer.verifyKey.base64,
                                            entity: user)
        }
        return json
    }

    /// Bob on B in a public room that Carol, a real user of A, has joined.
    func withCarolAndBob(_ body: @escaping @Sendable (RemoteSide, TestUser, TestUser) async throws -> Void) async throws {
        try await withTwoFederatedServers { a, b in
            let remote = RemoteSide(origin: a, target: b)
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat"])
            let carol = try await a.makeUser("carol")
            try await remote.join(carol.userID, room: room)
            try await body(remote, bob, carol)
        }
    }

    @Test func signingKeyUpdatesAreKeptAndShowInSync() async throws {
        try await withCarolAndBob { remote, bob, carol in
            let b = remote.target
            let master = try SigningKey.generate(), ssk = try SigningKey.generate(), stranger = try SigningKey.generate()
            let since = try await b.sync(bob)["next_batch"]?.stringValue ?? ""
            let forged = try await remote.transaction("forged", pdus: [], edus: [
                ["edu_type": "m.signing_key_update", "content": [
                    "user_id": .string(carol.userID), "master_key": try crossKey(carol.userID, "master", master),
                    "self_signing_key": try crossKey(carol.userID, "self_signing", ssk, signer: stranger)]],
            ])
            #expect(forged.status == .ok, "\(forged)")
            #expect(try await KeyStore(db: b.api.db).crossSigningKeys(carol.userID).isEmpty)

            let sent = try await remote.transaction("keys", pdus: [], edus: [
                ["edu_type": "m.signing_key_update", "content": [
                    "user_id": .string(carol.userID), "master_key": try crossKey(carol.userID, "master", master),
                    "self_signing_key": try crossKey(carol.userID, "self_signing", ssk, signer: master)]],
                // Another server's user is not A's to update.
                ["edu_type": "m.signing_key_update", "content": [
                    "user_id": "@x:elsewhere.example", "master_key": try crossKey("@x:elsewhere.example", "master", master)]],
            ])
            #expect(sent.status == .ok, "\(sent)")
            let stored = try await KeyStore(db: b.api.db).crossSigningKeys(carol.userID)
            #expect(stored["master"]?.publicKey == master.verifyKey.base64)
            #expect(stored["self_signing"]?.publicKey == ssk.verifyKey.base64)
            #expect(try await KeyStore(db: b.api.db).crossSigningKeys("@x:elsewhere.example").isEmpty)
            let sync = try await b.sync(bob, ["since": since, "timeout": "5000"])
            #expect(sync["device_lists"]?["changed"] == [.string(carol.userID)], "\(sync["device_lists"] ?? nil)")
        }
    }

    @Test func anUnknownPrevIDMakesTheDeviceListBeFetchedAgain() async throws {
        try await withCarolAndBob { remote, bob, carol in
            let a = remote.origin, b = remote.target
            let master = try SigningKey.generate(), ssk = try SigningKey.generate()
            _ = try await a.ok(.post, "/_matrix/client/v3/keys/device_signing/upload", token: carol.token, json: [
                "master_key": try crossKey(carol.userID, "master", master),
                "self_signing_key": try crossKey(carol.userID, "self_signing", ssk, signer: master)])
            let lists = RemoteDeviceListStore(db: b.api.db)
            func update(_ id: Int64, prev: [Int64]) -> JSON {
                ["edu_type": "m.device_list_update",
                 "content": ["user_id": .string(carol.userID), "device_id": "D", "stream_id": .int(id),
                             "prev_id": .array(prev.map { .int($0) }), "deleted": false]]
            }
            // The first update B hears of, with no prev_id, is taken as it is.
            #expect(try await remote.transaction("d1", pdus: [], edus: [update(7, prev: [])]).status == .ok)
            #expect(try await lists.streamID(carol.userID) == 7)
            #expect(try await KeyStore(db: b.api.db).crossSigningKeys(carol.userID).isEmpty)
            // One following it is too.
            #expect(try await remote.transaction("d2", pdus: [], edus: [update(8, prev: [7])]).status == .ok)
            #expect(try await lists.streamID(carol.userID) == 8)
            // One after a missed update: B asks A for Carol's devices, and takes A's position and keys.
            #expect(try await remote.transaction("d3", pdus: [], edus: [update(12, prev: [11])]).status == .ok)
            let aPosition = try await KeyStore(db: a.api.db).deviceListPosition(carol.userID, before: .max)
            let deadline = ContinuousClock.now + .seconds(15)
            while try await lists.streamID(carol.userID) != aPosition, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await lists.streamID(carol.userID) == aPosition)
            let stored = try await KeyStore(db: b.api.db).crossSigningKeys(carol.userID)
            #expect(stored["master"]?.publicKey == master.verifyKey.base64)
            #expect(stored["self_signing"]?.publicKey == ssk.verifyKey.base64)
        }
    }
}
