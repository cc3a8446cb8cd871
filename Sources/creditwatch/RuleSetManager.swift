import CreditWatchCore
import Dispatch
import Foundation
import HTTPAPI
import Logging
import Marketplace
import Metrics
import PostgresStore
import RuleLanguage
import ServiceLifecycle

/// The live rule set and its hot reload. A reload (file change, SIGHUP or `POST /v1/rules/reload`)
/// compiles the rules folder; a set that passes the check is swapped into the batch processor,
/// where it takes effect with the next batch, and recorded by content hash; a set that fails it is
/// never loaded: the old one stays live, and the diagnostics are logged and shown by the API.
actor RuleSetManager: RuleSetControl {
    private let path: String
    private let catalog: TopicCatalog
    private let overrides: [String: Double]
    private let processor: BatchProcessor
    /// Records a loaded set (`rule_set` table) so that alerts' versions can be read back.
    private let record: @Sendable (RuleProgram, [SourceFile]) async throws -> Void
    private let logger: Logger
    private var live: RuleProgram
    /// The live set's files (product eligibility conditions are compiled against them).
    private var liveSources: [SourceFile]
    /// Eligibility conditions compiled against the live set, by condition text.
    private var conditions: [String: Result<RuleProgram?, EligibilityProblems>] = [:]
    private var loadedAt = Date()
    private var trigger = "start"
    private var lastFailure: RuleSetStatus.Failure?
    private var lastChanged = false

    init(
        path: String, catalog: TopicCatalog, overrides: [String: Double], processor: BatchProcessor, program: RuleProgram,
        logger: Logger, record: @escaping @Sendable (RuleProgram, [SourceFile]) async throws -> Void
    ) {
        self.path = path
        self.catalog = catalog
        self.overrides = overrides
        self.processor = processor
        self.live = program
        self.liveSources = (try? ProjectFiles.sources(at: path)) ?? []
        self.logger = logger
        self.record = record
    }

    func status() -> RuleSetStatus {
        RuleSetStatus(
            version: live.version, loadedAt: Timestamp.iso8601(milliseconds: Int64(loadedAt.timeIntervalSince1970 * 1000)),
            trigger: trigger,
            rules: live.rules.map {
                .init(name: $0.name, version: $0.version, kind: $0.kind.rawValue, severity: $0.severity.rawValue, category: $0.category.rawValue)
            },
            tags: live.tags.map(\.name), lastFailure: lastFailure, changed: lastChanged)
    }

    /// Records the set loaded at start (once the schema is migrated: see `MigrateThen`).
    func recordLive() async {
        await recordSet(live, sources: (try? ProjectFiles.sources(at: path)) ?? [])
    }

    func reload(trigger: String) async -> RuleSetStatus {
        lastChanged = false
        let sources: [SourceFile]
        let program: RuleProgram
        do {
            sources = try ProjectFiles.sources(at: path)
            program = try ProjectFiles.compile(sources, catalog: catalog, overrides: overrides)
        } catch {
            let diagnostics = "\(error)"
            lastFailure = .init(
                at: Timestamp.iso8601(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)), trigger: trigger,
                diagnostics: diagnostics)
            Counter(label: "creditwatch_rule_reloads_total", dimensions: [("outcome", "rejected")]).increment()
            logger.error(
                "rule set rejected; the live set stays",
                metadata: ["trigger": "\(trigger)", "live": "\(live.version)", "diagnostics": "\(diagnostics)"])
            return status()
        }
        lastFailure = nil
        guard program.version != live.version else { return status() }
        let before = Set(live.rules.map(\.name))
        await processor.replace(program: program)
        logger.notice(
            "rule set reloaded",
            metadata: [
                "trigger": "\(trigger)", "from": "\(live.version)", "to": "\(program.version)",
                "added": "\(program.rules.map(\.name).filter { !before.contains($0) })",
                "removed": "\(before.subtracting(program.rules.map(\.name)).sorted())",
            ])
        Counter(label: "creditwatch_rule_reloads_total", dimensions: [("outcome", "loaded")]).increment()
        live = program
        liveSources = sources
        conditions = [:]
        loadedAt = Date()
        self.trigger = trigger
        lastChanged = true
        await recordSet(program, sources: sources)
        return status()
    }

    private func recordSet(_ program: RuleProgram, sources: [SourceFile]) async {
        do {
            try await record(program, sources)
        } catch {
            logger.warning("rule set not recorded", metadata: ["version": "\(program.version)", "error": "\(error)"])
        }
    }

    /// A condition compiled against the live set, kept until the next reload.
    func compiled(_ condition: String) -> Result<RuleProgram?, EligibilityProblems> {
        if let known = conditions[condition] { return known }
        let result = Eligibility.compile(condition, ruleSources: liveSources, schema: catalog.schema, overrides: overrides)
        if conditions.count > 1000 { conditions = [:] }
        conditions[condition] = result
        return result
    }

    /// What the watcher compares: the rules folder's files and contents.
    nonisolated func fingerprint() -> [String] {
        ((try? ProjectFiles.sources(at: path)) ?? []).map { "\($0.path)\u{0}\($0.text)" }
    }
}

