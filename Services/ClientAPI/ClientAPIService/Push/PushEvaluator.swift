import MatrixCore
import Storage

/// Notification decisions for the members of a room when an event is stored, following the
/// spec's default rules for the common cases: master off, notices suppressed, member events
/// silent, mentions (m.mentions, display name, user ID) highlight, messages in one-to-one
/// rooms and all messages notify. User-defined rules are not applied yet.
enum PushEvaluator {
    static func actions(for event: Event, state: StateMap) -> [PushActionRow] {
        guard ["m.room.message", "m.room.encrypted", "m.sticker", "m.call.invite"].contains(event.type) || event.type.hasPrefix("m.poll") else {
            return []
        }
        if event.content["msgtype"]?.stringValue == "m.notice" { return [] }
        if event.content["m.relates_to"]?["rel_type"]?.stringValue == "m.replace" { return [] }
        let joined = state.values.filter { $0.type == "m.room.member" && $0.membership == "join" }
        let thread = event.content["m.relates_to"]?["rel_type"]?.stringValue == "m.thread"
            ? (event.content["m.relates_to"]?["event_id"]?.stringValue ?? "main") : "main"
        let mentions = Set(event.content["m.mentions"]?["user_ids"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let body = event.content["body"]?.stringValue?.lowercased() ?? ""
        return joined.compactMap { member -> PushActionRow? in
            guard let user = member.stateKey, user != event.sender else { return nil }
            let name = member.content["displayname"]?.stringValue?.lowercased()
            let highlight = mentions.contains(user) ||
                (event.content["m.mentions"] == nil && (body.contains(user.lowercased()) || (name.map { !$0.isEmpty && containsWord(body, $0) } ?? false)))
            let actions: JSON = highlight
                ? ["notify", ["set_tweak": "sound", "value": "default"], ["set_tweak": "highlight"]]
                : ["notify"]
            return PushActionRow(userID: user, highlight: highlight, threadID: thread, actionsJSON: actions.canonicalString)
        }
    }

    static func containsWord(_ text: String, _ word: String) -> Bool {
        var searchRange = text.startIndex..<text.endIndex
        while let r = text.range(of: word, range: searchRange) {
            let beforeOK = r.lowerBound == text.startIndex || !text[text.index(before: r.lowerBound)].isLetter
            let afterOK = r.upperBound == text.endIndex || !text[r.upperBound].isLetter
            if beforeOK && afterOK { return true }
            searchRange = r.upperBound..<text.endIndex
        }
        return false
    }
}
