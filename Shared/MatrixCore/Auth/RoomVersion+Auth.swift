/// Version differences the auth rules and state resolution read that `RoomVersion`
/// does not name directly.
extension RoomVersion {
    /// v11+: the create event has no `creator`; its sender is the creator.
    var createSenderIsCreator: Bool { number >= 11 }
    /// v1–v2: redactions are authorised by the redact level or event ID domains.
    var redactionsInAuthRules: Bool { number <= 2 }
    /// v12+: state resolution starts from an empty state and replays the conflicted
    /// state subgraph ("v2.1").
    var stateResolutionReplaysSubgraph: Bool { number >= 12 }
    /// v6+: the `notifications` power levels are checked like `events`.
    var notificationsPowerLevelsAuthorised: Bool { number >= 6 }
}
