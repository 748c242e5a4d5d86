import Bus
import Testing

extension SharedRedisTests {
    @Suite struct BusPublisherTests {
        @Test func publishReturnsTheIDOfAStoredEntry() async throws {
            let url = try SharedRedis.url()
            let publisher = BusPublisher(url: url)
            let stream = uniqueStream("pub")
            let id = try #require(await publisher.publish(stream: stream, fields: ["room": "!r:x", "pos": "42"]))
            await publisher.shutdown()

            let reply = try await redisCommand(url, ["XRANGE", stream, "-", "+"])
            let entries = try #require(reply.array)
            #expect(entries.count == 1)
            #expect(entries.first?.array?.first?.string == id)
            // Fields are written in name order.
            #expect(entries.first?.array?.last == .array([.string(Array("pos".utf8)), .string(Array("42".utf8)),
                                                          .string(Array("room".utf8)), .string(Array("!r:x".utf8))]))
            #expect(publisher.stats == .init(published: 1, failed: 0, skipped: 0))
        }

        @Test func batchPipelinesAcrossStreamsInOrder() async throws {
            let url = try SharedRedis.url()
            let publisher = BusPublisher(url: url)
            let a = uniqueStream("batchA"), b = uniqueStream("batchB")
            let messages = (0..<60).map { BusMessage(stream: $0 % 3 == 0 ? b : a, fields: ["n": String($0)]) }
            let ids = await publisher.publish(batch: messages)
            await publisher.shutdown()

            #expect(ids.count == 60)
            #expect(ids.allSatisfy { $0 != nil })
            #expect(try await redisCommand(url, ["XLEN", a]) == .integer(40))
            #expect(try await redisCommand(url, ["XLEN", b]) == .integer(20))
            let idsOfA = zip(messages, ids).filter { $0.0.stream == a }.compactMap(\.1)
            #expect(idsOfA == idsOfA.sorted(by: Self.streamIDLess))
            #expect(publisher.stats.published == 60)
        }

        @Test func approximateMaxLengthTrimsTheStream() async throws {
            let url = try SharedRedis.url()
            let publisher = BusPublisher(url: url, maxLength: 100)
            let stream = uniqueStream("trim")
            for _ in 0..<10 {
                await publisher.publish(batch: (0..<100).map { _ in BusMessage(stream: stream, fields: ["x": "y"]) })
            }
            await publisher.shutdown()
            let length = try #require(try await redisCommand(url, ["XLEN", stream]).integer)
            // "~" trims whole nodes (100 entries each by default), never below the limit.
            #expect(length >= 100 && length < 1_000, "XLEN \(length)")
        }

        @Test func errorRepliesAreCountedNotThrown() async throws {
            let url = try SharedRedis.url()
            let key = uniqueStream("notastream")
            _ = try await redisCommand(url, ["SET", key, "plain string"])
            let publisher = BusPublisher(url: url)
            let ids = await publisher.publish(batch: [BusMessage(stream: key, fields: ["a": "b"]),
                                                      BusMessage(stream: uniqueStream("ok"), fields: ["a": "b"])])
            await publisher.shutdown()
            #expect(ids[0] == nil)
            #expect(ids[1] != nil)
            #expect(publisher.stats == .init(published: 1, failed: 1, skipped: 0))
        }

        static func streamIDLess(_ x: String, _ y: String) -> Bool {
            let a = x.split(separator: "-").compactMap { UInt64($0) }
            let b = y.split(separator: "-").compactMap { UInt64($0) }
            return a.lexicographicallyPrecedes(b)
        }
    }
}
