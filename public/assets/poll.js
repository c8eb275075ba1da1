// The poll page (/polls/{id}): choose an answer and a payout address, prove you are a unique human with
// World ID (IDKit in production; the clearly labelled simulated World ID in local mode), then see the
// reward credited. Options are shown in the shuffled order the API gave this visit, and that order is
// sent with the vote as `shownOrder`.
import {
  AGE_BANDS,
  COUNTRY_CODES,
  api,
  countryName,
  device,
  errorCode,
  fill,
  focusOn,
  formatAtomicUsdc,
  formatCount,
  h,
  httpsUrl,
  mediaImage,
  normalizeAddress,
  pollIdFromPath,
  progressBar,
  say,
  shortAddress,
  timeLeft,
} from "./common.js";

/** The IDKit browser build the server vendors from @worldcoin/idkit-core (test: idkit version matches). */
export const IDKIT_VERSION = "4.3.0";
const IDKIT_SRC = `/vendor/idkit-core/${IDKIT_VERSION}/idkit.global.js`;

const main = document.getElementById("main");
const pollId = pollIdFromPath();
const votedKey = `voted:${pollId}`;

let poll;
/** The option ids in the order they are shown on this visit. */
let shownOrder = [];
let statusRegion;
let stepRegion;
let abortVerification;

function randomSeed() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The simulated human of this device (local mode): the same seed always has the same World ID nullifier. */
function simulatedHuman() {
  let seed = device.get("simulatedHuman");
  if (typeof seed !== "string") {
    seed = `device-${randomSeed()}`;
    device.set("simulatedHuman", seed);
  }
  return seed;
}

function rewardText() {
  return `${formatAtomicUsdc(poll.reward.perVoteAtomic)} USDC`;
}

function optionText(optionId) {
  return poll.options.find((o) => o.id === optionId)?.text ?? "";
}

/** True once the first step is drawn: later steps move the focus to their heading (not the first one). */
let interactive = false;

function setStep(...children) {
  abortVerification?.abort();
  abortVerification = undefined;
  fill(stepRegion, ...children);
  say(statusRegion, "");
  if (interactive) focusOn(stepRegion.querySelector("h2, legend"));
}

// ---- Page skeleton -------------------------------------------------------------------------------

function header() {
  const hero = poll.mediaType === "image" || poll.mediaType === null ? mediaImage(poll.mediaUrl, { alt: "", className: "poll-media", eager: true }) : null;
  const moreInfo = httpsUrl(poll.moreInfoUrl);
  return h(
    "header",
    { class: "poll-head" },
    h(
      "p",
      { class: "meta" },
      h("span", { class: "reward-chip" }, `Earn ${rewardText()}`),
      h("span", {}, poll.status === "active" ? timeLeft(poll.expiresAt) : poll.status === "completed" ? "Full" : "Ended"),
      h("span", {}, `Rewards on ${poll.reward.networkLabel}`),
    ),
    h("h1", { id: "question" }, poll.question),
    h(
      "div",
      { class: "progress-line" },
      progressBar(poll.voteCount, poll.maxResponses),
      h("span", { id: "progress-text" }, `${formatCount(poll.voteCount)} of ${formatCount(poll.maxResponses)} answers`),
    ),
    hero,
    poll.description ? h("p", { class: "description" }, poll.description) : null,
    moreInfo
      ? h(
          "p",
          {},
          h("a", { href: moreInfo, target: "_blank", rel: "noopener noreferrer nofollow" }, "More info", h("span", { class: "sr-only" }, " (opens in a new tab)")),
        )
      : null,
  );
}

function updateProgress(voteCount, maxResponses) {
  const text = document.getElementById("progress-text");
  if (text) text.textContent = `${formatCount(voteCount)} of ${formatCount(maxResponses)} answers`;
  const fillBar = main.querySelector(".poll-head .meter-fill");
  if (fillBar) fillBar.style.width = `${Math.min(100, (voteCount / maxResponses) * 100)}%`;
}

// ---- States ----------------------------------------------------------------------------------------

