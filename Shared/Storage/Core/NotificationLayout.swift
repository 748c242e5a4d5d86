/// How an event's notifications are stored (migration 0017): when most members it was
/// evaluated for are notified alike, as one shared row naming the exceptions, plus own rows
/// for those notified otherwise; else one row per notified member.
struct NotificationLayout {
    /// The shared actions (any row of the largest group) and the members they do not cover.
    var shared: (row: PushActionRow, excluded: [String])?
    /// Notifications stored as their own rows.
    var own: [PushActionRow]

    /// `rows` come in the order of `recipients` (as the push rules are run); otherwise, or
    /// when a row's member is not among the recipients, nothing is shared.
    init(rows: [PushActionRow], recipients: [String]) {
        shared = nil
        own = rows
        guard rows.count >= 2, recipients.count >= rows.count else { return }
        // Distinct outcomes are few (notify, highlight, a sound): a linear scan beats hashing.
        var outcomes: [(row: PushActionRow, count: Int)] = []
        var outcomeOfRow: [Int] = []
        outcomeOfRow.reserveCapacity(rows.count)
        for r in rows {
            if let k = outcomes.firstIndex(where: { Self.alike($0.row, r) }) {
                outcomes[k].count += 1
                outcomeOfRow.append(k)
            } else {
                outcomeOfRow.append(outcomes.count)
                outcomes.append((r, 1))
            }
        }
        guard let best = outcomes.indices.max(by: { outcomes[$0].count < outcomes[$1].count }),
              outcomes[best].count >= 2 else { return }
        // A shared row means "every joined member but these": it must not reach anyone the
        // rules did not see, so every notified member must be matched among the recipients.
        var excluded: [String] = []
        var next = 0
        for user in recipients {
            if next < rows.count, rows[next].userID == user {
                if outcomeOfRow[next] != best { excluded.append(user) }
                next += 1
            } else {
                excluded.append(user)
            }
        }
        guard next == rows.count, outcomes[best].count > excluded.count else { return }
        shared = (outcomes[best].row, excluded)
        own = rows.indices.filter { outcomeOfRow[$0] != best }.map { rows[$0] }
    }

    private static func alike(_ a: PushActionRow, _ b: PushActionRow) -> Bool {
        a.highlight == b.highlight && a.actionsJSON == b.actionsJSON && a.threadID == b.threadID
    }
}
