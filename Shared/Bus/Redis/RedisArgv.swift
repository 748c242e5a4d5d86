/// Builds the (argc, argv, argvlen) triple hiredis wants. Every argument is
/// passed with its length, so NUL, CR and LF bytes are sent intact.
enum RedisArgv {
    static func with<R>(
        _ args: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        let total = args.reduce(0) { $0 + $1.count }
        // One buffer for all arguments: two allocations per command instead of one per argument.
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
        let pointers = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(args.count, 1))
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: max(args.count, 1))
        defer {
            storage.deallocate()
            pointers.deallocate()
            lengths.deallocate()
        }
        var offset = 0
        for (i, arg) in args.enumerated() {
            arg.withUnsafeBytes { src in
                if let base = src.baseAddress, !src.isEmpty {
                    UnsafeMutableRawPointer(storage + offset).copyMemory(from: base, byteCount: src.count)
                }
            }
            pointers[i] = UnsafePointer(storage + offset)
            lengths[i] = arg.count
            offset += arg.count
        }
        return body(Int32(args.count), pointers, UnsafePointer(lengths))
    }

    static func strings(_ args: [String]) -> [[UInt8]] {
        args.map { Array($0.utf8) }
    }
}
