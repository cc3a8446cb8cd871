import Testing

@testable import PostgresStore

@Suite("PostgresStore without a server")
struct StoreUnitTests {
    @Test func base64() {
        #expect(Base64.encode([]) == "")
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode([0xFF, 0xFE, 0x00]) == "//4A")
    }

    @Test func configurationFromEnvironment() {
        let defaults = PostgresStore.Configuration(environment: [:])
        #expect(defaults == PostgresStore.Configuration(
            host: "127.0.0.1", port: 15432, username: "creditwatch", password: "creditwatch", database: "creditwatch",
            maximumConnections: 8, schema: nil))
        let custom = PostgresStore.Configuration(environment: [
            "CREDITWATCH_PG_HOST": "db", "CREDITWATCH_PG_PORT": "5432", "CREDITWATCH_PG_USER": "u",
            "CREDITWATCH_PG_PASSWORD": "secret", "CREDITWATCH_PG_DATABASE": "d", "CREDITWATCH_PG_MAX_CONNECTIONS": "3",
            "CREDITWATCH_PG_SCHEMA": "s",
        ])
        #expect(custom == PostgresStore.Configuration(
            host: "db", port: 5432, username: "u", password: "secret", database: "d", maximumConnections: 3, schema: "s"))
        #expect(custom.description == "u@db:5432/d schema s")
        #expect(PostgresStore.Configuration(environment: ["CREDITWATCH_PG_PORT": "x"]).port == 15432)
    }

    @Test func tlsIsOffByDefaultAndACAFileThatCannotBeReadIsAConfigurationError() throws {
        #expect(PostgresStore.Configuration(environment: [:]).tls == .disable)
        let tls = PostgresStore.Configuration(environment: ["CREDITWATCH_PG_TLS": "require", "CREDITWATCH_PG_TLS_CA_FILE": "/nonexistent/ca.pem"])
        #expect(tls.tls == .require && tls.tlsCAFile == "/nonexistent/ca.pem")
        #expect(PostgresStore.Configuration(environment: ["CREDITWATCH_PG_TLS": "maybe"]).tls == .disable)
        #expect(throws: PostgresStoreError.self) { _ = try tls.clientTLS() }
        var prefer = PostgresStore.Configuration()
        prefer.tls = .prefer
        _ = try prefer.clientTLS()
    }
}
