import CreditWatchCore
import PostgresNIO
import RuleLanguage

/// A one-dimensional PostgreSQL array parameter whose elements may be NULL, for multi-row
/// `unnest($1::text[], …)` writes of nullable columns.
///
/// PostgresNIO encodes `[Element]` but not `[Element?]`; this writes the same binary array format
/// with a length of -1 for each missing element (PostgreSQL's `array_recv`).
struct NullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>: PostgresNonThrowingEncodable {
    var elements: [Element?]

    init(_ elements: [Element?]) { self.elements = elements }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer,
        context: PostgresEncodingContext<JSONEncoder>
    ) {
        writeArrayHeader(count: elements.count, hasNull: elements.contains { $0 == nil }, of: Element.psqlType, into: &buffer)
        for element in elements {
            if let element {
                let lengthIndex = buffer.writerIndex
                buffer.writeInteger(0, as: Int32.self)
                let start = buffer.writerIndex
                element.encode(into: &buffer, context: context)
                buffer.setInteger(Int32(buffer.writerIndex - start), at: lengthIndex)
            } else {
                buffer.writeInteger(-1, as: Int32.self)
            }
        }
    }
}

/// A `text[]` parameter of JSON texts, written in PostgreSQL's binary array form as each is made:
/// one buffer for all of them instead of a `String` per element (made, validated as UTF-8, then
/// copied again by the encoder) — the records' `fields`, one per change of a batch.
struct JSONTextArray: PostgresNonThrowingEncodable {
    /// The elements as the array holds them: each a big-endian `Int32` length, then the text.
    private var writer: JSONWriter
    /// Where each element starts in `writer.bytes`.
    private var starts: [Int] = []

    init(capacity: Int = 0) {
        writer = JSONWriter(capacity: capacity * 160, replacingNUL: true)
        starts.reserveCapacity(capacity)
    }

    var count: Int { starts.count }

    /// `JSONValue.jsonbText(of:)` of `fields`, as the next element.
    mutating func append(jsonbOf fields: [String: Value]) {
        let start = writer.bytes.count
        starts.append(start)
        writer.bytes.append(contentsOf: [0, 0, 0, 0])
        writer.unorderedFields(fields)
        let length = UInt32(writer.bytes.count - start - 4)
        for i in 0..<4 { writer.bytes[start + i] = UInt8(truncatingIfNeeded: length >> (24 - 8 * i)) }
    }

    /// The elements at `rows`, in that order.
    func picking(_ rows: [Int]) -> JSONTextArray {
        var picked = JSONTextArray(capacity: rows.count)
        for row in rows {
            picked.starts.append(picked.writer.bytes.count)
            picked.writer.bytes.append(contentsOf: writer.bytes[starts[row]..<(row + 1 < starts.count ? starts[row + 1] : writer.bytes.count)])
        }
        return picked
    }

    static var psqlType: PostgresDataType { .textArray }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        writeArrayHeader(count: starts.count, hasNull: false, of: .text, into: &buffer)
        buffer.writeBytes(writer.bytes)
    }
}

/// The header of a one-dimensional array in PostgreSQL's binary form (`array_recv`), before its
/// elements: dimensions (an empty array has none), whether any element is NULL, the element type,
/// then the length and lower bound of a non-empty one.
private func writeArrayHeader(count: Int, hasNull: Bool, of type: PostgresDataType, into buffer: inout ByteBuffer) {
    buffer.writeInteger(count == 0 ? 0 : 1, as: Int32.self)
    buffer.writeInteger(hasNull ? 1 : 0, as: Int32.self)
    buffer.writeInteger(type.rawValue)
    guard count > 0 else { return }
    buffer.writeInteger(Int32(count))
    buffer.writeInteger(1, as: Int32.self)
}
