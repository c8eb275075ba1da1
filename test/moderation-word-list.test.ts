// The local development stand-in moderator, and the poll → ModerationInput mapping it shares with OpenAI's.
import { describe, expect, it } from "vitest";
import { createWordListModerator } from "../src/devnet/word-list-moderator";
import { moderationInputFromPoll, type ModerationInput } from "../src/moderation/index.js";

const moderator = createWordListModerator();
const texts = (...entries: [string, string][]): ModerationInput => ({
  texts: entries.map(([param, text]) => ({ param, text })),
  images: [],
});

describe("word-list moderator", () => {
  it("identifies itself as a local stand-in", () => {
    expect(moderator.name).toBe("local-word-list");
    expect(moderator.description).toMatch(/STAND-IN/);
    expect(moderator.description).toMatch(/images are not checked/);
  });

  it("flags profanity with the param of the field that holds it", async () => {
    const verdict = await moderator.moderate(texts(["question", "Best pizza?"], ["description", "What the fuck is pineapple doing here"]));
    expect(verdict).toEqual({
      flagged: true,
      param: "description",
      categories: ["profanity"],
      message: "description was flagged for: profanity",
    });
  });

  it("sees through leetspeak and stretched letters", async () => {
    await expect(moderator.moderate(texts(["options[2].text", "sh1t"]))).resolves.toMatchObject({ param: "options[2].text" });
    await expect(moderator.moderate(texts(["question", "fuuuuck"]))).resolves.toMatchObject({ param: "question" });
  });

  it.each([
    ["Just kill yourself", "harassment/threatening"],
    ["KYS!", "harassment/threatening"],
    ["I'm going to kill you", "violence"],
    ["This is a bomb threat.", "violence"],
    ["We will plant a bomb", "violence"],
  ])("flags the listed threat %j as %s", async (text, category) => {
    const verdict = await moderator.moderate(texts(["question", "fine"], ["options[1].text", text]));
    expect(verdict).toMatchObject({ flagged: true, param: "options[1].text", categories: [category] });
  });

  it("reports the first flagged field in input order", async () => {
    const verdict = await moderator.moderate(texts(["question", "ok"], ["options[0].text", "shit"], ["options[1].text", "kill yourself"]));
    expect(verdict).toMatchObject({ param: "options[0].text" });
  });

  it.each([
    "Is Scunthorpe worth a visit?",
    "How did your last assessment go?",
    "Favourite classic film?",
    "Best cocktail for a summer evening in Essex?",
    "Which skill matters most: passing, analysis or teamwork?",
    "Do killer whales deserve their name?",
    "Shiitake or button mushrooms?",
    "Should the school cancel the bomb disposal documentary?",
  ])("passes ordinary poll text: %j", async (text) => {
    await expect(moderator.moderate(texts(["question", text]))).resolves.toEqual({ flagged: false });
  });

  it("does not check images, and says so in the verdict", async () => {
    const verdict = await moderator.moderate({
      texts: [{ param: "question", text: "Which logo?" }],
      images: [
        { param: "mediaUrl", url: "https://img.example/anything.png" },
        { param: "options[0].mediaUrl", url: "https://img.example/flagged.png" },
      ],
    });
    expect(verdict).toEqual({
      flagged: false,
      uncheckedParams: ["mediaUrl", "options[0].mediaUrl"],
      note: expect.stringMatching(/images were not checked/),
    });
  });
});

describe("moderationInputFromPoll", () => {
  it("orders params: question, description, option texts, poll image, option images", () => {
    const input = moderationInputFromPoll({
      question: "Q",
      description: "D",
      options: [
        { text: "A", mediaUrl: "https://img.example/a.png" },
        { text: "B" },
        { text: "C", mediaUrl: "https://img.example/c.png" },
      ],
      mediaUrl: "https://img.example/poll.png",
    });
    expect(input).toEqual({
      texts: [
        { param: "question", text: "Q" },
        { param: "description", text: "D" },
        { param: "options[0].text", text: "A" },
        { param: "options[1].text", text: "B" },
        { param: "options[2].text", text: "C" },
      ],
      images: [
        { param: "mediaUrl", url: "https://img.example/poll.png" },
        { param: "options[0].mediaUrl", url: "https://img.example/a.png" },
        { param: "options[2].mediaUrl", url: "https://img.example/c.png" },
      ],
    });
  });

  it("skips absent and blank fields but keeps option indexes pointing at the request body", () => {
    const input = moderationInputFromPoll({
      question: "Q",
      description: null,
      options: [{ text: "A", mediaUrl: null }, { text: "B", mediaUrl: " " }, { text: "C", mediaUrl: "https://img.example/c.png" }],
    });
    expect(input.texts.map((t) => t.param)).toEqual(["question", "options[0].text", "options[1].text", "options[2].text"]);
    expect(input.images).toEqual([{ param: "options[2].mediaUrl", url: "https://img.example/c.png" }]);
  });

  it("feeds a moderator so a flagged option is named as the agent sent it", async () => {
    const verdict = await moderator.moderate(
      moderationInputFromPoll({ question: "Pick one", options: [{ text: "Tea" }, { text: "shit coffee" }] }),
    );
    expect(verdict).toMatchObject({ flagged: true, param: "options[1].text" });
  });
});
