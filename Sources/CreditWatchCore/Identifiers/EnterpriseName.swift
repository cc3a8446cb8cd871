/// Normalisation of enterprise names, so that a department's spelling of a name (water-company
/// customer names, court party names) can be matched against registered names.
public enum EnterpriseName {
    /// Legal-form suffixes removed from the end of a name, longest first; at most one is removed,
    /// and never when it is the whole name.
    public static let suffixes = ["股份有限公司", "有限责任公司", "有限公司", "公司"]

    /// Full-width ASCII forms (`Ａ`, `（`, `１`) become half-width, all whitespace (also U+3000 and
    /// zero-width spaces) is removed, Latin letters are uppercased, and one legal-form suffix is
    /// stripped: `" 长沙（湘江）ａｂｃ 科技 有限公司 "` → `"长沙(湘江)ABC科技"`.
    public static func normalized(_ name: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            var v = scalar.value
            if (0xFF01...0xFF5E).contains(v) { v -= 0xFEE0 }
            let mapped = Unicode.Scalar(v)!
            if mapped.properties.isWhitespace || v == 0x200B || v == 0xFEFF { continue }
            if (0x61...0x7A).contains(v) { v -= 0x20 }
            scalars.append(Unicode.Scalar(v)!)
        }
        var result = String(scalars)
        if let suffix = suffixes.first(where: { result.hasSuffix($0) }), result.count > suffix.count {
            result.removeLast(suffix.count)
        }
        return result
    }
}
