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
        case unavailable
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
            case .invalidRuleSet: .unprocessableContent
            case .unavailable: .serviceUnavailable
            case .tooManyRequests: .tooManyRequests
            case .internalError: .internalServerError
            }
        }
    }

    public let code: Code
    public let message: String
    public let parameter: String?
    /// Whole seconds after which a retry may succeed (`Retry-After`).
    public let retryAfter: Int?

    public init(_ code: Code, _ message: String, parameter: String? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.parameter = parameter
        self.retryAfter = retryAfter
    }

    public var status: HTTPResponse.Status { code.status }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [:]
        if code == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return try JSONResponse.make(Body(error: .init(code: code.rawValue, message: message, parameter: parameter)),
            status: status, headers: headers)
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
            let parameter: String?
        }
        let error: Detail
    }
}

/// JSON responses: compact, keys sorted (one stable text per value), UTF-8 unescaped.
enum JSONResponse {
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
        -> Response
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
