// PromQL text shared by the dashboard, the rules and the tests: selectors and the per-step count.
{
  _promql:: {
    local promql = self,

    // `metric{m1, m2}`; `matchers` is a list of matcher strings (empty ones are skipped).
    selector(metric, matchers)::
      '%s{%s}' % [metric, std.join(', ', std.filter(function(m) m != '', matchers))],

    // The window of one step of a Grafana range query. `$__interval_ms` is exactly the step
    // Grafana sends to Prometheus; `$__interval` is that step rounded down to a whole unit
    // (a 90s step reads as "1m"), so it is not used here.
    step:: '${__interval_ms}ms',

    // How many times the counter `series` went up during each step, counting every increment
    // exactly once, whatever the step and the scrape interval.
    //
    // A bar at time t covers the step (t - step, t]. Per series, with
    //   now    = the last sample in the step,
    //   before = the last sample before the step (looking back `counterBaseline`, so a node that
    //            was down still has one),
    // the bar is `now - before` when the counter did not go down in between: consecutive steps
    // share the boundary sample, so the bars telescope (their sum over any run of steps is last
    // sample minus first sample) and each increment lands in exactly one bar, the first step
    // that ends at or after the scrape that first showed it. Overlapping windows
    // (`increase(x[$__rate_interval])`) count it once per window; `increase(x[$__interval])`
    // loses increments between the last scrape of one step and the first of the next and
    // extrapolates the rest (both proven wrong in dashboards/tests/).
    //
    // When the counter went down in the step (the smallest sample is below `before`, or
    // resets() saw a drop) the process restarted and counts from zero again: the bar is the new
    // process's count `now`, plus what the old process had shown since `before` when the
    // step's largest sample exceeds `now` (then it can only be the old process's last one).
    // That is exact for one restart in a step; otherwise it is a lower bound (two restarts in a
    // step, or an old process that ended below the new one's count), never more than happened.
    // A restart that lands the counter on its old value again is invisible, as for increase().
    // A series with no sample before the step (a new target) has no bar for that step, so the
    // first scrape of a long-running node never shows its whole history as one bar.
    perStep(series)::
      local window = '%s[%s]' % [series, promql.step];
      local values = {
        now: 'last_over_time(%s)' % window,
        before: 'last_over_time(%s[%s] offset %s)' % [series, $._config.counterBaseline, promql.step],
        lowest: 'min_over_time(%s)' % window,
        highest: 'max_over_time(%s)' % window,
        resets: 'resets(%s)' % window,
      };
      |||
        (
            (%(now)s - %(before)s)
          and (%(lowest)s >= %(before)s)
          and (%(resets)s == 0)
        )
        or
        (
            (%(now)s + (%(highest)s - %(before)s))
          and (%(highest)s > %(now)s)
        )
        or
        (%(now)s and %(before)s)
      ||| % values,

    // `15m` -> `15 minutes`, for alert texts that quote a configured window.
    humanDuration(duration)::
      local units = { s: 'second', m: 'minute', h: 'hour', d: 'day' };
      local unit = duration[std.length(duration) - 1];
      local count = std.parseInt(std.substr(duration, 0, std.length(duration) - 1));
      assert std.objectHas(units, unit) : 'duration %s: use a whole number of s, m, h or d' % duration;
      '%d %s%s' % [count, units[unit], if count == 1 then '' else 's'],

    // `1m` -> `a minute`, `5m` -> `5 minutes`: for running text.
    spokenDuration(duration)::
      local one = { '1s': 'a second', '1m': 'a minute', '1h': 'an hour', '1d': 'a day' };
      if std.objectHas(one, duration) then one[duration] else promql.humanDuration(duration),
  },
}
