import Dashboard
import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard's session: the key a person signed in with, in a cookie the page's script can
/// neither read nor send elsewhere (HttpOnly, Secure, SameSite=Strict). Every `/v1` call the
/// page makes is then authorised exactly as the key's own calls (same role, same scope), and a
/// revoked key ends the session at its next call.
enum DashboardSession {
    static let cookie = "cw_session"
    /// Changes made with the cookie must carry this header (see `AuthenticationMiddleware`).
    static let csrfHeader = HTTPField.Name("X-CreditWatch-CSRF")!
    /// A working day; sign in again after.
    static let lifetimeSeconds = 8 * 3600
}

/// `GET /dashboard` (the page), `GET /dashboard/assets/{file}` (its scripts, styles and ECharts),
/// `POST /dashboard/session` (sign in with a key: `{"key": "cwk_…"}`), `DELETE /dashboard/session`
/// (sign out). The page itself is public and holds no data: every figure comes from `/v1`.
struct DashboardController: Sendable {
    let site: DashboardSite
    let authentication: AuthenticationMiddleware

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("dashboard", use: page)
        router.get("dashboard/assets/{file}", use: asset)
        router.post("dashboard/session", use: signIn)
        router.delete("dashboard/session", use: signOut)
    }

    /// No inline script, no other origin: data in a page can never run as code.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-cache",
    ]

    @Sendable func page(_ request: Request, context: APIRequestContext) async throws -> Response {
        try serve("index.html")
    }

    @Sendable func asset(_ request: Request, context: APIRequestContext) async throws -> Response {
        let file = context.parameters.get("file") ?? ""
        guard file != "index.html" else { throw APIError(.notFound, "no dashboard asset '\(file)'", parameter: "file") }
        return try serve(file)
    }

    func serve(_ name: String) throws -> Response {
        guard let asset = site.assets[name] else {
            let problem = site.problems.first.map { ": \($0)" } ?? ""
            throw APIError(.notFound, "no dashboard asset '\(name)'\(problem)", parameter: "file")
        }
        var headers = Self.securityHeaders
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    struct SignIn: Decodable {
        let key: String
    }

    @Sendable func signIn(_ request: Request, context: APIRequestContext) async throws -> Response {
        // A cross-site form could otherwise sign a person in with someone else's key (login CSRF).
        guard request.headers[DashboardSession.csrfHeader] == "1" else {
            throw APIError(.forbidden, "signing in needs the header '\(DashboardSession.csrfHeader): 1' (the dashboard's page sends it)")
        }
        let body = try await RequestBody.json(SignIn.self, from: request, limit: 4096)
        let key = body.key.trimmingCharacters(in: .whitespaces)
        let principal = try await authentication.principal(presenting: key)
        var response = try JSONResponse.make(CallerResponse(principal), headers: Self.securityHeaders)
        response.setCookie(Cookie(
            name: DashboardSession.cookie, value: key,
            maxAge: DashboardSession.lifetimeSeconds, path: "/", secure: true, httpOnly: true, sameSite: .strict))
        context.logger.info("dashboard sign-in", metadata: ["principal": "\(principal.name)"])
        return response
    }

    @Sendable func signOut(_ request: Request, context: APIRequestContext) async throws -> Response {
        var response = Response(status: .noContent, headers: Self.securityHeaders)
        response.setCookie(Cookie(name: DashboardSession.cookie, value: "", maxAge: 0, path: "/", secure: true, httpOnly: true, sameSite: .strict))
        return response
    }
}
