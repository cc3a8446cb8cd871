/// One rule file as handed to the compiler. The compiler never reads files itself: the caller
/// (CLI, daemon reload, tests) does the I/O and passes the text in.
public struct SourceFile: Sendable, Hashable {
    /// How diagnostics name the file, e.g. `rules/tax.cwr`.
    public let path: String
    public let text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}

/// A position in a source file: 1-based line and column, columns counted in `Character`s (a
/// Chinese character or an emoji is one column).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let path: String
    public let line: Int
    public let column: Int

    public init(path: String, line: Int, column: Int) {
        self.path = path
        self.line = line
        self.column = column
    }

    public var description: String { "\(path):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.path, a.line, a.column) < (b.path, b.line, b.column)
    }
}

/// A problem found while compiling rule files. Errors prevent a rule set from loading; warnings do
/// not. A diagnostic that belongs to no file (an unknown parameter override) has line and column 0.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    public let path: String
    public let line: Int
    public let column: Int
    public let message: String
    public let severity: Severity

    public init(path: String, line: Int, column: Int, message: String, severity: Severity = .error) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.severity = severity
    }

    init(_ location: SourceLocation, _ message: String, severity: Severity = .error) {
        self.init(path: location.path, line: location.line, column: location.column, message: message, severity: severity)
    }

    /// `path:line:col: error: message` (or `path: error: message` without a position).
    public var description: String {
        line > 0 ? "\(path):\(line):\(column): \(severity.rawValue): \(message)" : "\(path): \(severity.rawValue): \(message)"
    }
}

/// All diagnostics of a failed compilation, sorted by file and position (capped, see
/// `RuleCompiler.Limits.maxDiagnostics`).
public struct Diagnostics: Error, Sendable, Hashable, CustomStringConvertible {
    public let items: [Diagnostic]

    public init(items: [Diagnostic]) { self.items = items }

    /// Each diagnostic as `path:line:col: error: message`, then the source line, then a caret under
    /// the column. Tabs before the column are kept so the caret lines up in a terminal.
    public func rendered(sources: [SourceFile]) -> String {
        var linesByPath: [String: [Substring]] = [:]
        for s in sources where linesByPath[s.path] == nil {
            linesByPath[s.path] = SourceText.lines(of: s.text)
        }
        var out = ""
        for d in items {
            out += d.description + "\n"
            guard d.line > 0, let lines = linesByPath[d.path], d.line <= lines.count else { continue }
            let line = lines[d.line - 1]
            out += line + "\n"
            var caret = ""
            for (i, ch) in line.enumerated() where i < d.column - 1 {
                caret.append(ch == "\t" ? "\t" : " ")
            }
            let missing = d.column - 1 - min(line.count, d.column - 1)
            if missing > 0 { caret += String(repeating: " ", count: missing) }
            out += caret + "^\n"
        }
        return out
    }

    public var description: String { items.map(\.description).joined(separator: "\n") }
}

enum SourceText {
    /// Lines without their terminators; `\r\n` is one `Character` in Swift and counts as one newline.
    static func lines(of text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
    }
}

/// Collects diagnostics up to a cap, so one broken file cannot produce an unbounded report.
struct DiagnosticSink {
    private(set) var items: [Diagnostic] = []
    private(set) var dropped = 0
    let cap: Int

    init(cap: Int) { self.cap = cap }

    var hasErrors: Bool { items.contains { $0.severity == .error } }

    /// The message is built only while there is room for it: past the cap, a message with a
    /// "did you mean" search over every name of a huge file would cost time for nothing.
    mutating func error(_ at: SourceLocation, _ message: @autoclosure () -> String) {
        guard items.count < cap else {
            dropped += 1
            return
        }
        add(Diagnostic(at, message()))
    }

    mutating func warning(_ at: SourceLocation, _ message: @autoclosure () -> String) {
        guard items.count < cap else {
            dropped += 1
            return
        }
        add(Diagnostic(at, message(), severity: .warning))
    }

    mutating func add(_ d: Diagnostic) {
        if items.count < cap { items.append(d) } else { dropped += 1 }
    }

    /// Sorted by file and position (stable for equal positions); a final note when some were dropped.
    func finished() -> [Diagnostic] {
        var sorted = items.enumerated().sorted { a, b in
            let la = (a.element.path, a.element.line, a.element.column)
            let lb = (b.element.path, b.element.line, b.element.column)
            return la != lb ? la < lb : a.offset < b.offset
        }.map(\.element)
        if dropped > 0 {
            sorted.append(
                Diagnostic(
                    path: sorted.last?.path ?? "", line: 0, column: 0,
                    message: "too many errors; \(dropped) more not shown"))
        }
        return sorted
    }
}
