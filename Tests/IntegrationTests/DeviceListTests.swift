import MatrixCore
import Testing

/// Device-list tracking over HTTP: a key upload reaches room-mates' /sync and /keys/changes
/// (waking a waiting long-poll), and a user who no longer shares a room is reported as left.
@Suite(.freshDatabase)
struct DeviceListTests {
    /// Self-signed device keys for the test user's device.
    static func deviceKeys(_ u: TestUser, device: String) throws -> JSON {
        let key = try SigningKey.generate(version: device)
        let keys: JSON = [
            "user_id": .string(u.userID), "device_id": .string(device),
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": .object(["ed25519:\(device)": .string(key.verifyKey.base64), "curve25519:\(device)": "Y3VydmU"]),
        ]
        return try keys.signed(by: key, as: u.userID)
    }

    @Test func keyUploadWakesRoomMatesAndLeavingIsReported() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let alice = try await s.user("dl_alice"), bob = try await s.user("dl_bob"), carol = try await s.user("dl_carol")
            let room = try await s.createRoom(alice)
            try await s.join(bob, room)
            let since = try #require(try await s.sync(alice)["next_batch"]?.stringValue)
            let carolSince = try #require(try await s.sync(carol)["next_batch"]?.stringValue)

            // Alice's long-poll is woken by bob's upload, not by its timeout.
            async let woken = s.sync(alice, ["since": since, "timeout": "20000"])
            try await Task.sleep(for: .milliseconds(300))
            _ = try await s.ok(.post, "/_matrix/client/v3/keys/upload", token: bob.token,
                               json: ["device_keys": try Self.deviceKeys(bob, device: "DEV_dl_bob")])
            let started = ContinuousClock.now
            let changed = try await woken["device_lists"]?["changed"]?.arrayValue ?? []
            #expect(changed.contains(.string(bob.userID)))
            #expect(ContinuousClock.now - started < .seconds(10))

            // Carol shares no room with bob: his keys are none of her business.
            let carolSync = try await s.sync(carol, ["since": carolSince])
            #expect(carolSync["device_lists"]?["changed"]?.arrayValue?.contains(.string(bob.userID)) != true)

            let changes = try await s.ok(.get, "/_matrix/client/v3/keys/changes?from=\(since)", token: alice.token)
            #expect(changes["changed"]?.arrayValue?.contains(.string(bob.userID)) == true)

            let beforeLeave = try #require(try await s.sync(alice)["next_batch"]?.stringValue)
            _ = try await s.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/leave", token: bob.token, json: [:])
            let after = try await s.sync(alice, ["since": beforeLeave])
            #expect(after["device_lists"]?["left"]?.arrayValue == [.string(bob.userID)])
        }
    }
}
