/// The Redis streams Myelin uses. They carry work and wake-ups; Postgres holds
/// the truth, so an entry lost here only delays a wake-up until catch-up.
public enum BusStream {
    /// One entry per persisted PDU; read fan-out by client-api processes and by
    /// the federation sender's consumer group.
    public static let events = "myelin:events"
    /// Outbound ephemeral federation work; the federation sender's consumer group.
    public static let edus = "myelin:edus"
    /// Position advances of the non-event streams; read fan-out.
    public static let notify = "myelin:notify"

    public static let all = [events, edus, notify]
}
