// Alerting rules (dashboards/alerts.yml). Every threshold comes from config.libsonnet; the
// reasoning behind each default is in docs/operations.md#thresholds. Each alert links to its
// runbook, a section of docs/operations.md named after it.
{
  prometheusAlerts+:: {
    groups+: [{
      name: 'ballot.alerts',
      rules: $._alertRules,
    }],
  },

  _alertRules::
    local cfg = $._config;
    local t = cfg.alerts;
    local cl = cfg.clusterLabel;
    local label = '$labels.%s' % cl;
    local sel(metric) = '%s{%s}' % [metric, cfg.selector];
    local human = $._promql.humanDuration;
    local spoken = $._promql.spokenDuration;
    local runbook(name) = '%s#%s' % [cfg.runbookBaseURL, std.asciiLower(name)];
    local alert(name, severity, expr, summary, description, extraLabels={}, forDuration=null) = {
      alert: name,
      expr: expr,
      labels: { severity: severity } + extraLabels,
      annotations: { summary: summary, description: description, runbook_url: runbook(name) },
    } + (if forDuration == null then {} else { 'for': forDuration });
    [

      // Fires at the N-th leader change within the window (etcd's mixin fires at 4 in 15m too).
      // Written as ">= N", not "> N-1": increase() extrapolates to the edges of the window, so
      // N-1 changes can read as N-1 + 0.05 and "> N-1" would fire early. Extrapolation never
      // lowers a count, so N changes read as >= N. A planned rolling restart of a 3-node cluster
      // stays below 4 even when every restart hands leadership over (see
      // docs/operations.md#ballotfrequentleaderchanges).
      alert(
        'BallotFrequentLeaderChanges',
        'warning',
        '%s >= %d' % [$._recorded.leaderChanges, t.frequentLeaderChanges.changes],
        'Ballot cluster {{ %s }}: the leader changed {{ $value | printf "%%.0f" }} times in %s' % [label, human(t.frequentLeaderChanges.window)],
        'The leader of Ballot cluster {{ %s }} changed {{ $value | printf "%%.0f" }} times in the last %s (as counted by the node that saw the most changes). Each change leaves the cluster without a leader for a moment. Look for CPU starvation, process pauses, slow fsync or a flapping network link.' % [label, human(t.frequentLeaderChanges.window)],
      ),

      // A node that knows no live leader for a minute (60 default election timeouts: far more than
      // a failover needs), or whose last contact with the leader is older than 15s while it still
      // reports one: the latter catches a node whose election loop is stuck (e.g. on fsync) while
      // its HTTP endpoint keeps serving the last state.
      alert(
        'BallotNoLeader',
        'critical',
        '(%s == 0) or (%s > %d)' % [sel('ballot_has_leader'), sel('ballot_leader_last_contact_seconds'), t.noLeader.lastContactSeconds],
        'Ballot node {{ $labels.instance }} ({{ %s }}) has had no leader for over %s' % [label, spoken(t.noLeader['for'])],
        'Ballot node {{ $labels.instance }} in cluster {{ %(label)s }} has known no live leader, or has not heard from it, for more than %(for)s.{{ with printf "ballot_leader_last_contact_seconds{%(cl)s=%%q,instance=%%q}" %(label)s $labels.instance | query }} Last contact with a leader: {{ . | first | value | humanizeDuration }} ago.{{ end }} Applications asking this node for leadership are told there is none.' % {
          label: label,
          cl: cl,
          'for': spoken(t.noLeader['for']),
        },
        forDuration=t.noLeader['for'],
      ),

      // ballot_is_leader is lease-backed, so two 1s in one cluster at the same instant are a real
      // safety violation. The `for` only absorbs scrape skew: the old leader's last sample (lease
      // still held) can be up to one scrape interval older than the new leader's first one.
      alert(
        'BallotSplitBrain',
        'critical',
        'sum by (%s) (%s) > 1' % [cl, sel('ballot_is_leader')],
        'Ballot cluster {{ %s }} has {{ $value }} lease-holding leaders' % label,
        '{{ $value }} nodes of Ballot cluster {{ %(label)s }} report ballot_is_leader == 1 at the same time:{{ range printf "ballot_is_leader{%(cl)s=%%q} == 1" %(label)s | query | sortByLabel "instance" }} {{ .Labels.instance }}{{ end }}. Fencing tokens (terms) still order their grants, but two holders may act at once.' % { label: label, cl: cl },
        forDuration=t.splitBrain['for'],
      ),

      // Fewer scrape targets up than a quorum: no leader can be elected or kept. A partition
      // between the nodes that Prometheus does not share shows up as BallotNoLeader instead.
      alert(
        'BallotInsufficientMembers',
        'critical',
        'sum by (%s) (%s) < on (%s) %s' % [cl, sel('up'), cl, $._recorded.quorum],
        'Ballot cluster {{ %s }}: only {{ $value }} members up, below quorum' % label,
        'Only {{ $value }} members of Ballot cluster {{ %(label)s }} are up (scraped), but a quorum needs {{ with printf "%(quorum)s{%(cl)s=%%q}" %(label)s | query }}{{ . | first | value }}{{ end }}. Without a quorum no leader can be elected, and a current leader loses its lease.' % { label: label, cl: cl, quorum: $._recorded.quorum },
        forDuration=t.insufficientMembers['for'],
      ),

      // No target of the job at all: the scrape configuration or service discovery lost every
      // node (a renamed job, a changed relabelling, a PodMonitor that no longer matches). Every
      // other alert is blind then — BallotInsufficientMembers counts targets that exist but are
      // down, and there are none — so this one watches the watcher.
      alert(
        'BallotTargetsAbsent',
        'critical',
        'absent(%s)' % sel('up'),
        'Prometheus has no Ballot scrape target ({{ $labels.job }})',
        'Prometheus has had no scrape target matching %s for %s, so no Ballot cluster is monitored and no other Ballot alert can fire. Check the scrape configuration and service discovery.' % [sel('up'), human(t.targetsAbsent['for'])],
        forDuration=t.targetsAbsent['for'],
      ),

      // Campaigns: a timed-out campaign lasts one election timeout, at most 2T = 2s by default,
      // and a won one a few round trips. A p99 above 3s means campaigns run past the longest
      // timeout: the node's timers or messages are being held up.
      alert(
        'BallotSlowElections',
        'warning',
        |||
          histogram_quantile(0.99,
            sum by (%s, le) (rate(%s[%s]))
          ) > %s
        ||| % [cl, sel('ballot_election_duration_seconds_bucket'), t.slowElections.window, t.slowElections.campaignSeconds],
        'Ballot cluster {{ %s }}: p99 election campaign {{ $value | humanizeDuration }}' % label,
        'The 99th percentile of election campaign durations in Ballot cluster {{ %s }} over the last %s is {{ $value | humanizeDuration }} (threshold %ss; with the default election timeout a campaign ends within 2s).' % [label, human(t.slowElections.window), t.slowElections.campaignSeconds],
        extraLabels={ measure: 'election' },
        forDuration=t.slowElections['for'],
      ),

      // Failover as the nodes lived through it: from losing a leader until knowing a new one.
      // A clean failover with the defaults is one campaign (well under 2s); 5s means several
      // rounds of campaigns failed.
      alert(
        'BallotSlowElections',
        'warning',
        |||
          histogram_quantile(0.99,
            sum by (%s, le) (rate(%s[%s]))
          ) > %s
        ||| % [cl, sel('ballot_leaderless_duration_seconds_bucket'), t.slowElections.window, t.slowElections.leaderlessSeconds],
        'Ballot cluster {{ %s }}: p99 leaderless time {{ $value | humanizeDuration }}' % label,
        'The 99th percentile of the time nodes of Ballot cluster {{ %s }} spent without a leader, over the last %s, is {{ $value | humanizeDuration }} (threshold %ss). Failovers are taking several rounds of elections.' % [label, human(t.slowElections.window), t.slowElections.leaderlessSeconds],
        extraLabels={ measure: 'leaderless' },
        forDuration=t.slowElections['for'],
      ),

      // A peer connection down for more than a fifth of the last 5 minutes: a peer that has been
      // gone for a minute or more, or a link that keeps dropping (which `== 0 for ...` would miss,
      // because every reconnect resets the `for`). A node restarting for a few seconds stays quiet.
      alert(
        'BallotPeerUnreachable',
        'warning',
        'avg_over_time(%s[%s]) < %s' % [sel('ballot_peer_connected'), t.peerUnreachable.window, t.peerUnreachable.minConnectedRatio],
        'Ballot node {{ $labels.instance }} cannot keep a connection to peer {{ $labels.peer }}',
        'Ballot node {{ $labels.instance }} in cluster {{ %s }} had a connection to peer {{ $labels.peer }} only {{ $value | humanizePercentage }} of the last %s. The cluster tolerates a minority of unreachable peers, but one more failure can cost it its quorum.' % [label, human(t.peerUnreachable.window)],
        forDuration=t.peerUnreachable['for'],
      ),

      // A node that could not save its term and vote stopped taking part in elections
      // (Halt.Reason; the node sends nothing more and /healthz answers 503). It never recovers by
      // itself, so there is nothing to wait for: no `for`, and critical, because the cluster has
      // lost a voter to a disk that needs a human.
      alert(
        'BallotHalted',
        'critical',
        '%s == 1' % sel('ballot_halted'),
        'Ballot node {{ $labels.instance }} has halted ({{ $labels.reason }})',
        'Ballot node {{ $labels.instance }} in cluster {{ %s }} halted with reason {{ $labels.reason }}: it could not make its term and vote durable, so it no longer votes, campaigns or leads, and it will not recover by itself. Fix the disk, then restart the node; the node\'s log names the failed call.' % label,
      ),

      // Each save of the term and vote runs two fsyncs (the file, then its directory) on the node's
      // event loop, before the node answers a vote or leads: a slow fsync holds up heartbeats and
      // votes alike. No `for`: saves come only with elections, so the window already holds the
      // evidence for its whole length; one slow election's worth is reason enough for a ticket.
      alert(
        'BallotSlowFsync',
        'warning',
        |||
          histogram_quantile(0.99,
            sum by (%s, instance, le) (rate(%s[%s]))
          ) > %s
        ||| % [cl, sel('ballot_state_fsync_duration_seconds_bucket'), t.slowFsync.window, t.slowFsync.fsyncSeconds],
        'Ballot node {{ $labels.instance }}: p99 fsync of its hard state {{ $value | humanizeDuration }}',
        'The 99th percentile of the fsyncs Ballot node {{ $labels.instance }} in cluster {{ %s }} ran to save its term and vote, over the last %s, is {{ $value | humanizeDuration }} (threshold %ss). Every save stalls the node (heartbeats, votes) for two fsyncs; slow enough, and it costs the cluster its leader. The disk is slow or about to fail.' % [label, human(t.slowFsync.window), t.slowFsync.fsyncSeconds],
      ),

      // Frames or handshakes refused, in every 5-minute window for 10 minutes: something keeps
      // connecting with the wrong cluster name, version or credentials, or keeps sending junk.
      // A single stray connection shows on the dashboard but does not alert.
      alert(
        'BallotFramesRejected',
        'warning',
        'rate(%s[%s]) > 0' % [sel('ballot_peer_frames_rejected_total'), t.framesRejected.window],
        'Ballot node {{ $labels.instance }} keeps rejecting peer frames ({{ $labels.reason }})',
        'Ballot node {{ $labels.instance }} in cluster {{ %s }} has been rejecting peer frames or handshakes with reason {{ $labels.reason }} for at least %s, currently {{ $value | humanize }} per second.' % [label, human(t.framesRejected['for'])],
        forDuration=t.framesRejected['for'],
      ),

      // A node's peer TLS credentials end within 14 days: the earliest of its own certificate and
      // the CAs it trusts (ballot_peer_tls_certificate_expiry_timestamp_seconds; 0 without TLS, so
      // nodes without TLS never fire). After that its peers refuse it and it refuses them, so the
      // cluster loses members one by one as their certificates lapse. Two weeks leave time to
      // rotate without a restart (docs/security.md#rotation); the value is the time left.
      alert(
        'BallotCertificateExpiresSoon',
        'warning',
        '(%s - time() < %d) and (%s > 0)' % [
          sel('ballot_peer_tls_certificate_expiry_timestamp_seconds'),
          t.certificateExpiresSoon.days * 86400,
          sel('ballot_peer_tls_certificate_expiry_timestamp_seconds'),
        ],
        'Ballot node {{ $labels.instance }}: its peer TLS certificate or CA expires within %d days' % t.certificateExpiresSoon.days,
        'The peer TLS certificate of Ballot node {{ $labels.instance }} in cluster {{ %s }}, or a CA it trusts, expires in {{ $value | humanizeDuration }} (a negative time: it has expired). Once it has, the node and its peers refuse each other (reason auth). Issue a new certificate and send the node SIGHUP; no restart is needed.' % label,
        forDuration=t.certificateExpiresSoon['for'],
      ),
    ],
}
