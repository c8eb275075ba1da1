// Shared helpers of the Quali pages: DOM building (never from HTML strings), the JSON API, formatting, and
// what is remembered on this device. Plain ES module, no build step; served as is.

/** Builds an element. attrs: properties/attributes (`class`, `for`, `aria-*`, `data-*`, `on*` handlers). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Calls the JSON API; never throws: a network failure is { status: 0 }. */
export async function api(path, init = {}) {
  const headers = { accept: "application/json", ...(init.headers ?? {}) };
  let body = init.body;
  if (body !== undefined && typeof body !== "string") {
    body = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  try {
    const response = await fetch(path, { ...init, headers, body, credentials: "same-origin", cache: "no-store" });
    const text = await response.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, body: json };
  } catch {
    return { status: 0, body: undefined };
  }
}

/** The error code of an API answer (`{ error: { code } }`), if any. */
export const errorCode = (answer) => answer?.body?.error?.code;

/** Only absolute https URLs are ever put in an <img> or a link. */
export function httpsUrl(value) {
  if (typeof value !== "string" || value === "") return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.username === "" && url.password === "" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An <img> for an https media URL, or null. A broken image removes itself and calls `onBroken`
 * (e.g. to drop the "has image" styling so the option text stands alone).
 */
export function mediaImage(url, { alt = "", className, onBroken, eager = false } = {}) {
  const src = httpsUrl(url);
  if (!src) return null;
  const img = h("img", { src, alt, class: className, loading: eager ? "eager" : "lazy", decoding: "async", referrerpolicy: "no-referrer" });
  img.addEventListener("error", () => {
    img.remove();
    onBroken?.();
  }, { once: true });
  return img;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** "3 days left", "5 hours left", "12 minutes left", "less than a minute left", or "Ended". */
export function timeLeft(expiresAt, now = Date.now()) {
  const ms = Date.parse(expiresAt) - now;
  if (!(ms > 0)) return "Ended";
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return "Less than a minute left";
  if (minutes < 60) return `${plural(minutes, "minute", "minutes")} left`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${plural(hours, "hour", "hours")} left`;
  return `${plural(Math.floor(hours / 24), "day", "days")} left`;
}

/** Atomic USDC (6 decimals, a decimal string) as "0.0005"; exact, no floats. */
export function formatAtomicUsdc(atomic) {
  const digits = String(atomic).replace(/^0+(?=\d)/, "").padStart(7, "0");
  const whole = digits.slice(0, -6);
  const fraction = digits.slice(-6).replace(/0+$/, "");
  return fraction ? `${Number(whole).toLocaleString("en-US")}.${fraction}` : Number(whole).toLocaleString("en-US");
}

export const formatCount = (n) => Number(n).toLocaleString("en-US");

export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

/** A payout address, lower-cased (any letter case is accepted: no checksum is required), or undefined. */
export function normalizeAddress(value) {
  const trimmed = String(value ?? "").trim();
  return /^0x[0-9a-fA-F]{40}$/.test(trimmed) ? trimmed.toLowerCase() : undefined;
}

export const shortAddress = (address) => `${address.slice(0, 6)}…${address.slice(-4)}`;

/** localStorage that degrades to nothing (private browsing, storage disabled). */
export const device = {
  get(key) {
    try {
      const raw = localStorage.getItem(`quali:${key}`);
      return raw === null ? undefined : JSON.parse(raw);
    } catch {
      return undefined;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(`quali:${key}`, JSON.stringify(value));
    } catch {
      /* not remembered: fine */
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(`quali:${key}`);
    } catch {
      /* nothing to forget */
    }
  },
};

/** The ISO 3166-1 alpha-2 codes the API accepts (src/voting/demographics.ts). */
export const COUNTRY_CODES = (
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
  "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
  "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT " +
  "JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
  "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM " +
  "PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
  "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
  "UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
).split(" ");

export const AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

let regionNames;
/** "Germany" for "DE" (the browser's own names), or the code itself. */
export function countryName(code) {
  try {
    regionNames ??= new Intl.DisplayNames(["en"], { type: "region" });
    return regionNames.of(code) ?? code;
  } catch {
    return code;
  }
}

/** Sets a live region's text (polite by default); an empty string clears it. */
export function say(region, text, tone = "info") {
  region.dataset.tone = tone;
  region.textContent = text;
}

/** The path segment after /polls/, decoded, or undefined. */
export function pollIdFromPath(pathname = location.pathname) {
  const match = /^\/polls\/([^/]+)/.exec(pathname);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

/** A small progress bar (decorative; the text next to it says the numbers). */
export function progressBar(count, max) {
  const bar = h("span", { class: "meter", "aria-hidden": "true" }, h("span", { class: "meter-fill" }));
  bar.firstChild.style.width = `${Math.min(100, max > 0 ? (count / max) * 100 : 0)}%`;
  return bar;
}

/** Puts the keyboard focus on a heading (or other element) that was just shown, without scrolling jumps. */
export function focusOn(node) {
  if (!node) return;
  if (!node.hasAttribute("tabindex")) node.setAttribute("tabindex", "-1");
  node.focus({ preventScroll: false });
}