function closedState(code) {
  const messages = {
    poll_full: ["This poll is full", "It already has all the answers it asked for. Thank you for stopping by!"],
    poll_expired: ["This poll has ended", "It is no longer taking answers."],
    poll_not_active: ["This poll is not taking answers", "It cannot be answered right now."],
    poll_closed: ["This poll was closed", "Its creator closed it early: it is no longer taking answers."],
    poll_removed: ["This poll was taken down", "It broke the rules of this service and is no longer taking answers."],
  };
  const [title, text] = messages[code] ?? messages.poll_not_active;
  setStep(
    h(
      "section",
      { class: "notice warn", id: "closed", "data-state": code },
      h("h2", {}, title),
      h("p", {}, text),
      h("p", {}, h("a", { href: "/" }, "Find another poll")),
    ),
  );
}

function alreadyVotedState(record) {
  const chosen = record?.optionText;
  setStep(
    h(
      "section",
      { class: "notice ok", id: "already-voted", "data-state": "already_voted" },
      h("h2", {}, "You already voted in this poll"),
      chosen ? h("p", {}, "Your answer: ", h("strong", {}, chosen)) : h("p", {}, "Each person can answer a poll once."),
      record?.payoutAddress
        ? h("p", {}, `${formatAtomicUsdc(record.amountAtomic ?? poll.reward.perVoteAtomic)} USDC was credited to ${shortAddress(record.payoutAddress)}.`)
        : null,
      h(
        "p",
        { class: "actions" },
        h("a", { class: "button primary", href: "/" }, "Answer another poll"),
        record?.payoutAddress ? h("a", { class: "button", href: `/rewards?address=${record.payoutAddress}` }, "See your rewards") : null,
      ),
    ),
  );
}

function doneState(vote) {
  const record = {
    optionId: vote.optionId,
    optionText: optionText(vote.optionId),
    payoutAddress: vote.reward.payoutAddress,
    amountAtomic: vote.reward.amountAtomic,
    networkLabel: vote.reward.networkLabel,
    at: new Date().toISOString(),
  };
  device.set(votedKey, record);
  updateProgress(vote.poll.voteCount, vote.poll.maxResponses);
  setStep(
    h(
      "section",
      { class: "notice ok", id: "confirmation", "data-state": "voted" },
      h("h2", {}, "Thank you! Your vote is recorded"),
      h("p", { class: "done-amount" }, `+${formatAtomicUsdc(vote.reward.amountAtomic)} USDC`),
      h(
        "p",
        {},
        "Credited to ",
        h("strong", { title: vote.reward.payoutAddress }, shortAddress(vote.reward.payoutAddress)),
        ` on ${vote.reward.networkLabel}. Your answer: `,
        h("strong", {}, record.optionText),
        ".",
      ),
      vote.poll.status === "completed" ? h("p", {}, "Yours was the last answer this poll needed.") : null,
      h(
        "p",
        { class: "actions" },
        h("a", { class: "button primary", href: "/" }, "Answer another poll"),
        h("a", { class: "button", href: `/rewards?address=${vote.reward.payoutAddress}` }, "See your rewards"),
      ),
    ),
  );
}

// ---- Step 1: choose ------------------------------------------------------------------------------

function optionControl(option, grid) {
  const input = h("input", { type: "radio", name: "option", value: option.id, required: true });
  const label = h("label", { class: "option" });
  const image = mediaImage(option.mediaUrl, {
    alt: "",
    className: "thumb",
    onBroken: () => label.classList.remove("has-image"),
  });
  if (image) label.classList.add("has-image");
  if (grid) {
    label.append(...[image, h("span", { class: "option-text" }, input, h("span", {}, option.text))].filter(Boolean));
  } else {
    label.append(...[input, image, h("span", { class: "option-text" }, option.text)].filter(Boolean));
  }
  return label;
}

function countrySelect(selected) {
  const names = COUNTRY_CODES.map((code) => ({ code, name: countryName(code) })).sort((a, b) => a.name.localeCompare(b.name, "en"));
  return h(
    "select",
    { id: "country", name: "country" },
    h("option", { value: "" }, "Prefer not to say"),
    names.map(({ code, name }) => h("option", { value: code, selected: code === selected }, name)),
  );
}

function ageSelect(selected) {
  return h(
    "select",
    { id: "age-band", name: "ageBand" },
    h("option", { value: "" }, "Prefer not to say"),
    AGE_BANDS.map((band) => h("option", { value: band, selected: band === selected }, band)),
  );
}

