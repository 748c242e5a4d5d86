/// Turns stream command replies into `StreamEntry` values.
enum StreamReplyParsing {
    /// `[id, [field, value, ...]]`. A nil field list (an entry deleted while
    /// pending) gives an entry with no fields, so the caller can still ack it.
    static func entry(_ reply: RedisReply) throws -> StreamEntry {
        guard let pair = reply.array, pair.count == 2, let id = pair[0].string else {
            throw RedisError.unexpectedReply("stream entry: \(reply)")
        }
        var fields: [String: [UInt8]] = [:]
        if let flat = pair[1].array {
            guard flat.count % 2 == 0 else { throw RedisError.unexpectedReply("odd field list in \(id)") }
            var i = 0
            while i < flat.count {
                guard let name = flat[i].string, let value = flat[i + 1].bytes else {
                    throw RedisError.unexpectedReply("field in \(id)")
                }
                fields[name] = value
                i += 2
            }
        }
        return StreamEntry(id: id, rawFields: fields)
    }

    /// `[entry, ...]`, as XRANGE/XREVRANGE answer.
    static func entries(_ reply: RedisReply) throws -> [StreamEntry] {
        guard let list = try reply.checked().array else {
            throw RedisError.unexpectedReply("entry list: \(reply)")
        }
        return try list.map(entry)
    }

    /// XREAD/XREADGROUP: nil on timeout, else `[[stream, [entry, ...]], ...]`.
    /// We read one stream at a time, so all entries are concatenated.
    static func readReply(_ reply: RedisReply) throws -> [StreamEntry] {
        if reply.isNull { return [] }
        guard let streams = try reply.checked().array else {
            throw RedisError.unexpectedReply("read reply: \(reply)")
        }
        var out: [StreamEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2 else {
                throw RedisError.unexpectedReply("stream in read reply: \(stream)")
            }
            out += try entries(pair[1])
        }
        return out
    }

    /// XAUTOCLAIM: `[next, entries, deleted]` (Redis 7); 6.2 omits `deleted`.
    static func autoclaimReply(_ reply: RedisReply) throws -> BusAutoclaimResult {
        guard let parts = try reply.checked().array, parts.count >= 2, let next = parts[0].string else {
            throw RedisError.unexpectedReply("XAUTOCLAIM reply: \(reply)")
        }
        let claimed = try entries(parts[1])
        let deleted = parts.count >= 3 ? (parts[2].array ?? []).compactMap(\.string) : []
        return BusAutoclaimResult(nextStart: next, entries: claimed, deletedIDs: deleted)
    }
}
