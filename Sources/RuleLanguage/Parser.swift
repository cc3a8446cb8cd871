/// Recursive-descent parser: tokens → declarations. A syntax error abandons the current rule field
/// or declaration, is recorded, and parsing resumes at the next line that starts a field or a
/// declaration, so one pass reports many errors.
struct Parser {
    struct Failure: Error {
        let diagnostic: Diagnostic
    }

    static let ruleFieldKeywords = ["title", "category", "severity", "when", "score", "cooldown", "explain", "absence"]
    static let declarationKeywords: Set<String> = ["feature", "rule", "industry", "person", "scorecard", "list", "tag", "relation"]
    static let scorecardFieldKeywords = ["base", "range", "dimension", "override", "grades"]
    static let dimensionFieldKeywords = ["weight", "cap", "item"]
    /// Industry figures over the division's enterprises (see `PeerCallSyntax`).
    static let peerFunctions: Set<String> = ["share", "members", "percentile", "peer_rank"]
    static let reservedWords: Set<String> = ["and", "or", "not", "in", "is", "true", "false", "null", "where", "offset"]

    private let tokens: [Token]
    private let maxDepth: Int
    private var p = 0
    private var nesting = 0
    private(set) var declarations: [Declaration] = []
    private(set) var diagnostics: [Diagnostic] = []

    init(tokens: [Token], maxDepth: Int) {
        self.tokens = tokens
        self.maxDepth = maxDepth
    }

    static func parse(_ file: SourceFile, maxDepth: Int) -> (declarations: [Declaration], diagnostics: [Diagnostic]) {
        let lexed = Lexer.tokenize(file)
        var parser = Parser(tokens: lexed.tokens, maxDepth: maxDepth)
        parser.parseFile()
        return (parser.declarations, lexed.diagnostics + parser.diagnostics)
    }

    // MARK: - Token helpers

    private var current: Token { tokens[p] }
    private func peek(_ k: Int) -> Token { tokens[min(p + k, tokens.count - 1)] }

    @discardableResult
    private mutating func advance() -> Token {
        let t = tokens[p]
        if !t.isEnd { p += 1 }
        return t
    }

    private func fail(_ at: SourceLocation, _ message: String) -> Failure {
        Failure(diagnostic: Diagnostic(at, message))
    }

    private func unexpected(_ expected: String) -> Failure {
        fail(current.location, "expected \(expected), found \(current.display)")
    }

    private mutating func expectSymbol(_ s: String, _ what: String? = nil) throws {
        guard current.isSymbol(s) else { throw unexpected(what ?? "'\(s)'") }
        advance()
    }

    private mutating func expectWord(_ w: String) throws {
        guard current.isWord(w) else { throw unexpected("'\(w)'") }
        advance()
    }

    private mutating func name(_ what: String) throws -> Identifier {
        guard let n = current.identifier, !Parser.reservedWords.contains(n) else { throw unexpected(what) }
        let t = advance()
        return Identifier(name: n, location: t.location)
    }

    private func canonical(from start: Int) -> String {
        tokens[start..<p].map(\.text).joined(separator: " ")
    }

    // MARK: - Declarations

    mutating func parseFile() {
        while !current.isEnd {
            let start = p
            do {
                try parseDeclaration()
            } catch let f as Failure {
                diagnostics.append(f.diagnostic)
                if p == start { advance() }
                skipToDeclaration()
            } catch {}
        }
    }

    private mutating func skipToDeclaration() {
        while !current.isEnd {
            if current.startsLine, let w = current.identifier, Parser.declarationKeywords.contains(w) { return }
            advance()
        }
    }