function chooseStep(previous = {}) {
  const grid = poll.layoutType === "grid";
  shownOrder = poll.options.map((o) => o.id);
  const optionError = h("p", { class: "field-error", id: "option-error" });
  const payoutError = h("p", { class: "field-error", id: "payout-error" });
  const savedDemographics = device.get("demographics") ?? {};
  const payout = h("input", {
    type: "text",
    id: "payout",
    name: "payoutAddress",
    class: "mono",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    inputmode: "text",
    placeholder: "0x…",
    "aria-describedby": "payout-help payout-error",
    value: previous.payoutAddress ?? device.get("payoutAddress") ?? "",
  });
  const options = poll.options.map((option) => optionControl(option, grid));
  const form = h(
    "form",
    { id: "vote-form", novalidate: true },
    h(
      "fieldset",
      { class: `options ${grid ? "grid" : "list"}`, "aria-describedby": "option-error" },
      h("legend", {}, "Choose one answer"),
      h("div", { class: "option-list" }, options),
      optionError,
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "payout" }, "Your payout address"),
      h(
        "p",
        { class: "hint", id: "payout-help" },
        `The wallet address (0x…) that receives ${rewardText()} on ${poll.reward.networkLabel}. Remembered on this device.`,
      ),
      payout,
      payoutError,
    ),
    h(
      "details",
      { class: "more", open: Boolean(savedDemographics.country || savedDemographics.ageBand) },
      h("summary", {}, "About you (optional)"),
      h("p", { class: "hint" }, "Helps whoever asked understand the answers. Never shown next to your address. Remembered on this device."),
      h(
        "div",
        { class: "row" },
        h("div", { class: "field" }, h("label", { for: "country" }, "Country"), countrySelect(savedDemographics.country)),
        h("div", { class: "field" }, h("label", { for: "age-band" }, "Age"), ageSelect(savedDemographics.ageBand)),
      ),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary block", id: "continue" }, "Continue to World ID")),
  );
  if (previous.optionId) {
    const radio = form.querySelector(`input[value="${CSS.escape(previous.optionId)}"]`);
    if (radio) radio.checked = true;
  }

  const checkPayout = () => {
    const value = payout.value.trim();
    const ok = value === "" ? undefined : normalizeAddress(value);
    if (value !== "" && !ok) {
      payout.setAttribute("aria-invalid", "true");
      payoutError.textContent = "That is not a valid address: it should be 0x followed by 40 letters (a–f) and digits.";
    } else {
      payout.removeAttribute("aria-invalid");
      payoutError.textContent = "";
    }
    return ok;
  };
  payout.addEventListener("blur", () => void checkPayout());
  payout.addEventListener("input", () => {
    if (payout.getAttribute("aria-invalid") === "true") checkPayout();
  });
  form.addEventListener("change", (event) => {
    if (event.target.name === "option") optionError.textContent = "";
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const optionId = form.querySelector('input[name="option"]:checked')?.value;
    const payoutAddress = checkPayout();
    if (!optionId) optionError.textContent = "Choose one answer.";
    if (!payoutAddress && payout.value.trim() === "") {
      payout.setAttribute("aria-invalid", "true");
      payoutError.textContent = "Enter the address that should receive your reward.";
    }
    if (!optionId) {
      form.querySelector('input[name="option"]')?.focus();
      return;
    }
    if (!payoutAddress) {
      payout.focus();
      return;
    }
    const demographics = {
      country: form.querySelector("#country").value || null,
      ageBand: form.querySelector("#age-band").value || null,
    };
    device.set("payoutAddress", payoutAddress);
    device.set("demographics", demographics);
    void startVerification({ optionId, payoutAddress, demographics }, form.querySelector("#continue"));
  });

  fill(stepRegion, form);
}

// ---- Step 2: World ID --------------------------------------------------------------------------------

