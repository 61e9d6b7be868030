// The Ballot overview dashboard. Each panel says in its description what it shows and, for
// event counts, what one bar means. Two kinds of panels:
//   - cluster-wide: aggregate every node of the selected clusters and ignore $instance (a
//     cluster's leader count or leader changes must not depend on which nodes are picked);
//   - per node: one series per node, filtered by $instance.
// Only series Ballot exports today appear here: the end-to-end test runs every query against a
// real cluster and expects data. To add a panel for a new series, append it to the right row
// below (the layout places it) and give it the next free id.
{
  grafanaDashboards+:: {
    'ballot-overview.json': $._overviewDashboard,
  },

  _overviewDashboard:: {
    local cfg = $._config,
    local g = $._grafana,
    local q = $._promql,
    local cl = cfg.clusterLabel,
    local thresholds = cfg.alerts,

    // Matchers: every query selects the job and the clusters; per-node queries also $instance.
    local clusterWide = ['job=~"$job"', '%s=~"$cluster"' % cl],
    local perNode = clusterWide + ['instance=~"$instance"'],
    local all(metric) = q.selector(metric, clusterWide),
    local node(metric) = q.selector(metric, perNode),
    local byCluster(labels=[]) = 'by (%s)' % std.join(', ', [cl] + labels),
    local clusterLegend = '{{%s}}' % cl,
    local nodeLegend = '{{instance}} ({{%s}})' % cl,

    local quantiles(histogram) = [
      g.target(
        'histogram_quantile(%s, sum %s (rate(%s[$__rate_interval])))' % [p[0], byCluster(['le']), all(histogram)],
        '%s p%s' % [clusterLegend, p[1]],
        p[2]
      )
      for p in [['0.5', '50', 'A'], ['0.9', '90', 'B'], ['0.99', '99', 'C']]
    ],

    // A per-step count of `metric`, summed `by` the given labels.
    local perStepSum(labels, selector) = 'sum by (%s) (\n%s)' % [std.join(', ', labels), q.perStep(selector)],

    local oneBar = 'Exact counts, whatever the zoom: each bar covers the step that ends at its right edge, and each event is in exactly one bar (per series: the last sample in the step minus the last sample before it). A node that restarted within the step shows what its old and new process counted, or at least the new one\'s count (docs/operations.md, "Counting events per step").',

    local leaderChangeThreshold = thresholds.frequentLeaderChanges.changes,

    local panels = [
      g.row(1, 'Leadership'),

      g.stat(2,
             'Current leader',
             'Per node: the node ID each node knows as its leader (ballot_leader_id; 0 = none known). In a healthy cluster every node shows the same ID; a node showing another or none is partitioned or stuck.',
             [g.target(node('ballot_leader_id'), nodeLegend)],
             w=6)
      + {
        fieldConfig+: { defaults+: {
          mappings: [{ type: 'value', options: { '0': { text: 'none', color: 'red', index: 0 } } }],
          thresholds: g.thresholdSteps([['blue', null]]),
        } },
        options+: { textMode: 'value_and_name' },
      },

      g.stat(3,
             'Term',
             'Cluster-wide: the highest current term of any node in the cluster (ballot_term). It rises by one or more with every election; it is also the fencing token handed to applications.',
             [g.target('max %s (%s)' % [byCluster(), all('ballot_term')], clusterLegend)],
             w=3)
      + { options+: { graphMode: 'area' } },

      g.stat(4,
             'Lease-holding leaders',
             'Cluster-wide: nodes that lead and hold a quorum lease (sum of ballot_is_leader over every node of the cluster). 1 is healthy; 0 means no usable leader right now; 2 or more is a split brain (BallotSplitBrain fires after %s).' % thresholds.splitBrain['for'],
             [g.target('sum %s (%s)' % [byCluster(), all('ballot_is_leader')], clusterLegend)])
      + { fieldConfig+: { defaults+: { thresholds: g.thresholdSteps([['red', null], ['green', 1], ['red', 2]]) } } },

      g.stat(5,
             'Members up / configured / quorum',
             'Cluster-wide: scrape targets up (up of the job), voting members configured (ballot_cluster_members) and the quorum, floor(members / 2) + 1 (with every node down, the number of targets stands in for the configured size). BallotInsufficientMembers fires when "up" stays below "quorum" for %s; BallotTargetsAbsent when the job has no target at all (then this panel is empty).' % thresholds.insufficientMembers['for'],
             [
               g.target('sum %s (%s)' % [byCluster(), all('up')], '%s up' % clusterLegend, 'A'),
               g.target('max %s (%s)' % [byCluster(), all('ballot_cluster_members')], '%s configured' % clusterLegend, 'B'),
               g.target(
                 'floor(\n    (max %s (%s) or on (%s) count %s (%s))\n  / 2\n) + 1' % [
                   byCluster(),
                   all('ballot_cluster_members'),
                   cl,
                   byCluster(),
                   all('up'),
                 ],
                 '%s quorum' % clusterLegend,
                 'C'
               ),
             ],
             w=6)
      + { options+: { textMode: 'value_and_name' } },

      g.stat(6,
             'Leader changes in range',
             "Cluster-wide: leader changes in the selected time range, counted once per cluster: the maximum over the nodes of each node's increase of ballot_leader_changes_total (a sum would count every change once per node). Orange from %d, the BallotFrequentLeaderChanges threshold (which counts over %s)." % [leaderChangeThreshold, thresholds.frequentLeaderChanges.window],
             [g.instant('max %s (increase(%s[$__range]))' % [byCluster(), all('ballot_leader_changes_total')], clusterLegend)],
             w=5)
      + g.decimals(0)
      + { fieldConfig+: { defaults+: { thresholds: g.thresholdSteps([['green', null], ['orange', leaderChangeThreshold]]) } } },

      g.stateTimeline(7,
                      'Role of each node',
                      "Per node: each node's role over time (ballot_role). Green: leader; blue: follower; yellow: pre-candidate (PreVote); orange: candidate. Gaps: the node was not scraped.",
                      [g.target(
                        'sum by (%s, instance) (\n    %s\n)' % [cl, std.join('\n  or ', [
                          '%s * %d' % [q.selector('ballot_role', ['role="%s"' % r[0]] + perNode), r[1]]
                          for r in [['follower', 1], ['pre_candidate', 2], ['candidate', 3], ['leader', 4]]
                        ])],
                        nodeLegend
                      )],
                      g.valueMapping({
                        '0': ['unknown', 'text'],
                        '1': ['follower', 'blue'],
                        '2': ['pre_candidate', 'yellow'],
                        '3': ['candidate', 'orange'],
                        '4': ['leader', 'green'],
                      }),
                      w=12,
                      h=7),

      g.stateTimeline(27,
                      'Knows a live leader',
                      'Per node: 1 while the node knows a live leader for its current term (ballot_has_leader), on followers and on the leader itself. Red: no leader known; BallotNoLeader fires for a node that stays red for %s (or whose last contact with the leader exceeds %ds, see "Last contact with the leader").' % [thresholds.noLeader['for'], thresholds.noLeader.lastContactSeconds],
                      [g.target(node('ballot_has_leader'), nodeLegend)],
                      g.valueMapping({ '0': ['no leader', 'red'], '1': ['leader known', 'green'] }),
                      w=12,
                      h=7),

      g.row(8, 'Leader changes'),

      g.timeseries(9,
                   'Leader changes per step, by node',
                   'Per node: leader changes each node saw (ballot_leader_changes_total). One bar = the changes that node saw during that step; one failover draws one bar on each node that saw it (a node scraped just after a step boundary shows it in the next step). A restarted node also counts learning the leader after start-up. ' + oneBar,
                   [g.target(perStepSum([cl, 'instance'], node('ballot_leader_changes_total')), nodeLegend)])
      + g.bars(),

      g.timeseries(10,
                   'Leader changes in %s (alert at %d)' % [q.humanDuration(thresholds.frequentLeaderChanges.window), leaderChangeThreshold],
                   "Cluster-wide: what BallotFrequentLeaderChanges evaluates, the maximum over the nodes of each node's increase of ballot_leader_changes_total over %s. The alert fires at %d (the red line)." % [thresholds.frequentLeaderChanges.window, leaderChangeThreshold],
                   [g.target('max %s (increase(%s[%s]))' % [byCluster(), all('ballot_leader_changes_total'), thresholds.frequentLeaderChanges.window], clusterLegend)])
      + g.thresholdLine(leaderChangeThreshold),

      g.timeseries(11,
                   'Leader changes per day',
                   "Cluster-wide: leader changes per day over the last 7 days. One bar = one day (the step is at least 1d), counted once per cluster as the maximum over the nodes of each node's count (a change within a scrape interval of midnight may count on both days). " + oneBar,
                   [g.target('max %s (\n%s)' % [byCluster(), q.perStep(all('ballot_leader_changes_total'))], clusterLegend) + { interval: '1d' }])
      + g.bars()
      + { interval: '1d', timeFrom: '7d', hideTimeOverride: false },

      g.row(12, 'Elections and failover'),

      g.timeseries(13,
                   'Election duration p50 / p90 / p99',
                   'Cluster-wide: duration of election campaigns on every node of the cluster, from the start of the campaign (pre-vote included) to its end, won, lost or timed out (ballot_election_duration_seconds). A timed-out campaign lasts one election timeout (at most 2T). Lines appear only around elections. BallotSlowElections fires when the p99 over %s exceeds %ss (the dashed line).' % [thresholds.slowElections.window, thresholds.slowElections.campaignSeconds],
                   quantiles('ballot_election_duration_seconds_bucket'),
                   w=12)
      + g.unit('s') + g.thresholdLine(thresholds.slowElections.campaignSeconds, style='dashed'),

      g.heatmap(14,
                'Election duration heatmap',
                'Per node: election campaigns of the selected nodes per duration bucket (ballot_election_duration_seconds_bucket). One cell = the campaigns that ended during that step with a duration in that bucket. ' + oneBar,
                [g.target(perStepSum(['le'], node('ballot_election_duration_seconds_bucket')), '{{le}}') + { format: 'heatmap' }],
                's'),

      g.timeseries(15,
                   'Leaderless (failover) duration p50 / p90 / p99',
                   'Cluster-wide: how long the nodes of the cluster were without a leader, from losing one (timeout, step-down, start-up) until knowing the next (ballot_leaderless_duration_seconds): the failover time the nodes lived through. BallotSlowElections fires when the p99 over %s exceeds %ss (the dashed line).' % [thresholds.slowElections.window, thresholds.slowElections.leaderlessSeconds],
                   quantiles('ballot_leaderless_duration_seconds_bucket'),
                   w=12)
      + g.unit('s') + g.thresholdLine(thresholds.slowElections.leaderlessSeconds, style='dashed'),

      g.timeseries(16,
                   'Campaigns by outcome',
                   'Cluster-wide: election campaigns that ended, by outcome (count of ballot_election_duration_seconds). One bar = the campaigns that ended during that step on any node of the cluster (each campaign is run, and counted, by one node). Many timed_out campaigns mean split votes or unreachable voters. ' + oneBar,
                   [g.target(perStepSum([cl, 'outcome'], all('ballot_election_duration_seconds_count')), '%s {{outcome}}' % clusterLegend)],
                   w=12)
      + g.bars(stacked=true),

      g.timeseries(28,
                   'Campaign phases started: pre-vote and vote',
                   'Cluster-wide: campaign phases started, by phase (ballot_elections_started_total). One bar = the phases started during that step on any node of the cluster. A PreVote campaign counts pre_vote and, if the pre-vote is won, vote; a transfer campaign counts only vote. Many pre_vote bars without vote bars: a node keeps failing its pre-vote (cut off from a majority, harmless to the leader). ' + oneBar,
                   [g.target(perStepSum([cl, 'phase'], all('ballot_elections_started_total')), '%s {{phase}}' % clusterLegend)])
      + g.bars(stacked=true),

      g.timeseries(29,
                   'Step-downs by reason',
                   'Cluster-wide: leaderships given up, by reason (ballot_step_downs_total: higher_term, lost_quorum, transfer, shutdown). One bar = the step-downs during that step on any node of the cluster. lost_quorum points at the network or a paused leader; transfer and shutdown are planned. ' + oneBar,
                   [g.target(perStepSum([cl, 'reason'], all('ballot_step_downs_total')), '%s {{reason}}' % clusterLegend)])
      + g.bars(stacked=true),

      g.timeseries(30,
                   'Leadership transfers by outcome',
                   'Cluster-wide: leadership transfers that ended, by outcome (ballot_leadership_transfers_total: completed, timed_out, abandoned), counted by the leader that started them. One bar = the transfers that ended during that step. ' + oneBar,
                   [g.target(perStepSum([cl, 'outcome'], all('ballot_leadership_transfers_total')), '%s {{outcome}}' % clusterLegend)])
      + g.bars(stacked=true),

      g.row(17, 'Leader and peers'),

      g.timeseries(18,
                   'Leader uptime',
                   'Per node: how long the current leader has held leadership, as each node sees it (ballot_leader_uptime_seconds; 0 with no leader). Drops to 0 at every leader change.',
                   [g.target(node('ballot_leader_uptime_seconds'), nodeLegend)])
      + g.unit('s'),

      g.timeseries(19,
                   'Last contact with the leader',
                   'Per node: seconds since each follower last heard from the leader (ballot_leader_last_contact_seconds; 0 on the leader). Normally below the heartbeat interval; a follower gives up at its election timeout. BallotNoLeader fires for a node above %ds (the red line) for %s.' % [thresholds.noLeader.lastContactSeconds, thresholds.noLeader['for']],
                   [g.target(node('ballot_leader_last_contact_seconds'), nodeLegend)])
      + g.unit('s') + g.thresholdLine(thresholds.noLeader.lastContactSeconds),

      g.timeseries(20,
                   'Peer round trip p99',
                   'Per node: 99th percentile heartbeat round trip from each node to each peer (ballot_peer_round_trip_time_seconds; measured by the leader).',
                   [g.target('histogram_quantile(0.99, sum by (%s, instance, peer, le) (rate(%s[$__rate_interval])))' % [cl, node('ballot_peer_round_trip_time_seconds_bucket')],
                             '%s → peer {{peer}}' % nodeLegend)])
      + g.unit('s'),

      g.timeseries(21,
                   'Peer connections (share of the last %s)' % thresholds.peerUnreachable.window,
                   'Per node: the share of the last %s during which the authenticated connection from the node to the peer was up (average of ballot_peer_connected, 1 while up): what BallotPeerUnreachable evaluates. It fires below %s%% (the red line) for %s. A dip that recovers is a reconnect; a slope down to 0 is a peer gone.' % [thresholds.peerUnreachable.window, thresholds.peerUnreachable.minConnectedRatio * 100, thresholds.peerUnreachable['for']],
                   [g.target('avg_over_time(%s[%s])' % [node('ballot_peer_connected'), thresholds.peerUnreachable.window], '%s → peer {{peer}}' % nodeLegend)])
      + g.unit('percentunit') + g.max(1)
      + {
        fieldConfig+: { defaults+: {
          custom+: { thresholdsStyle: { mode: 'line' } },
          thresholds: g.thresholdSteps([['red', null], ['green', thresholds.peerUnreachable.minConnectedRatio]]),
        } },
      },

      g.timeseries(22,
                   'Rejected frames by reason',
                   'Per node: peer frames and handshakes refused, by reason (ballot_peer_frames_rejected_total). One bar = the frames that node refused during that step. wrong_cluster, unknown_node, bad_version and auth point at a misconfigured or foreign node (auth: wrong, missing, expired or foreign credentials, a replay, plaintext to a TLS port); malformed, oversized and unknown_type at junk on the peer port (not a Ballot peer, a different max frame size, or a bug); handshake_timeout and too_many_handshakes at connections that never complete their handshake, or a flood of them; queue_full is reserved and stays 0 (no inbound queue can overflow); other counts any reason outside this list. BallotFramesRejected fires when a node keeps refusing frames in every %s window for %s. ' % [thresholds.framesRejected.window, thresholds.framesRejected['for']] + oneBar,
                   [g.target(perStepSum([cl, 'instance', 'reason'], node('ballot_peer_frames_rejected_total')), '%s {{reason}}' % nodeLegend)])
      + g.bars(stacked=true),

      g.timeseries(23,
                   'Heartbeat failures per peer',
                   'Per node: heartbeats per second that could not be delivered or were not acknowledged in time, per peer (ballot_heartbeat_failures_total; counted by the leader).',
                   [g.target('sum by (%s, instance, peer) (rate(%s[$__rate_interval]))' % [cl, node('ballot_heartbeat_failures_total')], '%s → peer {{peer}}' % nodeLegend)]),

      g.timeseries(31,
                   'Peer traffic',
                   'Per node: peer protocol bytes per second, sent (up) and received (down, drawn negative): whole frames, election messages and handshakes (ballot_peer_bytes_sent_total, ballot_peer_bytes_received_total). A leader sends a heartbeat to every peer each heartbeat interval; traffic far above that baseline means reconnect storms or junk on the peer port.',
                   [
                     g.target('rate(%s[$__rate_interval])' % node('ballot_peer_bytes_sent_total'), '%s sent' % nodeLegend, 'A'),
                     g.target('rate(%s[$__rate_interval])' % node('ballot_peer_bytes_received_total'), '%s received' % nodeLegend, 'B'),
                   ],
                   w=12)
      + g.unit('Bps')
      + {
        fieldConfig+: {
          defaults+: { min:: null },
          overrides: [{
            matcher: { id: 'byFrameRefID', options: 'B' },
            properties: [{ id: 'custom.transform', value: 'negative-Y' }],
          }],
        },
      },

      g.timeseries(32,
                   'Dropped outbound messages',
                   "Per node: messages to a peer dropped instead of waiting (ballot_peer_queue_dropped_total): no established connection to the peer, or 16 KiB of unsent bytes already queued on it (a slow or stuck peer). One bar = the messages that node dropped during that step. A few around a peer's restart are expected; a steady stream means a peer that cannot keep up. " + oneBar,
                   [g.target(perStepSum([cl, 'instance', 'peer'], node('ballot_peer_queue_dropped_total')), '%s → peer {{peer}}' % nodeLegend)],
                   w=12)
      + g.bars(stacked=true),

      g.stat(39,
             'Peer authentication',
             'Per node: whether peers must prove who they are (ballot_peer_auth_enabled): on with mutual TLS, the cluster secret or both; OFF when anyone who reaches the peer port can take part in elections (--insecure-peers, or a loopback listener without credentials). Nodes log a warning at start-up when it is off (docs/security.md).',
             [g.target(node('ballot_peer_auth_enabled'), nodeLegend)],
             w=8)
      + {
        fieldConfig+: { defaults+: {
          mappings: [{ type: 'value', options: {
            '0': { text: 'OFF', color: 'red', index: 0 },
            '1': { text: 'on', color: 'green', index: 1 },
          } }],
          thresholds: g.thresholdSteps([['red', null], ['green', 1]]),
        } },
        options+: { textMode: 'value_and_name' },
      },

      g.timeseries(40,
                   'Peer TLS credentials expire in',
                   'Per node, nodes with peer TLS only: time until the earliest of the node\'s own certificate and the CAs it trusts stops being valid (ballot_peer_tls_certificate_expiry_timestamp_seconds - time()). The line is at %d days, where BallotCertificateExpiresSoon fires; renew and send the node SIGHUP, no restart needed (docs/security.md, "Rotation"). It jumps up at each successful reload.' % thresholds.certificateExpiresSoon.days,
                   [g.target('(%s - time())\n  and %s > 0' % [node('ballot_peer_tls_certificate_expiry_timestamp_seconds'), node('ballot_peer_tls_certificate_expiry_timestamp_seconds')], nodeLegend)],
                   w=16)
      + g.unit('s')
      + {
        fieldConfig+: { defaults+: {
          custom+: { thresholdsStyle: { mode: 'line' } },
          thresholds: g.thresholdSteps([['red', null], ['green', thresholds.certificateExpiresSoon.days * 86400]]),
        } },
      },

      g.row(24, 'Process'),

      g.timeseries(25,
                   'Process CPU',
                   'Per node: CPU time used per second of wall time (rate of process_cpu_seconds_total); 100% is one full core. A node starved of CPU misses its heartbeats and election timers.',
                   [g.target('rate(%s[$__rate_interval])' % node('process_cpu_seconds_total'), nodeLegend)])
      + g.unit('percentunit'),

      g.timeseries(26,
                   'Process memory (RSS)',
                   'Per node: resident memory of each node (process_resident_memory_bytes).',
                   [g.target(node('process_resident_memory_bytes'), nodeLegend)])
      + g.unit('bytes'),

      g.timeseries(33,
                   'Open file descriptors',
                   "Per node: open file descriptors of each node (process_open_fds): the peer connections, the HTTP connections, the state file and the process's own. It should stay flat; a steady climb is a leak. The limit is process_max_fds.",
                   [g.target(node('process_open_fds'), nodeLegend)])
      + g.decimals(0),

      g.timeseries(41,
                   'Hard-state fsync p99',
                   'Per node: 99th percentile duration of the fsyncs that save the term and vote (ballot_state_fsync_duration_seconds; two per save: the file, then its directory). Saves happen only around elections, so lines appear only then (a quiet cluster draws nothing). Each fsync runs on the node\'s event loop and holds up its heartbeats and votes. BallotSlowFsync fires when the p99 over %s exceeds %ss (the red line).' % [thresholds.slowFsync.window, thresholds.slowFsync.fsyncSeconds],
                   [g.target('histogram_quantile(0.99, sum by (%s, instance, le) (rate(%s[$__rate_interval])))' % [cl, node('ballot_state_fsync_duration_seconds_bucket')], nodeLegend)])
      + g.unit('s') + g.thresholdLine(thresholds.slowFsync.fsyncSeconds),

      g.stateTimeline(42,
                      'Halted nodes',
                      'Per node and reason: 1 while the node is halted (ballot_halted): it could not save its term and vote (state_write_failed, counted by ballot_state_write_failures_total), sends nothing more and answers 503 on /healthz. A halted node never recovers by itself; BallotHalted fires at once.',
                      [g.target('max by (%s, instance, reason) (%s)' % [cl, node('ballot_halted')], '%s {{reason}}' % nodeLegend)],
                      g.valueMapping({ '0': ['running', 'green'], '1': ['halted', 'red'] }),
                      w=16,
                      h=8),

      g.row(34, 'Versions and restarts'),

      g.timeseries(35,
                   'Nodes per version',
                   'Cluster-wide: how many nodes of the cluster run each version (ballot_build_info, by version). During a rolling upgrade one line steps down as the next steps up; afterwards a single line should equal the members configured.',
                   [g.target('count by (%s, version) (%s)' % [cl, all('ballot_build_info')], '%s {{version}}' % clusterLegend)],
                   w=6)
      + g.decimals(0),

      g.table(36,
              'Version of each node',
              'Per node: the version and election algorithm each node runs now (labels of ballot_build_info).',
              [g.instant(node('ballot_build_info'), '') + { format: 'table' }],
              ['Time', 'Value', '__name__', 'job'],
              w=6),

      g.timeseries(37,
                   'Process uptime',
                   'Per node: time since each process started (now - process_start_time_seconds). Drops to 0 at every restart.',
                   [g.target('time() - %s' % node('process_start_time_seconds'), nodeLegend)],
                   w=6)
      + g.unit('s'),

      g.stat(38,
             'Restarts in range',
             'Per node: how many times each process started anew within the selected time range (changes of process_start_time_seconds). A wall-clock step on the host can also read as a restart.',
             [g.instant('changes(%s[$__range])' % node('process_start_time_seconds'), nodeLegend)],
             w=6,
             h=8)
      + g.decimals(0)
      + {
        fieldConfig+: { defaults+: { thresholds: g.thresholdSteps([['green', null], ['orange', 1]]) } },
        options+: { textMode: 'value_and_name' },
      },
    ],

    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.4.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
    ] + [
      { type: 'panel', id: p[0], name: p[1], version: '' }
      for p in [['heatmap', 'Heatmap'], ['stat', 'Stat'], ['state-timeline', 'State timeline'], ['table', 'Table'], ['timeseries', 'Time series']]
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        // A marker at each step in which a cluster's leader changed (same per-step count as
        // "Leader changes per step", maximum over the nodes).
        {
          datasource: g.datasource,
          enable: true,
          expr: 'max %s (\n%s) > 0' % [byCluster(), q.perStep(all('ballot_leader_changes_total'))],
          hide: false,
          iconColor: 'orange',
          name: 'Leader changes',
          step: '',
          tagKeys: cl,
          textFormat: 'Leader changed in cluster %s' % clusterLegend,
          titleFormat: 'Leader change',
          useValueForTime: false,
        },
      ],
    },
    description: 'Ballot (Raft leader election): leader, term, elections, failover time, peers, process health, versions. Cluster-wide panels cover every node of the selected clusters; per-node panels follow $instance. Generated by scripts/generate-monitoring.sh from dashboards/mixin; alerts and runbooks: dashboards/alerts.yml, docs/operations.md.',
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [],
    liveNow: false,
    panels: g.layout(panels),
    refresh: cfg.dashboard.refresh,
    schemaVersion: 39,
    tags: cfg.dashboard.tags,
    templating: { list: g.variables(cfg.jobName, cl) },
    time: { from: cfg.dashboard.timeFrom, to: 'now' },
    timepicker: { refresh_intervals: ['5s', '10s', '30s', '1m', '5m', '15m'] },
    timezone: 'browser',
    title: cfg.dashboard.title,
    uid: cfg.dashboard.uid,
    version: 1,
    weekStart: '',
  },
}
