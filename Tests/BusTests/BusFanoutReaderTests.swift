import Bus
import Testing

extension SharedRedisTests {
    @Suite struct BusFanoutReaderTests {
        @Test func deliversPublishedEntriesPromptly() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("fanout")
            let publisher = BusPublisher(url: url)
            let reader = BusFanoutReader(url: url, stream: stream)
            var iterator = reader.entries().makeAsyncIterator()
            // Probe until the reader is live, so the timing below is steady state.
            let probe = Task { while !Task.isCancelled {
                await publisher.publish(stream: stream, fields: ["probe": "1"])
                try? await Task.sleep(for: .milliseconds(50))
            } }
            let first = await iterator.next()
            probe.cancel()
            _ = await probe.value
            #expect(first?["probe"] == "1")

            let clock = ContinuousClock()
            var latencies: [Duration] = []
            for n in 0..<200 {
                let start = clock.now
                let id = await publisher.publish(stream: stream, fields: ["n": String(n)])
                var received: StreamEntry?
                repeat { received = await iterator.next() } while received?["probe"] != nil
                latencies.append(clock.now - start)
                #expect(received?.id == id)
                #expect(received?["n"] == String(n))
            }
            reader.stop()
            await publisher.shutdown()
            latencies.sort()
            print("fan-out publish→receive over \(latencies.count): p50 \(percentile(latencies, 0.5)), "
                  + "p99 \(percentile(latencies, 0.99)), max \(latencies.last!)")
            #expect(latencies.last! < .seconds(2))
        }

        @Test func everyReaderReceivesEveryEntry() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("fanout2")
            let publisher = BusPublisher(url: url)
            let readers = [BusFanoutReader(url: url, stream: stream), BusFanoutReader(url: url, stream: stream)]
            let received = [Collected<StreamEntry>(), Collected<StreamEntry>()]
            let runs = (0..<2).map { i in Task { await readers[i].run { received[i].append($0) } } }
            for i in 0..<2 {
                #expect(await waitUntilLive(stream: stream, publisher: publisher, received: received[i]))
            }

