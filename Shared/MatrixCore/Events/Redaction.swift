/// The redaction algorithm: strips an event to the keys the protocol needs, so a redacted
/// event still passes auth and signature checks. Also the first step of reference hashes
/// and event signing, which is why it must match other servers exactly.
extension JSON {
    /// This event redacted under `version`'s rules. Non-objects are returned unchanged.
    public func redacted(for version: RoomVersion) -> JSON {
        redacted(with: RedactionRules(version))
    }

    public func redacted(with rules: RedactionRules) -> JSON {
        guard case .object(let event) = self else { return self }
        var kept = event.filter { rules.keptTopLevelKeys.contains($0.key) }
        let type = event["type"]?.stringValue ?? ""
        let content = event["content"]?.objectValue ?? [:]
        // `content` is always present after redaction, as other servers produce it.
        kept["content"] = .object(Self.redactedContent(content, type: type, rules: rules))
        return .object(kept)
    }

    private static func redactedContent(_ content: [String: JSON], type: String, rules: RedactionRules) -> [String: JSON] {
        guard let keys = rules.keptContentKeys(forType: type) else { return content }
        var kept = content.filter { keys.contains($0.key) }
        // v11: a third-party invite keeps only its `signed` block, which auth needs.
        if rules.updatedRules, type == "m.room.member",
           let signed = content["third_party_invite"]?["signed"] {
            kept["third_party_invite"] = .object(["signed": signed])
        }
        return kept
    }
}