    private mutating func parseDeclaration() throws {
        let start = p
        var kind = RuleKind.enterprise
        if current.isWord("industry") {
            kind = .industry
            advance()
            if current.isWord("leaders") {
                advance()
                try parseLeaders(start: start)
                return
            }
            guard current.isWord("feature") || current.isWord("rule") else {
                throw unexpected("'feature', 'rule' or 'leaders' after 'industry'")
            }
        } else if current.isWord("person") {
            // Features are shared by enterprises and persons: only rules have a person kind.
            kind = .person
            advance()
            guard current.isWord("rule") else { throw unexpected("'rule' after 'person'") }
        }
        if current.isWord("feature") {
            advance()
            let n = try name("a feature name")
            try expectSymbol("=")
            let e = try expression()
            declarations.append(.feature(FeatureDecl(kind: kind, name: n, expression: e, canonicalText: canonical(from: start))))
        } else if current.isWord("rule") {
            advance()
            try parseRule(kind: kind, start: start)
        } else if current.isWord("scorecard") {
            advance()
            try parseScorecard(start: start)
        } else if current.isWord("list") {
            advance()
            try parseList(start: start)
        } else if current.isWord("tag") {
            advance()
            try parseTag(start: start)
        } else if current.isWord("relation") {
            advance()
            try parseRelation(start: start)
        } else {
            throw unexpected("'feature', 'rule', 'person rule', 'industry rule', 'scorecard', 'list', 'tag' or 'relation'")
        }
    }

    /// `relation NAME = PATH ("|" PATH)*`, each path `step(.step)*`.
    private mutating func parseRelation(start: Int) throws {
        let n = try name("a relation name")
        try expectSymbol("=")
        var paths = [try fieldPath()]
        while current.isSymbol("|") {
            advance()
            paths.append(try fieldPath())
        }
        declarations.append(.relation(RelationDecl(name: n, paths: paths, canonicalText: canonical(from: start))))
    }

    /// `list NAME "标题" = ["a", "b"]` (strings only; may be empty).
    private mutating func parseList(start: Int) throws {
        let n = try name("a list name")
        guard case .string(let title, _) = current.kind else { throw unexpected("a quoted list title") }
        advance()
        try expectSymbol("=")
        try expectSymbol("[", "'[' to start the list")
        var items: [String] = []
        while !current.isSymbol("]") {
            guard case .string(let item, _) = current.kind else {
                throw fail(current.location, "list items must be quoted strings, found \(current.display)")
            }
            advance()
            items.append(item)
            if current.isSymbol(",") { advance() } else if !current.isSymbol("]") { throw unexpected("',' or ']'") }
        }
        advance()
        declarations.append(.list(ListDecl(name: n, title: title, items: items, canonicalText: canonical(from: start))))
    }

    /// `tag NAME "标题" when COND [explain "…"]`.
    private mutating func parseTag(start: Int) throws {
        let n = try name("a tag name")
        guard case .string(let title, _) = current.kind else { throw unexpected("a quoted tag title") }
        advance()
        try expectWord("when")
        let condition = try expression()
        var explanation: TemplateSyntax?
        if current.isWord("explain") {
            advance()
            explanation = try template()
        }
        declarations.append(
            .tag(TagDecl(name: n, title: title, condition: condition, explanation: explanation, canonicalText: canonical(from: start))))
    }

    /// `industry leaders top N by FEATURE` (after `industry leaders`).
    private mutating func parseLeaders(start: Int) throws {
        try expectWord("top")
        guard case .number(let v, let percent) = current.kind, !percent, v.rounded() == v, v <= 1_000_000 else {
            throw unexpected("a whole number of leaders, as in 'top 10'")
        }
        let top = IntegerLiteral(value: Int(v), location: current.location)
        advance()
        try expectWord("by")
        let feature = try name("a feature name")
        declarations.append(
            .leaders(LeadersDecl(location: tokens[start].location, top: top, feature: feature, canonicalText: canonical(from: start))))
    }

    /// A quoted explanation template, with the position of its first character.
    private mutating func template() throws -> TemplateSyntax {
        guard case .string(_, let raw) = current.kind else { throw unexpected("a quoted explanation") }
        let at = current.location
        advance()
        return TemplateSyntax(raw: raw, start: SourceLocation(path: at.path, line: at.line, column: at.column + 1))
    }

