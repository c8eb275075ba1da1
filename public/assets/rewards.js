// The rewards page (/rewards): what a payout address has accrued, per network, and any payout on hold
// because the USDC token refuses transfers to the address (parked), with the chain's reason. The
// address comes from ?address=, else the one remembered on this device by the poll page. Anyone sees an
// address's payouts; its votes and balance are shown to its owner only, once their wallet signs
// (rewards-owner.js).
import { api, device, fill, formatAtomicUsdc, formatCount, formatDateTime, h, normalizeAddress, say } from "./common.js";
import { ownerPanel } from "./rewards-owner.js";

/** One notice per parked payout: what is held, why, and that it stays owed to this address. */
function parkedNotices(rewards) {
  return rewards.flatMap((r) =>
    (r.parked ?? []).map((p) =>
      h(
        "section",
        { class: "notice warn parked-payout", "data-payout-id": p.id },
        h("h2", {}, `Payout on hold on ${r.networkLabel}`),
        h(
          "p",
          {},
          `${formatAtomicUsdc(p.amountAtomic)} USDC for ${formatCount(p.votes)} ${p.votes === 1 ? "vote" : "votes"} could not be sent to this address ` +
            `(since ${formatDateTime(p.parkedAt)}): the USDC token refuses transfers to it.`,
        ),
        h("p", { class: "hint" }, "Reason from the chain: ", h("span", { class: "mono parked-reason" }, p.reason)),
        h("p", {}, "These rewards stay owed to this address. They are sent once the cause is gone and the operator retries the payout."),
      ),
    ),
  );
}

/** The public part: payouts made to the address (they are on chain too). */
function payoutsSection(rewards) {
  if (rewards.length === 0) {
    return h(
      "section",
      { class: "notice", id: "no-payouts" },
      h("h2", {}, "No payouts yet"),
      h("p", {}, "Nothing has been paid to this address yet. Rewards are sent automatically once enough have accrued on a network."),
    );
  }
  return h(
    "section",
    { class: "panel", "aria-labelledby": "payouts-title" },
    h("h2", { id: "payouts-title" }, "Payouts"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "payouts-table" },
        h("caption", { class: "sr-only" }, "Payouts per network"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Network"), h("th", { scope: "col" }, "Paid"), h("th", { scope: "col" }, "On its way"))),
        h(
          "tbody",
          {},
          rewards.map((r) =>
            h("tr", {}, h("th", { scope: "row" }, r.networkLabel), h("td", {}, `${formatAtomicUsdc(r.paidAtomic)} USDC`), h("td", {}, `${formatAtomicUsdc(r.pendingAtomic)} USDC`)),
          ),
        ),
      ),
    ),
  );
}

/** The owner's part (after their signature): votes and what they earned, per network. */
function rewardsSection({ rewards, totalVotes }) {
  if (rewards.length === 0) {
    return h("section", { class: "notice", id: "no-rewards" }, h("h2", {}, "No rewards yet"), h("p", {}, "This address has no accepted votes. "), h("p", {}, h("a", { href: "/" }, "Answer a poll")));
  }
  return h(
    "section",
    { "aria-labelledby": "rewards-title" },
    h("h3", { id: "rewards-title" }, `${formatCount(totalVotes)} ${totalVotes === 1 ? "vote" : "votes"} rewarded`),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "rewards-table" },
        h("caption", { class: "sr-only" }, "Accrued rewards per network"),
        h(
          "thead",
          {},
          h("tr", {}, h("th", { scope: "col" }, "Network"), h("th", { scope: "col" }, "Votes"), h("th", { scope: "col" }, "Accrued"), h("th", { scope: "col" }, "Unpaid")),
        ),
        h(
          "tbody",
          {},
          rewards.map((r) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, r.networkLabel),
              h("td", {}, formatCount(r.votes)),
              h("td", {}, `${formatAtomicUsdc(r.accruedAtomic)} USDC`),
              h("td", {}, `${formatAtomicUsdc(r.unpaidAtomic)} USDC`),
            ),
          ),
        ),
      ),
    ),
    h("p", { class: "hint" }, "Rewards accrue on the network each poll was paid on."),
  );
}

const main = document.getElementById("main");

function start() {
  const initial = new URLSearchParams(location.search).get("address") ?? device.get("payoutAddress") ?? "";
  const input = h("input", {
    type: "text",
    id: "address",
    name: "address",
    class: "mono",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    placeholder: "0x…",
    value: initial,
    "aria-describedby": "address-help address-error",
  });
  const error = h("p", { class: "field-error", id: "address-error" });
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const output = h("div", { id: "rewards" });
  const form = h(
    "form",
    { class: "panel", id: "rewards-form", novalidate: true, method: "get", action: "/rewards" },
    h("label", { for: "address", class: "label" }, "Payout address"),
    h("p", { class: "hint", id: "address-help" }, "The address you entered when voting. Every accepted vote credits its reward to it."),
    input,
    error,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Show rewards")),
  );

  async function show(address) {
    say(status, "Loading rewards…");
    const answer = await api(`/api/v1/voter/rewards?${new URLSearchParams({ address })}`);
    if (answer.status !== 200) {
      say(status, answer.status === 0 ? "Could not reach Quali. Check your connection and try again." : "The rewards could not be loaded.", "error");
      return;
    }
    say(status, "");
    const { rewards } = answer.body;
    fill(output, payoutsSection(rewards), ...parkedNotices(rewards), ownerPanel(address, rewardsSection));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const address = normalizeAddress(input.value);
    if (!address) {
      input.setAttribute("aria-invalid", "true");
      error.textContent = "Enter an address: 0x followed by 40 letters (a–f) and digits.";
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    error.textContent = "";
    history.replaceState(null, "", `/rewards?${new URLSearchParams({ address })}`);
    void show(address);
  });

  fill(main, h("h1", {}, "Your rewards"), h("p", { class: "lead" }, "See what your votes have earned."), form, status, output);
  const address = normalizeAddress(initial);
  if (address) void show(address);
  main.dataset.ready = "true";
}

start();
