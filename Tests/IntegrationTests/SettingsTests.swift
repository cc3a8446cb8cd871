import Foundation
import Testing

@testable import creditwatch

/// The configuration file: every key the example shows is read, and a key that is not read is
/// refused with where it is, not ignored.
@Suite struct SettingsTests {
    @Test func theExampleConfigurationLoadsWithItsValues() throws {
        let settings = try Settings.load(file: "ops/creditwatch.example.yaml", environment: [:])
        #expect(settings.kafka.brokers == "kafka-1.example.internal:9092,kafka-2.example.internal:9092")
        #expect(settings.kafka.batchSize == 20_000)
        #expect(settings.kafka.batchBytes == 33_554_432)
        #expect(settings.kafka.fetchWaitMilliseconds == 20)
        #expect(settings.kafka.backlogMessages == 50_000)
        #expect(settings.redisPort == 6379)
        #expect(settings.postgres.database == "creditwatch")
        #expect(settings.evaluationLimit == 2000)
        #expect(settings.maxEvaluationWait == .seconds(300))
        #expect(settings.market.acceptWithinWorkingDays == 5)
    }

    @Test(arguments: [
        ("kafka:\n  brokers: a:9092\n  batch_sise: 500\n", "3:3: unknown key 'kafka.batch_sise'; did you mean 'batch_size'?"),
        ("kafak:\n  brokers: a:9092\n", "1:1: unknown section 'kafak'; did you mean 'kafka'?"),
        ("rules: rules\n", "1:8: rules must be a mapping of keys"),
        ("engine:\n  evaluation_limit: 500\n  reevaluation: yes\n", "3:3: unknown key 'engine.reevaluation' (the keys of engine: "),
    ])
    func aKeyThatIsNotReadIsRefusedWithWhereItIs(yaml: String, expected: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UInt32.random(in: 0...UInt32.max)).yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let error = #expect(throws: ProjectFiles.Failure.self) { try Settings.load(file: file, environment: [:]) }
        let description = try #require(error?.description)
        #expect(description.hasPrefix("\(file):\(expected)"), "\(description)")
    }
}