    private mutating func parseRule(kind: RuleKind, start: Int) throws {
        let n = try name("a rule name")
        var params: [ParamDecl] = []
        if current.isSymbol("(") {
            advance()
            while !current.isSymbol(")") {
                let pn = try name("a parameter name")
                try expectSymbol("=")
                let negative = current.isSymbol("-")
                if negative { advance() }
                guard case .number(let v, let percent) = current.kind else {
                    throw unexpected("a number as the default of parameter '\(pn.name)'")
                }
                advance()
                params.append(ParamDecl(name: pn, value: negative ? -v : v, percent: percent))
                if current.isSymbol(",") { advance() } else if !current.isSymbol(")") { throw unexpected("',' or ')'") }
            }
            advance()
        }
        try expectSymbol("{")
        var fields: [RuleField] = []
        while true {
            if current.isSymbol("}") {
                advance()
                break
            }
            if current.isEnd {
                diagnostics.append(Diagnostic(current.location, "expected '}' to close rule '\(n.name)'"))
                break
            }
            if current.startsLine, let w = current.identifier, Parser.declarationKeywords.contains(w) {
                diagnostics.append(Diagnostic(current.location, "expected '}' to close rule '\(n.name)'"))
                break
            }
            let fieldStart = p
            do {
                fields.append(try parseRuleField())
                if current.isSymbol(";") { advance() }
            } catch let f as Failure {
                diagnostics.append(f.diagnostic)
                if let w = tokens[fieldStart].identifier, Parser.ruleFieldKeywords.contains(w) {
                    fields.append(RuleField(keyword: Identifier(name: w, location: tokens[fieldStart].location), value: .broken))
                }
                if p == fieldStart { advance() }
                skipToRuleField()
            }
        }
        declarations.append(
            .rule(RuleDecl(kind: kind, name: n, params: params, fields: fields, canonicalText: canonical(from: start))))
    }

    private mutating func skipToRuleField() {
        while !current.isEnd, !current.isSymbol("}") {
            if current.startsLine, let w = current.identifier,
                Parser.ruleFieldKeywords.contains(w) || Parser.declarationKeywords.contains(w)
            {
                return
            }
            advance()
        }
    }

    private mutating func parseRuleField() throws -> RuleField {
        guard let w = current.identifier else { throw unexpected("a rule field (\(Parser.ruleFieldKeywords.joined(separator: ", ")))") }
        let keyword = Identifier(name: w, location: current.location)
        switch w {
        case "title":
            advance()
            guard case .string(let s, _) = current.kind else { throw unexpected("a quoted title") }
            advance()
            return RuleField(keyword: keyword, value: .title(s))
        case "category":
            advance()
            return RuleField(keyword: keyword, value: .category(try name("a category")))
        case "severity":
            advance()
            return RuleField(keyword: keyword, value: .severity(try name("a severity")))
        case "when":
            advance()
            return RuleField(keyword: keyword, value: .when(try expression()))
        case "score":
            advance()
            let sign: Double = current.isSymbol("-") ? -1 : 1
            if current.isSymbol("-") || current.isSymbol("+") { advance() }
            guard case .number(let v, let percent) = current.kind, !percent else { throw unexpected("a whole number of points") }
            guard v.rounded() == v, v <= 100_000 else { throw fail(current.location, "score points must be a whole number up to 100000") }
            advance()
            try expectWord("in")
            try expectWord("dimension")
            let dimension = try name("a dimension name")
            return RuleField(keyword: keyword, value: .score(points: Int(sign * v), dimension: dimension))
        case "cooldown":
            advance()
            return RuleField(keyword: keyword, value: .cooldown(try windowLiteral(allowZero: true)))
        case "explain":
            advance()
            return RuleField(keyword: keyword, value: .explain(try template()))
        case "absence":
            advance()
            var topics = [try fieldPath()]
            while current.isSymbol(",") {
                advance()
                topics.append(try fieldPath())
            }
            return RuleField(keyword: keyword, value: .absence(topics))
        default:
            var message = "unknown rule field '\(w)'"
            if let s = Suggest.closest(to: w, among: Parser.ruleFieldKeywords) { message += "; did you mean '\(s)'?" }
            throw fail(keyword.location, message)
        }
    }

