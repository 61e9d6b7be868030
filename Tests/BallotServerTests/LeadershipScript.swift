import BallotCore
import BallotRuntime

/// Drives a `LeadershipView` as a node's driver would — elected, lease extended, stepped down — at
/// offsets in milliseconds from `start`, for the tests of what the view's listeners write.
protocol LeadershipScript {
    var start: MonotonicInstant { get }
}

extension LeadershipScript {
    func view() -> LeadershipView {
        let view = LeadershipView(node: 1)
        view.start(at: start, role: .follower, term: 0)
        return view
    }

    func elect(_ view: LeadershipView, term: Term, at offset: Int) {
        let at = start + .milliseconds(offset)
        view.absorb([.roleChanged(.leader, term: term), .leaderChanged(LeaderInfo(id: 1, term: term))], role: .leader,
                    term: term, lease: .until(at + .milliseconds(900)), lastContact: at, at: at)
    }

    func extend(_ view: LeadershipView, term: Term, at offset: Int) {
        let at = start + .milliseconds(offset)
        view.absorb([], role: .leader, term: term, lease: .until(at + .milliseconds(900)), lastContact: at, at: at)
    }

    func stepDown(_ view: LeadershipView, term: Term, at offset: Int) {
        view.absorb([.steppedDown(.lostQuorum), .roleChanged(.follower, term: term), .leaderChanged(nil)], role: .follower,
                    term: term, lease: .none, lastContact: nil, at: start + .milliseconds(offset))
    }
}
