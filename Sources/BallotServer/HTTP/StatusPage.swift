import NIOHTTP1

/// `GET /`: a live page of the cluster for people, served from the binary itself.
///
/// Self-contained on purpose (inline CSS and script, no font, image or script from anywhere else,
/// not even a favicon request), so it works on an air-gapped host and its Content-Security-Policy
/// can forbid every other origin. It costs the node nothing until someone opens it: the bytes are
/// a constant, and the page's script reads the node's own `GET /status` (and `GET /cluster` when
/// the node has one) about once a second — only while the tab is visible, backing off to 10s
/// while the node does not answer.
enum StatusPage {
    /// The answer, built once: every request gets the same bytes.
    static let response = HTTPResponse(
        status: .ok,
        headers: [
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy":
                "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; "
                + "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ],
        body: .bytes(Array(html.utf8)))

    /// The page. Element ids and `data-*` attributes are what the headless-browser test reads:
    /// `#leader[data-leader]`, `#term`, `#members tr[data-node]`, `#timeline li[data-leader]`.
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>Ballot</title>
        <style>
        :root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --dim:#6b7280; --lead:#15803d; --warn:#b45309; --bad:#b91c1c; --line:#e5e7eb; }
        * { box-sizing:border-box; }
        body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif; background:var(--bg); color:var(--ink); }
        header { display:flex; align-items:baseline; gap:1rem; padding:.8rem 1.4rem; background:var(--ink); color:#fff; }
        header h1 { font-size:1.1rem; margin:0; } header span { color:#cbd5e1; font-size:.85rem; }
        main { display:grid; gap:1rem; padding:1rem 1.4rem; grid-template-columns:repeat(auto-fit,minmax(20rem,1fr)); }
        section { background:var(--card); border:1px solid var(--line); border-radius:.5rem; padding:.9rem 1.1rem; }
        h2 { font-size:.8rem; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:0 0 .6rem; }
        .big { font-size:2.2rem; font-weight:650; } .big small { font-size:1rem; color:var(--dim); font-weight:400; }
        .none { color:var(--bad); }
        table { width:100%; border-collapse:collapse; } td,th { text-align:left; padding:.3rem .4rem; border-bottom:1px solid var(--line); white-space:nowrap; }
        th { font-size:.75rem; color:var(--dim); font-weight:600; }
        .role-leader { color:var(--lead); font-weight:650; } .role-candidate,.role-pre_candidate { color:var(--warn); }
        .down { color:var(--bad); } .dim { color:var(--dim); }
        ol { list-style:none; margin:0; padding:0; max-height:18rem; overflow:auto; }
        li { padding:.25rem 0; border-bottom:1px solid var(--line); display:flex; gap:.6rem; }
        li time { color:var(--dim); font-variant-numeric:tabular-nums; min-width:5.5rem; }
        #strip { display:flex; height:1.2rem; border-radius:.25rem; overflow:hidden; margin:.2rem 0 .8rem; background:var(--line); }
        #strip div { height:100%; } #error { color:var(--bad); }
        </style>
        </head>
        <body>
        <header><h1>Ballot</h1><span id="self">connecting…</span><span id="error"></span></header>
        <main>
        <section><h2>Leader</h2>
          <div class="big" id="leader" data-leader="">–</div>
          <div>term <b id="term">–</b> · lease <span id="lease">–</span></div>
        </section>
        <section><h2>Members</h2>
          <table><thead><tr><th>node</th><th>role</th><th>term</th><th>last contact</th><th>link</th></tr></thead>
          <tbody id="members"></tbody></table>
          <p class="dim" id="source"></p>
        </section>
        <section style="grid-column:1/-1"><h2>Recent leader changes</h2>
          <div id="strip" title="the last 10 minutes, oldest on the left"></div>
          <ol id="timeline"></ol>
        </section>
        </main>
        <script>
        "use strict";
        const $ = id => document.getElementById(id);
        const palette = ["#2563eb","#15803d","#9333ea","#c2410c","#0891b2","#be185d","#4d7c0f"];
        const colour = id => id == null ? "#d1d5db" : palette[(id - 1) % palette.length];
        const ms = v => v == null ? "–" : v < 1000 ? v.toFixed(0) + " ms" : (v / 1000).toFixed(1) + " s";
        const clock = t => new Date(t * 1000).toLocaleTimeString([], {hour12:false});
        function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
        let delay = 1000, cluster = true, timer = 0;

        // One node's own report, or what `status` (this node) says about a peer when no cluster view exists.
        function members(status, reports) {
          if (reports) return reports.map(r => r.status
            ? {id:r.status.id, role:r.status.role, term:r.status.term, contact:r.status.last_contact_ms, link:"own report"}
            : {id:r.id, role:"unreachable", term:null, contact:null, link:r.error || "no answer"});
          const rows = [{id:status.id, role:status.role, term:status.term, contact:status.last_contact_ms, link:"this node"}];
          for (const p of status.peers) rows.push({
            id:p.id, role:p.id === status.leader ? "leader" : status.leader != null ? "follower" : "unknown",
            term:null, contact:p.last_heard_ms, link:(p.connected ? "connected" : "disconnected") + (p.last_round_trip_ms != null ? ", rtt " + ms(p.last_round_trip_ms) : "")});
          return rows.sort((a, b) => a.id - b.id);
        }

        function render(status, reports) {
          $("self").textContent = "node " + status.id + " · " + status.role + (status.halted ? " · HALTED: " + status.halted : "");
          const leader = $("leader");
          leader.dataset.leader = status.leader == null ? "" : String(status.leader);
          leader.innerHTML = status.leader == null ? '<span class="none">none</span>' : "node " + status.leader + (status.leader === status.id ? " <small>(this node)</small>" : "");
          $("term").textContent = status.term;
          $("lease").textContent = status.is_leader ? "held by this node" : status.leader != null ? "held by node " + status.leader : "none";
          const body = $("members"); body.textContent = "";
          for (const m of members(status, reports)) {
            const row = body.insertRow(); row.dataset.node = m.id; row.dataset.role = m.role;
            cell(row, "node " + m.id); cell(row, m.role, "role-" + m.role + (m.role === "unreachable" ? " down" : ""));
            cell(row, m.term == null ? "–" : m.term); cell(row, m.role === "leader" && m.term != null ? "leads" : ms(m.contact));
            cell(row, m.link, /disconnected|unreachable|no answer/.test(m.link) ? "down" : "dim");
          }
          $("source").textContent = reports ? "each node's own report, gathered by node " + status.id
            : "as node " + status.id + " sees them: last contact is the last message it received from each";
          const changes = status.recent_leadership_changes.slice().sort((a, b) => a.unix_time - b.unix_time);
          const list = $("timeline"); list.textContent = "";
          for (const c of changes.slice().reverse()) {
            const li = document.createElement("li"); li.dataset.leader = c.leader == null ? "" : String(c.leader); li.dataset.term = c.term;
            const t = document.createElement("time"); t.textContent = clock(c.unix_time); li.append(t);
            const what = document.createElement("span");
            what.textContent = c.leader == null ? "leader lost (term " + c.term + ")"
              : "node " + c.leader + " leads, term " + c.term + (c.leaderless_ms > 0 ? " · " + ms(c.leaderless_ms) + " without a leader" : "");
            what.style.color = c.leader == null ? "var(--bad)" : colour(c.leader); li.append(what); list.append(li);
          }
          const strip = $("strip"); strip.textContent = "";
          const end = Date.now() / 1000, start = end - 600;
          changes.forEach((c, i) => {
            const from = Math.max(c.unix_time, start), to = i + 1 < changes.length ? changes[i + 1].unix_time : end;
            if (to <= start) return;
            const d = document.createElement("div"); d.style.width = (100 * (to - from) / 600) + "%";
            d.style.background = colour(c.leader); d.title = (c.leader == null ? "no leader" : "node " + c.leader) + ", term " + c.term; strip.append(d);
          });
        }

        async function json(path) {
          const r = await fetch(path, {cache:"no-store", headers:{accept:"application/json"}});
          if (!r.ok) { const e = new Error(path + ": HTTP " + r.status); e.status = r.status; throw e; }
          return r.json();
        }

        async function poll() {
          timer = 0;
          try {
            const status = await json("status");
            let reports = null;
            if (cluster) {
              try { reports = (await json("cluster")).nodes; }
              catch (e) { if (e.status === 404) cluster = false; }
            }
            render(status, reports);
            $("error").textContent = ""; delay = 1000;
          } catch (e) {
            $("error").textContent = "node not answering (" + e.message + "), retrying";
            delay = Math.min(delay * 2, 10000);
          }
          if (!document.hidden) timer = setTimeout(poll, delay);
        }
        document.addEventListener("visibilitychange", () => { if (!document.hidden && !timer) poll(); });
        poll();
        </script>
        </body>
        </html>

        """#
}
