import ArgumentParser
import CreditWatchCore
import Foundation
import KafkaIngest
import Logging
import RuleLanguage

/// `creditwatch`: the credit-risk early-warning daemon and its tools.
@main
struct CreditWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creditwatch",
        abstract: "Credit-risk early warning: department feeds → feature windows → rules → alerts.",
        subcommands: [
            Run.self, Migrate.self, Rebuild.self, Keys.self, Rules.self, ReplayCommand.self, Topics.self, Simulate.self, Latency.self, Version.self,
        ])
}

/// Options every subcommand that touches the stack shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (see ops/creditwatch.example.yaml).")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func settings() throws -> Settings { try Settings.load(file: config) }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version of CreditWatch, of librdkafka and of the allocator.")
    func run() {
        print("creditwatch 0.1.0, librdkafka \(LibrdkafkaVersion.string), \(Allocator.description)")
    }
}

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the catalog's Kafka topics.", subcommands: [Create.self, Drain.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the catalog's topics (with the configured prefix) that do not exist yet.")

        @OptionGroup var common: CommonOptions
        @Option(help: "Partitions of each new topic.") var partitions: Int32 = 4

        func run() async throws {
            let settings = try common.settings()
            let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
            try KafkaAdmin.createTopics(catalog.topics.keys.sorted(), partitions: partitions, configuration: settings.kafka)
            print("topics ready: \(catalog.topics.count) (prefix '\(settings.kafka.topicPrefix)')")
        }
    }
}

struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the rule set.", subcommands: [Check.self, Test.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse and type-check every rule file against the topic catalog; print all errors at once.")

        @OptionGroup var common: CommonOptions
        @Option(help: "Rule folder or file (default: the configuration's rules path).") var rules: String?
        @Option(help: "Topic catalog folder (default: the configuration's topics path).") var topics: String?

        func run() async throws {
            let settings = try common.settings()
            let catalog = try ProjectFiles.catalog(at: topics ?? settings.topicsPath)
            do {
                let program = try ProjectFiles.program(at: rules ?? settings.rulesPath, catalog: catalog, overrides: settings.ruleOverrides)
                print("ok: \(program.rules.count) rules, rule set version \(program.version)")
            } catch let failure as ProjectFiles.Failure {
                FileHandle.standardError.write(Data(failure.description.terminated.utf8))
                throw ExitCode(1)
            }
        }
    }
}

extension Topics {
    /// The consume ceiling that benchmarks print beside the engine's rate.
    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every message of the catalog's topics (with the configured prefix) in a throwaway consumer group, commit nothing, and print the rate: what librdkafka alone delivers here.")

        @OptionGroup var common: CommonOptions
        @Option(help: "Stop after this many seconds without a message.") var idle: Int = 3

        func run() async throws {
            var settings = try common.settings()
            settings.kafka.groupID = "drain-\(UInt64.random(in: 0...UInt64.max))"
            let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
            let consumer = try KafkaConsumer(
                configuration: settings.kafka, topics: catalog.topics.keys.sorted(), logger: Logger(label: "creditwatch.drain"))
            // Timed from the first batch's arrival (the group join before it is not consuming).
            var messages = 0
            var timed = 0
            var first: ContinuousClock.Instant?
            var last = ContinuousClock.now
            while true {
                let batch = await consumer.nextBatch(idleTimeout: first == nil ? .seconds(30) : .seconds(idle))
                if batch.isEmpty { break }
                if first == nil { first = .now } else { timed += batch.count }
                messages += batch.count
                last = .now
            }
            consumer.close()
            let elapsed = first.map { last - $0 } ?? .zero
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let rate = seconds > 0 ? Int(Double(timed) / seconds) : 0
            print("drained \(messages) messages; \(timed) after the first batch in \(String(format: "%.1f", seconds)) s: \(rate) messages/s")
        }
    }
}

extension String {
    /// The text ending with exactly one newline (rendered diagnostics already end with one).
    var terminated: String { hasSuffix("\n") ? self : self + "\n" }
}
