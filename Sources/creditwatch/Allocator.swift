#if canImport(Glibc)
import Glibc
#endif

/// The memory allocator this process runs on. The executable links jemalloc (Package.swift), which
/// then serves every `malloc` of the process: under the engine's load — many small, short-lived
/// records, dictionaries and strings, freed by other threads than allocated them — glibc's
/// allocator spent a sixth of the daemon's time consolidating and unlinking chunks; jemalloc cut the
/// daemon's CPU by a fifth and its peak memory a little (README, "Performance").
enum Allocator {
    /// `jemalloc 5.3.0-0-g…`, or `glibc` when jemalloc is not the process's allocator.
    static var description: String {
        typealias Mallctl = @convention(c) (
            UnsafePointer<CChar>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?, UnsafeMutableRawPointer?, Int
        ) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallctl") else { return "glibc" }
        let mallctl = unsafeBitCast(symbol, to: Mallctl.self)
        var version: UnsafePointer<CChar>?
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &version, &size, nil, 0) == 0, let version else { return "jemalloc" }
        return "jemalloc " + String(cString: version)
    }
}
