import Foundation
import Testing

@testable import RuleLanguage

/// Deterministic fuzzing of the rule-file front end (`RuleCompiler.compile`, what `creditwatch rules
/// check` runs): for any text the compiler returns (no trap, no stack overflow, no hang), and a
/// rejection always carries at least one error with a `file:line:col` position and a message, with
/// the diagnostics capped at `Limits.maxDiagnostics` plus one "too many errors" note.
///
/// Inputs come from fixed-seed SplitMix64 generators, so every run checks the same texts; a failure
/// names the input (test, file, number) and shows the start of its text. An input that takes more
/// than `Harness.slowInput` of CPU time to check counts as a hang.
@Suite struct RuleFuzzTests {
    // MARK: - Generators

    /// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to drive a fuzzer.
    struct SplitMix64: RandomNumberGenerator {
        private var state: UInt64

        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
        mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }
        mutating func pick<T>(_ xs: [T]) -> T { xs[int(0..<xs.count)] }
    }

    /// Keywords, punctuation and literal shapes of the language (rules/README.md), as token soup.
    static let vocabulary: [String] = [
        // declarations and fields
        "feature", "rule", "industry", "leaders", "top", "by", "scorecard", "list", "tag", "title", "category",
        "severity", "when", "score", "in", "dimension", "cooldown", "explain", "absence", "base", "range",
        "override", "cap", "floor", "grade", "grades", "weight", "item", "points",
        "person", "relation",
        // expressions
        "and", "or", "not", "is", "null", "unknown", "known", "true", "false", "where", "offset", "tagged",
        "clamp", "sum", "count", "avg", "min", "max", "last", "latest", "exists", "days_since", "changes",
        "distinct_count", "industry_sum", "as_of", "entity", "population", "alerted", "alerted_share", "division",
        "leaders_alerted", "leaders_alerted_share", "high", "low", "medium", "critical", "tax", "judicial",
        "any", "alerted(high)", "legal_representative", "represents", "shareholder.invests_in", "|", "\"{x:who}\"",
        // punctuation
        "(", ")", "[", "]", "{", "}", ",", ".", "..", "#", "=", ";", "+", "-", "*", "/", "<", ">", "==", "!=",
        "<=", ">=", "%", "\"", "//", "\n", "\n", "\t", "#history", "!",
        // literals and paths
        "0", "1", "90d", "3mo", "1y", "0d", "12mo", "100_000", "50%", "1.5", "-40", "+30", "0..1000", "\"x\"",
        "\"纳税偏低\"", "\"2024-01-31\"", "\"{tax_paid_12mo}\"", "\"{x:%}\"", "\"{{}}\"", "tax.payment.amount",
        "tax.payment", "market.enterprise#history.legal_rep_name", "court.dishonest", "AAA", "D",
    ]

    /// Characters that stress positions and classification: CJK, emoji (with ZWJ and skin tone),
    /// combining marks, NUL, lone CR, CRLF, Unicode line/paragraph separators, NEL, BOM, full-width
    /// space, curly quotes, bidi override, replacement character, vertical tab, form feed.
    static let oddCharacters: [String] = [
        "甲", "纳税", "😀", "👨‍👩‍👧", "👍🏽", "\u{301}", "e\u{301}", "a\u{301}\u{302}\u{303}", "\u{0}", "\r", "\r\n",
        "\u{2028}", "\u{2029}", "\u{85}", "\u{FEFF}", "\u{3000}", "“", "”", "\u{202E}", "\u{FFFD}", "\u{0B}",
        "\u{0C}", "\u{7F}", "\u{1}", "ｆｅａｔｕｒｅ", "\u{10FFFF}", "\u{E000}",
    ]

    /// Numbers and literals at and beyond the edges of what the lexer and parser accept.
    static let oddLiterals: [String] = [
        "1e400", "1e-400", "99999999999999999999999", "1" + String(repeating: "0", count: 400),
        "0." + String(repeating: "0", count: 400) + "1", "9" + String(repeating: "9", count: 30) + "d",
        "99999999999999999999mo", "100_000_", "1__0", "_1", "1._5", "50%%", "1.5.5", "90dd", "0d", "-0",
        "1000001", "100001", "1e3", "0x10", "NaN", "inf", "9223372036854775808", "-9223372036854775809",
        "4294967296d", "\"unterminated", "\"", "\"\\", "\"\\q\"", "\"{", "\"}\"", "\"{a:x}\"", "/*", "*/", "//",
    ]

    static func longIdentifier(_ rng: inout SplitMix64) -> String {
        let n = rng.int(200...6000)
        return "x" + String(repeating: rng.pick(["a", "_", "9", "z"]), count: n)
    }

    static func longNumber(_ rng: inout SplitMix64) -> String {
        String(repeating: rng.pick(["9", "1", "0"]), count: rng.int(20...3000)) + rng.pick(["", "%", "d", "mo", ".5"])
    }

    /// One random edit of a text, in place (as characters: most edits are cheap then).
    static func mutate(_ chars: inout [Character], _ rng: inout SplitMix64, vocabulary: [String]) {
        let n = chars.count
        func position() -> Int { rng.int(0...n) }
        switch rng.int(0..<13) {
        case 0:  // delete a span of characters
            guard n > 0 else { return }
            let a = rng.int(0..<n)
            chars.removeSubrange(a..<min(n, a + rng.int(1...12)))
        case 1:  // delete one UTF-8 byte (may split a character; decoded lossily)
            var bytes = Array(String(chars).utf8)
            guard !bytes.isEmpty else { return }
            bytes.remove(at: rng.int(0..<bytes.count))
            chars = Array(String(decoding: bytes, as: UTF8.self))
        case 2, 3:  // insert a token of the language
            let t = rng.pick(vocabulary)
            let sep = rng.pick(["", " ", "\n"])
            chars.insert(contentsOf: sep + t + sep, at: position())
        case 4:  // duplicate a span somewhere else
            guard n > 0 else { return }
            let a = rng.int(0..<n)
            let span = Array(chars[a..<min(n, a + rng.int(1...200))])
            chars.insert(contentsOf: span, at: position())
        case 5:  // swap two lines
            var lines = chars.split(separator: "\n", omittingEmptySubsequences: false)
            guard lines.count > 1 else { return }
            lines.swapAt(rng.int(0..<lines.count), rng.int(0..<lines.count))
            chars = Array(lines.joined(separator: ["\n"]))
        case 6:  // odd Unicode
            chars.insert(contentsOf: rng.pick(oddCharacters), at: position())
        case 7:  // edge-case literals, unterminated strings and comments
            chars.insert(contentsOf: rng.pick(oddLiterals), at: position())
        case 8:  // very long identifier or number
            chars.insert(contentsOf: rng.chance(50) ? longIdentifier(&rng) : longNumber(&rng), at: position())
        case 9:  // replace one character with a random ASCII one
            guard n > 0 else { return }
            chars[rng.int(0..<n)] = Character(Unicode.Scalar(UInt8(rng.int(0...127))))
        case 10:  // open a string or a placeholder that never closes
            chars.insert(contentsOf: rng.pick(["\"", "\"{", "{", "\"\\"]), at: position())
        case 11:  // truncate
            chars.removeSubrange(position()..<n)
        default:  // a deep nest dropped into the middle
            let depth = rng.int(50...300)
            let open = rng.pick(["(", "-", "not ", "clamp(", "sum(tax.payment.amount where ", "x in [("])
            chars.insert(contentsOf: String(repeating: open, count: depth) + "1", at: position())
        }
    }

    static func tokenSoup(_ rng: inout SplitMix64, vocabulary: [String]) -> String {
        var s = ""
        for _ in 0..<rng.int(1...120) {
            switch rng.int(0..<20) {
            case 0: s += rng.pick(oddCharacters)
            case 1: s += rng.pick(oddLiterals)
            default: s += rng.pick(vocabulary)
            }
            s += rng.pick([" ", " ", " ", "\n", "", "  "])
        }
        return s
    }

    static func randomBytes(_ rng: inout SplitMix64) -> String {
        let count = rng.int(0...600)
        let printable = rng.chance(50)
        let bytes = (0..<count).map { _ in printable ? UInt8(rng.int(9...126)) : UInt8(rng.int(0...255)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - The promise

    /// Compiles inputs and checks every outcome; collects violations instead of recording thousands
    /// of issues.
    struct Harness {
        /// CPU time (of this thread, so a busy machine does not count): far above what any input
        /// here needs in a debug build (a few tenths of a second), far below what the quadratic
        /// checks this suite guards against took (seconds to minutes).
        static let slowInput = Duration.seconds(1)

        static func cpuTime() -> Duration {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return .seconds(t.tv_sec) + .nanoseconds(t.tv_nsec)
        }

        let limits = RuleCompiler.Limits()
        var inputs = 0
        var rejected = 0
        var violations: [String] = []

        /// `mutated` is checked; `context` (other files of the set) is compiled with it, unchanged.
        /// The diagnostics of a rejection, nil when the set compiled.
        @discardableResult
        mutating func check(_ mutated: SourceFile, context: [SourceFile] = [], label: @autoclosure () -> String) -> Diagnostics? {
            inputs += 1
            let files = context + [mutated]
            let start = Harness.cpuTime()
            let result = RuleCompiler.compile(files, schema: Fixtures.schema, limits: limits)
            let elapsed = Harness.cpuTime() - start
            if elapsed > Harness.slowInput { violate("took \(elapsed)", label(), mutated.text) }
            guard case .failure(let d) = result else { return nil }
            rejected += 1
            for problem in Harness.problems(d, files: files, cap: limits.maxDiagnostics) { violate(problem, label(), mutated.text) }
            return d
        }

        private mutating func violate(_ problem: String, _ label: String, _ text: String) {
            guard violations.count < 20 else { return }
            let excerpt = String(text.prefix(300)).debugDescription
            violations.append("\(label): \(problem)\n  input (\(text.count) characters): \(excerpt)")
        }

        /// What is wrong with the diagnostics of a rejection (nothing, normally).
        static func problems(_ d: Diagnostics, files: [SourceFile], cap: Int) -> [String] {
            var problems: [String] = []
            // Only the files that diagnostics name are split into lines (and rendered).
            let named = files.filter { f in d.items.contains { $0.path == f.path } }
            let lines = Dictionary(named.map { ($0.path, SourceText.lines(of: $0.text)) }, uniquingKeysWith: { a, _ in a })
            let positioned = d.items.filter { $0.line >= 1 && $0.column >= 1 && lines[$0.path] != nil }
            if !positioned.contains(where: { $0.severity == .error && !$0.message.trimmingCharacters(in: .whitespaces).isEmpty }) {
                problems.append("rejected without a positioned error: \(d.items.map(\.description))")
            }
            if d.items.count > cap + 1 { problems.append("\(d.items.count) diagnostics, more than the cap \(cap) + 1") }
            for (k, item) in d.items.enumerated() {
                if item.message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    problems.append("empty message at \(item)")
                }
                if item.line <= 0 {
                    // Only the final note may lack a position (no overrides are given here).
                    let isNote = k == d.items.count - 1 && item.message.hasPrefix("too many errors; ")
                    if !isNote { problems.append("diagnostic without a position: \(item)") }
                    if isNote && d.items.count != cap + 1 { problems.append("'too many errors' note after \(k) diagnostics") }
                    continue
                }
                guard let fileLines = lines[item.path] else {
                    problems.append("diagnostic in an unknown file: \(item)")
                    continue
                }
                guard item.line <= fileLines.count else {
                    problems.append("line beyond the end of the file (\(fileLines.count) lines): \(item)")
                    continue
                }
                let length = fileLines[item.line - 1].count
                if item.column < 1 || item.column > length + 1 {
                    problems.append("column outside its line (\(length) characters): \(item)")
                }
                if k > 0, d.items[k - 1].line > 0,
                    (d.items[k - 1].path, d.items[k - 1].line, d.items[k - 1].column) > (item.path, item.line, item.column)
                {
                    problems.append("diagnostics out of order at \(item)")
                }
            }
            let rendered = d.rendered(sources: named)
            if let first = d.items.first, first.line > 0, !rendered.hasPrefix(first.description + "\n") {
                problems.append("rendering does not start with the first diagnostic")
            }
            return problems
        }

        func report(_ name: String) {
            #expect(violations.isEmpty, "\(name): \(violations.count) violations\n\(violations.joined(separator: "\n"))")
        }
    }

    /// The shipped `rules/*.cwr`, found from this file (`Tests/RuleLanguageTests/` → repository root).
    static func shippedRules() throws -> [SourceFile] {
        let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("rules")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".cwr") }.sorted()
        return try names.map {
            SourceFile(path: "rules/\($0)", text: try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8))
        }
    }

    /// The vocabulary plus every name the shipped files use (features, rules, fields), so that
    /// mutations and soup also reach the checker with names that resolve.
    static func vocabulary(with files: [SourceFile]) -> [String] {
        var names = Set<String>()
        for f in files { names.formUnion(Lexer.tokenize(f).tokens.compactMap(\.identifier)) }
        return vocabulary + names.sorted()
    }

    // MARK: - Tests

    /// Stacks of 1–4 random edits of each shipped file, compiled alone and (every 20th) together
    /// with the rest of the shipped set, whose features, tags and dimensions it references.
    @Test(.timeLimit(.minutes(1)))
    func mutatedShippedRulesKeepThePromise() throws {
        let files = try Self.shippedRules()
        #expect(files.count >= 8)
        let vocabulary = Self.vocabulary(with: files)
        var rng = SplitMix64(seed: 0x00C0_FFEE)
        var harness = Harness()
        for file in files {
            let original = Array(file.text)
            let others = files.filter { $0.path != file.path }
            for k in 0..<Self.mutationsPerFile {
                var chars = original
                for _ in 0..<rng.int(1...4) { Self.mutate(&chars, &rng, vocabulary: vocabulary) }
                harness.check(
                    SourceFile(path: file.path, text: String(chars)), context: k % Self.withSetEvery == 0 ? others : [],
                    label: "mutation \(k) of \(file.path)")
            }
        }
        harness.report("mutations")
        #expect(harness.inputs == files.count * Self.mutationsPerFile)
        // Most mutants are broken; some edits (a duplicated comment, a swapped blank line) are not.
        #expect(harness.rejected > harness.inputs / 2)
    }

    static let mutationsPerFile = 50
    static let withSetEvery = 20

    /// Every prefix of each shipped file cut at every 71st character (and the suffix from there),
    /// compiled alone: unterminated strings, rules, scorecards and expressions at every depth.
    @Test(.timeLimit(.minutes(1)))
    func truncationsOfShippedRulesKeepThePromise() throws {
        let files = try Self.shippedRules()
        var harness = Harness()
        for file in files {
            let chars = Array(file.text)
            for cut in stride(from: 0, to: chars.count, by: Self.truncationStride) {
                harness.check(SourceFile(path: file.path, text: String(chars[..<cut])), label: "\(file.path) cut at \(cut)")
                harness.check(SourceFile(path: file.path, text: String(chars[cut...])), label: "\(file.path) from \(cut)")
            }
        }
        harness.report("truncations")
        #expect(harness.rejected > harness.inputs / 2)
    }

    static let truncationStride = 71

    /// Random bytes (decoded lossily as UTF-8, printable or not) and random sequences of the
    /// language's tokens.
    @Test(.timeLimit(.minutes(1)))
    func randomBytesAndTokenSoupKeepThePromise() throws {
        let vocabulary = Self.vocabulary(with: try Self.shippedRules())
        var rng = SplitMix64(seed: 0x5EED_0001)
        var harness = Harness()
        for k in 0..<Self.randomInputs {
            harness.check(SourceFile(path: "rules/random.cwr", text: Self.randomBytes(&rng)), label: "random bytes \(k)")
            harness.check(
                SourceFile(path: "rules/soup.cwr", text: Self.tokenSoup(&rng, vocabulary: vocabulary)), label: "token soup \(k)")
        }
        harness.report("random")
        #expect(harness.inputs == 2 * Self.randomInputs)
        #expect(harness.rejected > harness.inputs / 2)
    }

    static let randomInputs = 200

    /// Nesting 10 000 levels deep (1 000 for the longer constructs) in every construct that nests,
    /// in every place an expression goes, is rejected with the parser's nesting diagnostic.
    @Test(.timeLimit(.minutes(1)))
    func pathologicalNestingIsRejected() {
        let nests: [(open: String, atom: String, close: String, depth: Int)] = [
            ("(", "1", ")", 10_000), ("-", "1", "", 10_000), ("not ", "true", "", 10_000), ("-(", "1", ")", 1_000),
            ("not(", "true", ")", 1_000), ("(not -", "1", ")", 1_000), ("((", "1", "", 1_000), ("-(", "", "", 1_000),
            ("clamp(", "1", ",0,1)", 1_000), ("clamp(1,", "1", ",2)", 1_000),
            ("exists(tax.payment where ", "amount > 0", ")", 1_000), ("1 in [(", "1", ")]", 1_000),
        ]
        var harness = Harness()
        for (open, atom, close, depth) in nests {
            let expression = String(repeating: open, count: depth) + atom + String(repeating: close, count: depth)
            let sources = [
                "feature f = \(expression)\nfeature g = undefined_name\n",
                "rule r {\n  title \"t\"\n  category tax\n  severity low\n  when \(expression)\n  explain \"e\"\n}\n",
                "tag t \"t\" when \(expression)\n",
                "scorecard s {\n  base 1\n  range 0..2\n  dimension d \"d\" {\n    cap 1\n    item i \"i\" points = \(expression)\n  }\n  grades { A >= 1, B }\n}\n",
            ]
            for (k, text) in sources.enumerated() {
                let label = "\(depth) × '\(open)' in form \(k)"
                guard let d = harness.check(SourceFile(path: "rules/deep.cwr", text: text), label: label) else {
                    Issue.record("\(label) compiled")
                    continue
                }
                #expect(
                    d.items.contains { $0.message == "expression is nested too deeply (the limit is 64 levels)" && $0.line >= 1 },
                    "\(label): \(d.items.prefix(3).map(\.description))")
            }
        }
        harness.report("nesting")
        #expect(harness.inputs == nests.count * 4)
    }

    /// The exact diagnostic for nesting beyond the limit, at the token where it is exceeded; the
    /// rest of the file is still checked.
    @Test func nestingLimitHasAnExactDiagnostic() {
        let n = 10_000
        func diagnostics(_ text: String) -> [String] {
            guard case .failure(let d) = RuleCompiler.compile([SourceFile(path: "rules/deep.cwr", text: text)], schema: Fixtures.schema)
            else { return [] }
            return d.items.map(\.description)
        }
        let parens = String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n)
        // The expression is level 1, so the 64th '(' would open level 65: the diagnostic points at
        // the token after it (`feature f = ` is 12 columns: the 65th '(', column 77), as in
        // LexerTests.nestingIsBounded.
        #expect(
            diagnostics("feature f = \(parens)\nfeature g = nope\n") == [
                "rules/deep.cwr:1:77: error: expression is nested too deeply (the limit is 64 levels)",
                "rules/deep.cwr:2:13: error: unknown feature 'nope'",
            ])
        #expect(
            diagnostics("feature f = " + String(repeating: "-", count: n) + "1") == [
                "rules/deep.cwr:1:77: error: expression is nested too deeply (the limit is 64 levels)"
            ])
        #expect(
            diagnostics("feature f = " + String(repeating: "not ", count: n) + "true") == [
                "rules/deep.cwr:1:269: error: expression is nested too deeply (the limit is 64 levels)"
            ])
        let rule = """
            rule r {
              title    "t"
              category tax
              severity low
              when     \(String(repeating: "(", count: n))true\(String(repeating: ")", count: n))
              explain  "e"
            }
            """
        #expect(diagnostics(rule) == ["rules/deep.cwr:5:76: error: expression is nested too deeply (the limit is 64 levels)"])
        let rendered = Fixtures.diagnostics("feature f = " + String(repeating: "(", count: 70) + "1", path: "rules/deep.cwr")
        #expect(
            rendered == """
                rules/deep.cwr:1:77: error: expression is nested too deeply (the limit is 64 levels)
                feature f = \(String(repeating: "(", count: 70))1
                \(String(repeating: " ", count: 76))^

                """)
    }

    /// Chains of features or tags, each reading the next and declared outermost first, so that
    /// checking the first walks the whole chain: rejected at the evaluation depth limit (256) where
    /// the chain goes too deep, without overflowing the checker's stack.
    @Test(.timeLimit(.minutes(1)))
    func longReferenceChainsAreRejected() {
        let n = 3000
        var harness = Harness()
        func diagnostics(_ text: String) -> [String] {
            let label = "chain \(harness.inputs)"
            return harness.check(SourceFile(path: "rules/chain.cwr", text: text), label: label)?.items.map(\.description) ?? []
        }
        // Checked innermost first: the first feature beyond the limit is reported, those reading it
        // fail silently, as for a chain declared in order.
        let features = (0..<n).map { "feature f\($0) = f\($0 + 1) + 1" }.joined(separator: "\n") + "\nfeature f\(n) = 1\n"
        #expect(
            diagnostics(features) == [
                "rules/chain.cwr:2873:9: error: feature 'f2872' is nested too deeply through other features (depth 257, the limit is 256)"
            ])
        let forward = "feature f0 = 1\n" + (1...n).map { "feature f\($0) = f\($0 - 1) + 1" }.joined(separator: "\n")
        #expect(
            diagnostics(forward) == [
                "rules/chain.cwr:129:9: error: feature 'f128' is nested too deeply through other features (depth 257, the limit is 256)"
            ])
        let tags = (0..<n).map { "tag t\($0) \"t\" when tagged t\($0 + 1)" }.joined(separator: "\n") + "\ntag t\(n) \"t\" when true\n"
        #expect(
            diagnostics(tags) == [
                "rules/chain.cwr:2745:20: error: condition is nested too deeply through features and tags (depth 257, the limit is 256)"
            ])
        let scorecard = """
            scorecard s {
              base 1
              range 0..2
              dimension d "d" {
                cap 1
                item i "i" points = f0
              }
              grades { A >= 1, B }
            }

            """
        #expect(
            diagnostics(scorecard + features) == [
                "rules/chain.cwr:2882:9: error: feature 'f2872' is nested too deeply through other features (depth 257, the limit is 256)"
            ])
        // A cycle is checked by following it; one longer than the limit is cut off where the
        // nesting exceeds it (every 256 features), the chain named.
        let cycle = (0..<n).map { "feature f\($0) = f\(($0 + 1) % n)" }.joined(separator: "\n")
        let cut = diagnostics(cycle)
        #expect(
            cut.first
                == "rules/chain.cwr:256:16: error: nested too deeply through features and tags (the limit is 256 levels): f0 -> f1 -> f2 -> … -> f253 -> f254 -> f255 -> f256"
        )
        #expect(cut.count == n / 256 && cut.allSatisfy { $0.contains("error: nested too deeply through features and tags") })
        // A short cycle is still reported as one.
        #expect(
            diagnostics("feature a = b + 1\nfeature b = a\nfeature c = 1\n")
                == ["rules/chain.cwr:2:13: error: cyclic feature definition: a -> b -> a"])
        harness.report("chains")
    }

    /// Very long names, numbers and dotted paths cost time linear in their length: the "did you
    /// mean" search compares only names of similar length, within a band of the edit limit, and a
    /// path is matched against topic names by its first segments only.
    @Test(.timeLimit(.minutes(1)))
    func longNamesAndPathsStayFast() {
        let long = String(repeating: "a", count: 20_000)
        let path = (0..<20_000).map { _ in "tax" }.joined(separator: ".")
        let digits = String(repeating: "9", count: 20_000)
        let cases: [(String, String)] = [
            ("feature \(long)b = 1\nfeature g = \(long)c\n", "rules/long.cwr:2:13: error: unknown feature '\(long)c'; did you mean '\(long)b'?"),
            ("feature f = sum(\(path), 3mo)\n", "rules/long.cwr:1:17: error: unknown topic '\(path.dropLast(4))'"),
            ("feature f = sum(tax.payment.amount.\(path), 3mo)\n", "rules/long.cwr:1:36: error: 'tax.payment.amount' has no fields of its own"),
            ("feature f = \(digits)\nfeature g = f + nope\n", "rules/long.cwr:2:17: error: unknown feature 'nope'"),
            ("feature f = \(digits)d\n", "rules/long.cwr:1:13: error: bad window '\(digits)d'; write days like 90d or months like 3mo"),
        ]
        var harness = Harness()
        for (k, (text, expected)) in cases.enumerated() {
            guard let d = harness.check(SourceFile(path: "rules/long.cwr", text: text), label: "long case \(k)") else {
                Issue.record("long case \(k) compiled")
                continue
            }
            #expect(d.items.map(\.description) == [expected], "long case \(k)")
        }
        // Thousands of names, each one edit from the next: suggestions stay exact.
        let many = (0..<3000).map { "feature n\($0) = 1" }.joined(separator: "\n") + "\nfeature g = n3000 + n12x\n"
        #expect(
            harness.check(SourceFile(path: "rules/long.cwr", text: many), label: "many names")?.items.map(\.description) == [
                "rules/long.cwr:3001:13: error: unknown feature 'n3000'; did you mean 'n1000'?",
                "rules/long.cwr:3001:21: error: unknown feature 'n12x'; did you mean 'n12'?",
            ])
        harness.report("long")
    }

    /// Rule sets with thousands of names, references, lists, scorecards, dimensions, grades and
    /// items are checked in time linear in their size (each of these took seconds to minutes when
    /// some check was quadratic: a "did you mean" search per unknown name, a linear membership
    /// test per read, list or dimension, a walk of a huge closure of features per rule).
    @Test(.timeLimit(.minutes(1)))
    func largeRuleSetsAreCheckedInLinearTime() {
        func balanced(_ names: ArraySlice<String>, _ op: String) -> String {
            if names.count == 1 { return names.first! }
            let mid = names.startIndex + names.count / 2
            return "(" + balanced(names[..<mid], op) + op + balanced(names[mid...], op) + ")"
        }
        func rule(_ i: Int, _ when: String) -> String {
            "rule r\(i) {\n  title \"t\"\n  category tax\n  severity low\n  when \(when)\n  explain \"e\"\n}\n"
        }
        let n = Self.scale
        let names = (0..<n).map { "f\($0)" }
        let features = names.map { "feature \($0) = 1" }.joined(separator: "\n") + "\n"
        let sum = balanced(names[...], " + ")
        // The first diagnostic of each (nil: the set compiles).
        let cases: [(label: String, text: String, first: String?)] = [
            ("a rule reading every feature", features + rule(0, sum + " > 0"), nil),
            (
                "rules reading one feature that reads every feature",
                features + "feature big = \(sum)\n" + (0..<n / 50).map { rule($0, "big > 0") }.joined(), nil
            ),
            (
                "rules reading one feature beyond the cost limit",
                features + "feature big = \(balanced(names[...] + names[...], " + "))\n" + (0..<n / 10).map { rule($0, "big > 0") }.joined(),
                "rules/large.cwr:\(n + 2):6: error: rule 'r0' is too expensive to evaluate (cost more than 10000, the limit is 10000)"
            ),
            (
                "a rule with thousands of parameters",
                "rule p (" + names.map { "\($0) = 1" }.joined(separator: ", ") + ") {\n  title \"t\"\n  category tax\n  severity low\n"
                    + "  when \(sum) > 0\n  explain \"e\"\n}\n",
                nil
            ),
            (
                "thousands of reads of a long list",
                "list l \"t\" = [\(names.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
                    + rule(0, balanced(Array(repeating: "entity in l", count: n / 2)[...], " or ") + " and nope"),
                // `  when ` + n/2 leaves of 11 characters joined by ` or ` in parentheses + ` and `.
                "rules/large.cwr:6:\(17 * (n / 2) + 7): error: unknown feature 'nope'"
            ),
            (
                "thousands of scorecards", (0..<n).map { "scorecard s\($0) { base 1 }" }.joined(separator: "\n") + "\nscorecard s0 {}\n",
                "rules/large.cwr:1:11: error: scorecard 's0' is missing 'range'"
            ),
            (
                // Rules are checked before scorecards: their errors fill the report.
                "thousands of dimensions and rules scoring in unknown ones",
                "scorecard s {\n" + names.map { "  dimension \($0) \"t\" { cap 1 }" }.joined(separator: "\n") + "\n}\n"
                    + (0..<n / 4).map { "rule r\($0) { score 1 in dimension x\($0) }" }.joined(separator: "\n"),
                "rules/large.cwr:\(n + 3):6: error: rule 'r0' is missing 'title'"
            ),
            (
                "thousands of grades and overrides",
                "scorecard s {\n  grades {\n" + names.enumerated().map { "    G\($1) >= \(n - $0),\n" }.joined() + "    Z\n  }\n"
                    + names.map { "  override o\($0) \"t\" cap grade G\($0) when true" }.joined(separator: "\n") + "\n}\n",
                "rules/large.cwr:1:11: error: scorecard 's' is missing 'base'"
            ),
            (
                "thousands of items reading one huge feature",
                features + "feature big = \(sum)\nscorecard s {\n  dimension d \"t\" {\n    cap 1\n"
                    + (0..<n / 10).map { "    item i\($0) \"t\" points = big" }.joined(separator: "\n") + "\n  }\n}\n",
                "rules/large.cwr:\(n + 2):11: error: scorecard 's' is missing 'base'"
            ),
        ]
        var harness = Harness()
        for (label, text, first) in cases {
            let d = harness.check(SourceFile(path: "rules/large.cwr", text: text), label: label)
            #expect(d?.items.first?.description == first, "\(label)")
        }
        harness.report("large")
        #expect(harness.inputs == cases.count)
    }

    static let scale = 2500

    /// The banded edit distance behind "did you mean" agrees with the full Levenshtein table
    /// wherever the distance is within its limit (and reports nothing beyond it).
    @Test func boundedEditDistanceMatchesLevenshtein() {
        func levenshtein(_ a: [Character], _ b: [Character]) -> Int {
            var d = (0...b.count).map { [$0] + [Int](repeating: 0, count: a.count) }
            for i in 0...a.count { d[0][i] = i }
            for j in 1...max(1, b.count) where j <= b.count {
                for i in 1...max(1, a.count) where i <= a.count {
                    d[j][i] = min(d[j - 1][i] + 1, d[j][i - 1] + 1, d[j - 1][i - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
            }
            return d[b.count][a.count]
        }
        var rng = SplitMix64(seed: 0xED17)
        let alphabet: [Character] = ["a", "b", "c", "_", "1", "甲", "😀"]
        for _ in 0..<1000 {
            let a = (0..<rng.int(0...9)).map { _ in rng.pick(alphabet) }
            let b = (0..<rng.int(0...9)).map { _ in rng.pick(alphabet) }
            let full = levenshtein(a, b)
            for limit in 0...5 {
                let banded = Suggest.distance(a, b, atMost: limit)
                #expect(banded == (full <= limit ? full : nil), "\(String(a)) \(String(b)) limit \(limit)")
            }
            #expect(Suggest.distance(String(a), String(b)) == full)
        }
    }

    /// A file with an error on every line reports `maxDiagnostics` (50) of them and one note, and
    /// builds no message it drops (this took minutes when each of 5 000 unknown names searched
    /// 5 000 features for a suggestion).
    @Test func diagnosticsStayCapped() {
        let cap = RuleCompiler.Limits().maxDiagnostics
        #expect(cap == 50)
        let text = (1...5000).map { "feature f\($0) = nope\($0) ) 甲 \"" }.joined(separator: "\n")
        let file = SourceFile(path: "rules/many.cwr", text: text)
        guard case .failure(let d) = RuleCompiler.compile([file], schema: Fixtures.schema) else {
            Issue.record("compiled")
            return
        }
        #expect(d.items.count == cap + 1)
        #expect(d.items.last?.description.hasPrefix("rules/many.cwr: error: too many errors; ") == true)
        #expect(d.items.dropLast().allSatisfy { $0.line >= 1 && $0.column >= 1 })
        #expect(Harness.problems(d, files: [file], cap: cap) == [])
    }
}
