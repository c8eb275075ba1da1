// The results page (/polls/{id}/results). For the poll's owner: the read token comes from the URL
// fragment (#token=…, never sent to the server by the browser) or the paste field, is kept only in this
// page's memory, and is sent only as X-Read-Token to GET /api/v1/polls/{id}/results. Polls created with
// `publicResults: true` show their aggregate results to anyone; private polls show nothing without a token.
//
// While the poll is active the page follows GET /api/v1/polls/{id}/events (Server-Sent Events, read with
// fetch because EventSource cannot send the X-Read-Token header) and reloads the results when a vote lands.
// If the stream cannot be opened (or is refused) the page stays as it is, with its Refresh button.
import { api, countryName, errorCode, fill, formatCount, formatDateTime, h, pollIdFromPath, say } from "./common.js";

const main = document.getElementById("main");
const pollId = pollIdFromPath();
/** In memory only. */
let readToken = new URLSearchParams(location.hash.slice(1)).get("token")?.trim() || undefined;
let poll;
let statusRegion;
let body;

const percent = (share) => `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)}%`;

function statusBadge(status) {
  const label = { active: "Collecting answers", completed: "Completed", expired: "Expired" }[status] ?? status;
  return h("span", { class: `badge ${status}` }, label);
}

function chart(results) {
  const order = results.options
    .map((option, index) => ({ option, index }))
    .sort((a, b) => b.option.count - a.option.count || a.index - b.index)
    .map(({ option }) => option);
  const top = order[0]?.count ?? 0;
  const rows = order.map((option) => {
    const [low, high] = option.ci95;
    const bar = h("span", { class: "bar" });
    bar.style.width = `${option.share * 100}%`;
    const whisker = h("span", { class: "whisker" });
    whisker.style.left = `${low * 100}%`;
    whisker.style.width = `${Math.max(0, high - low) * 100}%`;
    return h(
      "li",
      { class: `chart-row${option.count > 0 && option.count === top ? " top" : ""}`, "data-option-id": option.id },
      h(
        "div",
        { class: "label" },
        h("span", { class: "text" }, option.text),
        h("span", { class: "value" }, h("strong", {}, percent(option.share)), ` · ${formatCount(option.count)} ${option.count === 1 ? "vote" : "votes"}`),
      ),
      h("div", { class: "track", "aria-hidden": "true" }, bar, whisker),
      h("div", { class: "ci" }, `95% interval: ${percent(low)} – ${percent(high)}`),
    );
  });
  return h(
    "section",
    { class: "panel", "aria-labelledby": "shares-title" },
    h("h2", { id: "shares-title" }, "Answers"),
    h("ol", { class: "chart", id: "chart" }, rows),
    h("div", { class: "axis", "aria-hidden": "true" }, ["0%", "25%", "50%", "75%", "100%"].map((t) => h("span", {}, t))),
    h(
      "p",
      { class: "legend" },
      h("span", {}, h("span", { class: "key-bar", "aria-hidden": "true" }), " share of votes"),
      h("span", {}, h("span", { class: "key-ci", "aria-hidden": "true" }), " 95% interval (Wilson): where the true share most likely is"),
    ),
  );
}

function demographicsTable(results, dimension, title, nameOf) {
  const buckets = results.demographics[dimension];
  const notStated = results.demographics.notStated[dimension];
  const id = `demo-${dimension}`;
  const head = h("tr", {}, h("th", { scope: "col" }, title), h("th", { scope: "col" }, "Votes"), results.options.map((o) => h("th", { scope: "col", class: "option-col", title: o.text }, o.text)));
  const rows = buckets.map((bucket) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, nameOf(bucket.value)),
      h("td", {}, formatCount(bucket.count)),
      results.options.map((option) => h("td", {}, formatCount(bucket.options.find((o) => o.id === option.id)?.count ?? 0))),
    ),
  );
  if (notStated > 0) {
    rows.push(h("tr", { class: "not-stated" }, h("th", { scope: "row" }, "Not stated"), h("td", {}, formatCount(notStated)), results.options.map(() => h("td", {}, "–"))));
  }
  if (rows.length === 0) return h("p", { class: "hint" }, `No ${title.toLowerCase()} data yet.`);
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-labelledby": `${id}-caption`, tabindex: "0" },
    h("table", { id }, h("caption", { id: `${id}-caption` }, `By ${title.toLowerCase()}`), h("thead", {}, head), h("tbody", {}, rows)),
  );
}