/** Shows an API refusal in the right place; returns true when it was handled as a page state. */
function handleRefusal(answer, choice) {
  const code = errorCode(answer);
  if (code === "poll_full" || code === "poll_expired" || code === "poll_not_active" || code === "poll_closed" || code === "poll_removed") {
    closedState(code);
    return true;
  }
  if (code === "already_voted") {
    device.set(votedKey, { at: new Date().toISOString() });
    alreadyVotedState(undefined);
    return true;
  }
  if (code === "poll_not_found") {
    notFound();
    return true;
  }
  const messages = {
    0: "Could not reach Quali. Check your connection and try again.",
    429: "Too many attempts. Wait a minute, then try again.",
    world_id_unavailable: "World ID is unavailable right now. Nothing was recorded; try again in a moment.",
    world_id_not_configured: "Voting is not available on this server right now (World ID is not configured).",
    proof_rejected: "World ID could not verify you. Nothing was recorded; try again.",
    invalid_proof: "The World ID proof was not accepted. Nothing was recorded; try again.",
    nonce_expired: "The verification took too long. Nothing was recorded; please verify again.",
    nonce_used: "That verification was already used. Please verify again.",
    signal_mismatch: "The verification does not match your answer. Please verify again.",
  };
  const text =
    messages[code] ??
    messages[answer.status] ??
    (code === "validation_error" && answer.body?.error?.param === "payoutAddress"
      ? "The server did not accept this payout address. Check it and try again."
      : `Something went wrong (${answer.body?.error?.message ?? `HTTP ${answer.status}`}). Nothing was recorded; try again.`);
  say(statusRegion, text, "error");
  if (choice && (code === "validation_error" || code === "nonce_expired" || code === "nonce_used" || code === "signal_mismatch")) {
    // Back to a fresh start with the same choice.
    chooseStep(choice);
    say(statusRegion, text, "error");
  }
  return false;
}

async function startVerification(choice, button) {
  button.disabled = true;
  say(statusRegion, "Preparing World ID…");
  const answer = await api(`/api/v1/polls/${encodeURIComponent(pollId)}/world-id-request`, {
    method: "POST",
    body: { optionId: choice.optionId, payoutAddress: choice.payoutAddress },
  });
  button.disabled = false;
  if (answer.status !== 200) {
    handleRefusal(answer, choice);
    return;
  }
  verifyStep(choice, answer.body);
}

function chosenSummary(choice) {
  return h(
    "div",
    { class: "chosen" },
    h(
      "dl",
      {},
      h("dt", {}, "Answer"),
      h("dd", {}, optionText(choice.optionId)),
      h("dt", {}, "Payout"),
      h("dd", { title: choice.payoutAddress }, shortAddress(choice.payoutAddress)),
    ),
  );
}

function verifyStep(choice, request) {
  const back = h("button", { type: "button", class: "link", id: "change" }, "Change my answer");
  back.addEventListener("click", () => {
    chooseStep(choice);
    focusOn(stepRegion.querySelector("legend"));
  });
  if (request.simulated) {
    const button = h("button", { type: "button", class: "primary block", id: "simulated-world-id" }, "Simulated World ID (local development only)");
    setStep(
      h(
        "section",
        { id: "verify", "aria-labelledby": "verify-title" },
        h("h2", { id: "verify-title" }, "Prove you are a unique human"),
        chosenSummary(choice),
        h(
          "div",
          { class: "simulated-banner", role: "note" },
          h("strong", {}, "Local development mode"),
          "This server uses a simulated World ID: no World App and no real person are checked. The same device always counts as the same simulated person.",
        ),
        h("div", { class: "actions" }, button),
        h("p", { class: "actions" }, back),
      ),
    );
    button.addEventListener("click", async () => {
      button.disabled = true;
      say(statusRegion, "Verifying with the simulated World ID…");
      const proof = await api("/api/v1/voter/simulated-proof", {
        method: "POST",
        body: { action: request.idkit.action, signal: request.signal, rpContext: request.idkit.rp_context, human: simulatedHuman() },
      });
      if (proof.status !== 200) {
        button.disabled = false;
        handleRefusal(proof, choice);
        return;
      }
      await submitVote(choice, proof.body, button);
    });
    return;
  }
  void worldAppStep(choice, request, back);
}

function loadIdkit() {
  if (window.IDKit) return Promise.resolve(window.IDKit);
  return new Promise((resolve, reject) => {
    const script = h("script", { src: IDKIT_SRC });
    script.addEventListener("load", () => (window.IDKit ? resolve(window.IDKit) : reject(new Error("IDKit did not load"))));
    script.addEventListener("error", () => reject(new Error("IDKit could not be downloaded")));
    document.head.append(script);
  });
}

