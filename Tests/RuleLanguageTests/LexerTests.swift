import Testing

@testable import RuleLanguage

@Suite struct LexerTests {
    private func lex(_ text: String) -> (tokens: [Token], diagnostics: [Diagnostic]) {
        Lexer.tokenize(SourceFile(path: "t.cwr", text: text))
    }

    private func describe(_ t: Token) -> String {
        let kind: String
        switch t.kind {
        case .identifier(let s): kind = "id(\(s))"
        case .number(let v, let percent): kind = "num(\(v)\(percent ? "%" : ""))"
        case .duration(let s): kind = "dur(\(s))"
        case .string(let s, _): kind = "str(\(s))"
        case .symbol(let s): kind = "sym(\(s))"
        case .end: kind = "end"
        }
        return "\(t.location.line):\(t.location.column) \(kind)"
    }

    @Test func featureLine() {
        let r = lex("feature tax_paid_3mo_ly = sum(tax.payment.amount, 3mo, offset 12mo)")
        #expect(r.diagnostics.isEmpty)
        #expect(
            r.tokens.map(describe) == [
                "1:1 id(feature)", "1:9 id(tax_paid_3mo_ly)", "1:25 sym(=)", "1:27 id(sum)", "1:30 sym(()",
                "1:31 id(tax)", "1:34 sym(.)", "1:35 id(payment)", "1:42 sym(.)", "1:43 id(amount)", "1:49 sym(,)",
                "1:51 dur(3mo)", "1:54 sym(,)", "1:56 id(offset)", "1:63 dur(12mo)", "1:67 sym())", "1:68 end",
            ])
    }

    @Test func numbersPercentagesAndSeparators() {
        let r = lex("100_000 50% 12.5% 1234.56 90d 1y >= != <= ==")
        #expect(r.diagnostics.isEmpty)
        #expect(
            r.tokens.map(describe) == [
                "1:1 num(100000.0)", "1:9 num(0.5%)", "1:13 num(0.125%)", "1:19 num(1234.56)", "1:27 dur(90d)",
                "1:31 dur(1y)", "1:34 sym(>=)", "1:37 sym(!=)", "1:40 sym(<=)", "1:43 sym(==)", "1:45 end",
            ])
    }

    @Test func columnsCountCharactersAndCommentsAreSkipped() {
        let r = lex("// 注释 comment\n  explain \"纳税 {x} 元\\\"\" when // trailing\r\nx")
        #expect(r.diagnostics.isEmpty)
        #expect(r.tokens.map(describe) == ["2:3 id(explain)", "2:11 str(纳税 {x} 元\")", "2:24 id(when)", "3:1 id(x)", "3:2 end"])
        #expect(r.tokens.map(\.startsLine) == [true, false, false, true, false])
    }

    @Test func lexicalErrorsAreDiagnosticsWithPositions() {
        let r = lex("when x @ 1__0 “y” \"a\\q\" 纳税额x2 \"open")
        #expect(
            r.diagnostics.map(\.description) == [
                "t.cwr:1:8: error: unexpected character '@'",
                "t.cwr:1:10: error: bad number '1__0'; '_' may only separate digits, as in 100_000",
                "t.cwr:1:15: error: unexpected character '“'; strings are quoted with straight quotes \"...\"",
                "t.cwr:1:17: error: unexpected character '”'; strings are quoted with straight quotes \"...\"",
                "t.cwr:1:21: error: unknown escape '\\q'; use \\\" \\\\ \\n or \\t",
                "t.cwr:1:25: error: unexpected '纳税额x2'; names use ASCII letters, digits and '_', and text goes in quotes \"...\"",
                "t.cwr:1:31: error: unterminated string; close it with \" on the same line",
            ])
    }
}

@Suite struct ParserTests {
    private func parse(_ text: String) -> (declarations: [Declaration], diagnostics: [Diagnostic]) {
        Parser.parse(SourceFile(path: "t.cwr", text: text), maxDepth: 64)
    }

    /// An S-expression of a parsed expression.
    private func sexp(_ e: Expression) -> String {
        switch e.kind {
        case .number(let v, let p): return p ? "\(v)%" : "\(v)"
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return "\(b)"
        case .duration(let w): return w.text
        case .name(let n): return n
        case .negate(let x): return "(- \(sexp(x)))"
        case .arithmetic(let op, let l, let r): return "(\(op.rawValue) \(sexp(l)) \(sexp(r)))"
        case .comparison(let op, let l, let r): return "(\(op.rawValue) \(sexp(l)) \(sexp(r)))"
        case .and(let l, let r): return "(and \(sexp(l)) \(sexp(r)))"
        case .or(let l, let r): return "(or \(sexp(l)) \(sexp(r)))"
        case .not(let x): return "(not \(sexp(x)))"
        case .isKnown(let x, let known): return "(\(known ? "known" : "unknown") \(sexp(x)))"
        case .inList(let x, let items, let negated):
            return "(\(negated ? "not-in" : "in") \(sexp(x)) [\(items.map(sexp).joined(separator: " "))])"
        case .inNamedList(let x, let list, let negated): return "(\(negated ? "not-in" : "in") \(sexp(x)) \(list.name))"
        case .tagged(let tag): return "(tagged \(tag.name))"
        case .call(let c):
            var s = "(\(c.function.name) \(c.path.text)"
            if let w = c.window { s += " \(w.text)" }
            if let o = c.offset { s += " offset \(o.text)" }
            if let f = c.filter { s += " where \(sexp(f))" }
            return s + ")"
        case .clamp(let x, let low, let high): return "(clamp \(sexp(x)) \(sexp(low)) \(sexp(high)))"
        case .peer(let c): return "(\(c.function.name) \(sexp(c.argument))\(c.percentile.map { " " + sexp($0) } ?? ""))"
        }
    }

