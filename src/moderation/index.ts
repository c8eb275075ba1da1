export {
  ModerationUnavailableError,
  flaggedVerdict,
  type ModerationInput,
  type ModerationUnavailableReason,
  type ModerationVerdict,
  type Moderator,
} from "./moderator.js";
export { createOpenAIModerator, type OpenAIModeratorOptions } from "./openai.js";
export { moderationInputFromPoll, type ModeratablePoll } from "./input.js";
