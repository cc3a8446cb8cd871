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
            Run.self, Migrate.self, Rebuild.self, Rules.self, ReplayCommand.self, Topics.self, Simulate.self, Version.self,
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
    static let configuration = CommandConfiguration(abstract: "Print the version of CreditWatch and of librdkafka.")
    func run() {
        print("creditwatch 0.1.0, librdkafka \(LibrdkafkaVersion.string)")
    }
}

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the catalog's Kafka topics.", subcommands: [Create.self])

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

extension String {
    /// The text ending with exactly one newline (rendered diagnostics already end with one).
    var terminated: String { hasSuffix("\n") ? self : self + "\n" }
}
