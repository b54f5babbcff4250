import { EmbedOutcome } from '../../src/ports/embedder.port';
import { tokenize } from '../../src/providers/local/embedding/tokenize';
import { LocalEmbedder } from '../../src/providers/local/local-embedder';

const vectorOf = (outcome: EmbedOutcome): Float32Array => {
  if (!outcome.ok) throw new Error(`not embedded: ${outcome.reason}`);
  return outcome.vector;
};
const dot = (a: Float32Array, b: Float32Array): number =>
  a.reduce((sum, x, i) => sum + x * b[i], 0);

describe('LocalEmbedder', () => {
  const embedder = new LocalEmbedder();
  const embedOne = async (text: string): Promise<Float32Array> =>
    vectorOf((await embedder.embed([text]))[0]);

  it('names its recipe and gives unit vectors of the stated length', async () => {
    expect(embedder.model).toMatch(/^local-v\d+$/);
    const [a, b] = await embedder.embed(['My card has not arrived yet', 'How do I reset my PIN?']);
    for (const outcome of [a, b]) {
      const vector = vectorOf(outcome);
      expect(vector).toHaveLength(embedder.dimensions);
      expect(Math.sqrt(dot(vector, vector))).toBeCloseTo(1, 5);
    }
  });

  it('is deterministic, across calls and instances', async () => {
    const text = "I can't see the money I transferred yesterday";
    const first = await embedOne(text);
    const again = vectorOf((await new LocalEmbedder().embed([text]))[0]);
    expect(Array.from(again)).toEqual(Array.from(first));
  });

  it('puts paraphrases closer together than unrelated texts', async () => {
    const [lost, stolen, rate, refund] = await Promise.all(
      [
        'I lost my card, please block it',
        'My card was stolen, can you freeze it?',
        'What exchange rate do you use for euros?',
        'I want a refund for this purchase',
      ].map(embedOne),
    );
    expect(dot(lost, stolen)).toBeGreaterThan(dot(lost, rate) + 0.1);
    expect(dot(lost, stolen)).toBeGreaterThan(dot(lost, refund) + 0.1);
  });

  it('reads contractions with and without the apostrophe alike', async () => {
    const [apostrophe, bare] = await Promise.all(
      ["I don't know my PIN", 'I dont know my PIN'].map(embedOne),
    );
    expect(dot(apostrophe, bare)).toBeCloseTo(1, 5);
  });

  it('embeds words it has no vector for by their stems', async () => {
    const vector = await embedOne('zorblax qwertyuiop');
    expect(Math.sqrt(dot(vector, vector))).toBeCloseTo(1, 5);
  });

  it('reads every script: accented words whole, unspaced scripts as character pairs', async () => {
    const crash = await embedOne('アプリがログイン後にクラッシュします');
    const crashReworded = await embedOne('ログイン後にアプリがクラッシュする');
    const invoice = await embedOne('請求書の金額が間違っています');
    expect(dot(crash, crashReworded)).toBeGreaterThan(dot(crash, invoice) + 0.3);

    // Accented and non-Latin words stay whole (they used to fall apart at the first accent).
    expect(tokenize('Búsqueda Ärger Привет')).toEqual(['búsqueda', 'ärger', 'привет']);
  });

  it('refuses, permanently and without throwing, a text with nothing visible', async () => {
    const outcomes = await embedder.embed(['', '   ', '\u200b\u200d\ufe0f', 'card']);
    expect(outcomes.slice(0, 3)).toEqual(
      Array(3).fill({ ok: false, reason: 'no words or symbols in text', permanent: true }),
    );
    expect(outcomes[3].ok).toBe(true);
  });

  it('embeds texts of emoji or punctuation alone by their symbols, alike within a kind', async () => {
    const [thumbs, moreThumbs, fire, heart, questions, bangs, words] = await Promise.all(
      ['👍👍👍', '👍', '🔥🔥', '❤️❤️', '???', '!!!', 'The app crashes on start'].map(embedOne),
    );
    for (const vector of [thumbs, fire, heart, questions]) {
      expect(Math.sqrt(dot(vector, vector))).toBeCloseTo(1, 5);
    }
    expect(dot(thumbs, moreThumbs)).toBeCloseTo(1, 5);
    // Any two emoji-only texts are closer than any join threshold; punctuation is another kind.
    expect(dot(thumbs, fire)).toBeGreaterThan(0.7);
    expect(dot(heart, fire)).toBeGreaterThan(0.7);
    expect(dot(questions, bangs)).toBeGreaterThan(0.7);
    expect(Math.abs(dot(thumbs, questions))).toBeLessThan(0.1);
    expect(Math.abs(dot(thumbs, words))).toBeLessThan(0.1);
  });

  it('leaves the vectors of texts with words as they were: symbols count only without words', async () => {
    const [plain, withEmoji] = await Promise.all(['great app', 'great app!!! 🔥'].map(embedOne));
    expect(dot(plain, withEmoji)).toBeCloseTo(1, 5);
  });
});