function renderResults(results, publicView) {
  // A live update re-renders everything: keep the keyboard focus where it was.
  const focusedId = body.contains(document.activeElement) ? document.activeElement.id : "";
  const facts = [
    statusBadge(results.status),
    h("span", { class: "badge", id: "live-status", hidden: !live.connected }, "Updating live"),
    h("span", { id: "vote-count" }, `${formatCount(results.voteCount)} of ${formatCount(results.maxResponses)} answers`),
    results.completedAt ? h("span", {}, `Completed ${formatDateTime(results.completedAt)}`) : h("span", {}, `Open until ${formatDateTime(poll.expiresAt)}`),
  ];
  const refresh = h("button", { type: "button", id: "refresh" }, "Refresh");
  refresh.addEventListener("click", () => void load({ announce: true }));
  const forget = readToken ? h("button", { type: "button", class: "link", id: "forget" }, "Forget the token") : null;
  forget?.addEventListener("click", () => {
    readToken = undefined;
    live.stop();
    history.replaceState(null, "", location.pathname + location.search);
    void load({ announce: false });
  });
  fill(
    body,
    h("p", { class: "result-head" }, facts),
    publicView ? h("p", { class: "hint" }, "These results are public: whoever created this poll chose to share them.") : null,
    results.voteCount === 0 ? h("p", { class: "notice" }, "No answers yet. Shares and intervals appear with the first votes.") : null,
    chart(results),
    h(
      "section",
      { class: "panel", "aria-labelledby": "demo-title" },
      h("h2", { id: "demo-title" }, "Who answered"),
      h("p", { class: "hint" }, "Voters may state a country and an age band; both are optional."),
      h("p", { class: "hint", id: "swipe-hint", hidden: true }, "Swipe a table sideways to see every answer."),
      h("div", { class: "stack" }, demographicsTable(results, "country", "Country", (code) => `${countryName(code)} (${code})`), demographicsTable(results, "ageBand", "Age band", (band) => band)),
    ),
    h("p", { class: "actions" }, refresh, forget),
  );
  // On a narrow screen wide tables scroll sideways: say so only when one does.
  if (focusedId) body.querySelector(`#${CSS.escape(focusedId)}`)?.focus({ preventScroll: true });
  const hint = body.querySelector("#swipe-hint");
  requestAnimationFrame(() => {
    hint.hidden = ![...body.querySelectorAll(".table-wrap")].some((wrap) => wrap.scrollWidth > wrap.clientWidth + 1);
  });
}

function tokenForm(problem) {
  const input = h("input", {
    type: "password",
    id: "read-token",
    name: "readToken",
    class: "mono",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "token-help token-error",
    "aria-invalid": problem ? "true" : undefined,
  });
  const form = h(
    "form",
    { class: "panel token-form", id: "token-form", novalidate: true },
    h("h2", {}, "These results are private"),
    h("p", { id: "token-help", class: "hint" }, "Paste the read token you received when you created this poll (readToken in the API response). It stays in this page and is sent only to the results API."),
    h("label", { for: "read-token" }, "Read token"),
    input,
    h("p", { class: "field-error", id: "token-error" }, problem ?? ""),
    h("div", {}, h("button", { type: "submit", class: "primary" }, "Show results")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) {
      input.setAttribute("aria-invalid", "true");
      form.querySelector("#token-error").textContent = "Paste the read token first.";
      input.focus();
      return;
    }
    readToken = value;
    void load({ announce: true });
  });
  fill(body, form);
  if (problem) input.focus();
}

async function load({ announce, quiet = false }) {
  if (announce) say(statusRegion, "Loading results…");
  const headers = readToken ? { "x-read-token": readToken } : {};
  if (!readToken && !poll.publicResults) {
    live.stop();
    say(statusRegion, "");
    tokenForm();
    return;
  }
  const answer = await api(`/api/v1/polls/${encodeURIComponent(pollId)}/results`, { headers });
  if (answer.status === 200) {
    if (!quiet) say(statusRegion, announce ? "Results updated." : "", "ok");
    shownVoteCount = answer.body.voteCount;
    renderResults(answer.body, !readToken);
    if (answer.body.status === "active") live.start();
    else live.stop();
    return;
  }
  // A live reload that failed leaves the results shown as they were.
  if (quiet) return;
  live.stop();
  const code = errorCode(answer);
  if (code === "read_token_invalid" || code === "read_token_missing") {
    readToken = undefined;
    say(statusRegion, "");
    tokenForm(code === "read_token_invalid" ? "This read token does not belong to this poll." : undefined);
    return;
  }
  say(statusRegion, answer.status === 0 ? "Could not reach Quali. Check your connection and try again." : `The results could not be loaded (${answer.body?.error?.message ?? `HTTP ${answer.status}`}).`, "error");
}

/** The vote count of the results on screen. */
let shownVoteCount = -1;

