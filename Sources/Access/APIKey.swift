import Crypto

/// An API key: `cwk_<id>_<secret>`. The id (12 hex digits) is public — it names the key in lists,
/// logs and revocations; the secret (32 base-62 characters, about 190 bits) is shown once, at
/// creation, and stored only as its SHA-256 (a fast hash suits random secrets of this length:
/// there is nothing to guess by dictionary).
public struct APIKey: Sendable, Hashable {
    public let id: String
    public let secret: String

    static let prefix = "cwk_"
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// A new random key.
    public static func generate() -> APIKey {
        var random = SystemRandomNumberGenerator()
        let id = (0..<12).map { _ in String(Int.random(in: 0..<16, using: &random), radix: 16) }.joined()
        let secret = String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] })
        return APIKey(id: id, secret: secret)
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses a presented key; nil when it does not have the key's form.
    public init?(presented text: String) {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let parts = text.dropFirst(Self.prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 12, parts[0].allSatisfy(\.isHexDigit),
            parts[1].count == 32, parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        self.init(id: String(parts[0]).lowercased(), secret: String(parts[1]))
    }

    /// The whole key, as the caller sends it.
    public var text: String { Self.prefix + id + "_" + secret }

    /// What is stored: SHA-256 of the secret.
    public var secretHash: [UInt8] { Self.hash(secret) }

    static func hash(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    /// Whether the secret hashes to `stored`, in time independent of where they differ.
    public func matches(storedHash stored: [UInt8]) -> Bool {
        let mine = secretHash
        guard stored.count == mine.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(mine, stored) { difference |= a ^ b }
        return difference == 0
    }
}

/// Resolves a presented key to its principal: the store of organisations, users and keys. Returns
/// nil for an unknown, revoked or expired key.
public protocol KeyDirectory: Sendable {
    func principal(for key: APIKey) async throws -> Principal?
}

/// Keys held in memory: tests of HTTP behaviour.
public struct StaticKeyDirectory: KeyDirectory {
    let principals: [APIKey: Principal]

    public init(_ principals: [APIKey: Principal]) { self.principals = principals }

    public func principal(for key: APIKey) async throws -> Principal? { principals[key] }
}
