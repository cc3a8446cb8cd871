/// Commands in the Redis protocol, a whole pipeline in one buffer: hiredis takes it as it is
/// (`redisAppendFormattedCommand`), so no argument is copied into an array of its own and no
/// command is formatted by hiredis. Each command is an array of bulk strings:
/// `*<n>\r\n` then `$<length>\r\n<bytes>\r\n` per argument.
///
/// The feature store's hot path writes its commands here argument by argument (`command`,
/// `argument`): an array per argument and per command was a tenth of the daemon's apply.
public struct RESP: Sendable {
    private(set) var bytes: [UInt8] = []
    public private(set) var commands = 0
    /// Arguments the last command announced and has not written yet (checked in debug builds: a
    /// wrong count would garble the whole pipeline).
    private var owed = 0

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

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
            self.command(command.count)
            for argument in command { withBytes(argument) { append($0) } }
        }
    }

    /// Starts a command of `arguments` arguments (its name included), which the calls that follow
    /// write.
    public mutating func command(_ arguments: Int) {
        assert(owed == 0, "the command before announced \(owed) more arguments")
        header(UInt8(ascii: "*"), arguments)
        commands += 1
        owed = arguments
    }

    /// Whether every command has all the arguments it announced.
    var isComplete: Bool { owed == 0 }

    public mutating func argument(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    public mutating func argument(_ data: [UInt8]) {
        data.withUnsafeBufferPointer { append($0) }
    }

    /// One argument of `length` bytes, which `write` appends (a key from its pieces, without a
    /// string made of them first).
    public mutating func argument(length: Int, _ write: (inout [UInt8]) -> Void) {
        owed -= 1
        header(UInt8(ascii: "$"), length)
        let start = bytes.count
        write(&bytes)
        precondition(bytes.count - start == length, "a RESP argument announced \(length) bytes and wrote \(bytes.count - start)")
        bytes.append(contentsOf: Self.crlf)
    }

    /// A whole command from its arguments.
    public mutating func command(_ arguments: [String]) {
        command(arguments.count)
        for argument in arguments { self.argument(argument) }
    }

    /// Each command's arguments again (a cluster splits a pipeline by the slot of each key).
    func decoded() -> [[[UInt8]]] {
        precondition(isComplete, "a command lacks arguments it announced")
        var result: [[[UInt8]]] = []
        result.reserveCapacity(commands)
        var i = 0
        func number() -> Int {
            var n = 0
            while bytes[i] != 13 {
                n = n * 10 + Int(bytes[i] - UInt8(ascii: "0"))
                i += 1
            }
            i += 2
            return n
        }
        while i < bytes.count {
            i += 1  // *
            let count = number()
            var command: [[UInt8]] = []
            for _ in 0..<count {
                i += 1  // $
                let length = number()
                command.append(Array(bytes[i..<(i + length)]))
                i += length + 2
            }
            result.append(command)
        }
        return result
    }

    private mutating func append(_ arg: UnsafeBufferPointer<UInt8>) {
        owed -= 1
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
