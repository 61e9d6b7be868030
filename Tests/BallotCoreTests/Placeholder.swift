import Testing
import BallotCore
@Test func placeholder() { #expect(Membership([1,2,3]).quorum == 2) }
