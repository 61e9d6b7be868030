import BallotClient
import BallotRuntime
import Testing

/// The lines between `ballot run` and its keeper survive a round trip, and garbage is refused.
struct KeeperProtocolTests {
    static let t1 = MonotonicInstant(nanoseconds: 1_234_567_890)
    static let t2 = MonotonicInstant(nanoseconds: 2_000_000_001)

    @Test(arguments: [
        KeeperOrder.spawn(node: 3, term: 7, deadline: t2, schedule: KillSchedule(stopAt: t1, killAt: t2)),
        .spawn(node: 1, term: 1, deadline: nil, schedule: .never),
        .lease(term: 7, deadline: t2, schedule: KillSchedule(stopAt: t1, killAt: t2)),
        .stop(term: 7, announce: t1, killAt: t2),
        .stop(term: 7, announce: nil, killAt: nil),
        .kill,
    ])
    func ordersRoundTrip(_ order: KeeperOrder) {
        #expect(KeeperOrder(line: order.line) == order)
    }

    @Test(arguments: [
        KeeperReport.ready(pid: 42), .started(pid: 43, at: t1), .spawnFailed(errno: 2, message: "./x: not found (No such file)"),
        .signalled(.terminate, at: t1), .signalled(.kill, at: t2), .exited(.exited(3), at: t1),
        .exited(.signalled(9), at: t2), .gone(at: t2),
    ])
    func reportsRoundTrip(_ report: KeeperReport) {
        #expect(KeeperReport(line: report.line) == report)
    }

    @Test func garbageIsRefused() {
        for line in ["", "spawn", "spawn 1 2 3 4", "lease x 1 2 3", "stop 1 2", "kill now", "spawn -1 2 - - -"] {
            #expect(KeeperOrder(line: line) == nil, "\(line)")
        }
        for line in ["", "started 1", "exited code x 1", "exited other 1 1", "signalled HUP 1", "gone"] {
            #expect(KeeperReport(line: line) == nil, "\(line)")
        }
    }

    @Test func theLeasePipeLineIsTermAndDeadline() {
        #expect(leasePipeLine(term: 7, deadline: Self.t1) == "7 1234567890\n")
        #expect(leasePipeLine(term: 1, deadline: nil) == "1 inf\n")
    }

    @Test func aShellStatusIsTheCodeOr128PlusTheSignal() {
        #expect(ChildExit.exited(3).shellStatus == 3)
        #expect(ChildExit.signalled(9).shellStatus == 137)
    }
}