/// Reloads the rule set when the rules folder changes (polled every `interval`) or on SIGHUP.
struct RuleSetWatcher: Service {
    let manager: RuleSetManager
    /// Nil: no polling (SIGHUP and the API still reload).
    let interval: Duration?
    let logger: Logger

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let hangups = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let manager = self.manager
        hangups.setEventHandler { Task { _ = await manager.reload(trigger: "SIGHUP") } }
        hangups.resume()
        defer { hangups.cancel() }
        guard let interval else {
            try? await gracefulShutdown()
            return
        }
        var last = manager.fingerprint()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { break }
            let now = manager.fingerprint()
            if now != last {
                last = now
                _ = await manager.reload(trigger: "file change")
            }
        }
    }
}

extension RuleSetManager: EligibilityEngine {
    func check(_ condition: String) async -> [String] {
        if case .failure(let problems) = compiled(condition) { return problems.messages }
        return []
    }

    func verdict(_ condition: String, for uscc: String) async throws -> EligibilityVerdict {
        let program: RuleProgram?
        switch compiled(condition) {
        case .success(let compiled): program = compiled
        case .failure(let problems):
            // A condition the live set no longer accepts (a feature renamed since) admits nobody.
            logger.warning("product condition no longer compiles", metadata: ["problems": "\(problems.messages)"])
            return EligibilityVerdict(holds: false, values: ["problem": problems.messages.joined(separator: "; ")])
        }
        let data = try await processor.data(of: EntityKey(.enterprise, uscc))
        return Eligibility.verdict(program, condition: condition, entity: data)
    }
}

/// What the dashboard charts, from the live set: the numeric fields that rules read of the monthly
/// feeds dated by business date (payments, usage, enrolment: a month's records are its flow; a
/// register dated by its update timestamp, such as `tax.taxpayer`, is not), and the series
/// industry rules sum per division.
extension RuleSetManager: SeriesCatalog {
    func enterpriseSeries() -> [SeriesField] {
        let fields = live.recordFields
        let flows = catalog.topics.values.filter { $0.cadence.expected == .monthly && $0.field($0.eventTime)?.type != .timestamp }
        return flows.sorted { $0.name < $1.name }.flatMap { topic in
            topic.fields.filter { [.decimal, .int].contains($0.type) && fields[topic.name]?.contains($0.name) == true }
                .map { SeriesField(topic: topic.name, field: $0.name) }
        }
    }

    func industrySeries() -> [SeriesField] {
        live.industrySeries.sorted().compactMap { name in
            // `tax.payment.amount`: the topic is everything before the last dot.
            guard let dot = name.lastIndex(of: ".") else { return nil }
            return SeriesField(topic: String(name[..<dot]), field: String(name[name.index(after: dot)...]))
        }
    }
}