/**
 * Reads a text/event-stream body: calls onEvent(name, data, id) per event and onRetry(ms) per hint, until
 * the body ends. Comment lines (the server's heartbeats) are skipped.
 */
async function readEventStream(body, { onEvent, onRetry }) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let name = "";
  let data = [];
  let id;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    // A CR at the very end may be the first half of a CRLF: keep it for the next chunk.
    const cut = buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
    const lines = buffer.slice(0, cut).split(/\r\n|\r|\n/);
    buffer = lines.pop() + buffer.slice(cut);
    for (const line of lines) {
      if (line === "") {
        if (data.length > 0) onEvent(name || "message", data.join("\n"), id);
        name = "";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") name = text;
      else if (field === "data") data.push(text);
      else if (field === "id") id = text;
      else if (field === "retry" && /^\d+$/.test(text)) onRetry(Number(text));
    }
  }
}

/**
 * Live updates while the poll is active: one stream at a time, resumed after a dropped connection with
 * Last-Event-ID (backing off), given up on a refusal (the Refresh button still works). A vote reloads the
 * results; reloads never overlap, and votes that land meanwhile cause one more.
 */
const live = (() => {
  let abort;
  let lastEventId;
  let retryMs = 3_000;
  let failures = 0;
  let reconnectTimer;
  let reloading = false;
  let reloadAgain = false;
  const state = { connected: false };
  const showConnected = (connected) => {
    state.connected = connected;
    const badge = document.getElementById("live-status");
    if (badge) badge.hidden = !connected;
  };
  const reload = async () => {
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = true;
    try {
      do {
        reloadAgain = false;
        await load({ announce: false, quiet: true });
      } while (reloadAgain);
    } finally {
      reloading = false;
    }
  };
  const stop = () => {
    clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    abort?.abort();
    abort = undefined;
    showConnected(false);
  };
  const connect = async () => {
    const controller = new AbortController();
    abort = controller;
    const headers = { accept: "text/event-stream" };
    if (readToken) headers["x-read-token"] = readToken;
    if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
    let ended = false;
    try {
      const response = await fetch(`/api/v1/polls/${encodeURIComponent(pollId)}/events`, { headers, signal: controller.signal, cache: "no-store", credentials: "same-origin" });
      // Refused (429, 401…), nothing more to send (204), or a server without the stream: stay as today.
      if (response.status !== 200 || !response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
        if (abort === controller) stop();
        return;
      }
      showConnected(true);
      failures = 0;
      await readEventStream(response.body, {
        onRetry: (ms) => (retryMs = Math.min(Math.max(ms, 1_000), 60_000)),
        onEvent: (name, text, id) => {
          if (id !== undefined) lastEventId = id;
          let data;
          try {
            data = JSON.parse(text);
          } catch {
            return;
          }
          if (name === "progress") {
            if (data.voteCount > shownVoteCount) void reload();
          } else if (data.status && data.status !== "active") {
            ended = true;
            say(statusRegion, data.status === "completed" ? "The poll is complete." : `The poll has ended (${data.status}).`, "ok");
            void reload();
          }
          // Any other event: ignored, as the contract asks.
        },
      });
    } catch {
      // Network failure or stop(): handled below.
    }
    if (abort !== controller) return;
    showConnected(false);
    if (ended) return stop();
    // The connection dropped before the poll ended: resume after the server's hint, backing off.
    failures += 1;
    reconnectTimer = setTimeout(() => void connect(), Math.min(retryMs * 2 ** Math.min(failures - 1, 5), 60_000));
  };
  return {
    get connected() {
      return state.connected;
    },
    start() {
      if (abort) return;
      void connect();
    },
    stop,
  };
})();

async function start() {
  const answer = pollId ? await api(`/api/v1/polls/${encodeURIComponent(pollId)}`) : { status: 404 };
  if (answer.status !== 200) {
    fill(
      main,
      h(
        "section",
        { class: "notice warn", id: "not-found" },
        h("h1", {}, answer.status === 404 ? "Poll not found" : "This poll could not be loaded"),
        h("p", {}, answer.status === 404 ? "Check the link: no poll has this id." : "Check your connection and reload the page."),
      ),
    );
    return;
  }
  poll = answer.body;
  document.title = `Results: ${poll.question} · Quali`;
  statusRegion = h("p", { class: "status", role: "status", "aria-live": "polite" });
  body = h("div", { id: "results", class: "stack" });
  fill(
    main,
    h("p", { class: "hint" }, "Poll results"),
    h("h1", {}, poll.question),
    poll.status === "active" ? h("p", {}, h("a", { href: `/polls/${encodeURIComponent(poll.id)}` }, "Open the voting page")) : null,
    statusRegion,
    body,
  );
  await load({ announce: false });
  main.dataset.ready = "true";
}

void start();
