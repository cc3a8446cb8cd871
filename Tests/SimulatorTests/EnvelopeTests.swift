import Testing

@testable import Simulator

@Suite struct EnvelopeTests {
    @Test func placeholder() {
        #expect(Envelope.key(["id": "x"]) == Array(#"{"id":"x"}"#.utf8))
    }
}
