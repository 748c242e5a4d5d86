/// Event IDs per room version (rooms/v1 "Event IDs", v3 and v4 "Event IDs") and the room ID
/// a v12 create event defines (rooms/v12, appendix "Room IDs").
extension JSON {
    /// The event ID derived from this event's reference hash: `$` + Base64 (v3) or URL-safe
    /// Base64 (v4+). Nil for room versions 1–2, whose IDs are chosen by the sending server
    /// and carried in the `event_id` field instead.
    public func computedEventID(for version: RoomVersion) -> EventID? {
        guard let hash = referenceHash(for: version) else { return nil }
        return EventID.fromReferenceHash(hash, format: version.eventIDFormat)
    }

    /// The event's ID in any room version: the `event_id` field for v1–v2, otherwise the
    /// reference hash form.
    public func eventID(for version: RoomVersion) -> EventID? {
        if version.eventIDFormat == .v1 {
            return self["event_id"]?.stringValue.flatMap(EventID.init)
        }
        return computedEventID(for: version)
    }

    /// For a room version 12 create event: the room ID it creates, `!` + its event ID's hash.
    /// Nil for other versions, where the room ID is chosen freely.
    public func createdRoomID(for version: RoomVersion) -> RoomID? {
        guard version.roomIDFromCreateEvent, self["type"]?.stringValue == "m.room.create",
              let eventID = computedEventID(for: version) else { return nil }
        return RoomID(createEventID: eventID)
    }
}
