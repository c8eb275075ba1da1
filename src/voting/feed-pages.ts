// The voter feed's pages, read from the database once per state of it. Every voter loading the feed sees
// the same polls (only the option order is shuffled per request), and the feed is the most requested
// page there is: a page is kept with the store's change version (src/db/store.ts) and served again until
// anything is written or one of its polls reaches its expiry — so it is never staler than a fresh read.
// Stores that cannot tell cheaply whether data changed (D1) get no caching at all.
import type { PollOptionRow } from "../db/schema";
import type { Store } from "../db/store";
import { BoundedMap } from "../lib/bounded-map";
import type { FeedPollRow } from "./repo";

export interface FeedPage {
  /** The page's polls plus, when there is one, the first poll of the next page (for nextCursor). */
  rows: readonly FeedPollRow[];
  optionsByPoll: ReadonlyMap<string, readonly PollOptionRow[]>;
}

interface Kept {
  version: string;
  /** When the first of its polls expires (ms): it must leave the feed then. */
  validUntil: number;
  page: FeedPage;
}

const MAX_PAGES = 256;

export function createFeedPages(store: Store) {
  const pages = new BoundedMap<string, Kept>(MAX_PAGES);
  return {
    async read(key: string, nowMs: number, load: () => Promise<FeedPage>): Promise<FeedPage> {
      // The version is read BEFORE the page: a write landing in between makes the page look older than it
      // is (read again next time), never newer.
      const version = store.changeVersion?.();
      if (version === undefined) return load();
      const kept = pages.get(key);
      if (kept && kept.version === version && nowMs < kept.validUntil) return kept.page;
      const page = await load();
      let validUntil = Infinity;
      for (const row of page.rows) validUntil = Math.min(validUntil, Date.parse(row.expires_at));
      // Deleted first, so a page read again counts as the newest.
      pages.delete(key);
      pages.set(key, { version, validUntil, page });
      return page;
    },
  };
}