    /// `90d`, `3mo`, `1y`.
    private mutating func windowLiteral(allowZero: Bool = false) throws -> WindowLiteral {
        let t = current
        let help = "write days like 90d or months like 3mo"
        switch t.kind {
        case .duration(let text):
            let digits = text.prefix { $0.isASCII && $0.isNumber }
            let unit = text.dropFirst(digits.count)
            guard let n = Int(digits), n >= (allowZero ? 0 : 1), n <= 100_000 else {
                throw fail(t.location, "bad window '\(text)'; \(help)")
            }
            advance()
            switch unit {
            case "d": return WindowLiteral(count: n, unit: .days, text: text, location: t.location)
            case "mo": return WindowLiteral(count: n, unit: .months, text: text, location: t.location)
            case "y": return WindowLiteral(count: n * 12, unit: .months, text: text, location: t.location)
            default: throw fail(t.location, "bad window '\(text)'; \(help)")
            }
        case .number:
            throw fail(t.location, "bad window '\(t.text)'; \(help)")
        default:
            throw unexpected("a window like 90d or 3mo")
        }
    }

    // MARK: - Expressions

    private func node(_ kind: Expression.Kind, _ at: SourceLocation, _ children: Expression...) throws -> Expression {
        try node(kind, at, children)
    }

    private mutating func nested<T>(_ body: (inout Parser) throws -> T) throws -> T {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= maxDepth else { throw fail(current.location, "expression is nested too deeply (the limit is \(maxDepth) levels)") }
        return try body(&self)
    }

    mutating func expression() throws -> Expression {
        try nested { try $0.orExpression() }
    }

    private mutating func orExpression() throws -> Expression {
        var left = try andExpression()
        while current.isWord("or") {
            let at = advance().location
            let right = try andExpression()
            left = try node(.or(left, right), at, left, right)
        }
        return left
    }

    private mutating func andExpression() throws -> Expression {
        var left = try notExpression()
        while current.isWord("and") {
            let at = advance().location
            let right = try notExpression()
            left = try node(.and(left, right), at, left, right)
        }
        return left
    }

    private mutating func notExpression() throws -> Expression {
        if current.isWord("not") {
            let at = advance().location
            let operand = try nested { try $0.notExpression() }
            return try node(.not(operand), at, operand)
        }
        return try comparison()
    }

    private mutating func comparison() throws -> Expression {
        let left = try additive()
        let t = current
        if case .symbol(let s) = t.kind, let op = ComparisonOperator(rawValue: s) {
            advance()
            let right = try additive()
            if case .symbol(let s2) = current.kind, ComparisonOperator(rawValue: s2) != nil {
                throw fail(current.location, "comparisons cannot be chained; combine them with 'and'")
            }
            return try node(.comparison(op, left, right), t.location, left, right)
        }
        if t.isSymbol("=") {
            throw fail(t.location, "use '==' to compare")
        }
        if t.isWord("in") || (t.isWord("not") && peek(1).isWord("in")) {
            let negated = t.isWord("not")
            advance()
            if negated { advance() }
            if current.identifier != nil {
                let list = try name("a list name or '['")
                return try node(.inNamedList(left, list, negated: negated), t.location, left)
            }
            let items = try list()
            return try node(.inList(left, items, negated: negated), t.location, [left] + items)
        }
        if t.isWord("is") {
            advance()
            var known = false
            if current.isWord("not") {
                advance()
                known = true
            }
            if current.isWord("null") || current.isWord("unknown") {
                advance()
            } else if current.isWord("known") {
                advance()
                known.toggle()
            } else {
                throw unexpected("'null', 'not null', 'known' or 'unknown' after 'is'")
            }
            return try node(.isKnown(left, known: known), t.location, left)
        }
        return left
    }

    private func node(_ kind: Expression.Kind, _ at: SourceLocation, _ children: [Expression]) throws -> Expression {
        let depth = 1 + (children.map(\.depth).max() ?? 0)
        guard depth <= maxDepth else { throw fail(at, "expression is nested too deeply (the limit is \(maxDepth) levels)") }
        return Expression(kind: kind, location: at, depth: depth)
    }

    private mutating func list() throws -> [Expression] {
        try expectSymbol("[", "'[' to start a list")
        var items: [Expression] = []
        while !current.isSymbol("]") {
            items.append(try unary())
            if current.isSymbol(",") { advance() } else if !current.isSymbol("]") { throw unexpected("',' or ']'") }
        }
        advance()
        return items
    }

    private mutating func additive() throws -> Expression {
        var left = try multiplicative()
        while case .symbol(let s) = current.kind, s == "+" || s == "-" {
            let at = advance().location
            let right = try multiplicative()
            left = try node(.arithmetic(ArithmeticOperator(rawValue: s)!, left, right), at, left, right)
        }
        return left
    }