            let ids = await publisher.publish(batch: (0..<25).map { BusMessage(stream: stream, fields: ["n": String($0)]) })
            for i in 0..<2 {
                let all = await eventually { received[i].all.filter { $0["n"] != nil }.count >= 25 }
                #expect(all)
                // In stream order, each exactly once.
                #expect(received[i].all.filter { $0["n"] != nil }.map(\.id) == ids.compactMap { $0 })
            }
            for r in readers { r.stop() }
            for run in runs { await run.value }
            await publisher.shutdown()
        }

        @Test func startsAtTheTailNotTheBeginning() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("tail")
            let publisher = BusPublisher(url: url)
            await publisher.publish(stream: stream, fields: ["old": "1"])
            let reader = BusFanoutReader(url: url, stream: stream)
            let received = Collected<StreamEntry>()
            let run = Task { await reader.run { received.append($0) } }
            #expect(await waitUntilLive(stream: stream, publisher: publisher, received: received))
            #expect(!received.all.contains { $0["old"] != nil })
            reader.stop()
            await run.value
            await publisher.shutdown()
        }

        @Test func keepsBinaryFieldsIntact() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("binary")
            let publisher = BusPublisher(url: url)
            let reader = BusFanoutReader(url: url, stream: stream)
            let received = Collected<StreamEntry>()
            let run = Task { await reader.run { received.append($0) } }
            #expect(await waitUntilLive(stream: stream, publisher: publisher, received: received))

            let raw: [UInt8] = [0x00, 0x0d, 0x0a, 0x2a, 0x33, 0x0d, 0x0a, 0xff, 0xfe, 0x00]
            let text = "line1\r\nline2\0end"
            let id = await publisher.publish(BusMessage(stream: stream, rawFields: ["raw": raw, "text": Array(text.utf8)]))
            #expect(id != nil)
            #expect(await eventually { received.all.contains { $0.id == id } })
            let entry = try #require(received.all.first { $0.id == id })
            #expect(entry.rawFields["raw"] == raw)
            #expect(entry["text"] == text)
            reader.stop()
            await run.value
            await publisher.shutdown()
        }

        @Test func stopReturnsPromptlyWhileBlocked() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("stop")
            let publisher = BusPublisher(url: url)
            let reader = BusFanoutReader(url: url, stream: stream, options: .init(blockMs: 60_000))
            let received = Collected<StreamEntry>()
            let run = Task { await reader.run { received.append($0) } }
            #expect(await waitUntilLive(stream: stream, publisher: publisher, received: received))
            try await Task.sleep(for: .milliseconds(200))   // now parked in XREAD BLOCK 60000

            let clock = ContinuousClock()
            let start = clock.now
            reader.stop()
            let stopCall = clock.now - start
            await run.value
            let stopped = clock.now - start
            print("fan-out stop(): call \(stopCall), run() returned after \(stopped)")
            #expect(stopped < .seconds(1), "run() returned \(stopped) after stop()")
            await publisher.shutdown()
        }

        @Test func cancellingTheRunningTaskStopsIt() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("cancel")
            let reader = BusFanoutReader(url: url, stream: stream, options: .init(blockMs: 60_000))
            let run = Task { await reader.run { _ in } }
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let start = clock.now
            run.cancel()
            await run.value
            #expect(clock.now - start < .seconds(1))
        }

        @Test func entriesStreamFinishesOnStop() async throws {
            let url = try SharedRedis.url()
            let reader = BusFanoutReader(url: url, stream: uniqueStream("finish"), options: .init(blockMs: 60_000))
            let entries = reader.entries()
            let drained = Task { var n = 0; for await _ in entries { n += 1 }; return n }
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let start = clock.now
            reader.stop()
            #expect(await drained.value == 0)
            #expect(clock.now - start < .seconds(1))
        }

        @Test func shortBlockTimeoutsLoseNothing() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("shortblock")
            let publisher = BusPublisher(url: url)
            let reader = BusFanoutReader(url: url, stream: stream, options: .init(blockMs: 20))
            let received = Collected<StreamEntry>()
            let run = Task { await reader.run { received.append($0) } }
            #expect(await waitUntilLive(stream: stream, publisher: publisher, received: received))
            // Publish from another task while the reader cycles through 20 ms timeouts.
            var ids: [String?] = []
            for n in 0..<100 {
                ids.append(await publisher.publish(stream: stream, fields: ["n": String(n)]))
                if n % 10 == 0 { try await Task.sleep(for: .milliseconds(25)) }
            }
            let expected = ids.compactMap { $0 }
            #expect(expected.count == 100)
            #expect(await eventually { received.all.filter { $0["n"] != nil }.count >= 100 })
            #expect(received.all.filter { $0["n"] != nil }.map(\.id) == expected)
            reader.stop()
            await run.value
            await publisher.shutdown()
        }
    
        @Test func gatheringLosesNothingAndStopStillEndsTheWait() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("gather")
            let publisher = BusPublisher(url: url)
            var options = BusFanoutReader.Options()
            options.gather = .seconds(30)
            let reader = BusFanoutReader(url: url, stream: stream, options: options)
            let received = Collected<StreamEntry>()
            let run = Task { await reader.run { received.append($0) } }
            #expect(await waitUntilLive(stream: stream, publisher: publisher, received: received))
            // The reader now waits out its gathering pause: what is published meanwhile is not read yet.
            var ids: [String?] = []
            for n in 0..<20 { ids.append(await publisher.publish(stream: stream, fields: ["n": String(n)])) }
            try await Task.sleep(for: .milliseconds(200))
            #expect(received.all.filter { $0["n"] != nil }.isEmpty)
            reader.stop()
            await run.value
            await publisher.shutdown()

            // A reader with a short pause gets every entry of several bursts, in order.
            let quick = BusFanoutReader(url: url, stream: stream, options: .init(gather: .milliseconds(20)))
            let got = Collected<StreamEntry>()
            let second = Task { await quick.run { got.append($0) } }
            let publisher2 = BusPublisher(url: url)
            #expect(await waitUntilLive(stream: stream, publisher: publisher2, received: got))
            ids = []
            for burst in 0..<5 {
                for n in 0..<10 { ids.append(await publisher2.publish(stream: stream, fields: ["n": "\(burst).\(n)"])) }
                try await Task.sleep(for: .milliseconds(7))
            }
            let expected = ids.compactMap { $0 }
            #expect(expected.count == 50)
            #expect(await eventually { got.all.filter { $0["n"] != nil }.count >= 50 })
            #expect(got.all.filter { $0["n"] != nil }.map(\.id) == expected)
            quick.stop()
            await second.value
            await publisher2.shutdown()
        }
    }
}
