import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// The state before an event whose prev events stay unknown after `/get_missing_events`:
/// asked of the sending server with `/state_ids` (the state before the event), the events
/// not stored here fetched one by one with `/event`, each checked (format, signatures,
/// hash, auth against its auth events) and stored out of the timeline. Without it, such
/// an event would be checked against our current state, and state changes inside the gap
/// would never reach us.
extension ClientAPI {
    static let maxGapStateFetches = 200

    /// The state before `event`, or nil when the origin cannot say (the caller then falls
    /// back to the prev events it has).
    func gapState(before event: Event, room: String, version: RoomVersion, from origin: ServerName) async -> StateMap? {
        do {
            let answer = try await federation.get(origin, FederationPath.target(
                "/_matrix/federation/v1/state_ids", [room], query: [("event_id", event.eventID)]), timeout: .seconds(30))
            let stateIDs = (answer["pdu_ids"]?.arrayValue ?? []).compactMap(\.stringValue)
            let chainIDs = (answer["auth_chain_ids"]?.arrayValue ?? []).compactMap(\.stringValue)
            guard !stateIDs.isEmpty else { return nil }
            let wanted = Array(Set(stateIDs + chainIDs))
            let stored = Dictionary(try await events.events(wanted).map { ($0.event.eventID, $0.event) }) { a, _ in a }
            let unknown = wanted.filter { stored[$0] == nil }
            guard unknown.count <= Self.maxGapStateFetches else {
                logger.info("state before \(event.eventID) in \(room) needs \(unknown.count) events from \(origin.rawValue); not fetched")
                return nil
            }
            let verifier = PDUVerifier(keys: federation.keys)
            var fetched: [Event] = []
            for id in unknown {
                guard let pdu = try? await federation.get(origin, FederationPath.target("/_matrix/federation/v1/event", [id]),
                                                          timeout: .seconds(20))["pdus"]?[0],
                      let v = try? await verifier.verify(pdu, version: version), v.event.eventID == id, v.event.roomID == room
                else { continue }
                fetched.append(v.event)
            }
            let create = try await events.currentStateEvent(room, type: "m.room.create", stateKey: "")?.event
            var known = try await events.authChainEvents(of: fetched.flatMap(\.authEventIDs) + (create.map { [$0.eventID] } ?? []))
            for (id, e) in stored { known[id] = e }
            let checked = AuthChainCheck.check(fetched, known: known, roomVersion: version)
            for (e, why) in checked.rejected { logger.info("state event \(e.eventID) from \(origin.rawValue) refused: \(why)") }
            try await roomCall { try await roomServer.storeOutliers(roomID: room, events: checked.accepted) }
            var all = stored
            for e in checked.accepted { all[e.eventID] = e }
            var state: StateMap = [:]
            for id in stateIDs {
                guard let e = all[id], let k = e.stateTuple else { continue }
                state[k] = e
            }
            // Without the create event nothing in the state can be trusted to be this room's.
            guard let c = state[.create], c.eventID == create?.eventID else { return nil }
            return state
        } catch {
            logger.info("state_ids before \(event.eventID) from \(origin.rawValue) failed: \(error)")
            return nil
        }
    }
}
