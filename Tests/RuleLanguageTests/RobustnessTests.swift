import Testing

@testable import RuleLanguage

/// The compiler never traps on broken input: every prefix of the shipped rules (cut at many points)
/// and some byte-level mutations compile to a result, with positions inside the file.
@Suite struct RobustnessTests {
    @Test func truncatedAndMutatedSourcesNeverTrap() throws {
        let files = try Fixtures.shippedRuleFiles()
        var failures = 0
        for file in files {
            let chars = Array(file.text)
            let lineCount = SourceText.lines(of: file.text).count
            for cut in stride(from: 0, to: chars.count, by: 41) {
                let variants = [
                    String(chars[..<cut]),
                    String(chars[..<cut]) + "(" + String(chars[cut...]),
                    String(chars[..<cut]) + "\"" + String(chars[cut...]),
                    String(chars[..<cut]) + String(chars[min(cut + 5, chars.count)...]),
                ]
                for text in variants {
                    let source = SourceFile(path: file.path, text: text)
                    if case .failure(let d) = RuleCompiler.compile([source], schema: Fixtures.schema) {
                        failures += 1
                        #expect(d.items.count <= 51)
                        for item in d.items where item.line > 0 {
                            #expect(item.line <= max(lineCount, SourceText.lines(of: text).count))
                            #expect(item.column >= 1)
                        }
                        _ = d.rendered(sources: [source])
                    }
                }
            }
        }
        #expect(failures > 100)
    }
}
