/// "Did you mean" suggestions by edit distance.
enum Suggest {
    /// The candidate closest to `name` (Levenshtein distance over `Character`s), if it is close
    /// enough to be a plausible typo: 1 edit for names of up to 3 characters, else a third of the
    /// length (at least 2, at most 4). Ties go to the alphabetically first candidate so diagnostics
    /// are deterministic.
    static func closest<S: Sequence<String>>(to name: String, among candidates: S) -> String? {
        let target = Array(name)
        let limit = target.count <= 3 ? 1 : max(2, min(4, target.count / 3))
        var best: (distance: Int, name: String)?
        for c in candidates where c != name {
            // A name much shorter than the limit allows cannot be close: skip it without building
            // its characters (a file may hold thousands of names); `distance` bounds the rest.
            guard c.utf8.count + limit >= target.count else { continue }
            guard let d = distance(target, Array(c), atMost: limit) else { continue }
            if best == nil || d < best!.distance || (d == best!.distance && c < best!.name) { best = (d, c) }
        }
        return best?.name
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        return distance(a, b, atMost: max(a.count, b.count))!
    }

    /// Levenshtein distance when it is at most `limit`, else nil. Only the diagonal band of width
    /// `2 * limit + 1` is computed (Ukkonen), so comparing long names costs O(length × limit)
    /// rather than O(length²).
    static func distance(_ a: [Character], _ b: [Character], atMost limit: Int) -> Int? {
        guard abs(a.count - b.count) <= limit else { return nil }
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let outside = limit + 1  // any distance above the limit
        var previous = [Int](repeating: outside, count: b.count + 1)
        var row = [Int](repeating: outside, count: b.count + 1)
        for j in 0...min(b.count, limit) { previous[j] = j }
        for i in 1...a.count {
            let low = max(1, i - limit)
            let high = min(b.count, i + limit)
            row[low - 1] = low == 1 ? min(i, outside) : outside
            var rowMin = row[low - 1]
            if low <= high {
                for j in low...high {
                    let v = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                    row[j] = min(v, outside)
                    rowMin = min(rowMin, row[j])
                }
            }
            if high < b.count { row[high + 1] = outside }
            if rowMin > limit { return nil }
            swap(&previous, &row)
        }
        return previous[b.count] <= limit ? previous[b.count] : nil
    }

    /// `message; did you mean 'x'?` when a close candidate exists.
    static func message<S: Sequence<String>>(_ message: String, _ name: String, among candidates: S) -> String {
        guard let s = closest(to: name, among: candidates) else { return message }
        return "\(message); did you mean '\(s)'?"
    }
}

/// 64-bit FNV-1a: a small, stable, dependency-free content hash for rule-set and rule versions.
/// Not cryptographic; it identifies versions, it does not authenticate them.
public struct ContentHash {
    public private(set) var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ text: String) {
        for b in text.utf8 {
            state ^= UInt64(b)
            state &*= 0x0000_0100_0000_01b3
        }
    }

    /// Adds `text` then a 0 byte, so `("ab", "c")` and `("a", "bc")` hash differently.
    public mutating func addField(_ text: String) {
        add(text)
        state ^= 0
        state &*= 0x0000_0100_0000_01b3
    }

    /// 16 lowercase hex digits.
    public var hex: String {
        let s = String(state, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    public static func of(_ parts: [String]) -> String {
        var h = ContentHash()
        for p in parts { h.addField(p) }
        return h.hex
    }
}
