import PostgresNIO

/// One group commit of room writes, as a call of `myelin_persist_room_writes_notifying`
/// (migrations 0014 and 0017): the writes, their events, extremities, push actions, shared
/// notifications and state changes flattened into column arrays. Run on its own, the call
/// is its own transaction.
struct PersistRoomWrites: BoundStatement {
    static let sql = """
        SELECT accepted, positions FROM myelin_persist_room_writes_notifying(
            $1::text[], $2::int8[], $3::bool[], $4::text[], $5::text[], $6::int4[], $7::int8,
            $8::text[], $9::text[], $10::bool[], $11::text[], $12::text[], $13::int8[], $14::int8[], $15::text[],
            $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::int2[], $22::bool[], $23::text[],
            $24::text[], $25::int4[], $26::text[], $27::int4[], $28::text[], $29::text[], $30::bool[], $31::text[],
            $32::int4[], $33::text[], $34::text[], $35::text[], $36::text[], $37::text[], $38::int8,
            $39::int4[], $40::text[], $41::bool[], $42::text[], $43::int4[], $44::text[])
        """
    let bindings: PostgresBindings

    init(_ writes: [RoomWrite], now: Int64) {
        var wRoom: [String] = [], wExpected: [Int64] = [], wHasExpected: [Bool] = []
        var wVersion: [String] = [], wCreator: [String] = [], wEvents: [Int32] = []
        var eID: [String] = [], eType: [String] = [], eIsState: [Bool] = [], eKey: [String] = [], eSender: [String] = []
        var eDepth: [Int64] = [], eTS: [Int64] = [], eRel: [String] = [], eRelType: [String] = []
        var eTxnUser: [String] = [], eTxnDevice: [String] = [], eTxnID: [String] = [], eJSON: [String] = []
        var ePlacement: [Int16] = [], eUpdatesState: [Bool] = [], eMembership: [String] = [], eRedacts: [String] = []
        var xWrite: [Int32] = [], xEvent: [String] = []
        var paEvent: [Int32] = [], paUser: [String] = [], paThread: [String] = [], paHighlight: [Bool] = [], paActions: [String] = []
        var scWrite: [Int32] = [], scEvent: [String] = [], scType: [String] = [], scKey: [String] = []
        var scMembership: [String] = [], scSender: [String] = []
        var nEvent: [Int32] = [], nThread: [String] = [], nHighlight: [Bool] = [], nActions: [String] = []
        var nExcludedCount: [Int32] = [], nExcluded: [String] = []

        for (n, w) in writes.enumerated() {
            let writeIndex = Int32(n + 1)  // SQL arrays count from 1
            wRoom.append(w.roomID)
            wExpected.append(w.expectedLastPos ?? 0); wHasExpected.append(w.expectedLastPos != nil)
            wVersion.append(w.createRoom?.version ?? ""); wCreator.append(w.createRoom?.creator ?? "")
            wEvents.append(Int32(w.events.count))
            for ne in w.events {
                let e = ne.event
                eID.append(e.eventID); eType.append(e.type); eIsState.append(e.stateKey != nil); eKey.append(e.stateKey ?? "")
                eSender.append(e.sender); eDepth.append(e.depth); eTS.append(e.originServerTS)
                let relates = e.content["m.relates_to"]
                eRel.append(relates?["event_id"]?.stringValue ?? ""); eRelType.append(relates?["rel_type"]?.stringValue ?? "")
                eTxnUser.append(ne.txn?.userID ?? ""); eTxnDevice.append(ne.txn?.deviceID ?? ""); eTxnID.append(ne.txn?.txnID ?? "")
                eJSON.append(ne.json); ePlacement.append(ne.placement.rawValue); eUpdatesState.append(ne.updatesState)
                eMembership.append(e.type == "m.room.member" ? e.membership ?? "" : "")
                let recordsRedaction = e.type == "m.room.redaction" && ne.placement == .timeline
                eRedacts.append(recordsRedaction ? e.redacts ?? "" : "")
                let eventIndex = Int32(eID.count)
                let layout = NotificationLayout(rows: ne.pushActions, recipients: ne.pushRecipients)
                if let (row, excluded) = layout.shared {
                    nEvent.append(eventIndex); nThread.append(row.threadID); nHighlight.append(row.highlight)
                    nActions.append(row.actionsJSON); nExcludedCount.append(Int32(excluded.count))
                    nExcluded.append(contentsOf: excluded)
                }
                for a in layout.own {
                    paEvent.append(eventIndex); paUser.append(a.userID); paThread.append(a.threadID)
                    paHighlight.append(a.highlight); paActions.append(a.actionsJSON)
                }
            }
            for x in w.extremities { xWrite.append(writeIndex); xEvent.append(x) }
            for e in w.stateChanges {
                guard let sk = e.stateKey else { continue }
                scWrite.append(writeIndex); scEvent.append(e.eventID); scType.append(e.type); scKey.append(sk)
                scMembership.append(e.type == "m.room.member" ? e.membership ?? "" : ""); scSender.append(e.sender)
            }
        }
        bindings = bind {
            $0.append(wRoom); $0.append(wExpected); $0.append(wHasExpected); $0.append(wVersion); $0.append(wCreator)
            $0.append(wEvents); $0.append(now)
            $0.append(eID); $0.append(eType); $0.append(eIsState); $0.append(eKey); $0.append(eSender); $0.append(eDepth)
            $0.append(eTS); $0.append(eRel); $0.append(eRelType); $0.append(eTxnUser); $0.append(eTxnDevice)
            $0.append(eTxnID); $0.append(eJSON); $0.append(ePlacement); $0.append(eUpdatesState); $0.append(eMembership)
            $0.append(eRedacts)
            $0.append(xWrite); $0.append(xEvent)
            $0.append(paEvent); $0.append(paUser); $0.append(paThread); $0.append(paHighlight); $0.append(paActions)
            $0.append(scWrite); $0.append(scEvent); $0.append(scType); $0.append(scKey); $0.append(scMembership)
            $0.append(scSender); $0.append(StreamWrite.lockKey)
            $0.append(nEvent); $0.append(nThread); $0.append(nHighlight); $0.append(nActions)
            $0.append(nExcludedCount); $0.append(nExcluded)
        }
    }

    func decodeRow(_ row: PostgresRow) throws -> ([Bool], [Int64]) { try row.decode(([Bool], [Int64]).self) }
}
