// Recording rules (dashboards/rules.yml). The alerts build on them, so load both files.
{
  prometheusRules+:: {
    groups+: [{
      name: 'ballot.rules',
      rules: $._recordingRules,
    }],
  },

  // Names the alerts refer to.
  _recorded:: {
    members: 'cluster:ballot_cluster_members:max',
    quorum: 'cluster:ballot_quorum:size',
    leaderChanges: 'cluster:ballot_leader_changes:max_increase%s' % $._config.alerts.frequentLeaderChanges.window,
  },

  _recordingRules::
    local cfg = $._config;
    local cl = cfg.clusterLabel;
    local sel(metric) = '%s{%s}' % [metric, cfg.selector];
    [
      {
        // Configured voting members per cluster, as the live nodes report it.
        record: $._recorded.members,
        expr: 'max by (%s) (%s)' % [cl, sel('ballot_cluster_members')],
      },
      {
        // A quorum: floor(members / 2) + 1, e.g. 2 of 3, 3 of 5. With every node down nobody
        // reports the size, and the number of scrape targets of the cluster stands in for it, so
        // BallotInsufficientMembers still fires when the whole cluster is down.
        record: $._recorded.quorum,
        expr: |||
          floor(
              (%(members)s or on (%(cl)s) count by (%(cl)s) (%(up)s))
            / 2
          ) + 1
        ||| % { members: $._recorded.members, cl: cl, up: sel('up') },
      },
      {
        // Leader changes in the alert's window, counted once per cluster.
        //
        // Every node counts every leader change it sees, so one failover in a 3-node cluster adds 1
        // to each of the 3 counters: a sum over the nodes would report 3. The maximum over the nodes
        // of each node's own increase counts it once, and still sees every change that any one node
        // saw (a node cut off for a while misses some; another node does not).
        //
        // The increase is taken per node *before* the max, never `increase(max(...))`: the max of
        // counters from different processes drops whenever the node with the highest count
        // restarts, and increase() would read that drop as a counter reset and add the whole
        // remaining count (hundreds of phantom changes). Per node, increase() handles restarts.
        record: $._recorded.leaderChanges,
        expr: 'max by (%s) (increase(%s[%s]))' % [cl, sel('ballot_leader_changes_total'), cfg.alerts.frequentLeaderChanges.window],
      },
    ],
}