    private mutating func multiplicative() throws -> Expression {
        var left = try unary()
        while case .symbol(let s) = current.kind, s == "*" || s == "/" {
            let at = advance().location
            let right = try unary()
            left = try node(.arithmetic(ArithmeticOperator(rawValue: s)!, left, right), at, left, right)
        }
        return left
    }

    private mutating func unary() throws -> Expression {
        if current.isSymbol("-") {
            let at = advance().location
            let operand = try nested { try $0.unary() }
            if case .number(let v, let percent) = operand.kind {
                return Expression(kind: .number(-v, percent: percent), location: at, depth: operand.depth)
            }
            return try node(.negate(operand), at, operand)
        }
        return try primary()
    }

    private mutating func primary() throws -> Expression {
        let t = current
        switch t.kind {
        case .number(let v, let percent):
            advance()
            return Expression(kind: .number(v, percent: percent), location: t.location, depth: 1)
        case .string(let s, _):
            advance()
            return Expression(kind: .string(s), location: t.location, depth: 1)
        case .duration:
            let w = try windowLiteral()
            return Expression(kind: .duration(w), location: t.location, depth: 1)
        case .symbol("("):
            advance()
            let e = try nested { try $0.orExpression() }
            try expectSymbol(")")
            return e
        case .identifier(let n):
            if n == "clamp", peek(1).isSymbol("(") {
                return try clamp()
            }
            if Parser.peerFunctions.contains(n), peek(1).isSymbol("(") {
                return try peerCall()
            }
            if n == "tagged", let tag = peek(1).identifier, !Parser.reservedWords.contains(tag) {
                advance()
                let name = Identifier(name: tag, location: advance().location)
                return Expression(kind: .tagged(name), location: t.location, depth: 1)
            }
            switch n {
            case "true", "false":
                advance()
                return Expression(kind: .bool(n == "true"), location: t.location, depth: 1)
            case "null":
                throw fail(t.location, "use 'is null' or 'is not null' to test for a missing value")
            default:
                break
            }
            guard !Parser.reservedWords.contains(n) else { throw unexpected("a value") }
            advance()
            if current.isSymbol("(") {
                return try call(Identifier(name: n, location: t.location))
            }
            return Expression(kind: .name(n), location: t.location, depth: 1)
        default:
            throw unexpected("a value")
        }
    }

    /// `clamp(x, low, high)`.
    private mutating func clamp() throws -> Expression {
        let at = advance().location
        advance()  // (
        let x = try nested { try $0.orExpression() }
        try expectSymbol(",", "',' and the lower bound of clamp(x, low, high)")
        let low = try nested { try $0.orExpression() }
        try expectSymbol(",", "',' and the upper bound of clamp(x, low, high)")
        let high = try nested { try $0.orExpression() }
        try expectSymbol(")")
        return try node(.clamp(x, low, high), at, x, low, high)
    }

    /// `share(COND)`, `members(COND)`, `percentile(FEATURE, P)`, `peer_rank(FEATURE [, GROUP])`: the
    /// argument is an expression (evaluated for each enterprise of the division), not a path.
    private mutating func peerCall() throws -> Expression {
        let function = Identifier(name: current.text, location: advance().location)
        advance()  // (
        let start = p
        let argument = try nested { try $0.orExpression() }
        let written = tokens[start..<p].map { WrittenToken(text: $0.text, location: $0.location) }
        var percentile: Expression?
        if function.name == "percentile" {
            try expectSymbol(",", "',' and the percentile, as in percentile(\(written.map(\.text).joined(separator: " ")), 95%)")
            percentile = try nested { try $0.orExpression() }
        }
        var group: Identifier?
        if function.name == "peer_rank", current.isSymbol(",") {
            advance()
            guard let name = current.identifier else { throw unexpected("the group to rank in, 'district' or 'division'") }
            group = Identifier(name: name, location: advance().location)
        }
        try expectSymbol(")")
        var call = PeerCallSyntax(function: function, argument: argument, argumentTokens: written, percentile: percentile)
        call.group = group
        return try node(.peer(call), function.location, [argument] + (percentile.map { [$0] } ?? []))
    }

