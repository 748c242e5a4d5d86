/// Argument vectors for the stream commands the bus sends.
enum StreamCommands {
    static func xadd(_ message: BusMessage, maxLength: Int?) -> [[UInt8]] {
        var args = RedisArgv.strings(["XADD", message.stream])
        if let maxLength {
            // "~" lets Redis trim whole nodes only: far cheaper than exact trimming.
            args += RedisArgv.strings(["MAXLEN", "~", String(maxLength)])
        }
        args.append(Array("*".utf8))
        // Sorted so an entry's field order does not depend on dictionary order.
        for (name, value) in message.rawFields.sorted(by: { $0.key < $1.key }) {
            args.append(Array(name.utf8))
            args.append(value)
        }
        return args
    }

    static func xread(stream: String, after id: String, count: Int, blockMs: Int) -> [String] {
        ["XREAD", "COUNT", String(count), "BLOCK", String(blockMs), "STREAMS", stream, id]
    }

    /// The newest entry, to turn "$" into a concrete ID.
    static func lastEntry(stream: String) -> [String] {
        ["XREVRANGE", stream, "+", "-", "COUNT", "1"]
    }

    static func xgroupCreate(stream: String, group: String, startID: String) -> [String] {
        ["XGROUP", "CREATE", stream, group, startID, "MKSTREAM"]
    }

    static func xreadgroup(stream: String, group: String, consumer: String,
                           id: String, count: Int, blockMs: Int?) -> [String] {
        var args = ["XREADGROUP", "GROUP", group, consumer, "COUNT", String(count)]
        if let blockMs { args += ["BLOCK", String(blockMs)] }
        return args + ["STREAMS", stream, id]
    }

    static func xack(stream: String, group: String, ids: [String]) -> [String] {
        ["XACK", stream, group] + ids
    }

    static func xautoclaim(stream: String, group: String, consumer: String,
                           minIdleMs: Int, start: String, count: Int) -> [String] {
        ["XAUTOCLAIM", stream, group, consumer, String(minIdleMs), start, "COUNT", String(count)]
    }
}
