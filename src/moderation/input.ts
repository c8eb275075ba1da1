// What of a poll gets moderated, as a ModerationInput. Its own module (re-exported by ./index.ts) so the
// poll-creation route does not pull the development word-list moderator (and its dataset) into bundles
// that never use it, such as the Workers entry.
import type { ModerationInput } from "./moderator.js";

export interface ModeratablePoll {
  question: string;
  description?: string | null;
  options: { text: string; mediaUrl?: string | null }[];
  mediaUrl?: string | null;
}

/**
 * Everything an agent can put on a poll, in verdict order: question, description, options[i].text…,
 * mediaUrl, options[i].mediaUrl…. Blank/absent fields are skipped (nothing to moderate); option
 * indexes always refer to the request body, so a param points at the field the agent must fix.
 */
export function moderationInputFromPoll(body: ModeratablePoll): ModerationInput {
  const texts: ModerationInput["texts"] = [];
  const images: ModerationInput["images"] = [];
  const addText = (param: string, text: string | null | undefined) => {
    if (text != null && text.trim() !== "") texts.push({ param, text });
  };
  const addImage = (param: string, url: string | null | undefined) => {
    if (url != null && url.trim() !== "") images.push({ param, url });
  };

  addText("question", body.question);
  addText("description", body.description);
  body.options.forEach((option, i) => addText(`options[${i}].text`, option.text));
  addImage("mediaUrl", body.mediaUrl);
  body.options.forEach((option, i) => addImage(`options[${i}].mediaUrl`, option.mediaUrl));
  return { texts, images };
}