    /// `f(path [, window] [, offset window] [, where condition] [, expression])`; the comma before
    /// `offset` and `where` is optional. After a comma, a duration (or a bare number followed by
    /// what may follow a window, reported as a bad window) is the window; anything else is the
    /// expression a relation aggregate evaluates for each related entity.
    private mutating func call(_ function: Identifier) throws -> Expression {
        advance()  // (
        let path = try fieldPath()
        var window: WindowLiteral?
        var offset: WindowLiteral?
        var filter: Expression?
        var argument: Expression?
        if current.isSymbol(","), !peek(1).isWord("offset"), !peek(1).isWord("where"), startsWindow(peek(1), then: peek(2)) {
            advance()
            window = try windowLiteral()
        }
        if current.isWord("offset") || (current.isSymbol(",") && peek(1).isWord("offset")) {
            if current.isSymbol(",") { advance() }
            advance()
            offset = try windowLiteral()
        }
        if current.isWord("where") || (current.isSymbol(",") && peek(1).isWord("where")) {
            if current.isSymbol(",") { advance() }
            advance()
            filter = try expression()
        }
        if window == nil, offset == nil, current.isSymbol(",") {
            advance()
            argument = try expression()
        }
        guard current.isSymbol(")") else {
            throw unexpected(window == nil && filter == nil && argument == nil ? "',' or ')'" : "')'")
        }
        advance()
        let call = CallSyntax(function: function, path: path, window: window, offset: offset, filter: filter, argument: argument)
        return try node(.call(call), function.location, [filter, argument].compactMap { $0 })
    }

    /// Whether `token` (followed by `next`) is meant as a window: a duration, or a number that
    /// ends the argument (`count(x, 90)` is a bad window, not a condition).
    private func startsWindow(_ token: Token, then next: Token) -> Bool {
        switch token.kind {
        case .duration: return true
        case .number: return next.isSymbol(")") || next.isSymbol(",") || next.isWord("offset") || next.isWord("where")
        default: return false
        }
    }

    private mutating func fieldPath() throws -> FieldPath {
        var segments: [Identifier] = []
        repeat {
            if !segments.isEmpty { advance() }  // .
            guard let n = current.identifier else { throw unexpected("a topic or field name") }
            var seg = Identifier(name: n, location: current.location)
            advance()
            if current.isSymbol("#") {
                advance()
                guard let suffix = current.identifier else { throw unexpected("'history' after '#'") }
                guard suffix == "history" else {
                    throw fail(current.location, "unknown topic suffix '#\(suffix)'; only '#history' is supported")
                }
                advance()
                seg = Identifier(name: n + RuleProgram.historySuffix, location: seg.location)
            }
            segments.append(seg)
        } while current.isSymbol(".")
        return FieldPath(segments: segments)
    }
}

// MARK: - Scorecards

extension Parser {
    private func isLineStartKeyword(_ keywords: [String]) -> Bool {
        guard current.startsLine, let w = current.identifier else { return false }
        return keywords.contains(w) || Parser.declarationKeywords.contains(w)
    }

    /// After an error inside a scorecard: skips to the next line that starts with one of `keywords`
    /// or a misspelling of one (so that it is reported), or a declaration, or to the `}` that closes
    /// the block being parsed. Nested braces are skipped whole.
    private mutating func skipInBlock(to keywords: [String]) {
        var depth = 0
        while !current.isEnd {
            if current.isSymbol("}") {
                if depth == 0 { return }
                depth -= 1
            } else if current.isSymbol("{") {
                depth += 1
            } else if depth == 0, isLineStartKeyword(keywords) {
                return
            } else if depth == 0, current.startsLine, let w = current.identifier, Suggest.closest(to: w, among: keywords) != nil {
                return
            }
            advance()
        }
    }

    /// A whole number, optionally signed: `600`, `-150`, `+20`.
    private mutating func integer(_ what: String, limit: Int = 1_000_000) throws -> IntegerLiteral {
        let at = current.location
        var sign = 1.0
        if current.isSymbol("-") || current.isSymbol("+") {
            if current.isSymbol("-") { sign = -1 }
            advance()
        }
        guard case .number(let v, let percent) = current.kind else { throw unexpected(what) }
        guard !percent, v.rounded() == v, v <= Double(limit) else {
            throw fail(current.location, "\(what) must be a whole number up to \(limit)")
        }
        advance()
        return IntegerLiteral(value: Int(sign * v), location: at)
    }

