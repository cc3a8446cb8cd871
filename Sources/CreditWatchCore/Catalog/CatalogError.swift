/// Every problem found in a set of catalog files, each with its file, position and a precise message.
///
/// Rendered one per line as `topics/tax.payment.yaml:7:5: field 'amount': unknown type 'money' …`
/// (the position is omitted where none is known), in file-path order, then document order.
public struct CatalogError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        public let path: String
        /// 1-based line and column in the file, when known.
        public let line: Int?
        public let column: Int?
        public let message: String

        public init(path: String, line: Int? = nil, column: Int? = nil, message: String) {
            self.path = path
            self.line = line
            self.column = column
            self.message = message
        }

        public var description: String {
            switch (line, column) {
            case (let line?, let column?): "\(path):\(line):\(column): \(message)"
            case (let line?, nil): "\(path):\(line): \(message)"
            default: "\(path): \(message)"
            }
        }
    }

    public let problems: [Problem]

    public init(problems: [Problem]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
