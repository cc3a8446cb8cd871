import Testing

@testable import CreditWatchCore

@Suite struct OwnershipTests {
    @Test func partitionsAreFNV1aOfTheKeyAndStableAcrossProcesses() {
        // FNV-1a 32 reference values.
        #expect(Ownership.hash("") == 0x811C_9DC5)
        #expect(Ownership.hash("a") == 0xE40C_292C)
        #expect(Ownership.hash("foobar") == 0xBF9C_F968)
        #expect(Ownership.partition(of: "foobar", among: 12) == Int32(0xBF9C_F968 % 12))
        let city = (0..<1200).map { "9143060\($0)" }
        let counts = Dictionary(grouping: city) { Ownership.partition(of: $0, among: 6) }.mapValues(\.count)
        #expect(counts.keys.sorted() == [0, 1, 2, 3, 4, 5])
        #expect(counts.values.allSatisfy { (150...250).contains($0) }, "\(counts)")
    }

    @Test func eachEnterpriseHasExactlyOneOwnerAndPartitionZeroJudgesTheCity() {
        let halves = [Ownership(partitions: 4, owned: [0, 2]), Ownership(partitions: 4, owned: [1, 3])]
        for uscc in ["91430602MA4L00011", "91430602MA4L00022", "914306027286432286", "91430681MA4Y52ER9P"] {
            #expect(halves.count { $0.owns(uscc) } == 1)
            #expect(Ownership.whole.owns(uscc))
        }
        #expect(halves.map(\.ownsCity) == [true, false])
        #expect(Ownership.whole.ownsCity)
        #expect(!Ownership(partitions: 4, owned: []).owns("91430602MA4L00011"))
    }

    @Test func aRoutedMessageIsTheDepartmentsMessageWhereItWasDelivered() {
        let delivery = Delivery(topic: "creditwatch.changes", partition: 5, offset: 77)
        let messages = [
            InboundMessage(topic: "tax.payment", partition: 3, offset: 1_234_567_890_123, key: Array("{\"id\":1}".utf8), value: Array("{}".utf8)),
            InboundMessage(topic: "water.usage", partition: 0, offset: 0, key: nil, value: nil),
            InboundMessage(topic: "market.enterprise", partition: -1, offset: -1, key: [], value: []),
            InboundMessage(topic: "courts.dishonest", partition: 2, offset: 9, key: [0, 255, 1], value: [0xC3, 0x28]),
        ]
        for message in messages {
            let forwarded = RoutedMessage.decode(RoutedMessage.encode(message), delivery: delivery)
            #expect(forwarded == InboundMessage(
                topic: message.topic, partition: message.partition, offset: message.offset, key: message.key, value: message.value,
                delivery: delivery))
            #expect(forwarded?.deliveredAt == delivery)
        }
        #expect(messages[0].deliveredAt == Delivery(topic: "tax.payment", partition: 3, offset: 1_234_567_890_123))
    }

    @Test func whatIsNotAFrameIsNotDecoded() {
        let frame = RoutedMessage.encode(InboundMessage(topic: "tax.payment", partition: 1, offset: 2, key: [1, 2], value: [3]))
        let delivery = Delivery(topic: "creditwatch.changes", partition: 0, offset: 0)
        #expect(RoutedMessage.decode(Array("{\"op\":\"c\"}".utf8), delivery: delivery) == nil)
        // Every truncation before the value fails (one inside it is a shorter value).
        for length in 0..<frame.count - 1 {
            #expect(RoutedMessage.decode(Array(frame.prefix(length)), delivery: delivery) == nil, "truncated at \(length)")
        }
        var badFlag = frame
        badFlag[frame.count - 2] = 7
        #expect(RoutedMessage.decode(badFlag, delivery: delivery) == nil)
    }
}
