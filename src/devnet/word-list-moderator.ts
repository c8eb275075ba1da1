// DEVELOPMENT STAND-IN for real moderation, used when OPENAI_API_KEY is not configured.
// It catches English profanity (obscenity's English dataset, which copes with leetspeak, repeated
// letters and look-alike characters while leaving "Scunthorpe" or "assessment" alone) plus a short,
// explicit list of threat phrases. It does NOT understand hate, harassment or violence in general,
// and it does NOT look at images at all: image params are reported back as unchecked.
import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from "obscenity";
import { flaggedVerdict, type ModerationInput, type ModerationVerdict, type Moderator } from "../moderation";

/**
 * Threat phrases the profanity dataset cannot know about. Kept deliberately small: each entry is a
 * phrase matched as whole words after lower-casing and collapsing punctuation/whitespace, and the
 * category names follow OpenAI's so both moderators speak the same vocabulary.
 */
export const THREAT_PHRASES: readonly { phrase: string; category: string }[] = [
  { phrase: "kill yourself", category: "harassment/threatening" },
  { phrase: "kys", category: "harassment/threatening" },
  { phrase: "i will kill you", category: "violence" },
  { phrase: "i am going to kill you", category: "violence" },
  { phrase: "im going to kill you", category: "violence" },
  { phrase: "bomb threat", category: "violence" },
  { phrase: "plant a bomb", category: "violence" },
  { phrase: "shoot up the school", category: "violence" },
];

/**
 * Clean words the dataset misses. It whitelists "shitake", but its duplicate-letter collapsing turns
 * the correct spelling "shiitake" into a match for "shit".
 */
const EXTRA_WHITELIST = ["shiitake"];

const threatPatterns = THREAT_PHRASES.map(({ phrase, category }) => ({
  category,
  pattern: new RegExp(`(?:^| )${phrase}(?: |$)`),
}));

export function createWordListModerator(): Moderator {
  const { blacklistedTerms, whitelistedTerms = [] } = englishDataset.build();
  const matcher = new RegExpMatcher({
    blacklistedTerms,
    whitelistedTerms: [...whitelistedTerms, ...EXTRA_WHITELIST],
    ...englishRecommendedTransformers,
  });

  function categoriesOf(text: string): string[] {
    const categories: string[] = [];
    if (matcher.hasMatch(text)) categories.push("profanity");
    // "I'm" → "im", "kill-yourself!" → "kill yourself": punctuation must not hide a phrase.
    const normalized = text.toLowerCase().replace(/['’]/g, "").replace(/[^a-z0-9]+/g, " ").trim();
    for (const { category, pattern } of threatPatterns) {
      if (pattern.test(normalized) && !categories.includes(category)) categories.push(category);
    }
    return categories;
  }

  return {
    name: "local-word-list",
    description:
      "local-word-list: DEVELOPMENT STAND-IN (English profanity + a few threat phrases; images are not checked). Set OPENAI_API_KEY for real moderation.",

    async moderate(input: ModerationInput, signal?: AbortSignal): Promise<ModerationVerdict> {
      signal?.throwIfAborted();
      for (const { param, text } of input.texts) {
        const categories = categoriesOf(text);
        if (categories.length > 0) return flaggedVerdict(param, categories);
      }
      if (input.images.length === 0) return { flagged: false };
      // Images pass unexamined: this stand-in has no image classifier.
      return {
        flagged: false,
        uncheckedParams: input.images.map((image) => image.param),
        note: "images were not checked: local-word-list is a development stand-in without image moderation",
      };
    },
  };
}
