import ArgumentParser
import CreditWatchCore
import Foundation
import RuleLanguage

extension Rules {
    /// `creditwatch rules test`: runs the rule set's example cases (`rules/tests/*.yaml`), as CI does.
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the rule set's case files (given these events, expect these alerts and this grade).",
            discussion: "Prints one line per failure (file:line:column, case, step, expected and actual) and a summary; exits with 1 when any case fails.")

        @OptionGroup var common: CommonOptions
        @Option(help: "Rule folder or file (default: the configuration's rules path).") var rules: String?
        @Option(help: "Topic catalog folder (default: the configuration's topics path).") var topics: String?
        @Option(help: "Case folder or file (default: the 'tests' folder of the rule folder).") var cases: String?

        func run() async throws {
            let settings = try common.settings()
            let rulesPath = rules ?? settings.rulesPath
            do {
                let catalog = try ProjectFiles.catalog(at: topics ?? settings.topicsPath)
                let program = try ProjectFiles.program(at: rulesPath, catalog: catalog, overrides: settings.ruleOverrides)
                let casesPath = cases ?? Self.defaultCases(rules: rulesPath)
                let files = try ProjectFiles.read(casesPath, extensions: ["yaml", "yml"])
                if files.isEmpty { throw ProjectFiles.Failure(description: "\(casesPath): no case files (*.yaml)") }
                let report = RuleTester(program: program, catalog: catalog).run(files)
                print(report.lines.joined(separator: "\n"))
                if !report.passed { throw ExitCode(1) }
            } catch let failure as ProjectFiles.Failure {
                FileHandle.standardError.write(Data(failure.description.terminated.utf8))
                throw ExitCode(1)
            }
        }

        /// Cases live beside the rules: `<rules folder>/tests` (or beside a single rule file).
        static func defaultCases(rules: String) -> String {
            var isDirectory: ObjCBool = false
            let folder = FileManager.default.fileExists(atPath: rules, isDirectory: &isDirectory) && !isDirectory.boolValue
                ? (rules as NSString).deletingLastPathComponent : rules
            return (folder as NSString).appendingPathComponent("tests")
        }
    }
}
