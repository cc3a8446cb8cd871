#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// SplitMix64: a tiny, fast, well-mixed generator. Every random decision of the simulator comes
/// from a stream seeded by (city seed, purpose, entity, month), so one month can be generated
/// without generating the months before it, and the output never depends on evaluation order.
struct Rng: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A stream for a purpose and up to three coordinates (entity index, month index, …).
    init(_ seed: UInt64, _ purpose: Stream, _ a: Int = 0, _ b: Int = 0, _ c: Int = 0) {
        var h = Rng.mix(seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(purpose.rawValue + 1))
        h = Rng.mix(h ^ UInt64(bitPattern: Int64(a)))
        h = Rng.mix(h ^ (UInt64(bitPattern: Int64(b)) &* 0xD1B5_4A32_D192_ED03))
        h = Rng.mix(h ^ (UInt64(bitPattern: Int64(c)) &* 0x8CB9_2BA7_2F3D_8DD7))
        state = h
    }

    enum Stream: UInt64 {
        case city, enterprise, person, naming, monthly, events, stories, resend, defects, keys, registrationOrder, market
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lower, upper).
    mutating func uniform(_ lower: Double, _ upper: Double) -> Double { lower + (upper - lower) * unit() }

    /// Uniform integer in the range.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func int(_ range: Range<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }

    /// A standard normal deviate (Box–Muller).
    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-12)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// exp(N(mu, sigma)).
    mutating func logNormal(_ mu: Double, _ sigma: Double) -> Double { exp(mu + sigma * normal()) }
}

/// A discrete distribution over items by weight, sampled in O(log n).
struct Weighted<T: Sendable>: Sendable {
    let items: [T]
    let cumulative: [Double]

    init(_ pairs: [(T, Double)]) {
        items = pairs.map(\.0)
        var total = 0.0
        cumulative = pairs.map {
            total += $0.1
            return total
        }
    }

    func sample(_ rng: inout Rng) -> T {
        let x = rng.unit() * cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > x { high = mid } else { low = mid + 1 }
        }
        return items[low]
    }
}

func exponential(_ x: Double) -> Double { exp(x) }
func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
