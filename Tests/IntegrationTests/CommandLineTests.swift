import Foundation
import Testing

@testable import creditwatch

/// `creditwatch rules check` and a daemon refusing to start with a rule set that fails the check.
@Suite struct CommandLineTests {
    static let broken = """
        feature tax_paid_90d = sum(tax.payment.amount, 90d)

        rule broken_rule () {
          title    "坏规则"
          category tax
          severity urgent
          when     tax_paid_90 > 1000
          explain  "近90天纳税 {tax_paid_90d} 元"
        }

        """

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Stack.executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// The executable runs on jemalloc (linked by Package.swift) and says so, with librdkafka's
    /// version: glibc's allocator cost the daemon a fifth more CPU.
    @Test func theExecutableRunsOnJemalloc() throws {
        let (status, stdout, _) = try Self.run(["version"])
        #expect(status == 0)
        #expect(stdout.hasPrefix("creditwatch 0.1.0, librdkafka 2.8.0, jemalloc 5."), "\(stdout)")
        #expect(Allocator.description.hasPrefix("jemalloc 5."))
    }

    static func brokenRules() throws -> String {
        let dir = NSTemporaryDirectory() + "creditwatch-broken-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try broken.write(toFile: dir + "/broken.cwr", atomically: true, encoding: .utf8)
        return dir
    }

    static func expectedDiagnostics(_ dir: String) -> String {
        """
        \(dir)/broken.cwr:6:12: error: unknown severity 'urgent'; expected one of info, low, medium, high, critical
          severity urgent
                   ^
        \(dir)/broken.cwr:7:12: error: unknown feature 'tax_paid_90'; did you mean 'tax_paid_90d'?
          when     tax_paid_90 > 1000
                   ^

        """
    }

    @Test func rulesCheckPrintsEveryErrorWithFileLineColumnAndCaret() throws {
        let dir = try Self.brokenRules()
        let result = try Self.run(["rules", "check", "--rules", dir, "--topics", "\(Stack.root)/topics"])
        #expect(result.status == 1)
        #expect(result.stderr == Self.expectedDiagnostics(dir))

        let good = try Self.run(["rules", "check", "--rules", "\(Stack.root)/rules", "--topics", "\(Stack.root)/topics"])
        #expect(good.status == 0)
        #expect(good.stdout.hasPrefix("ok: 28 rules, rule set version "))
    }

    @Test func daemonDoesNotStartWithARuleSetThatFailsTheCheck() throws {
        let dir = try Self.brokenRules()
        let result = try Self.run(["run"], environment: ["CREDITWATCH_RULES": dir, "CREDITWATCH_TOPICS": "\(Stack.root)/topics"])
        #expect(result.status == 1)
        #expect(result.stderr == "creditwatch: cannot start:\n" + Self.expectedDiagnostics(dir))
    }
}
