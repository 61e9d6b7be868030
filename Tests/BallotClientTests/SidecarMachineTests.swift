import BallotClient
import BallotRuntime
import Testing

/// The sidecar's timing decisions, driven by hand: time and events in, actions out.
struct SidecarMachineTests {
    // Instants in milliseconds from an arbitrary origin.
    static func at(_ milliseconds: Int) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: 1_000_000_000 + UInt64(milliseconds) * 1_000_000)
    }

    static let node: UInt64 = 3

    static func event(_ detail: LeadershipStreamEvent.Detail, term: UInt64 = 5, index: UInt64 = 1,
                      leader: UInt64? = node, isLeader: Bool = true, at: Int = 0) -> SidecarMachine.Input {
        .event(LeadershipStreamEvent(node: node, term: term, index: index, leader: leader, isLeader: isLeader,
                                     at: Self.at(at), detail: detail))
    }

    /// A lease of `term` read at `from` until `until` (milliseconds).
    static func lease(term: UInt64 = 5, from: Int, until: Int?) -> SidecarMachine.Input {
        event(.lease(from: at(from), until: until.map(at), ends: false), term: term)
    }

    static func leaseEnds(term: UInt64 = 5, at instant: Int) -> SidecarMachine.Input {
        event(.lease(from: at(instant), until: at(instant), ends: true), term: term, isLeader: false)
    }

    static func notLeading(term: UInt64 = 5, leader: UInt64? = 1) -> SidecarMachine.Input {
        event(.state(leaseUntil: nil, leaseUnbounded: false), term: term, leader: leader, isLeader: false)
    }

    /// A machine with the defaults: grace 2 s, margin 20 ms, kill allowance 10 ms, on-exit resign.
    static func machine(_ configure: (inout SidecarMachine.Configuration) -> Void = { _ in }) -> SidecarMachine {
        var configuration = SidecarMachine.Configuration()
        configure(&configuration)
        var machine = SidecarMachine(configuration: configuration)
        _ = machine.handle(.keeper(.ready(pid: 99)), at: at(0))
        return machine
    }

    /// The machine with a child of term 5 started at 0 under a lease until 260 ms.
    static func running(_ configure: (inout SidecarMachine.Configuration) -> Void = { _ in }) -> SidecarMachine {
        var machine = machine(configure)
        _ = machine.handle(lease(from: 0, until: 260), at: at(0))
        _ = machine.handle(.keeper(.started(pid: 100, at: at(2))), at: at(2))
        return machine
    }

    static func without(logs actions: [SidecarMachine.Action]) -> [SidecarMachine.Action] {
        actions.filter { if case .log = $0 { false } else { true } }
    }

    // MARK: Starting

    @Test func startsOnlyWithAValidLeaseAndArmsTheKillBeforeTheDeadline() {
        var machine = Self.machine()
        #expect(Self.without(logs: machine.handle(Self.notLeading(), at: Self.at(0))).isEmpty)
        // Elected is not enough: the lease comes with its own event.
        #expect(Self.without(logs: machine.handle(Self.event(.elected(isSelf: true, leaderlessMilliseconds: 3), isLeader: false), at: Self.at(1))).isEmpty)
        let actions = Self.without(logs: machine.handle(Self.lease(from: 5, until: 265), at: Self.at(10)))
        // kill_at = 265 − 20 − 10 = 235; the budget from the read (10) is 225 ms, so the grace is cut to a quarter: 56.25 ms.
        let schedule = KillSchedule(stopAt: Self.at(235) - .microseconds(56_250), killAt: Self.at(235))
        #expect(actions == [.spawn(.init(node: Self.node, term: 5, deadline: Self.at(265), schedule: schedule))])
        #expect(machine.hasChild)
    }

    @Test func nothingStartsBeforeTheKeeperIsReady() {
        var machine = SidecarMachine(configuration: SidecarMachine.Configuration())
        #expect(Self.without(logs: machine.handle(Self.lease(from: 0, until: 260), at: Self.at(0))).isEmpty)
        // The schedule is computed when the keeper can act on it, from the lease known then.
        let actions = Self.without(logs: machine.handle(.keeper(.ready(pid: 99)), at: Self.at(20)))
        let schedule = KillSchedule(stopAt: Self.at(230) - .microseconds(52_500), killAt: Self.at(230))
        #expect(actions == [.spawn(.init(node: Self.node, term: 5, deadline: Self.at(260), schedule: schedule))])
    }

    @Test func theGraceIsGivenWhenItFitsAndItsCutIsSaidOnce() {
        var fits = Self.machine { $0.grace = .milliseconds(50) }
        let actions = fits.handle(Self.lease(from: 0, until: 1000), at: Self.at(0))
        #expect(actions.contains(.spawn(.init(node: Self.node, term: 5, deadline: Self.at(1000),
                                              schedule: KillSchedule(stopAt: Self.at(920), killAt: Self.at(970))))))
        #expect(!actions.contains { if case .log(let text) = $0 { text.contains("does not fit") } else { false } })

        var cut = Self.running()
        let again = cut.handle(Self.lease(from: 50, until: 310), at: Self.at(50))
        #expect(!again.contains { if case .log(let text) = $0 { text.contains("does not fit") } else { false } })
        var fresh = Self.machine()
        let first = fresh.handle(Self.lease(from: 0, until: 260), at: Self.at(0))
        #expect(first.contains { if case .log(let text) = $0 { text.contains("does not fit") } else { false } })
    }

    @Test func aLeaseAlreadyTooShortToRunInIsNotStarted() {
        var machine = Self.machine()
        // Read at 235 ms, kill_at = 260 − 30 = 230: already past.
        #expect(Self.without(logs: machine.handle(Self.lease(from: 0, until: 260), at: Self.at(235))).isEmpty)
        // Read at 181 ms: 49 ms left before kill_at, less than the 50 ms minimum runway; a fresher line starts it.
        #expect(Self.without(logs: machine.handle(Self.lease(from: 0, until: 260), at: Self.at(181))).isEmpty)
        #expect(!machine.hasChild)
        let actions = Self.without(logs: machine.handle(Self.lease(from: 180, until: 440), at: Self.at(182)))
        #expect({ if case .spawn = actions.first { true } else { false } }())
    }

    @Test func underAShortLeaseAFreshLineStartsCMDAndALateOneDoesNot() {
        // A 70 ms lease (--lease-duration): kill_at is 40 ms after the line was written, never 50.
        var machine = Self.machine()
        // Read 25 ms late: 15 ms left, under half of the 40 — a stale line.
        #expect(Self.without(logs: machine.handle(Self.lease(from: 0, until: 70), at: Self.at(25))).isEmpty)
        #expect(!machine.hasChild)
        // Read 2 ms after it was written: 38 ms left, more than half of 40.
        let actions = Self.without(logs: machine.handle(Self.lease(from: 20, until: 90), at: Self.at(22)))
        #expect({ if case .spawn = actions.first { true } else { false } }())
    }

    @Test func anUnboundedLeaseArmsNothing() {
        var machine = Self.machine()
        let actions = Self.without(logs: machine.handle(
            Self.event(.state(leaseUntil: nil, leaseUnbounded: true)), at: Self.at(0)))
        #expect(actions == [.spawn(.init(node: Self.node, term: 5, deadline: nil, schedule: .never))])
        #expect(machine.nextWake == nil)
        #expect(Self.without(logs: machine.handle(.tick, at: Self.at(1_000_000))).isEmpty)
    }

    // MARK: Extending

    @Test func anExtensionReArmsAndARepeatedDeadlineDoesNothing() {
        var machine = Self.running()
        let actions = Self.without(logs: machine.handle(Self.lease(from: 50, until: 310), at: Self.at(52)))
        let kill = Self.at(280)
        let stop = kill - (kill - Self.at(52)) / 4
        #expect(actions == [.extend(term: 5, deadline: Self.at(310), schedule: KillSchedule(stopAt: stop, killAt: kill))])
        #expect(Self.without(logs: machine.handle(Self.lease(from: 50, until: 310), at: Self.at(53))).isEmpty)
        #expect(machine.nextWake == kill)
    }

    // MARK: Losing

    @Test(arguments: [
        ("lease ends", SidecarMachineTests.leaseEnds(at: 40)),
        ("lost", SidecarMachineTests.event(.lost(previous: SidecarMachineTests.node), leader: nil, isLeader: false)),
        ("another elected", SidecarMachineTests.event(.elected(isSelf: false, leaderlessMilliseconds: nil), term: 6, leader: 1, isLeader: false)),
        ("state not leading", SidecarMachineTests.notLeading()),
        ("node gone", SidecarMachine.Input.nodeGone),
    ])
    func anExplicitEndKillsAtOnce(_ name: String, _ input: SidecarMachine.Input) {
        var machine = Self.running()
        #expect(Self.without(logs: machine.handle(input, at: Self.at(40))) == [.kill], "\(name)")
    }

    @Test func noExtensionByTheKillDeadlineKillsThere() {
        var machine = Self.running()
        #expect(machine.nextWake == Self.at(230))
        #expect(Self.without(logs: machine.handle(.tick, at: Self.at(229))).isEmpty)
        #expect(Self.without(logs: machine.handle(.tick, at: Self.at(230))) == [.kill])
        // Said once: the keeper's own SIGKILL report changes nothing.
        #expect(Self.without(logs: machine.handle(.keeper(.signalled(.kill, at: Self.at(230))), at: Self.at(230))).isEmpty)
    }

    @Test func aNewTermKillsTheOldChildAndStartsTheNewOnlyOnceTheGroupIsGone() {
        var machine = Self.running()
        #expect(Self.without(logs: machine.handle(Self.lease(term: 6, from: 100, until: 360), at: Self.at(100))) == [.kill])
        #expect(Self.without(logs: machine.handle(Self.lease(term: 6, from: 150, until: 410), at: Self.at(150))).isEmpty)
        _ = machine.handle(.keeper(.exited(.signalled(9), at: Self.at(101))), at: Self.at(151))
        let actions = Self.without(logs: machine.handle(.keeper(.gone(at: Self.at(152))), at: Self.at(152)))
        #expect(actions.first == .childGone(margin: Self.at(260) - Self.at(152)))
        guard case .spawn(let grant) = actions.last else {
            Issue.record("expected a spawn, got \(actions)")
            return
        }
        #expect(grant.term == 6 && grant.deadline == Self.at(410))
    }

    @Test func theMarginIsTheDeadlineMinusTheInstantTheGroupWasGone() {
        var machine = Self.running()
        _ = machine.handle(.keeper(.signalled(.kill, at: Self.at(230))), at: Self.at(230))
        _ = machine.handle(.keeper(.exited(.signalled(9), at: Self.at(231))), at: Self.at(231))
        let actions = machine.handle(.keeper(.gone(at: Self.at(233))), at: Self.at(233))
        #expect(actions.contains(.childGone(margin: .milliseconds(27))))
    }

    // MARK: CMD exits on its own

    @Test func onExitResignAsksTheNodeOnceAndWaitsForTheLeaseToEnd() {
        var machine = Self.running()
        _ = machine.handle(.keeper(.exited(.exited(0), at: Self.at(30))), at: Self.at(30))
        let gone = Self.without(logs: machine.handle(.keeper(.gone(at: Self.at(31))), at: Self.at(31)))
        #expect(gone == [.childGone(margin: Self.at(260) - Self.at(31)), .resign])
        // Still leading until the resignation takes effect: no restart.
        #expect(Self.without(logs: machine.handle(Self.lease(from: 50, until: 310), at: Self.at(50))).isEmpty)
        _ = machine.handle(.resignFinished(succeeded: true, detail: "HTTP 200"), at: Self.at(52))
        #expect(Self.without(logs: machine.handle(Self.leaseEnds(at: 55), at: Self.at(55))).isEmpty)
        // Leading again later (a new term): CMD runs again.
        let again = Self.without(logs: machine.handle(Self.lease(term: 9, from: 5000, until: 5260), at: Self.at(5000)))
        #expect(again.count == 1)
        #expect({ if case .spawn(let grant) = again.first { grant.term == 9 } else { false } }())
    }

    @Test func aRefusedResignationRestartsAfterTheDelay() {
        var machine = Self.running { $0.restartDelay = .milliseconds(100) }
        _ = machine.handle(.keeper(.exited(.exited(1), at: Self.at(30))), at: Self.at(30))
        _ = machine.handle(.keeper(.gone(at: Self.at(31))), at: Self.at(31))
        _ = machine.handle(.resignFinished(succeeded: false, detail: "HTTP 409"), at: Self.at(40))
        #expect(machine.nextWake == Self.at(140))
        #expect(Self.without(logs: machine.handle(Self.lease(from: 100, until: 360), at: Self.at(100))).isEmpty)
        let actions = Self.without(logs: machine.handle(.tick, at: Self.at(140)))
        #expect({ if case .spawn = actions.first { true } else { false } }())
    }

    @Test func aResignationThatDoesNotEndTheLeaseGivesUpAfterItsTimeout() {
        var machine = Self.running { $0.resignTimeout = .milliseconds(500) }
        _ = machine.handle(.keeper(.exited(.exited(0), at: Self.at(30))), at: Self.at(30))
        _ = machine.handle(.keeper(.gone(at: Self.at(31))), at: Self.at(31))
        #expect(machine.nextWake == Self.at(531))
        _ = machine.handle(Self.lease(from: 500, until: 5000), at: Self.at(500))
        #expect(Self.without(logs: machine.handle(.tick, at: Self.at(531))).isEmpty)
        // Then the restart delay (100 ms) and a start.
        let actions = Self.without(logs: machine.handle(.tick, at: Self.at(631)))
        #expect({ if case .spawn = actions.first { true } else { false } }())
    }

    @Test func onExitRestartBacksOffAndResetsAfterASteadyRun() {
        var machine = Self.machine {
            $0.onExit = .restart
            $0.restartDelay = .milliseconds(100)
            $0.maximumRestartDelay = .milliseconds(300)
            $0.steadyRun = .seconds(10)
        }
        var now = 0
        _ = machine.handle(Self.event(.state(leaseUntil: nil, leaseUnbounded: true)), at: Self.at(now))
        var delays: [Int] = []
        for run in 0..<5 {
            let ranFor = run == 3 ? 20_000 : 10
            _ = machine.handle(.keeper(.started(pid: 1, at: Self.at(now))), at: Self.at(now))
            now += ranFor
            _ = machine.handle(.keeper(.exited(.exited(1), at: Self.at(now))), at: Self.at(now))
            _ = machine.handle(.keeper(.gone(at: Self.at(now))), at: Self.at(now))
            let wake = machine.nextWake!
            delays.append(Int((wake - Self.at(now)).milliseconds))
            now = Int((wake - Self.at(0)).milliseconds)
            let actions = Self.without(logs: machine.handle(.tick, at: Self.at(now)))
            #expect({ if case .spawn = actions.first { true } else { false } }())
        }
        #expect(delays == [100, 200, 300, 100, 200])
    }

    @Test func onExitExitReportsTheChildsStatus() {
        var machine = Self.running { $0.onExit = .exit }
        _ = machine.handle(.keeper(.exited(.signalled(11), at: Self.at(30))), at: Self.at(30))
        #expect(Self.without(logs: machine.handle(.keeper(.gone(at: Self.at(31))), at: Self.at(31))).last == .exit(139))
    }

    @Test func anExitAfterTheKeepersSigtermIsNotOnItsOwnAndCMDStartsAgainUnderAValidLease() {
        var machine = Self.running()
        _ = machine.handle(.keeper(.signalled(.terminate, at: Self.at(120))), at: Self.at(120))
        #expect(Self.without(logs: machine.handle(Self.lease(from: 125, until: 385), at: Self.at(125))).count == 1)
        _ = machine.handle(.keeper(.exited(.exited(0), at: Self.at(130))), at: Self.at(130))
        let actions = Self.without(logs: machine.handle(.keeper(.gone(at: Self.at(131))), at: Self.at(131)))
        #expect(!actions.contains(.resign))
        #expect({ if case .spawn = actions.last { true } else { false } }())
    }

    // MARK: Signals, failures

    @Test func aSignalIsForwardedWithTheGraceThatFitsAndTheSidecarExitsOnceTheGroupIsGone() {
        var machine = Self.running { $0.grace = .milliseconds(100) }
        let actions = Self.without(logs: machine.handle(.signal(15), at: Self.at(20)))
        #expect(actions == [.terminate(term: 5, announce: nil, killAt: Self.at(120))])
        // An extension does not move the armed SIGKILL.
        #expect(Self.without(logs: machine.handle(Self.lease(from: 50, until: 310), at: Self.at(50))).isEmpty)
        _ = machine.handle(.keeper(.exited(.signalled(15), at: Self.at(60))), at: Self.at(60))
        #expect(Self.without(logs: machine.handle(.keeper(.gone(at: Self.at(61))), at: Self.at(61))).last == .exit(0))
    }

    @Test func theGraceAfterASignalNeverReachesPastTheKillDeadline() {
        var machine = Self.running()
        #expect(Self.without(logs: machine.handle(.signal(2), at: Self.at(20)))
                == [.terminate(term: 5, announce: nil, killAt: Self.at(230))])
        #expect(Self.without(logs: machine.handle(.signal(2), at: Self.at(21))) == [.kill])
    }

    @Test func aSignalWithoutAChildExitsAtOnce() {
        var machine = Self.machine()
        #expect(Self.without(logs: machine.handle(.signal(15), at: Self.at(0))) == [.exit(0)])
    }

    @Test func aCommandThatCannotStartExits127() {
        var machine = Self.machine()
        _ = machine.handle(Self.lease(from: 0, until: 260), at: Self.at(0))
        let actions = Self.without(logs: machine.handle(.keeper(.spawnFailed(errno: 2, message: "x: not found")), at: Self.at(1)))
        #expect(actions == [.exit(127)])
    }

    @Test func losingTheKeeperExits70() {
        var machine = Self.running()
        #expect(Self.without(logs: machine.handle(.keeperLost, at: Self.at(10))) == [.exit(70)])
    }

    @Test func theScheduleStopsAtOnceWhenReadAfterTheKillInstant() {
        let machine = Self.machine()
        #expect(machine.schedule(deadline: Self.at(100), readAt: Self.at(95))
                == KillSchedule(stopAt: Self.at(95), killAt: Self.at(95)))
        #expect(machine.schedule(deadline: nil, readAt: Self.at(95)) == .never)
    }

    // MARK: As a lease holder (released hand-overs)

    static func confirmations(_ actions: [SidecarMachine.Action]) -> [SidecarMachine.Action] {
        actions.filter { if case .confirmStopped = $0 { true } else { false } }
    }

    @Test func asAHolderItSaysCMDStoppedOnlyOnceTheGroupIsGoneAndNoLeaseShows() {
        var machine = Self.machine()
        _ = machine.handle(.connected(holder: "h1"), at: Self.at(0))
        _ = machine.handle(Self.event(.lease(from: Self.at(0), until: Self.at(260), ends: false), index: 2), at: Self.at(0))
        _ = machine.handle(.keeper(.started(pid: 100, at: Self.at(2))), at: Self.at(2))
        #expect(Self.confirmations(machine.handle(.tick, at: Self.at(10))).isEmpty, "CMD runs")
        let ended = machine.handle(Self.event(.lease(from: Self.at(50), until: Self.at(50), ends: true), index: 3,
                                              isLeader: false), at: Self.at(50))
        #expect(ended.contains(.kill))
        #expect(Self.confirmations(ended).isEmpty, "the group may still live")
        let gone = machine.handle(.keeper(.gone(at: Self.at(53))), at: Self.at(53))
        #expect(Self.confirmations(gone) == [.confirmStopped(holder: "h1", index: 3, leaving: false)])
        #expect(Self.confirmations(machine.handle(.tick, at: Self.at(60))).isEmpty, "said once")
        // A reconnect is a new registration: it says so again, for what the new stream shows.
        _ = machine.handle(.connected(holder: "h2"), at: Self.at(70))
        let state = machine.handle(Self.notLeading(), at: Self.at(71))
        #expect(Self.confirmations(state) == [.confirmStopped(holder: "h2", index: 1, leaving: false)])
    }

    @Test func withoutAHolderNameItNeverConfirmsAndOnExitItLeaves() {
        var plain = Self.running()
        _ = plain.handle(Self.leaseEnds(at: 50), at: Self.at(50))
        #expect(Self.confirmations(plain.handle(.keeper(.gone(at: Self.at(52))), at: Self.at(52))).isEmpty)

        var holder = Self.machine()
        _ = holder.handle(.connected(holder: "h1"), at: Self.at(0))
        _ = holder.handle(Self.event(.lease(from: Self.at(0), until: Self.at(260), ends: false), index: 4), at: Self.at(0))
        _ = holder.handle(.keeper(.started(pid: 100, at: Self.at(2))), at: Self.at(2))
        _ = holder.handle(.signal(15), at: Self.at(10))
        let exit = holder.handle(.keeper(.gone(at: Self.at(12))), at: Self.at(12))
        // Still leading, but CMD is gone for good: it leaves, so the node need not wait for it.
        #expect(Self.confirmations(exit) == [.confirmStopped(holder: "h1", index: 4, leaving: true)])
        #expect(exit.contains(.exit(SidecarMachine.ExitStatus.stopped)))
    }
}
