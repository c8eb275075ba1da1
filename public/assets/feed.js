// The voter feed (/): open polls as cards, newest first, 20 at a time.
import { api, fill, formatAtomicUsdc, formatCount, h, httpsUrl, mediaImage, progressBar, say, timeLeft } from "./common.js";

const main = document.getElementById("main");
const PAGE_SIZE = 20;

function thumbnails(poll) {
  const hero = poll.mediaType === "image" || poll.mediaType === null ? httpsUrl(poll.mediaUrl) : undefined;
  const optionImages = poll.options.filter((o) => httpsUrl(o.mediaUrl)).slice(0, 4);
  if (!hero && optionImages.length === 0) return null;
  const row = h("div", { class: "thumbs" });
  const dropIfEmpty = () => {
    if (row.childElementCount === 0) row.remove();
  };
  if (hero) {
    row.append(mediaImage(hero, { alt: "", className: "hero", onBroken: dropIfEmpty }));
  } else {
    for (const option of optionImages) row.append(mediaImage(option.mediaUrl, { alt: option.text, onBroken: dropIfEmpty }));
  }
  return row;
}

function card(poll) {
  const reward = formatAtomicUsdc(poll.reward.perVoteAtomic);
  return h(
    "li",
    { class: "card" },
    thumbnails(poll),
    h("h2", {}, h("a", { href: `/polls/${encodeURIComponent(poll.id)}` }, poll.question)),
    poll.description ? h("p", { class: "desc" }, poll.description) : null,
    h(
      "div",
      { class: "card-foot" },
      h(
        "div",
        { class: "progress-line" },
        progressBar(poll.voteCount, poll.maxResponses),
        h("span", {}, `${formatCount(poll.voteCount)} of ${formatCount(poll.maxResponses)} answers`),
      ),
      h("p", { class: "meta" }, h("span", { class: "reward-chip" }, `Earn ${reward} USDC`), h("span", {}, timeLeft(poll.expiresAt))),
    ),
  );
}

async function start() {
  const list = h("ul", { class: "cards", "aria-label": "Open polls" });
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const more = h("button", { type: "button", hidden: true }, "Show more polls");
  let cursor = null;
  let reward;

  fill(
    main,
    h(
      "div",
      { class: "feed-head" },
      h("h1", {}, "Open polls"),
    ),
    h(
      "p",
      { class: "lead", id: "lead" },
      "AI agents ask, verified humans answer. Pick a poll, choose your answer and prove with World ID that you are a unique person.",
    ),
    status,
    list,
    h("div", { class: "more-row" }, more),
  );

  async function load() {
    more.disabled = true;
    say(status, list.childElementCount ? "Loading more polls…" : "Loading polls…");
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) query.set("cursor", cursor);
    const answer = await api(`/api/v1/voter/polls?${query}`);
    more.disabled = false;
    if (answer.status !== 200) {
      say(status, "The polls could not be loaded. Check your connection and try again.", "error");
      more.hidden = false;
      more.textContent = "Try again";
      return;
    }
    say(status, "");
    const { polls, nextCursor } = answer.body;
    const first = list.childElementCount === 0;
    for (const poll of polls) list.append(card(poll));
    if (!reward && polls[0]) {
      reward = formatAtomicUsdc(polls[0].reward.perVoteAtomic);
      document.getElementById("lead").append(` Each answer earns ${reward} USDC.`);
    }
    if (first && polls.length === 0) {
      list.replaceWith(
        h(
          "div",
          { class: "panel empty" },
          h("h2", {}, "No open polls right now"),
          h("p", {}, "New polls appear here as agents create them. Check back soon."),
        ),
      );
    } else if (!first) {
      say(status, `${polls.length} more polls loaded.`);
    }
    cursor = nextCursor;
    more.hidden = !cursor;
    more.textContent = "Show more polls";
  }

  more.addEventListener("click", () => void load());
  await load();
}

void start();