const IDKIT_ERRORS = {
  user_rejected: "You declined the request in World App. Nothing was recorded.",
  cancelled: "The verification was cancelled. Nothing was recorded.",
  timeout: "World App did not answer in time. Nothing was recorded; try again.",
  credential_unavailable: "Your World ID cannot prove this yet (an Orb-verified World ID is needed).",
  world_id_4_not_available: "Please update World App to verify with World ID 4.",
  connection_failed: "Could not connect to World App. Check your connection and try again.",
};

async function worldAppStep(choice, request, back) {
  const waiting = h("p", { class: "hint", id: "world-app-waiting" }, "Starting World ID…");
  const linkSlot = h("div", { id: "world-app-link" });
  const retry = h("button", { type: "button", hidden: true }, "Try again");
  setStep(
    h(
      "section",
      { id: "verify", "aria-labelledby": "verify-title" },
      h("h2", { id: "verify-title" }, "Verify with World ID"),
      chosenSummary(choice),
      h("p", {}, "Confirm in World App that you are a unique human. Your answer is sent only after World App confirms."),
      linkSlot,
      waiting,
      h("p", { class: "actions" }, retry, back),
    ),
  );
  retry.addEventListener("click", () => void startVerification(choice, retry));
  const abort = new AbortController();
  abortVerification = abort;
  let idkit;
  try {
    const IDKit = await loadIdkit();
    // A World ID 4 proof of human bound to the signal. Not the proofOfHuman() preset: it turns on the
    // legacy (3.0) fallback whatever allow_legacy_proofs says, and this service accepts 4.0 proofs only.
    idkit = await IDKit.request({ ...request.idkit }).constraints(IDKit.CredentialRequest("proof_of_human", { signal: request.signal }));
  } catch (error) {
    if (abort.signal.aborted) return;
    // For the operator (e.g. a Content-Security-Policy without 'wasm-unsafe-eval' blocks IDKit's WebAssembly).
    console.error("IDKit could not start:", error);
    waiting.textContent = "";
    say(statusRegion, "World ID cannot start on this page right now. Nothing was recorded; please try again later.", "error");
    retry.hidden = false;
    return;
  }
  if (abort.signal.aborted) return;
  const uri = idkit.connectorURI;
  if (uri && httpsUrl(uri)) {
    fill(
      linkSlot,
      h("p", { class: "actions" }, h("a", { class: "button primary block", href: uri, id: "open-world-app", rel: "noopener" }, "Open World App")),
      h("p", { class: "hint desktop-only" }, "On a computer? Open this page on your phone, or scan the code below with your phone's camera."),
    );
    void showQr(linkSlot, uri);
  }
  waiting.textContent = "Waiting for World App…";
  const completion = await idkit.pollUntilCompletion({ pollInterval: 2000, timeout: 10 * 60_000, signal: abort.signal });
  if (abort.signal.aborted) return;
  waiting.textContent = "";
  if (!completion.success) {
    if (completion.error === "max_verifications_reached") {
      device.set(votedKey, { at: new Date().toISOString() });
      alreadyVotedState(undefined);
      return;
    }
    say(statusRegion, IDKIT_ERRORS[completion.error] ?? `World ID did not complete (${completion.error}). Nothing was recorded; try again.`, "error");
    retry.hidden = false;
    return;
  }
  await submitVote(choice, completion.result, retry);
}

/** A QR code of the World App link for desktop visitors (loaded only when needed). */
async function showQr(slot, uri) {
  try {
    const { qrSvg } = await import("./qr.js");
    const svg = qrSvg(uri, { label: "QR code: scan with your phone to open World App" });
    svg.classList.add("qr", "desktop-only");
    slot.append(svg);
  } catch {
    /* the link above still works */
  }
}

// ---- Step 3: vote ------------------------------------------------------------------------------------

async function submitVote(choice, proof, button) {
  if (button) button.disabled = true;
  say(statusRegion, "Recording your vote…");
  const demographics = choice.demographics?.country || choice.demographics?.ageBand ? choice.demographics : null;
  const answer = await api(`/api/v1/polls/${encodeURIComponent(pollId)}/votes`, {
    method: "POST",
    body: { optionId: choice.optionId, payoutAddress: choice.payoutAddress, demographics, shownOrder, proof },
  });
  if (button) button.disabled = false;
  if (answer.status === 201) {
    doneState(answer.body);
    return;
  }
  handleRefusal(answer, choice);
}

// ---- Report -------------------------------------------------------------------------------------------

