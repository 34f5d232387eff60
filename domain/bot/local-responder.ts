import { foldText } from '../shared/text';
import type { BotAnswer, Responder } from '../shared/ports';

/**
 * Words that reveal a few common intents. The local responder recognises an intent the rules ask
 * about when the message holds one of its words, or the intent's own name (`order_status` → "order
 * status"); otherwise it answers nothing. Deterministic: the same message gets the same answer.
 */
const lexicon: Record<string, string[]> = {
  greeting: ['hi', 'hello', 'hey', 'good morning', 'good evening', 'hola', 'bonjour', 'hallo'],
  pricing: ['price', 'prices', 'pricing', 'cost', 'costs', 'how much', 'quote', 'plan', 'plans'],
  opening_hours: ['open', 'opening hours', 'hours', 'closed', 'when are you'],
  order_status: ['order', 'shipped', 'shipping', 'tracking', 'delivery', 'package'],
  refund: ['refund', 'money back', 'return', 'cancel'],
};

const wordsOf = (text: string) => ` ${foldText(text).replace(/[^\p{L}\p{N}]+/gu, ' ').trim()} `;

/** Whether `text` holds `phrase` as whole words (folded: case, accents and punctuation do not matter). */
export function holdsPhrase(text: string, phrase: string): boolean {
  const needle = wordsOf(phrase);
  return needle.trim() !== '' && wordsOf(text).includes(needle);
}

/** The deterministic default Responder (no model): intents by word lists, no free-form replies. */
export const localResponder: Responder = {
  async respond(input): Promise<BotAnswer> {
    const last = input.messages.at(-1)?.text ?? '';
    for (const intent of input.intents) {
      const words = [intent.replace(/_/g, ' '), ...(lexicon[intent] ?? [])];
      if (words.some((word) => holdsPhrase(last, word))) return { intent, reply: null, confidence: 0.8 };
    }
    return { intent: null, reply: null, confidence: 0 };
  },
};