    private func feature(_ expr: String) -> String {
        let r = parse("feature f = \(expr)")
        guard r.diagnostics.isEmpty, case .feature(let f)? = r.declarations.first else {
            return r.diagnostics.map(\.description).joined(separator: "\n")
        }
        return sexp(f.expression)
    }

    @Test func precedence() {
        #expect(feature("a or b and not c == 1 + 2 * -x") == "(or a (and b (not (== c (+ 1.0 (* 2.0 (- x)))))))")
        #expect(feature("(a + b) / c - d") == "(- (/ (+ a b) c) d)")
        #expect(feature("x is not null and y is null or z is known") == "(or (and (known x) (unknown y)) (known z))")
        #expect(feature("r in [\"C\", \"D\"] and s not in [1, -2]") == "(and (in r [\"C\" \"D\"]) (not-in s [1.0 -2.0]))")
        #expect(feature("as_of - 30d > d") == "(> (- as_of 30d) d)")
        #expect(feature("clamp(a * 2, 0, b + 1) >= 3") == "(>= (clamp (* a 2.0) 0.0 (+ b 1.0)) 3.0)")
    }

    @Test func callArguments() {
        #expect(feature("sum(tax.payment.amount, 3mo, offset 12mo)") == "(sum tax.payment.amount 3mo offset 12mo)")
        #expect(
            feature("count(tax.payment, 90d, where tax_type == \"增值税\")")
                == "(count tax.payment 90d where (== tax_type \"增值税\"))")
        #expect(
            feature("exists(court.dishonest where removed_date is null or removed_date > as_of)")
                == "(exists court.dishonest where (or (unknown removed_date) (> removed_date as_of)))")
        #expect(
            feature("changes(market.enterprise#history.legal_rep_name, 12mo)")
                == "(changes market.enterprise#history.legal_rep_name 12mo)")
    }

    @Test func peerCalls() {
        #expect(feature("share(alerted(utility))") == "(share (alerted utility))")
        #expect(feature("members(a >= 3 and not b) / 2") == "(/ (members (and (>= a 3.0) (not b))) 2.0)")
        #expect(feature("percentile(tax_drop, 95%)") == "(percentile tax_drop 0.95%)")
        // Without '(' they are names (a rule parameter may be called share).
        #expect(feature("x >= share") == "(>= x share)")
        #expect(feature("percentile(tax_drop)") == "t.cwr:1:32: error: expected ',' and the percentile, as in percentile(tax_drop, 95%), found ')'")
        #expect(feature("share(a, 3mo)") == "t.cwr:1:20: error: expected ')', found ','")
    }

    @Test func ruleDeclaration() throws {
        let r = parse(
            """
            rule tax_drop_yoy (min_base = 100_000, drop = 50%) {
              title    "纳税额同比大幅下降"
              category tax; severity high
              when     a >= min_base
                       and b < a * (1 - drop)
              score    -40 in dimension finance_tax
              cooldown 30d
              explain  "近3个月纳税 {b} 元"
            }
            """)
        #expect(r.diagnostics.isEmpty)
        guard case .rule(let rule)? = r.declarations.first else {
            Issue.record("no rule")
            return
        }
        #expect(rule.name.name == "tax_drop_yoy")
        #expect(rule.params.map { "\($0.name.name)=\($0.value)\($0.percent ? "%" : "")" } == ["min_base=100000.0", "drop=0.5%"])
        #expect(rule.fields.map(\.keyword.name) == ["title", "category", "severity", "when", "score", "cooldown", "explain"])
        guard case .score(let points, let dimension) = rule.fields[4].value, case .when(let when) = rule.fields[3].value else {
            Issue.record("fields")
            return
        }
        #expect(points == -40 && dimension.name == "finance_tax")
        #expect(sexp(when) == "(and (>= a min_base) (< b (* a (- 1.0 drop))))")
    }

    @Test func syntaxErrorsRecoverAtTheNextFieldOrDeclaration() {
        let r = parse(
            """
            feature a = sum(tax.payment.amount 3mo)
            feature b = (1 + 2
            rule r () {
              titel "x"
              when a > = 1
              severity high
            }
            feature c = 1 < 2 < 3
            feature d = x = 1
            """)
        #expect(
            r.diagnostics.map(\.description) == [
                "t.cwr:1:36: error: expected ',' or ')', found '3mo'",
                "t.cwr:3:1: error: expected ')', found 'rule'",
                "t.cwr:4:3: error: unknown rule field 'titel'; did you mean 'title'?",
                "t.cwr:5:12: error: expected a value, found '='",
                "t.cwr:8:19: error: comparisons cannot be chained; combine them with 'and'",
                "t.cwr:9:15: error: use '==' to compare",
            ])
        // The rule still parsed, with its broken `when` recorded as present.
        let rules = r.declarations.compactMap { d -> RuleDecl? in
            if case .rule(let x) = d { return x }
            return nil
        }
        #expect(rules.map { $0.fields.map(\.keyword.name) } == [["when", "severity"]])
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100)
        #expect(
            parse("feature f = \(deep)").diagnostics.map(\.description) == [
                "t.cwr:1:77: error: expression is nested too deeply (the limit is 64 levels)"
            ])
        let long = (1...80).map { "x\($0)" }.joined(separator: " + ")
        #expect(
            parse("feature f = \(long)").diagnostics.map(\.description) == [
                "t.cwr:1:386: error: expression is nested too deeply (the limit is 64 levels)"
            ])
    }
}
