import Access
import Foundation
import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Synchronization

/// The request context of the API: Hummingbird's core storage plus the resolved caller.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware` for the `/v1` routes.
    public var principal: Principal?
    /// Where the request came from (the audit log's "from where").
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The caller; routes under `/v1` always have one.
    func requirePrincipal() throws(APIError) -> Principal {
        guard let principal else { throw APIError(.unauthorized, "missing API key") }
        return principal
    }

}

/// Resolves the caller from `Authorization: Bearer <key>`, or from the dashboard's session cookie
/// (`DashboardSession`), or development-mode anonymity, through the key directory, at every
/// request (a revoked key fails on its next one). The one place that knows how credentials look,
/// so that a later scheme (mutual TLS, OIDC tokens) replaces this middleware and nothing else.
struct AuthenticationMiddleware: RouterMiddleware {
    let allowAnonymous: Bool
    let keys: any KeyDirectory
    let access: StoreAccess

    /// What a request presents.
    enum Credential: Sendable {
        /// The `Authorization` header, if any.
        case header(String?)
        /// A browser's session cookie: the key it was signed in with.
        case session(String)
    }

    func handle(
        _ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let credential = credential(of: request)
        if case .session = credential, !Self.safeMethods.contains(request.method),
            request.headers[DashboardSession.csrfHeader] != "1"
        {
            // A cookie rides along on any request the browser makes, a forged form's included: a
            // change needs the header only our page's script can set (no CORS is allowed).
            throw APIError(.forbidden, "a change made with the dashboard's session needs the header '\(DashboardSession.csrfHeader): 1'")
        }
        let principal = try await resolve(credential)
        context.principal = principal
        context.logger[metadataKey: "principal"] = "\(principal.name)"
        return try await next(request, context)
    }

    static let safeMethods: Set<HTTPRequest.Method> = [.get, .head, .options]
}

extension AuthenticationMiddleware {
    /// The header when there is one (an API client), else the session cookie (the dashboard).
    func credential(of request: Request) -> Credential {
        if let header = request.headers[.authorization] { return .header(header) }
        if let key = request.cookies[DashboardSession.cookie]?.value, !key.isEmpty { return .session(key) }
        return .header(nil)
    }

    func resolve(_ credential: Credential) async throws -> Principal {
        switch credential {
        case .session(let key):
            return try await principal(presenting: key)
        case .header(nil):
            if allowAnonymous { return .development }
            throw APIError(.unauthorized, "missing API key: send the header 'Authorization: Bearer <key>'")
        case .header(let authorization?):
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw APIError(.unauthorized, "the Authorization header must have the form 'Bearer <key>'")
            }
            return try await principal(presenting: parts[1].trimmingCharacters(in: .whitespaces))
        }
    }

    /// The holder of a presented key; 401 for a malformed, unknown, expired or revoked one.
    func principal(presenting text: some StringProtocol) async throws -> Principal {
        guard let key = APIKey(presented: String(text)) else {
            throw APIError(.unauthorized, "malformed API key: keys look like cwk_<12 hex digits>_<32 letters and digits>")
        }
        let keys = self.keys
        guard let principal = try await access({ try await keys.principal(for: key) }) else {
            throw APIError(.unauthorized, "unknown, expired or revoked API key")
        }
        return principal
    }
}

/// Turns every error into a JSON body (`APIError`); Hummingbird's own errors (unknown route)
/// are mapped to the same shape, anything else becomes a 500 whose details go to the log only.
struct ErrorMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            let apiError: APIError
            switch error.status {
            case .notFound:
                apiError = APIError(.notFound, "no route for \(request.method) \(request.uri.path)")
            case .methodNotAllowed:
                apiError = APIError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path)")
            case .badRequest:
                apiError = APIError(.invalidParameter, "malformed request")
            default:
                context.logger.error("request failed", metadata: ["error": "\(error)"])
                apiError = APIError(.internalError, "internal error")
            }
            return try apiError.response(from: request, context: context).withStatus(error.status)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return try APIError(.internalError, "internal error").response(from: request, context: context)
        }
    }
}

extension Response {
    func withStatus(_ status: HTTPResponse.Status) -> Response {
        var response = self
        response.status = status
        return response
    }
}

/// Counts requests and records their latency through swift-metrics, into the given factory (the
/// API's Prometheus registry). Dimensions: the route pattern (`/v1/enterprises/{uscc}`, never the
/// USCC itself), the method and the status code.
struct RequestMetricsMiddleware: RouterMiddleware {
    let factory: any MetricsFactory
    private let cache = MetricsCache()

    init(factory: any MetricsFactory) { self.factory = factory }

    final class MetricsCache: Sendable {
        let metrics = Mutex<[Key: (Counter, CoreMetrics.Timer)]>([:])
    }

    struct Key: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    func handle(
        _ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            record(request, context, status: 500, start: start)
            throw error
        }
        record(request, context, status: Int(response.status.code), start: start)
        return response
    }

    private func record(_ request: Request, _ context: APIRequestContext, status: Int, start: UInt64) {
        let key = Key(route: context.endpointPath ?? "NotFound", method: request.method.rawValue, status: status)
        let (counter, timer) = cache.metrics.withLock { cache in
            if let metrics = cache[key] { return metrics }
            let dimensions = [("route", key.route), ("method", key.method), ("status", String(key.status))]
            let metrics = (
                Counter(label: "creditwatch.http.requests", dimensions: dimensions, factory: factory),
                CoreMetrics.Timer(label: "creditwatch.http.request.duration", dimensions: dimensions, factory: factory)
            )
            cache[key] = metrics
            return metrics
        }
        counter.increment()
        timer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
    }
}
