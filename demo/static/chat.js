// The gatecast chat demo: one WebSocket to the gateway, speaking the chat
// example's JSON (examples/chat). No framework, no build step.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const wsPath = document.querySelector('meta[name="gatecast-websocket-path"]').content || "/";

  let ws = null; // the open or opening WebSocket
  let me = ""; // this connection's id, from the chat's {"you":true} notice
  let room = ""; // the room joined
  // Own messages on their way: {room, text, t0}, oldest first. The chat
  // handles a connection's messages in order, so the first match is ours.
  let pending = [];

  // The WebSocket on the page's own host: same origin, so the gateway's
  // Origin check passes, and wss:// when the page came over https://.
  function wsURL(name) {
    const u = new URL(wsPath, location.href);
    u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (name) u.searchParams.set("name", name);
    return u.href;
  }

  function setState(state, text) {
    document.body.dataset.state = state;
    $("status").textContent = text;
    const open = state === "open";
    $("name").disabled = state !== "idle" && state !== "closed";
    $("disconnect").disabled = !open && state !== "connecting";
    $("connect").textContent = open ? "Join room" : "Connect";
    $("connect").disabled = state === "connecting";
    $("text").disabled = $("send").disabled = !open || room === "";
    $("text").placeholder = $("text").disabled ? "Join a room, then say something" : "Say something in " + room;
  }

  function clock() {
    return new Date().toLocaleTimeString([], { hour12: false });
  }

  // add appends a line to the log: a class, then [class, text] parts.
  function add(kind, ...parts) {
    const li = document.createElement("li");
    li.className = kind;
    const t = document.createElement("time");
    t.textContent = clock();
    li.append(t);
    for (const [cls, text] of parts) {
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = text; // never innerHTML: names and texts are other people's
      li.append(span);
    }
    const log = $("log");
    log.append(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }

  function ms(x) {
    return x < 10 ? x.toFixed(1) + " ms" : Math.round(x) + " ms";
  }

  function who(m) {
    return m.name || "anonymous " + String(m.connectionId || m.from).slice(-4);
  }

  function connect() {
    const name = $("name").value.trim();
    const url = wsURL(name);
    $("ws-url").textContent = url;
    setState("connecting", "connecting…");
    ws = new WebSocket(url);
    const sock = ws;
    sock.onopen = () => {
      setState("open", "connected, joining " + $("room").value + "…");
      join($("room").value.trim());
    };
    // Stamped first, so that the page's own work is not in the latency.
    sock.onmessage = (ev) => receive(ev.data, performance.now(), Date.now());
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      ws = null;
      room = "";
      pending = [];
      const reason = ev.reason ? `"${ev.reason}"` : "no reason";
      const info = `${ev.code} ${closeMeaning(ev.code)}, ${reason}`;
      $("close-info").textContent = info;
      $("current-room").textContent = "–";
      $("conn-id").textContent = me ? me + " (closed)" : "–";
      me = "";
      setState("closed", "disconnected: close " + ev.code);
      add("closed", ["text", "Disconnected: close " + info + (ev.wasClean ? "" : " (no close handshake)")]);
    };
  }

  // closeMeaning names the close codes a chat user may meet.
  function closeMeaning(code) {
    switch (true) {
      case code === 1000: return "normal";
      case code === 1001: return "going away (gateway shutdown or timeout)";
      case code === 1006: return "abnormal: refused or cut without a close frame";
      case code === 1008: return "policy violation";
      case code === 1009: return "message too big";
      case code === 1011: return "server error";
      case code >= 4000 && code <= 4999: return "application (e.g. the management API)";
      default: return "";
    }
  }

  function join(r) {
    if (room === r) return;
    if (room) {
      send({ action: "leave", room });
      room = ""; // no sending until the new room confirms the join
      setState("open", "joining " + r + "…");
    }
    send({ action: "join", room: r });
  }

  function send(v) {
    ws.send(JSON.stringify(v));
  }

  function receive(data, at, wallAt) {
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      add("raw", ["text", data]);
      return;
    }
    switch (m.type) {
      case "joined":
        if (m.you) {
          me = m.connectionId;
          room = m.room;
          $("conn-id").textContent = me;
          $("current-room").textContent = room;
          setState("open", `connected as ${m.name || "anonymous"} in ${room}`);
          add("notice self", ["text", `You joined ${m.room} as connection ${m.connectionId}`]);
        } else {
          add("notice", ["text", `${who(m)} joined ${m.room}`]);
        }
        return;
      case "left":
        if (m.you) {
          add("notice self", ["text", `You left ${m.room}`]);
        } else {
          add("notice", ["text", `${who(m)} left ${m.room}`]);
        }
        return;
      case "message":
        message(m, at, wallAt);
        return;
      case "error":
        add("error", ["text", m.error]);
        return;
    }
    // The gateway's own answers, such as "no backend for route $default".
    add("error", ["text", m.message || data]);
  }

  // message shows a chat message; at and wallAt are when it arrived, by
  // the page's monotonic clock and by the wall clock.
  function message(m, at, wallAt) {
    const own = m.from === me;
    const li = add(own ? "msg own" : "msg", ["who", own ? "you" : who(m)], ["text", m.text]);
    li.dataset.from = m.from;
    const sinceBackend = wallAt - m.sentAt;
    let label = ms(sinceBackend) + " since the backend";
    let title = "now minus the backend's sentAt: one way, backend to this page (compares two clocks)";
    if (own) {
      const i = pending.findIndex((p) => p.room === m.room && p.text === m.text);
      if (i >= 0) {
        const rtt = at - pending[i].t0;
        pending.splice(i, 1);
        li.dataset.rttMs = rtt.toFixed(1);
        label = ms(rtt) + " round trip";
        title = "from Send to this message coming back: page → gateway → backend → gateway → page";
      }
    }
    const lat = document.createElement("span");
    lat.className = "latency";
    lat.textContent = label;
    lat.title = title;
    li.append(lat);
  }

  $("join-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!$("join-form").reportValidity()) return;
    if (ws && ws.readyState === WebSocket.OPEN) {
      join($("room").value.trim());
    } else if (!ws) {
      connect();
    }
  });

  $("disconnect").addEventListener("click", () => {
    if (ws) ws.close(1000, "left the page");
  });

  $("send-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("text").value;
    if (!text || !ws || !room) return;
    pending.push({ room, text, t0: performance.now() });
    send({ action: "send", room, text });
    $("text").value = "";
    $("text").focus();
  });

  setState("idle", "not connected");
})();
