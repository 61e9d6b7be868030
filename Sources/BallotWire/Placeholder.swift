public enum BallotWireVersion {}
