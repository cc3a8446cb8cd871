import Foundation
import Hummingbird

/// Reading request bodies: bounded in size (413 beyond), JSON decoded with snake_case keys, every
/// failure a 4xx that says what to fix.
enum RequestBody {
    /// The largest body any route reads unless it says otherwise: 1 MiB.
    static let defaultLimit = 1 << 20

    static func bytes(_ request: Request, limit: Int = defaultLimit) async throws -> Data {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.bodyTooLarge, "the body is \(length) bytes; this route reads at most \(limit)")
        }
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.bodyTooLarge, "the body exceeds \(limit) bytes, the most this route reads")
        }
    }

    /// The body as `T` from JSON.
    static func json<T: Decodable>(_ type: T.Type, from request: Request, limit: Int = defaultLimit) async throws -> T {
        let data = try await bytes(request, limit: limit)
        return try decode(type, from: data)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw APIError(.invalidParameter, "the body lacks '\(path(context.codingPath + [key]))'", parameter: path(context.codingPath + [key]))
        } catch let DecodingError.typeMismatch(expected, context) {
            throw APIError(.invalidParameter, "'\(path(context.codingPath))' must be \(describe(expected))", parameter: path(context.codingPath))
        } catch let DecodingError.valueNotFound(expected, context) {
            throw APIError(.invalidParameter, "'\(path(context.codingPath))' must be \(describe(expected)), not null", parameter: path(context.codingPath))
        } catch let DecodingError.dataCorrupted(context) {
            let at = context.codingPath.isEmpty ? "the body" : "'\(path(context.codingPath))'"
            throw APIError(.invalidParameter, "\(at) is not valid: \(context.debugDescription)")
        } catch {
            throw APIError(.invalidParameter, "the body is not valid JSON")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\(snake($0.stringValue))" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    static func snake(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
        }
        return result
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: "a JSON \(String(describing: type).lowercased())"
        }
    }
}

extension JSONResponse {
    /// `201 Created` with the value.
    static func created<T: Encodable>(_ value: T) throws -> Response { try make(value, status: .created) }
}
