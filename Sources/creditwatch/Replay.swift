import ArgumentParser
import CreditWatchCore
import Foundation
import PostgresStore
import RuleLanguage

/// `creditwatch replay`: runs a rule set over the stored history of the credit information base
/// and reports what it would have fired compared with the live set (see `Replay` in the core).
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Back-test a rule set over the stored history: alerts added, removed and changed, and grade changes, against the live set.",
        discussion: """
            The candidate is --rules DIR or --version HASH (a stored rule set), by default the configured rules \
            folder. The live set is --against (a folder if such a path exists, else a stored version), by default the \
            most recently loaded stored rule set, else the configured rules folder. Industry rules are not replayed.
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: "Candidate rule folder (default: the configuration's rules path).") var rules: String?
    @Option(name: .customLong("version"), help: "Candidate: a stored rule set, by its version hash.") var storedVersion: String?
    @Option(help: "Live set to compare with: a rule folder or a stored version hash.") var against: String?
    @Flag(help: "Print the report as JSON (every added, removed and changed alert).") var json = false
    @Option(help: "Report alerts raised from this month on (YYYY-MM); the history before still counts.") var from: String?

    func validate() throws {
        if rules != nil, storedVersion != nil { throw ValidationError("give --rules or --version, not both") }
        if let from, Month(iso: from) == nil { throw ValidationError("--from must be YYYY-MM, got '\(from)'") }
    }

    /// Where a rule set comes from.
    enum Source: CustomStringConvertible {
        case folder(String)
        case stored(String)

        var description: String {
            switch self {
            case .folder(let path): "folder \(path)"
            case .stored(let version): "stored rule set \(version)"
            }
        }
    }

    func run() async throws {
        let settings = try common.settings()
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let store = try PostgresStore(configuration: settings.postgres, catalog: catalog, logger: common.logger("creditwatch.replay"))
        let output = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            do {
                return try await report(store: store, catalog: catalog, settings: settings)
            } catch let failure as ProjectFiles.Failure {
                FileHandle.standardError.write(Data("creditwatch replay: \(failure.description.terminated)".utf8))
                throw ExitCode(1)
            }
        }
        print(output, terminator: "")
    }

    private func report(store: PostgresStore, catalog: TopicCatalog, settings: Settings) async throws -> String {
        let candidateSource: Source = storedVersion.map(Source.stored) ?? .folder(rules ?? settings.rulesPath)
        let liveSource: Source
        if let against {
            liveSource = FileManager.default.fileExists(atPath: against) ? .folder(against) : .stored(against)
        } else if let version = try await store.liveRuleSetVersion() {
            liveSource = .stored(version)
        } else {
            liveSource = .folder(settings.rulesPath)
        }
        let candidate = try await program(candidateSource, store: store, catalog: catalog, settings: settings)
        let live = try await program(liveSource, store: store, catalog: catalog, settings: settings)
        let history = try await store.replayHistory(historyTopics: ReplayHistory.historyTopics(of: [live, candidate]))
        let report = Replay.compare(
            history: history, live: live, candidate: candidate, catalog: catalog, from: from.flatMap { Month(iso: $0) })
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
        }
        return "candidate: \(candidateSource)\nlive:      \(liveSource)\n" + report.table
    }

    /// Reads and compiles a rule set with the city's overrides; a set that fails the check is an
    /// error with its diagnostics.
    private func program(_ source: Source, store: PostgresStore, catalog: TopicCatalog, settings: Settings) async throws
        -> RuleProgram
    {
        let sources: [SourceFile]
        switch source {
        case .folder(let path):
            sources = try ProjectFiles.sources(at: path)
        case .stored(let version):
            guard let stored = try await store.ruleSet(version: version) else {
                throw ProjectFiles.Failure(description: "no stored rule set has version '\(version)'")
            }
            sources = stored.map { SourceFile(path: $0.path, text: $0.text) }
        }
        return try ProjectFiles.compile(sources, catalog: catalog, overrides: settings.ruleOverrides)
    }
}
