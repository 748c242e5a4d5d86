import MatrixCore
import Testing

/// Format checks of received PDUs, the servers that must sign them, and checking events
/// that arrive with their auth chain.
@Suite struct ReceivedPDUTests {
    let key = try! SigningKey.generate()
    let server = ServerName("example.org")!

    func pdu(_ version: RoomVersion, _ change: (inout [String: JSON]) -> Void = { _ in }) throws -> JSON {
        var fields: [String: JSON] = [
            "type": "m.room.message", "sender": "@alice:example.org", "room_id": "!room:example.org",
            "content": ["body": "hi"], "origin_server_ts": 1, "depth": 3,
            "prev_events": version.eventIDFormat == .v1 ? [["$a:example.org", [:]]] : [.string("$" + String(repeating: "A", count: 43))],
            "auth_events": [],
        ]
        let signed = try finalizeEvent(.object(fields), roomVersion: version, serverName: server, signingKey: key).json
        fields = signed.objectValue!
        change(&fields)
        return .object(fields)
    }

    @Test func aWellFormedPDUParsesWithItsID() throws {
        for v in [RoomVersion.v1, .v3, .v10, .v12] {
            let json = try pdu(v)
            let event = try ReceivedPDU.parse(json, version: v)
            #expect(event.eventID == json.eventID(for: v)?.rawValue)
            #expect(ReceivedPDU.requiredSigners(event, version: v) == ["example.org"])
        }
    }

    @Test func malformedPDUsAreRefused() throws {
        let v = RoomVersion.v10
        let cases: [(String, (inout [String: JSON]) -> Void)] = [
            ("no sender", { $0["sender"] = nil }),
            ("sender not a user ID", { $0["sender"] = "alice" }),
            ("content not an object", { $0["content"] = "x" }),
            ("negative depth", { $0["depth"] = -1 }),
            ("no hashes", { $0["hashes"] = nil }),
            ("no signatures", { $0["signatures"] = nil }),
            ("a float", { $0["content"] = ["n": 1.5] }),
            ("too many prev events", { $0["prev_events"] = .array(Array(repeating: .string("$" + String(repeating: "A", count: 43)), count: 21)) }),
            ("a v1 event ID in a v10 room", { $0["prev_events"] = ["$a:example.org"] }),
            ("no room ID", { $0["room_id"] = nil }),
            ("an event_id that is not the hash", { $0["event_id"] = "$other" }),
            ("over 64 KiB", { $0["content"] = ["body": .string(String(repeating: "x", count: 70_000))] }),
        ]
        for (what, change) in cases {
            #expect(throws: PDUFormatError.self, "\(what)") { try ReceivedPDU.parse(try pdu(v, change), version: v) }
        }
        // A v12 create event defines its room ID, so it carries none.
        var create: [String: JSON] = ["type": "m.room.create", "state_key": "", "sender": "@alice:example.org",
                                      "content": ["room_version": "12"], "origin_server_ts": 1, "depth": 1,
                                      "prev_events": [], "auth_events": [], "hashes": ["sha256": "x"], "signatures": [:]]
        #expect(throws: Never.self) { try ReceivedPDU.parse(.object(create), version: .v12) }
        create["room_id"] = "!room:example.org"
        #expect(throws: PDUFormatError.self) { try ReceivedPDU.parse(.object(create), version: .v12) }
    }

    @Test func signersIncludeTheEventIDServerAndTheJoinAuthoriser() throws {
        let v1 = try ReceivedPDU.parse(try pdu(.v1) { $0["event_id"] = "$x:other.org" }, version: .v1)
        #expect(ReceivedPDU.requiredSigners(v1, version: .v1) == ["example.org", "other.org"])
        let join = try ReceivedPDU.parse(try pdu(.v10) {
            $0["type"] = "m.room.member"; $0["state_key"] = "@alice:example.org"
            $0["content"] = ["membership": "join", "join_authorised_via_users_server": "@bob:resident.org"]
        }, version: .v10)
        #expect(ReceivedPDU.requiredSigners(join, version: .v10) == ["example.org", "resident.org"])
    }

    @Test func anAuthChainIsCheckedEventByEvent() throws {
        var room = TestRoom.standard(.v10)
        let chain = Array(room.events.values)
        let all = AuthChainCheck.check(chain, known: [:], roomVersion: .v10)
        #expect(all.rejected.isEmpty, "\(all.rejected)")
        #expect(Set(all.accepted.map(\.eventID)) == Set(chain.map(\.eventID)))
        #expect(all.accepted.first?.type == "m.room.create", "auth events come first")

        // Someone who never joined sets the power levels; an event that leans on that one;
        // and one whose auth events nobody sent.
        let forged = room.makeEvent("forged-pl", type: "m.room.power_levels", stateKey: "", sender: zara,
                                    content: room.powerLevels([zara: 100]))
        room.append(forged)
        let leaning = room.makeEvent("leaning", type: "m.room.topic", stateKey: "", sender: zara, content: ["topic": "mine"])
        let orphan = Event(eventID: room.id("orphan"), json: {
            var j = room.makeEvent("orphan", type: "m.room.topic", stateKey: "", sender: alice, content: ["topic": "?"]).json
            j["auth_events"] = [.string(room.id("nowhere"))]
            return j
        }())
        let checked = AuthChainCheck.check(chain + [forged, leaning, orphan], known: [:], roomVersion: .v10)
        let rejected = Set(checked.rejected.map(\.event.eventID))
        #expect(rejected == [forged.eventID, leaning.eventID, orphan.eventID], "\(checked.rejected)")
        // Events known already count as checked.
        let known = Dictionary(uniqueKeysWithValues: chain.map { ($0.eventID, $0) })
        let more = AuthChainCheck.check([orphan], known: known, roomVersion: .v10)
        #expect(more.accepted.isEmpty && more.rejected.count == 1)
    }
}
