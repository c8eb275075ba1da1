// The owner's half of the rewards page: an address's votes and unpaid balance are shown only to whoever
// signs (EIP-191 personal_sign) "Quali rewards: show my balance" for it — so no poll's author can watch an
// address's count move when a vote comes in. The page signs with the browser's wallet when there is one
// (EIP-1193 window.ethereum), or takes a signature made elsewhere (any wallet, or `cast wallet sign`).
import { api, errorCode, h, say, shortAddress } from "./common.js";

/** The exact message POST /api/v1/voter/rewards accepts (src/payouts/rewards-owner.ts), valid 10 minutes. */
function ownerMessage(address, at = new Date()) {
  return `Quali rewards: show my balance\nAddress: ${address}\nTimestamp: ${at.toISOString()}`;
}

const hexOf = (text) => `0x${[...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;

async function signWithWallet(ethereum, address, message) {
  const accounts = await ethereum.request({ method: "eth_requestAccounts" });
  const account = (accounts ?? []).find((a) => String(a).toLowerCase() === address);
  if (!account) {
    const offered = (accounts ?? []).map((a) => shortAddress(String(a))).join(", ") || "no account";
    throw new Error(`Your wallet offers ${offered}, not ${shortAddress(address)}. Switch to this address in your wallet and try again.`);
  }
  return ethereum.request({ method: "personal_sign", params: [hexOf(message), account] });
}

/**
 * A panel that gets the owner's view of `address` with a signature and hands it to `render`, which
 * returns the element to show.
 */
export function ownerPanel(address, render) {
  const ethereum = globalThis.ethereum;
  let message = ownerMessage(address);
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const output = h("div", { id: "owner-output" });
  const messageBox = h("pre", { class: "signed-message mono", id: "owner-message", tabindex: "0" }, message);
  const signatureInput = h("input", {
    type: "text",
    id: "owner-signature",
    name: "signature",
    class: "mono",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    placeholder: "0x…",
    "aria-describedby": "owner-signature-help",
  });

  function renewMessage() {
    message = ownerMessage(address);
    messageBox.textContent = message;
  }

  async function submit(signature, signedMessage) {
    say(status, "Checking the signature…");
    const answer = await api("/api/v1/voter/rewards", { method: "POST", body: { address, message: signedMessage, signature } });
    if (answer.status === 200) {
      say(status, "");
      output.replaceChildren(render(answer.body));
      return;
    }
    const reason = answer.body?.error?.details?.reason;
    if (answer.status === 0) say(status, "Could not reach Quali. Check your connection and try again.", "error");
    else if (errorCode(answer) === "invalid_signature" && reason === "expired") {
      renewMessage();
      say(status, "That signature is more than 10 minutes old (or your device's clock is off). Sign again.", "error");
    } else if (errorCode(answer) === "invalid_signature") say(status, `This is not a signature by ${shortAddress(address)} of the message shown.`, "error");
    else say(status, "The signature must be 0x followed by 130 hexadecimal characters, for the message shown.", "error");
  }

  const walletButton = ethereum
    ? h("button", {
        type: "button",
        class: "primary",
        id: "sign-with-wallet",
        onclick: async () => {
          walletButton.disabled = true;
          try {
            renewMessage();
            const signed = message;
            const signature = await signWithWallet(ethereum, address, signed);
            await submit(signature, signed);
          } catch (err) {
            say(status, err instanceof Error && err.message ? err.message : "Your wallet did not sign.", "error");
          } finally {
            walletButton.disabled = false;
          }
        },
      }, "Sign with your wallet")
    : null;

  const elsewhere = h(
    "details",
    { class: "more", id: "sign-elsewhere", open: !ethereum },
    h("summary", {}, ethereum ? "Or sign with another app" : "Sign with your wallet app"),
    h("p", { class: "hint" }, "Sign this exact message with the key of this address (personal_sign), within 10 minutes, then paste the signature:"),
    messageBox,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => { renewMessage(); say(status, ""); } }, "New message")),
    h(
      "form",
      {
        class: "field",
        id: "owner-signature-form",
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          void submit(signatureInput.value.trim(), messageBox.textContent);
        },
      },
      h("label", { for: "owner-signature", class: "label" }, "Signature"),
      h("p", { class: "hint", id: "owner-signature-help" }, "For example: cast wallet sign --interactive \"$(cat message.txt)\""),
      signatureInput,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Show my votes")),
    ),
  );

  return h(
    "section",
    { class: "panel", id: "owner-details", "aria-labelledby": "owner-title" },
    h("h2", { id: "owner-title" }, "Your votes and balance"),
    h(
      "p",
      {},
      "Only the owner of this address can see how many votes it was credited for and what has not been paid yet, so no poll's author can " +
        "tell which vote came from which wallet. Prove it is yours by signing a message: it costs nothing and sends nothing.",
    ),
    walletButton ? h("div", { class: "actions" }, walletButton) : null,
    elsewhere,
    status,
    output,
  );
}
