import Testing

@testable import Webhooks

@Suite("Webhooks: signatures and retries")
struct WebhooksTests {
    @Test func theSignatureIsTheHMACOfTheTimestampAndBody() {
        let body = Array(#"{"events":[]}"#.utf8)
        let header = WebhookSignature.sign(body: body, secret: "s3cret", timestamp: 1_796_230_800)
        // HMAC-SHA256("s3cret", "1796230800.{"events":[]}"), computed independently (Python hmac).
        #expect(header == "t=1796230800,v1=1e3ceb04ab3ac4acd13d5900784c7925bd8e328e0dafead5a4eb344ff4582cc1")
        #expect(WebhookSignature.verify(header: header, body: body, secret: "s3cret"))
        #expect(!WebhookSignature.verify(header: header, body: body, secret: "other"))
        #expect(!WebhookSignature.verify(header: header, body: Array(#"{"events":[1]}"#.utf8), secret: "s3cret"))
        #expect(!WebhookSignature.verify(header: "v1=abc", body: body, secret: "s3cret"))
        #expect(WebhookSignature.newSecret().count == 64)
        #expect(WebhookSignature.newSecret() != WebhookSignature.newSecret())
    }

    @Test func failuresWaitLongerEachTimeThenDisable() {
        let schedule = RetrySchedule(base: .seconds(2), cap: .seconds(20), maximumFailures: 6)
        #expect((1...6).map { schedule.delay(afterFailures: $0) } == [.seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(20), nil])
    }

    @Test func onlyA2xxIsADelivery() {
        #expect(DeliveryOutcome.of(status: 204) == .delivered(status: 204))
        #expect(DeliveryOutcome.of(status: 302) == .failed(status: 302, error: "HTTP 302"))
        #expect(!DeliveryOutcome.of(status: 500).succeeded)
        #expect(webhookURLProblem("https://bank.example/hooks/creditwatch") == nil)
        #expect(webhookURLProblem("ftp://bank.example/x") != nil)
        #expect(webhookURLProblem("/relative") != nil)
        #expect(webhookURLProblem("http://127.0.0.1:9/x", allowedHosts: ["127.0.0.1"]) == nil)
        #expect(webhookURLProblem("http://10.0.0.1/x", allowedHosts: ["127.0.0.1"]) == "url's host 10.0.0.1 is not one this platform delivers to (127.0.0.1)")
    }
}
