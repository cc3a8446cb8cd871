/// Commands in the Redis protocol, a whole pipeline in one buffer: hiredis takes it as it is
/// (`redisAppendFormattedCommand`), so no argument is copied into an array of its own and no
/// command is formatted by hiredis. Each command is an array of bulk strings:
/// `*<n>\r\n` then `$<length>\r\n<bytes>\r\n` per argument.
struct RESP {
    private(set) var bytes: [UInt8] = []
    private(set) var commands = 0

    // Closures, not key paths (`\.count`): those were projected at run time, per argument.
    init(_ commands: [[String]]) {
        self.init(commands, count: { $0.utf8.count }) { arg, append in
            var arg = arg
            arg.withUTF8(append)
        }
    }

    init(_ commands: [[[UInt8]]]) {
        self.init(commands, count: { $0.count }) { $0.withUnsafeBufferPointer($1) }
    }

    private init<Argument>(
        _ commands: [[Argument]], count: (Argument) -> Int,
        withBytes: (Argument, (UnsafeBufferPointer<UInt8>) -> Void) -> Void
    ) {
        bytes.reserveCapacity(commands.reduce(0) { $0 + $1.reduce(16) { $0 + count($1) + 16 } })
        for command in commands {
            header(UInt8(ascii: "*"), command.count)
            for argument in command { withBytes(argument) { append($0) } }
            self.commands += 1
        }
    }

    private mutating func append(_ arg: UnsafeBufferPointer<UInt8>) {
        header(UInt8(ascii: "$"), arg.count)
        bytes.append(contentsOf: arg)
        bytes.append(contentsOf: Self.crlf)
    }

    /// `*3\r\n` or `$12\r\n`: the count in decimal, without a String in between.
    private mutating func header(_ kind: UInt8, _ count: Int) {
        bytes.append(kind)
        var divisor = 1
        while divisor <= count / 10 { divisor *= 10 }
        var rest = count
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
        bytes.append(contentsOf: Self.crlf)
    }

    private static let crlf: [UInt8] = [13, 10]
}
