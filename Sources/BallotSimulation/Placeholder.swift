import BallotCore