const REPORT_REASONS = [
  ["spam", "Spam or advertising"],
  ["offensive", "Offensive or hateful"],
  ["illegal", "Illegal content"],
  ["misleading", "Misleading or a scam"],
  ["other", "Something else"],
];

/** "Report this poll": a reason and an optional note for the operator; no World ID needed. */
function reportControl() {
  const status = h("p", { class: "status", role: "status", "aria-live": "polite", id: "report-status" });
  const reason = h(
    "select",
    { id: "report-reason", name: "reason", required: true },
    h("option", { value: "" }, "Choose a reason…"),
    ...REPORT_REASONS.map(([value, label]) => h("option", { value }, label)),
  );
  const note = h("input", { type: "text", id: "report-note", name: "note", maxlength: "500", autocomplete: "off", placeholder: "Optional: what is wrong?" });
  const send = h("button", { type: "submit", id: "report-send" }, "Send report");
  const form = h(
    "form",
    { id: "report-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "report-reason" }, "Reason"), reason),
    h("div", { class: "field" }, h("label", { for: "report-note" }, "Note (optional)"), note),
    h("div", { class: "actions" }, send),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value) {
      say(status, "Choose a reason first.", "error");
      reason.focus();
      return;
    }
    send.disabled = true;
    const body = { reason: reason.value, ...(note.value.trim() ? { note: note.value.trim() } : {}) };
    const answer = await api(`/api/v1/polls/${encodeURIComponent(pollId)}/reports`, { method: "POST", body });
    send.disabled = false;
    if (answer.status === 202) {
      fill(form, h("p", { class: "notice", id: "report-done" }, "Thank you: the report was sent to the people who run Quali."));
      return;
    }
    const text =
      answer.status === 429
        ? "Too many reports from your connection. Wait a minute, then try again."
        : answer.status === 0
          ? "Could not reach Quali. Check your connection and try again."
          : `The report was not sent (${answer.body?.error?.message ?? `HTTP ${answer.status}`}).`;
    say(status, text, "error");
  });
  return h("details", { class: "more", id: "report" }, h("summary", {}, "Report this poll"), form);
}

// ---- Start ---------------------------------------------------------------------------------------------

function notFound() {
  document.title = "Poll not found · Quali";
  fill(
    main,
    h(
      "section",
      { class: "notice warn", id: "not-found" },
      h("h1", {}, "Poll not found"),
      h("p", {}, "This link does not lead to a poll that can be answered. It may be mistyped."),
      h("p", {}, h("a", { href: "/" }, "See the open polls")),
    ),
  );
  focusOn(main.querySelector("h1"));
}

async function start() {
  if (!pollId) return notFound();
  const answer = await api(`/api/v1/voter/polls/${encodeURIComponent(pollId)}`);
  if (answer.status === 404) return notFound();
  if (answer.status !== 200) {
    fill(
      main,
      h("h1", {}, "This poll could not be loaded"),
      h("p", { class: "notice bad" }, "Check your connection and reload the page."),
    );
    return;
  }
  poll = answer.body;
  if (poll.status === "removed") {
    // A poll taken down: its content is not shown again.
    document.title = "Poll taken down · Quali";
    fill(
      main,
      h(
        "section",
        { class: "notice warn", id: "removed", "data-state": "poll_removed" },
        h("h1", {}, "This poll was taken down"),
        h("p", {}, "It broke the rules of this service and is no longer available."),
        h("p", {}, h("a", { href: "/" }, "See the open polls")),
      ),
    );
    main.dataset.ready = "true";
    return;
  }
  document.title = `${poll.question} · Quali`;
  statusRegion = h("p", { class: "status", role: "status", "aria-live": "polite", id: "status" });
  stepRegion = h("div", { id: "step" });
  fill(main, h("article", { class: "poll" }, header(), statusRegion, stepRegion, reportControl()));

  const record = device.get(votedKey);
  if (record) alreadyVotedState(record);
  else if (poll.status === "completed" || poll.voteCount >= poll.maxResponses) closedState("poll_full");
  else if (poll.status === "closed") closedState("poll_closed");
  else if (poll.status === "expired" || Date.parse(poll.expiresAt) <= Date.now()) closedState("poll_expired");
  else chooseStep();
  interactive = true;
  // The page is ready for tests and assistive technology once the first step is drawn.
  main.dataset.ready = "true";
}

void start();