    private mutating func quoted(_ what: String) throws -> (value: String, template: TemplateSyntax) {
        guard case .string(let s, let raw) = current.kind else { throw unexpected(what) }
        let at = current.location
        advance()
        return (s, TemplateSyntax(raw: raw, start: SourceLocation(path: at.path, line: at.line, column: at.column + 1)))
    }

    mutating func parseScorecard(start: Int) throws {
        let n = try name("a scorecard name")
        var title: String?
        if case .string = current.kind { title = try quoted("a title").value }
        try expectSymbol("{")
        var fields: [ScorecardField] = []
        while true {
            if current.isSymbol("}") {
                advance()
                break
            }
            if current.isEnd || (current.startsLine && current.identifier.map(Parser.declarationKeywords.contains) == true) {
                diagnostics.append(Diagnostic(current.location, "expected '}' to close scorecard '\(n.name)'"))
                break
            }
            let fieldStart = p
            do {
                fields.append(try parseScorecardField())
                if current.isSymbol(";") { advance() }
            } catch let f as Failure {
                diagnostics.append(f.diagnostic)
                if let w = tokens[fieldStart].identifier, Parser.scorecardFieldKeywords.contains(w) {
                    fields.append(ScorecardField(keyword: Identifier(name: w, location: tokens[fieldStart].location), value: .broken))
                }
                if p == fieldStart { advance() }
                skipInBlock(to: Parser.scorecardFieldKeywords)
            }
        }
        declarations.append(.scorecard(ScorecardDecl(name: n, title: title, fields: fields, canonicalText: canonical(from: start))))
    }

    private mutating func parseScorecardField() throws -> ScorecardField {
        let keywords = Parser.scorecardFieldKeywords
        guard let w = current.identifier else { throw unexpected("a scorecard field (\(keywords.joined(separator: ", ")))") }
        let keyword = Identifier(name: w, location: current.location)
        switch w {
        case "base":
            advance()
            return ScorecardField(keyword: keyword, value: .base(try integer("the base points")))
        case "range":
            advance()
            let low = try integer("the lowest score")
            try expectRangeDots()
            let high = try integer("the highest score")
            return ScorecardField(keyword: keyword, value: .range(low: low, high: high))
        case "dimension":
            advance()
            return ScorecardField(keyword: keyword, value: .dimension(try parseDimension()))
        case "override":
            advance()
            return ScorecardField(keyword: keyword, value: .override(try parseOverride()))
        case "grades":
            advance()
            guard let bands = try parseGrades() else { return ScorecardField(keyword: keyword, value: .broken) }
            return ScorecardField(keyword: keyword, value: .grades(bands))
        default:
            var message = "unknown scorecard field '\(w)'"
            if let s = Suggest.closest(to: w, among: keywords + Parser.dimensionFieldKeywords) {
                message += "; did you mean '\(s)'?"
            }
            if Parser.dimensionFieldKeywords.contains(w) { message = "'\(w)' belongs inside a dimension { … }" }
            throw fail(keyword.location, message)
        }
    }

    /// `..` between the ends of a range.
    private mutating func expectRangeDots() throws {
        guard current.isSymbol("."), peek(1).isSymbol(".") else { throw unexpected("'..' as in 0..1000") }
        advance()
        advance()
    }

    private mutating func parseDimension() throws -> DimensionDecl {
        let n = try name("a dimension name")
        let title = try quoted("a quoted dimension title, e.g. \"财务税务\"").value
        try expectSymbol("{")
        var fields: [DimensionField] = []
        while true {
            if current.isSymbol("}") {
                advance()
                break
            }
            if current.isEnd || isLineStartKeyword(Parser.scorecardFieldKeywords) {
                diagnostics.append(Diagnostic(current.location, "expected '}' to close dimension '\(n.name)'"))
                break
            }
            let fieldStart = p
            do {
                fields.append(try parseDimensionField())
                if current.isSymbol(";") { advance() }
            } catch let f as Failure {
                diagnostics.append(f.diagnostic)
                if let w = tokens[fieldStart].identifier, Parser.dimensionFieldKeywords.contains(w) {
                    fields.append(DimensionField(keyword: Identifier(name: w, location: tokens[fieldStart].location), value: .broken))
                }
                if p == fieldStart { advance() }
                skipInBlock(to: Parser.dimensionFieldKeywords + Parser.scorecardFieldKeywords)
            }
        }
        return DimensionDecl(name: n, title: title, fields: fields)
    }

