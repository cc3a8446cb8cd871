import Foundation
import Hummingbird

/// An error the API reports to its caller, always as a JSON body:
/// `{"error":{"code":"invalid_parameter","message":"…","parameter":"severity"}}` (`parameter` only
/// when one request parameter is at fault). Messages are precise and safe to show: they repeat
/// the caller's own input, never stored data or internal details.
public struct APIError: Error, Sendable, Hashable, HTTPResponseError {
    public enum Code: String, Sendable, Hashable {
        case invalidParameter = "invalid_parameter"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        /// A rule set that fails the check (the old one stays live).
        case invalidRuleSet = "invalid_rule_set"
        /// A well-formed body whose content is wrong (per-row problems in `problems`).
        case invalidBody = "invalid_body"
        /// A body larger than the route accepts.
        case bodyTooLarge = "body_too_large"
        /// The body's media type is not one the route reads.
        case unsupportedMediaType = "unsupported_media_type"
        case unavailable
        /// The resource's current state does not allow the request (`current` holds that state).
        case conflict
        /// The caller's rate limit is spent; `Retry-After` says when to come back.
        case tooManyRequests = "too_many_requests"
        case internalError = "internal_error"

        var status: HTTPResponse.Status {
            switch self {
            case .invalidParameter: .badRequest
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .invalidRuleSet, .invalidBody: .unprocessableContent
            case .bodyTooLarge: .contentTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .unavailable: .serviceUnavailable
            case .tooManyRequests: .tooManyRequests
            case .conflict: .conflict
            case .internalError: .internalServerError
            }
        }
    }

    public let code: Code
    public let message: String
    public let parameter: String?
    /// Whole seconds after which a retry may succeed (`Retry-After`).
    public let retryAfter: Int?
    /// Each bad row of an uploaded list: which, what it held, what is wrong.
    public let problems: [Problem]

    public struct Problem: Sendable, Hashable, Encodable {
        /// 1-based: the line of a CSV (after its header) or the index + 1 of a JSON array's item.
        public let row: Int
        public let value: String
        public let message: String
        public init(row: Int, value: String, message: String) {
            self.row = row
            self.value = value
            self.message = message
        }
    }

    /// The state a `conflict` met, e.g. `{"status": "resolved", "version": "3"}`.
    public let current: [String: String]?

    public init(
        _ code: Code, _ message: String, parameter: String? = nil, retryAfter: Int? = nil, problems: [Problem] = [],
        current: [String: String]? = nil
    ) {
        self.current = current
        self.code = code
        self.message = message
        self.parameter = parameter
        self.retryAfter = retryAfter
        self.problems = problems
    }

    public var status: HTTPResponse.Status { code.status }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [:]
        if code == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return try JSONResponse.make(
            Body(
                error: .init(
                    code: code.rawValue, message: message, parameter: parameter, problems: problems.isEmpty ? nil : problems, current: current)),
            status: status, headers: headers)
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
            let parameter: String?
            let problems: [Problem]?
            let current: [String: String]?
        }
        let error: Detail
    }
}

/// JSON responses: compact, keys sorted (one stable text per value), UTF-8 unescaped.
enum JSONResponse {
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
        -> Response
    {
        raw(try encode(value), status: status, headers: headers)
    }

    /// The API's JSON text of a value.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(value)
    }

    /// JSON text already made (e.g. a frozen document), served as it is.
    static func raw(_ data: Data, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
