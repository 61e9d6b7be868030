// Everything an operator may want to change, in one place. Change a value here, then run
// `scripts/generate-monitoring.sh` to rewrite dashboards/ballot-overview.json, alerts.yml and
// rules.yml (scripts/test.sh fails while the committed files differ from what this generates).
//
// To adapt the mixin without editing this file (e.g. from your own jsonnet), override fields:
//   (import 'dashboards/mixin/mixin.libsonnet') + { _config+:: { jobName: 'leader-election' } }
{
  // --- Where Ballot is scraped -------------------------------------------------------------------

  // The scrape job of the Ballot nodes: the default value of the dashboard's $job variable.
  jobName: 'ballot',

  // The label matchers that select Ballot's series in the recording and alerting rules (a
  // PromQL matcher list without braces). Every rule selector carries it, including `up{...}`
  // and BallotTargetsAbsent's `absent(up{...})`.
  selector: 'job="%s"' % self.jobName,

  // The target label that tells clusters apart (set by the scrape configuration, see
  // dashboards/prometheus.yml). Rules aggregate and alerts group by it; the dashboard's $cluster
  // variable filters on it.
  clusterLabel: 'cluster',

  // --- Links -------------------------------------------------------------------------------------

  // Absolute address of docs/operations.md; each alert's runbook_url is this plus
  // `#<alert name in lower case>` (the section headings of docs/operations.md). Point it at your
  // own copy (a fork, an internal wiki mirror) if operators cannot reach GitHub.
  runbookBaseURL: 'https://github.com/ballot-project/ballot/blob/main/docs/operations.md',

  // --- Dashboard ---------------------------------------------------------------------------------

  dashboard: {
    uid: 'ballot-overview',
    title: 'Ballot overview',
    tags: ['ballot', 'raft', 'leader-election'],
    refresh: '10s',
    timeFrom: 'now-1h',
  },

  // Per-step event panels compare a counter's last sample in each step with its last sample
  // before the step. This is how far back "before the step" may look for that sample, so a node
  // that was down (and not scraped) for up to this long still has a baseline when it returns,
  // and its restart counts as a counter reset instead of being dropped.
  counterBaseline: '15m',

  // --- Alert thresholds --------------------------------------------------------------------------
  // The defaults assume Ballot's default timing: election timeout T = 1s (timeouts drawn from
  // [T, 2T) = [1s, 2s)), heartbeat 100ms. Scale the duration thresholds with T. Why each value:
  // docs/operations.md#thresholds. dashboards/alerts.test.yml pins the default boundaries; change
  // the tests with a threshold. The dashboard draws the same numbers as threshold lines.
  alerts: {
    frequentLeaderChanges: {
      changes: 4,  // leader changes within `window`, counted once per cluster (alert at >= this)
      window: '15m',
    },
    noLeader: {
      lastContactSeconds: 15,  // a node that last heard from its leader longer ago counts as leaderless
      'for': '1m',
    },
    splitBrain: {
      'for': '30s',  // absorbs scrape skew only; keep it >= 2 scrape intervals
    },
    insufficientMembers: {
      'for': '1m',
    },
    slowElections: {
      window: '15m',
      campaignSeconds: 3,  // p99 of ballot_election_duration_seconds
      leaderlessSeconds: 5,  // p99 of ballot_leaderless_duration_seconds
      'for': '5m',
    },
    peerUnreachable: {
      window: '5m',
      minConnectedRatio: 0.8,  // share of `window` a peer connection must be up
      'for': '2m',
    },
    framesRejected: {
      window: '5m',
      'for': '10m',
    },
    targetsAbsent: {
      'for': '5m',  // no scrape target of the job at all, for this long
    },
    // BallotHalted has no threshold and no `for`: a halt is immediate, proven (a save failed) and
    // permanent until a restart, and a supervisor that restarts the node on /healthz may clear it
    // within a minute only for it to halt again at the next save.
    slowFsync: {
      window: '15m',  // saves happen only at elections, so the window must span a few of them
      // p99 of ballot_state_fsync_duration_seconds, per node. Keep it a bucket bound of the
      // histogram (… 0.064, 0.128, 0.256 …): histogram_quantile interpolates inside a bucket, so
      // between bounds the alert would fire on fsyncs faster than the threshold. At a bound it
      // means exactly "more than 1% of fsyncs took longer than this".
      fsyncSeconds: 0.128,
    },
    certificateExpiresSoon: {
      days: 14,  // warn when a node's peer TLS certificate, or a CA it trusts, expires sooner than this
      'for': '15m',
    },
  },
}
