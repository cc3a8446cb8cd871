import CreditWatchCore
import Foundation
import RedisFeatures
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    /// The engine on the local Redis's TLS port (ops/servers.sh), trusting only the local CA:
    /// it works as over plain TCP; a client that trusts other CAs, or speaks plain TCP to the TLS
    /// port, gets nothing through.
    @Test func theEngineRunsOverTLSAndAServerItCannotTrustIsRefused() async throws {
        let tls = try #require(Stack.redisTLS, "CREDITWATCH_TEST_REDIS_TLS_PORT/_CA are not set (ops/servers.sh serves TLS)")
        do {
            _ = try RedisConnection(host: "127.0.0.1", port: tls.port, security: RedisSecurity(tls: .init()))
            Issue.record("a certificate from an unknown CA was accepted")
        } catch let error as RedisError {
            #expect(error.code == .connect)
            #expect(error.message.contains("certificate verify failed"), "\(error)")
        }
        await #expect(throws: RedisError.self) {
            _ = try await RedisConnection(host: "127.0.0.1", port: tls.port).command("PING")
        }

        var engine = try await Engine.start("tls") {
            $0.redisPort = tls.port
            $0.redisSecurity = RedisSecurity(tls: .init(caFile: tls.caFile))
        }
        try await engine.send(Self.registrations)
        for m in Script.months.prefix(4) { try await engine.send(Self.month(m)) }
        let profile = try await EngineFeatures(processor: engine.daemon.processor).features(of: Self.e1)
        #expect(profile.first { $0.name == "tax_paid_3mo" }?.value == .number(450_000))
        try await engine.stop()
    }

    /// Redis security from the environment (and so from the YAML), with a message naming what to fix.
    @Test func redisSecurityIsReadFromTheEnvironment() throws {
        #expect(try RedisSecurity(environment: [:]) == RedisSecurity())
        #expect(
            try RedisSecurity(environment: [
                "CREDITWATCH_REDIS_TLS": "require", "CREDITWATCH_REDIS_TLS_CA_FILE": "/etc/ca.crt",
                "CREDITWATCH_REDIS_USERNAME": "cw", "CREDITWATCH_REDIS_PASSWORD": "s3cret",
            ]) == RedisSecurity(tls: .init(caFile: "/etc/ca.crt"), username: "cw", password: "s3cret"))
        let refused: [([String: String], String)] = [
            (["CREDITWATCH_REDIS_TLS": "yes"], "CREDITWATCH_REDIS_TLS must be 'disable' or 'require', not 'yes'"),
            (["CREDITWATCH_REDIS_TLS_CA_FILE": "/etc/ca.crt"], "CREDITWATCH_REDIS_TLS_CA_FILE is set but CREDITWATCH_REDIS_TLS is not 'require'"),
            (["CREDITWATCH_REDIS_TLS": "require", "CREDITWATCH_REDIS_TLS_CERT_FILE": "/etc/c.crt"],
             "a client certificate needs both CREDITWATCH_REDIS_TLS_CERT_FILE and CREDITWATCH_REDIS_TLS_KEY_FILE"),
            (["CREDITWATCH_REDIS_USERNAME": "cw"], "CREDITWATCH_REDIS_USERNAME needs CREDITWATCH_REDIS_PASSWORD"),
        ]
        for (environment, message) in refused {
            #expect(throws: RedisError.self) { try RedisSecurity(environment: environment) }
            do { _ = try RedisSecurity(environment: environment) } catch { #expect(error.message == message) }
        }
    }
}