    private mutating func parseDimensionField() throws -> DimensionField {
        let keywords = Parser.dimensionFieldKeywords
        guard let w = current.identifier else { throw unexpected("a dimension field (\(keywords.joined(separator: ", ")))") }
        let keyword = Identifier(name: w, location: current.location)
        switch w {
        case "weight":
            advance()
            guard case .number(let v, _) = current.kind else { throw unexpected("a weight like 1.5 or 150%") }
            let at = current.location
            advance()
            return DimensionField(keyword: keyword, value: .weight(v, location: at))
        case "cap":
            advance()
            let first = try integer("the dimension's cap")
            if current.isSymbol("."), peek(1).isSymbol(".") {
                try expectRangeDots()
                let high = try integer("the dimension's highest points")
                return DimensionField(keyword: keyword, value: .cap(low: first, high: high, symmetric: false))
            }
            let low = IntegerLiteral(value: -first.value, location: first.location)
            return DimensionField(keyword: keyword, value: .cap(low: low, high: first, symmetric: true))
        case "item":
            advance()
            return DimensionField(keyword: keyword, value: .item(try parseItem()))
        default:
            var message = "unknown dimension field '\(w)'"
            if let s = Suggest.closest(to: w, among: keywords) { message += "; did you mean '\(s)'?" }
            throw fail(keyword.location, message)
        }
    }

    private mutating func parseItem() throws -> ItemDecl {
        let n = try name("an item name")
        let text = try quoted("a quoted item description, e.g. \"成立满10年\"").template
        try expectWord("points")
        if current.isSymbol("=") {
            advance()
            let e = try expression()
            var condition: Expression?
            if current.isWord("when") {
                advance()
                condition = try expression()
            }
            return ItemDecl(name: n, text: text, points: .graded(e), condition: condition)
        }
        let points = try integer("item points", limit: 100_000)
        guard current.isWord("when") else { throw unexpected("'when' and a condition after fixed points") }
        advance()
        return ItemDecl(name: n, text: text, points: .fixed(points), condition: try expression())
    }

    private mutating func parseOverride() throws -> OverrideDecl {
        let n = try name("an override name")
        let text = try quoted("a quoted override description").template
        let kind: OverrideDecl.Kind
        if current.isWord("cap") {
            kind = .cap
        } else if current.isWord("floor") {
            kind = .floor
        } else {
            throw unexpected("'cap' or 'floor'")
        }
        advance()
        try expectWord("grade")
        let grade = try name("a grade name")
        try expectWord("when")
        return OverrideDecl(name: n, text: text, kind: kind, grade: grade, condition: try expression())
    }

    /// `{ AAA >= 900, AA >= 800, …, D }`; the commas are optional. An error inside the braces is
    /// recorded and the rest of the block skipped (its closing brace included): then nil.
    private mutating func parseGrades() throws -> [GradeBandDecl]? {
        try expectSymbol("{", "'{' to start the grade bands")
        do {
            return try gradeBands()
        } catch let f as Failure {
            diagnostics.append(f.diagnostic)
            skipInBlock(to: Parser.scorecardFieldKeywords)
            if current.isSymbol("}") { advance() }
            return nil
        }
    }

    private mutating func gradeBands() throws -> [GradeBandDecl] {
        var bands: [GradeBandDecl] = []
        while !current.isSymbol("}") {
            let n = try name("a grade name like AAA")
            var threshold: IntegerLiteral?
            if current.isSymbol(">=") {
                advance()
                threshold = try integer("a grade threshold")
            }
            bands.append(GradeBandDecl(name: n, threshold: threshold))
            if current.isSymbol(",") {
                advance()
            } else if !current.isSymbol("}"), current.identifier == nil || isLineStartKeyword(Parser.scorecardFieldKeywords) {
                throw unexpected("',' or '}'")
            }
        }
        advance()
        return bands
    }
}
